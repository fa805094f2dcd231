"""Fixtures for tests that talk to a started HubSpot emulator through `Hub`, and that
start the shop emulators (`start_shopify`, `start_woo`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from emulators.hubspot import Emulator, EmulatorConfig
from tests.integration import shopify_support, woocommerce_support
from tests.integration.emulator_support import Hub

StartHub = Callable[..., Hub]


@pytest.fixture
def start_hub() -> Iterator[StartHub]:
    """Start emulators with config overrides (seed 7 unless given); stopped after the test."""
    started: list[Emulator] = []
    with requests.Session() as http:

        def _start(**overrides: Any) -> Hub:
            emulator = Emulator(EmulatorConfig(**{"seed": 7, **overrides})).start()
            started.append(emulator)
            return Hub(emulator, http)

        yield _start
        for emulator in started:
            emulator.stop()


@pytest.fixture
def hub(start_hub: StartHub) -> Hub:
    return start_hub()


@pytest.fixture
def start_shopify() -> Iterator[shopify_support.Start]:
    """Start Shopify emulators of the given shops; stopped after the test."""
    yield from shopify_support.starting()


@pytest.fixture
def start_woo() -> Iterator[woocommerce_support.Start]:
    """Start WooCommerce emulators of the given sites; stopped after the test."""
    yield from woocommerce_support.starting()
