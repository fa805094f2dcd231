"""The Shopify emulator's control endpoints, for tests in other processes and for the
sandbox (no auth, no rate limit). `shop` is a domain; left out, the first shop.

    GET  /_emulator/orders?shop=              {"orders": [...], "versions": {id: n}}, all
                                              of them, old ones too, in listing order
    POST /_emulator/orders {"shop", "order": {...}, "action": "pay"}
                                              create (no id, or an unknown one) or change an
                                              order; answers the change: order, version,
                                              created, topics, deliveries (queued)
    GET  /_emulator/deliveries?shop=&topic=   every delivery attempt, in order of finish
    GET  /_emulator/subscriptions?shop=       API- and admin-made, with "admin"
    POST /_emulator/subscriptions {"shop", "topic", "address", "admin": true}
    GET  /_emulator/requests                  every API call: method, path, query, shop, status
    GET  /_emulator/config | POST /_emulator/config {field: value, "shops": {domain: {...}}}
    POST /_emulator/faults {"faults": ["500", "429"], "calls": "orders", "shop": ...}
    POST /_emulator/settle {"timeout": 5}     wait until no delivery is queued or in flight
    POST /_emulator/reset                     reseed; forget subscriptions, faults, logs
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulators.common.control import Command, Getter, dispatch, faults_of, object_of, timeout_of
from emulators.common.http import Reply, Request

if TYPE_CHECKING:
    from emulators.shopify.app import Emulator


def control(emulator: Emulator, request: Request) -> Reply:
    getters: dict[str, Getter] = {
        "orders": lambda q: {
            "orders": emulator.orders(q.get("shop")),
            "versions": {str(k): v for k, v in emulator.versions(q.get("shop")).items()},
        },
        "deliveries": lambda q: {"deliveries": emulator.deliveries(q.get("shop"), q.get("topic"))},
        "subscriptions": lambda q: {"subscriptions": emulator.subscriptions(q.get("shop"))},
        "requests": lambda q: {"requests": emulator.requests_log()},
        "config": lambda q: emulator.config.to_json(),
    }
    commands: dict[str, Command] = {
        "orders": lambda p: emulator.save_order(
            object_of(p, "order"), shop=p.get("shop"), action=p.get("action")
        ),
        "subscriptions": lambda p: _subscribe(emulator, p),
        "config": lambda p: _configure(emulator, p),
        "faults": lambda p: _fail(emulator, p),
        "settle": lambda p: {"idle": emulator.settle(timeout_of(p))},
        "reset": lambda p: _reset(emulator),
    }
    return dispatch(request, getters, commands)


def _subscribe(emulator: Emulator, payload: dict[str, Any]) -> Any:
    topic, address = payload.get("topic"), payload.get("address")
    if not isinstance(topic, str) or not isinstance(address, str):
        raise ValueError('expected {"topic": "orders/create", "address": "https://..."}')
    admin = payload.get("admin", True) is True
    return emulator.add_subscription(topic, address, shop=payload.get("shop"), admin=admin)


def _configure(emulator: Emulator, payload: dict[str, Any]) -> Any:
    emulator.configure(**payload)
    return emulator.config.to_json()


def _fail(emulator: Emulator, payload: dict[str, Any]) -> Any:
    emulator.fail_next(*faults_of(payload), calls=payload.get("calls"), shop=payload.get("shop"))
    return {"ok": True}


def _reset(emulator: Emulator) -> Any:
    emulator.reset()
    return {"ok": True}
