"""The emulator's one-record read for people (the console's sandbox links): no token,
a record by its HubSpot id as the API reads it, 404 for none, 400 for an unknown type."""

from __future__ import annotations

import requests

from emulators.hubspot import Emulator, EmulatorConfig


def test_one_record_is_read_by_hubspot_id_without_a_token() -> None:
    with Emulator(EmulatorConfig(seed=3)) as emulator:
        created = requests.post(
            f"{emulator.url}/crm/v3/objects/line_items/batch/upsert",
            json={
                "inputs": [
                    {
                        "idProperty": "external_line_item_id",
                        "id": "k1",
                        "properties": {"name": "Mug"},
                    }
                ]
            },
            headers={"Authorization": "Bearer sandbox-token"},
            timeout=5,
        )
        assert created.status_code == 200, created.text
        record_id = created.json()["results"][0]["id"]
        read = f"{emulator.url}/_emulator/record"
        found = requests.get(read, params={"type": "line_items", "id": record_id}, timeout=5)
        assert found.status_code == 200
        assert found.json()["id"] == record_id
        assert found.json()["properties"]["name"] == "Mug"
        missing = requests.get(read, params={"type": "line_items", "id": "1"}, timeout=5)
        assert missing.status_code == 404
        unknown = requests.get(read, params={"type": "tickets", "id": record_id}, timeout=5)
        assert unknown.status_code == 400
