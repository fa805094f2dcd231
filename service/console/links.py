"""Where a record can be opened in HubSpot: the record page of the portal
(HUBSPOT_PORTAL_ID, or the portal the OAuth token named), or, in sandbox mode, the
emulator's own read endpoint for one record."""

from __future__ import annotations

from urllib.parse import urlencode

from service.config import Config
from service.domain import RecordKind
from service.hubspot.kinds import OBJECT_TYPES

# HubSpot's object type ids (hubspot.md: orders 0-123, line items 0-8, deals 0-3,
# contacts 0-1), which its record pages are addressed by.
OBJECT_TYPE_IDS = {
    RecordKind.CONTACT: "0-1",
    RecordKind.DEAL: "0-3",
    RecordKind.LINE_ITEM: "0-8",
    RecordKind.ORDER: "0-123",
}
# The record page's address is HubSpot's app, not its API: UNCONFIRMED by the reference
# files, it is the form the app shows in its address bar (contacts/<portal>/record/...).
APP_URL = "https://app.hubspot.com"


def record_url(
    config: Config, portal_id: str | None, kind: str, hubspot_id: str | None
) -> str | None:
    """A link to the record, or None: not delivered yet, an association (it has no page),
    or no portal known outside the sandbox."""
    if not hubspot_id or kind not in OBJECT_TYPE_IDS:
        return None
    record_kind = RecordKind(kind)
    if config.sandbox:
        query = urlencode({"type": OBJECT_TYPES[record_kind], "id": hubspot_id})
        return f"{config.hubspot_base_url}/_emulator/record?{query}"
    portal = config.hubspot_portal_id or portal_id
    if not portal:
        return None
    return f"{APP_URL}/contacts/{portal}/record/{OBJECT_TYPE_IDS[record_kind]}/{hubspot_id}"
