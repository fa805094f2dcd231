"""gunicorn settings for the web process (Procfile: web). PORT and WEB_CONCURRENCY are
the PaaS conventions; everything else the app reads through service.config."""

import os

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Imported here, not in the hook: child_exit runs in a signal handler, and a second
    # worker exiting during a first import would see a half-initialised module.
    from prometheus_client import multiprocess
else:
    multiprocess = None

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: a socket that trickles its headers or body holds a greenlet, not the worker
# (README, "Slow clients": two sync workers answered no webhook while 256 slow sockets
# were open; gevent answered them all within 1 s). psycopg 3 yields to gevent by itself;
# the SQLite write lock is waited for in sleeps that yield (service.store.waits).
worker_class = "gevent"
# Sockets one worker serves at once; past that it stops accepting, which bounds memory.
worker_connections = 1000
# The worker heartbeat: a request that takes 30 s is stuck (shops give up after ~5 s).
timeout = 30
graceful_timeout = 20
# The gevent worker waits this long for each request's headers, the first included, and
# closes the socket then: a client that trickles its headers is cut off after 5 s. (Its
# body: RELAY_BODY_GRACE_SECONDS and RELAY_MIN_BODY_RATE, read by the app.)
keepalive = 5
# Bound request lines and headers: webhook headers are small.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
# Both logs as JSON lines with every field escaped (a request path is decoded before it
# is logged, so a %-template let %0A write a line of the client's choosing).
logger_class = "service.gunicorn_logs.JsonGunicornLogger"
errorlog = "-"
preload_app = False


def child_exit(server, worker):  # noqa: ARG001 - gunicorn hook signature
    """Tell prometheus-client a web worker is gone, so its live gauges stop counting."""
    if multiprocess is not None:
        multiprocess.mark_process_dead(worker.pid)
