from __future__ import annotations

from datetime import UTC, datetime

from service import retry


def test_backoff_doubles_from_two_seconds_and_is_capped() -> None:
    no_jitter = [retry.backoff_delay(n, lambda: 1.0) for n in range(12)]
    assert no_jitter[:4] == [2.0, 4.0, 8.0, 16.0]
    assert max(no_jitter) == retry.CAP_SECONDS


def test_jitter_spreads_within_the_upper_half_of_the_step() -> None:
    assert retry.backoff_delay(3, lambda: 0.0) == 8.0
    assert retry.backoff_delay(3, lambda: 1.0) == 16.0


def test_an_item_older_than_the_maximum_age_is_not_retried() -> None:
    now = 10_000.0
    assert retry.next_attempt(7, now, pending_since=now - 100, max_age_seconds=99) is None
    at = retry.next_attempt(0, now, pending_since=now - 10, max_age_seconds=99, jitter=lambda: 0.5)
    assert at == now + 1.5


def test_an_old_item_with_few_attempts_gets_more_tries_after_a_long_pause() -> None:
    now = 10_000.0
    at = retry.next_attempt(0, now, pending_since=now - 100, max_age_seconds=99, jitter=lambda: 0.0)
    assert at == now + 1.0


def test_the_daily_pause_probes_hourly_and_ends_by_the_next_utc_midnight() -> None:
    afternoon = datetime(2026, 11, 28, 15, 30, tzinfo=UTC).timestamp()
    assert retry.next_daily_reset(afternoon) == afternoon + 3600
    late = datetime(2026, 11, 28, 23, 40, tzinfo=UTC).timestamp()
    assert retry.next_daily_reset(late) == datetime(2026, 11, 29, tzinfo=UTC).timestamp()
