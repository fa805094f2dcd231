"""`ShopEmulator`: what the Shopify and WooCommerce emulators share beyond serving: an
outbox that sends their webhooks, scripted faults, run-time config, the request log and
reset. Each subclass builds its state and API and names its shops or sites."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from emulators.common.faults import FaultScript
from emulators.common.lifecycle import Served
from emulators.common.outbox import Outbox


@dataclass(frozen=True)
class OrderChange:
    """What a saved change did: the new body and version, and the topics it fires."""

    tenant: str  # the shop's domain or the site's name
    body: dict[str, Any]
    version: int
    created: bool
    topics: list[str]

    def to_json(self, key: str) -> dict[str, Any]:
        """As the control API answers it, the tenant under `key` ("shop", "site")."""
        return {
            key: self.tenant,
            "order": self.body,
            "version": self.version,
            "created": self.created,
            "topics": self.topics,
        }


class Settings(Protocol):
    def update(self, changes: dict[str, Any]) -> None: ...


class State(Protocol):
    """What the base drives of an emulator's state (`ShopifyState`, `WooState`)."""

    lock: threading.RLock

    def configured(self) -> None: ...

    def reset(self) -> None: ...


class Api(Protocol):
    log: list[dict[str, Any]]


class ShopEmulator(Served):
    def __init__(
        self,
        host: str,
        port: int,
        settings: Settings,
        state: State,
        api: Api,
        outbox: Outbox,
        faults: FaultScript,
    ) -> None:
        super().__init__(host, port)
        self._settings = settings
        self._shared_state = state
        self._shared_api = api
        self._outbox = outbox
        self._faults = faults

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The attempts once there are `count` (or as many as there are after `timeout`)."""
        return self._outbox.wait_for_attempts(count, timeout)

    def settle(self, timeout: float = 5.0) -> bool:
        """Wait until no delivery is queued or in flight (retries included)."""
        return self._outbox.idle(timeout)

    def configure(self, **changes: Any) -> None:
        """Change config fields at run time (validated, all or nothing)."""
        with self._shared_state.lock:
            self._settings.update(changes)
            self._shared_state.configured()

    def requests_log(self) -> list[dict[str, Any]]:
        """Every API call: method, path, query, shop or site, status, when."""
        return list(self._shared_api.log)

    def reset(self) -> None:
        """Reseed the orders; forget subscriptions, queued deliveries, faults and logs."""
        self._outbox.clear()
        self._faults.clear()
        self._shared_state.reset()
        self._shared_api.log.clear()

    def _attempts(self, key: str, tenant: str | None, topic: str | None) -> list[dict[str, Any]]:
        """Every delivery attempt so far of one shop or site (`key` names which in the log)
        and topic (None: all), in the order they finished."""
        return [
            attempt
            for attempt in self._outbox.attempts()
            if tenant in (None, attempt[key]) and topic in (None, attempt["topic"])
        ]

    def _on_start(self) -> None:
        self._outbox.start()

    def _on_stop(self) -> None:
        self._outbox.stop()
