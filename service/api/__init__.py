"""HTTP blueprints: webhook receivers, the internal /v1 API, health and metrics."""
