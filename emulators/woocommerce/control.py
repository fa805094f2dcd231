"""The WooCommerce emulator's control endpoints, for tests in other processes and for the
sandbox (no auth, no rate limit). `site` is a site's name; left out, the first site.

    GET  /_emulator/orders?site=              {"orders": [...], "versions": {id: n}}
    POST /_emulator/orders {"site", "order": {...}, "action": "pay"}
                                              create (no id, or an unknown one) or change an
                                              order; answers the change: order, version,
                                              created, topics, deliveries (queued)
    GET  /_emulator/deliveries?site=&topic=   every delivery attempt and ping ("ping")
    GET  /_emulator/webhooks?site=            with their secret and failure_count
    GET  /_emulator/requests                  every API call: method, path, query, site, status
    GET  /_emulator/config | POST /_emulator/config {field: value, "sites": {name: {...}}}
    POST /_emulator/faults {"faults": ["500", "429"], "calls": "orders", "site": ...}
    POST /_emulator/settle {"timeout": 5}     wait until no delivery is queued or in flight
    POST /_emulator/reset                     reseed; forget webhooks, faults, logs
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.common.control import Command, Getter, dispatch, faults_of, object_of, timeout_of
from emulators.common.http import Reply, Request

if TYPE_CHECKING:
    from emulators.woocommerce.app import Emulator


def control(emulator: Emulator, request: Request) -> Reply:
    getters: dict[str, Getter] = {
        "orders": lambda q: {
            "orders": emulator.orders(q.get("site")),
            "versions": {str(k): v for k, v in emulator.versions(q.get("site")).items()},
        },
        "deliveries": lambda q: {"deliveries": emulator.deliveries(q.get("site"), q.get("topic"))},
        "webhooks": lambda q: {"webhooks": emulator.webhooks(q.get("site"))},
        "requests": lambda q: {"requests": emulator.requests_log()},
        "config": lambda q: emulator.config.to_json(),
    }
    commands: dict[str, Command] = {
        "orders": lambda p: emulator.save_order(
            object_of(p, "order"), site=p.get("site"), action=p.get("action")
        ),
        "config": lambda p: _configure(emulator, p),
        "faults": lambda p: _fail(emulator, p),
        "settle": lambda p: {"idle": emulator.settle(timeout_of(p))},
        "reset": lambda p: _reset(emulator),
    }
    return dispatch(request, getters, commands)


def _configure(emulator: Emulator, payload: dict[str, Any]) -> Any:
    emulator.configure(**payload)
    return emulator.config.to_json()


def _fail(emulator: Emulator, payload: dict[str, Any]) -> Any:
    emulator.fail_next(*faults_of(payload), calls=payload.get("calls"), site=payload.get("site"))
    return {"ok": True}


def _reset(emulator: Emulator) -> Any:
    emulator.reset()
    return {"ok": True}
