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


def test_a_200_delivers_every_input_by_trace_id_whatever_the_order_keyed_by_record() -> None:
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
            "shopify:a:1": oc.Success("901", False),
            "shopify:a:2": oc.Success("902", True),
            "shopify:a:3": oc.Success("903", True),
        }
    )


def test_results_without_trace_ids_are_matched_by_the_id_property() -> None:
    answer = oc.Answer(200, {"results": [result(None, "77", True, key="shopify:a:2")]})
    outcome = oc.classify(answer, SENT, "external_line_item_id")
    assert isinstance(outcome, oc.PerInput)
    assert outcome.outcomes["shopify:a:2"] == oc.Success("77", True)
    assert outcome.outcomes["shopify:a:1"].__class__ is oc.Failure


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
    assert outcome.outcomes["shopify:a:1"] == oc.Success("901", True)
    assert outcome.outcomes["shopify:a:2"] == oc.Failure(
        "VALIDATION_ERROR Property values were not valid", True
    )
    assert outcome.outcomes["shopify:a:3"] == oc.Failure("INTERNAL_ERROR oops", False)


def test_an_unattributed_400_splits_a_batch_and_rejects_a_single_input() -> None:
    answer = oc.Answer(400, {"category": "VALIDATION_ERROR", "message": "bad"})
    assert isinstance(oc.classify(answer, SENT, "p"), oc.Split)
    assert isinstance(oc.classify(answer, {"t1": "k"}, "p"), oc.Rejected)


def test_a_401_stops_everything_and_a_403_only_what_lacks_the_scope() -> None:
    assert isinstance(oc.classify(oc.Answer(401, {}), SENT, "p"), oc.AuthFailed)
    assert isinstance(oc.classify(oc.Answer(403, {}), SENT, "p"), oc.ScopeMissing)


def test_a_200_naming_no_input_is_a_failed_request_retried_not_raised() -> None:
    broken = [
        {"results": [{"objectWriteTraceId": "t1", "new": True}]},  # no id
        {"results": "oops"},
        {"results": [None, 3], "errors": "x"},
    ]
    for body in broken:
        outcome = oc.classify(oc.Answer(200, body), SENT, "p")
        assert outcome == oc.Backoff(oc.Wait.TRANSIENT, "200 answer could not be read")


def test_a_200_naming_some_inputs_retries_only_the_others() -> None:
    body = {"results": [result("t1", "901", True), {"objectWriteTraceId": "t2"}]}
    outcome = oc.classify(oc.Answer(200, body), SENT, "p")
    assert isinstance(outcome, oc.PerInput)
    assert outcome.outcomes["shopify:a:1"] == oc.Success("901", True)
    assert outcome.outcomes["shopify:a:2"] == oc.Failure("200 answer did not mention it", False)


def test_contacts_match_results_by_the_email_hubspot_lower_cased() -> None:
    answer = oc.Answer(
        200, {"results": [{"id": "5", "new": True, "properties": {"email": "ann@x.io"}}]}
    )
    outcome = oc.classify(answer, {"t1": "ann@x.io"}, "email")
    assert outcome == oc.PerInput({"ann@x.io": oc.Success("5", True)})


PAIRS = {("11", "91"): "li:1>o:9", ("12", "91"): "li:2>o:9", ("13", "91"): "li:3>o:9"}


def pair(start: str, end: str) -> dict[str, object]:
    return {
        "fromObjectTypeId": "0-8",
        "fromObjectId": start,
        "toObjectTypeId": "0-123",
        "toObjectId": end,
        "labels": [],
    }


def test_an_association_batch_is_delivered_pair_by_pair_on_201_and_on_200() -> None:
    for status in (201, 200):
        answer = oc.Answer(
            status,
            {
                "status": "COMPLETE",
                "results": [pair("13", "91"), pair("11", "91"), pair("12", "91")],
            },
        )
        outcome = oc.classify_associations(answer, PAIRS)
        assert outcome == oc.PerInput(
            {
                "li:1>o:9": oc.Success("11>91", True),
                "li:2>o:9": oc.Success("12>91", True),
                "li:3>o:9": oc.Success("13>91", True),
            }
        )


def test_an_association_207_dead_letters_a_missing_record_and_retries_an_unnamed_pair() -> None:
    answer = oc.Answer(
        207,
        {
            "results": [pair("11", "91")],
            "errors": [
                {
                    "category": "OBJECT_NOT_FOUND",
                    "message": "No line item 12",
                    "context": {"fromObjectId": ["12"], "toObjectId": ["91"]},
                }
            ],
        },
    )
    outcome = oc.classify_associations(answer, PAIRS)
    assert isinstance(outcome, oc.PerInput)
    assert outcome.outcomes["li:1>o:9"] == oc.Success("11>91", True)
    assert outcome.outcomes["li:2>o:9"] == oc.Failure("OBJECT_NOT_FOUND No line item 12", True)
    assert outcome.outcomes["li:3>o:9"] == oc.Failure("207 answer did not mention it", False)


def test_association_batches_follow_the_same_whole_batch_rules() -> None:
    assert isinstance(oc.classify_associations(oc.Answer(400, {"message": "dup"}), PAIRS), oc.Split)
    one = {("11", "91"): "li:1>o:9"}
    assert isinstance(oc.classify_associations(oc.Answer(400, {}), one), oc.Rejected)
    assert isinstance(oc.classify_associations(oc.Answer(403, {}), PAIRS), oc.ScopeMissing)
    assert isinstance(oc.classify_associations(oc.Answer(401, {}), PAIRS), oc.AuthFailed)
    assert oc.classify_associations(oc.Answer(502, None), PAIRS).wait is oc.Wait.TRANSIENT  # type: ignore[union-attr]


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
