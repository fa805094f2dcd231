"""Links from the console to a record: the emulator's read endpoint in sandbox mode, the
portal's record page with a portal id (configured first, else learned), none without."""

from __future__ import annotations

from service.config import Config
from service.console.links import record_url

LIVE = Config(sandbox=False, hubspot_access_token="pat")


def test_sandbox_links_to_the_emulators_record_endpoint() -> None:
    config = Config(sandbox=True, hubspot_base_url="http://127.0.0.1:8025")
    assert record_url(config, None, "order", "901") == (
        "http://127.0.0.1:8025/_emulator/record?type=orders&id=901"
    )


def test_a_portal_links_to_the_record_page_by_object_type_id() -> None:
    assert record_url(LIVE, "77", "line_item", "5") == (
        "https://app.hubspot.com/contacts/77/record/0-8/5"
    )
    configured = LIVE.replace(hubspot_portal_id="12")
    assert record_url(configured, "77", "contact", "5") == (
        "https://app.hubspot.com/contacts/12/record/0-1/5"
    )
    assert record_url(configured, None, "deal", "5") == (
        "https://app.hubspot.com/contacts/12/record/0-3/5"
    )


def test_no_link_without_a_portal_an_id_or_a_page() -> None:
    assert record_url(LIVE, None, "order", "5") is None
    assert record_url(LIVE, "77", "order", None) is None
    assert record_url(LIVE, "77", "line_item>order", "5>6") is None
