"""Build the HubSpot client the configuration asks for: static token, OAuth, or sandbox."""

from __future__ import annotations

import time

from sqlalchemy import Engine

from service.config import Config
from service.hubspot.auth import OAuthRefresh, StaticToken, TokenProvider
from service.hubspot.client import HubSpotClient, make_session
from service.store.state import PORTAL_ID, StoredRefreshToken, set_state

SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 - the emulator's default token, not a secret


def build_client(config: Config, engine: Engine) -> HubSpotClient:
    session = make_session(pool_size=config.batches_in_flight + 2)
    auth: TokenProvider
    if config.uses_oauth:
        assert config.hubspot_client_id and config.hubspot_client_secret
        assert config.hubspot_refresh_token
        auth = OAuthRefresh(
            base_url=config.hubspot_base_url,
            client_id=config.hubspot_client_id,
            client_secret=config.hubspot_client_secret,
            refresh_token=config.hubspot_refresh_token,
            session=session,
            store=StoredRefreshToken(engine, config.hubspot_refresh_token),
            on_portal=lambda hub_id: set_state(engine, PORTAL_ID, hub_id, now=time.time()),
        )
    else:
        auth = StaticToken(config.hubspot_access_token or SANDBOX_TOKEN)
    return HubSpotClient(
        config.hubspot_base_url,
        auth,
        session=session,
        connect_timeout=min(5.0, config.request_timeout_seconds),
        read_timeout=config.request_timeout_seconds,
    )
