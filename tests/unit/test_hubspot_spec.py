"""The spec helper finds the most specific operation and does fail on a wrong body."""

from __future__ import annotations

import pytest

from tests.hubspot_spec import find_operation, validate_answer, validate_request

RECORD = {"id": "1", "properties": {"hs_tax": None}, "archived": False}
RECORD |= {"createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z"}


def test_a_type_specific_template_beats_the_generic_objects_one() -> None:
    assert find_operation("GET", "/crm/v3/objects/orders/1?properties=a").file.startswith(
        "CRM_Orders"
    )
    assert find_operation("GET", "/crm/v3/objects/0-8/1").file.startswith("CRM_Objects")


def test_an_answer_missing_required_fields_fails() -> None:
    with pytest.raises(AssertionError, match="'archived' is a required property"):
        validate_answer("GET", "/crm/v3/objects/orders/1", 200, {"id": "1"})


def test_an_undeclared_success_status_fails() -> None:
    with pytest.raises(AssertionError, match="declares no 207"):
        validate_answer("GET", "/crm/v3/objects/orders/1", 207, RECORD)


def test_an_error_answer_is_checked_against_the_error_schema() -> None:
    with pytest.raises(AssertionError, match="correlationId"):
        validate_answer("GET", "/crm/v3/objects/orders/1", 404, {"message": "gone"})


def test_null_property_values_pass_as_hubspot_sends_them() -> None:
    validate_answer("GET", "/crm/v3/objects/orders/1", 200, RECORD)


def test_a_request_body_is_checked_against_the_request_schema() -> None:
    with pytest.raises(AssertionError, match="'inputs' is a required property"):
        validate_request("POST", "/crm/v3/objects/orders/batch/upsert", {"input": []})
