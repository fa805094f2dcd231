from __future__ import annotations

from service.hubspot import outcomes as oc

SENT = {"t1": "shopify:a:1", "t2": "shopify:a:2", "t3": "shopify:a:3"}


def result(trace: str | None, hubspot_id: str, new: bool, key: str = "") -> dict[str, object]:
    body: dict[str, object] = {
        "id": hubspot_id,
        "new": new,
        "properties": {"external_line_item_id": key},
    }
    if trace:
        body["objectWriteTraceId"] = trace
    return body


def test_a_200_delivers_every_input_by_trace_id_whatever_the_order() -> None:
    answer = oc.Answer(
        200,
        {
            "results": [
                result("t3", "903", True),
                result("t1", "901", False),
                result("t2", "902", True),
            ]
        },
    )
    outcome = oc.classify(answer, SENT, "external_line_item_id")
    assert outcome == oc.PerInput(
        {
            "t1": oc.Success("901", False),
            "t2": oc.Success("902", True),
            "t3": oc.Success("903", True),
        }
    )


def test_results_without_trace_ids_are_matched_by_the_id_property() -> None:
    answer = oc.Answer(200, {"results": [result(None, "77", True, key="shopify:a:2")]})
    outcome = oc.classify(answer, SENT, "external_line_item_id")
    assert isinstance(outcome, oc.PerInput)
    assert outcome.outcomes["t2"] == oc.Success("77", True)
    assert outcome.outcomes["t1"].__class__ is oc.Failure


def test_a_207_validation_error_is_permanent_and_other_errors_retry() -> None:
    answer = oc.Answer(
        207,
        {
            "results": [result("t1", "901", True)],
            "errors": [
                {
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid",
                    "context": {"objectWriteTraceId": ["t2"]},
                },
                {
                    "category": "INTERNAL_ERROR",
                    "message": "oops",
                    "context": {"objectWriteTraceId": ["t3"]},
                },
            ],
        },
    )
    outcome = oc.classify(answer, SENT, "external_line_item_id")
    assert isinstance(outcome, oc.PerInput)
    assert outcome.outcomes["t1"] == oc.Success("901", True)
    assert outcome.outcomes["t2"] == oc.Failure(
        "VALIDATION_ERROR Property values were not valid", True
    )
    assert outcome.outcomes["t3"] == oc.Failure("INTERNAL_ERROR oops", False)


def test_an_unattributed_400_splits_a_batch_and_rejects_a_single_input() -> None:
    answer = oc.Answer(400, {"category": "VALIDATION_ERROR", "message": "bad"})
    assert isinstance(oc.classify(answer, SENT, "p"), oc.Split)
    assert isinstance(oc.classify(answer, {"t1": "k"}, "p"), oc.Rejected)


def test_auth_failures_stop_delivery() -> None:
    for status in (401, 403):
        assert isinstance(oc.classify(oc.Answer(status, {}), SENT, "p"), oc.AuthFailed)


def test_rate_limits_and_locks_wait_and_everything_else_backs_off() -> None:
    ten_secondly = oc.Answer(429, {"policyName": "TEN_SECONDLY_ROLLING"})
    daily = oc.Answer(429, {"policyName": "DAILY"})
    assert oc.classify(ten_secondly, SENT, "p") == oc.Backoff(oc.Wait.RATE, ten_secondly.describe())
    assert oc.classify(daily, SENT, "p") == oc.Backoff(oc.Wait.DAILY, daily.describe())
    assert oc.classify(oc.Answer(423, None), SENT, "p").wait is oc.Wait.LOCKED  # type: ignore[union-attr]
    migrating = oc.classify(oc.Answer(477, None, headers={"Retry-After": "7200"}), SENT, "p")
    assert migrating == oc.Backoff(oc.Wait.MIGRATION, "477", 7200.0)
    for status in (500, 502, 503, 504, 0):
        outcome = oc.classify(oc.Answer(status, None, error="timeout"), SENT, "p")
        assert isinstance(outcome, oc.Backoff)
        assert outcome.wait is oc.Wait.TRANSIENT


def test_a_refused_id_property_is_the_portals_setup_not_the_inputs() -> None:
    answer = oc.Answer(
        400,
        {
            "category": "VALIDATION_ERROR",
            "message": "Unable to perform update/upsert by non-unique 0-8 property "
            "external_line_item_id",
        },
    )
    assert isinstance(oc.classify(answer, SENT, "external_line_item_id"), oc.Misconfigured)
    assert isinstance(oc.classify(answer, SENT, "another_property"), oc.Split)


def test_retry_after_is_read_from_the_headers() -> None:
    answer = oc.Answer(477, None, headers={"Retry-After": "3600"})
    outcome = oc.classify(answer, SENT, "p")
    assert isinstance(outcome, oc.Backoff)
    assert outcome.retry_after == 3600.0


def test_describe_keeps_status_category_message_and_correlation_id() -> None:
    answer = oc.Answer(
        400, {"category": "VALIDATION_ERROR", "message": "Duplicate IDs", "correlationId": "c-1"}
    )
    assert answer.describe() == "400 VALIDATION_ERROR Duplicate IDs correlationId=c-1"
    assert oc.Answer(0, error="timeout").describe() == "no answer: timeout"
