"""`GET /wc/v3/orders` (and the paging of `GET /wc/v3/webhooks`): arguments checked as
the WordPress REST API checks them, the date filters, the sort, and the page with its
`X-WP-Total`, `X-WP-TotalPages` and `Link` headers (class-wc-rest-crud-controller.php,
shop-apis.md §2).

- `modified_after`/`modified_before` compare with the modified date, `after`/`before`
  with the created date: in UTC when `dates_are_gmt=true`, else in the site's time (the
  default). A time without an offset is read in that zone; one with an offset is turned
  into it first (how WP_Date_Query treats an offset is UNCONFIRMED). Each bound is
  exclusive (WP_Date_Query's `inclusive` defaults to false; UNCONFIRMED).
- `status`: any (the default) or a comma-separated list; `orderby` date (default),
  id, include, title, slug or modified; `date` and `modified` tie-break by id; title and
  slug sort by id here (an order's title is "Order &ndash; <date>"; UNCONFIRMED).
  `order` desc (default) or asc, applied to the tie-break too.
- `per_page` 1-100 (default 10), `page` from 1; a page past the end is an empty list.
- A bad argument is a 400 `rest_invalid_param` naming it in `data.params` and
  `data.details`, with WordPress's messages (written from WordPress's
  rest_validate_value_from_schema as remembered: their wording is UNCONFIRMED).
- `Link` URLs keep the request's query (credentials in it too, as add_query_arg does)
  and use the host the request came to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from emulators.common.formats import parse_time
from emulators.common.http import Reply

ORDER_STATUSES = (
    "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
    "checkout-draft",
)  # fmt: skip
STATUS_ENUM = ("any", "trash", *ORDER_STATUSES)
ORDERBY = ("date", "id", "include", "title", "slug", "modified")
_DATES = ("after", "before", "modified_after", "modified_before")
# rest_parse_date's RFC 3339: a date and a time to the second, then a fraction and offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}(:\d{2})?)?")
T = TypeVar("T")


class Dated(Protocol):
    """What the order filters read of a stored order."""

    body: dict[str, Any]
    created: float
    modified: float


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = 10
    order: str = "desc"


@dataclass(frozen=True)
class OrderQuery:
    paging: Paging
    orderby: str
    statuses: tuple[str, ...]
    bounds: dict[str, float]  # after, before, modified_after, modified_before: POSIX seconds
    include: tuple[int, ...]
    exclude: tuple[int, ...]


class Invalid(ValueError):
    """Arguments that fail WordPress's checks: name -> (code, message)."""

    def __init__(self, problems: dict[str, tuple[str, str]]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems

    def reply(self) -> Reply:
        names = ", ".join(self.problems)
        data: dict[str, Any] = {
            "status": 400,
            "params": {name: message for name, (_, message) in self.problems.items()},
            "details": {
                name: {"code": code, "message": message, "data": None}
                for name, (code, message) in self.problems.items()
            },
        }
        return Reply(
            400,
            {
                "code": "rest_invalid_param",
                "message": f"Invalid parameter(s): {names}",
                "data": data,
            },
        )


def paging(query: dict[str, str], orderings: Sequence[str]) -> tuple[Paging, str]:
    """page, per_page, order and orderby; raises Invalid."""
    problems: dict[str, tuple[str, str]] = {}
    page = _checked(problems, "page", query.get("page", "1"), _integer(1, None))
    per_page = _checked(problems, "per_page", query.get("per_page", "10"), _integer(1, 100))
    order = _checked(problems, "order", query.get("order", "desc"), _one_of("asc", "desc"))
    orderby = _checked(problems, "orderby", query.get("orderby", "date"), _one_of(*orderings))
    if problems:
        raise Invalid(problems)
    return Paging(page, per_page, order), orderby


def order_query(query: dict[str, str], site_offset: int) -> OrderQuery:
    """The orders listing's arguments; raises Invalid."""
    pages, orderby = paging(query, ORDERBY)
    problems: dict[str, tuple[str, str]] = {}
    gmt = _checked(problems, "dates_are_gmt", query.get("dates_are_gmt", "false"), _boolean)
    offset = 0 if gmt else site_offset
    bounds = {
        name: _checked(problems, name, query[name], _date(offset))
        for name in _DATES
        if name in query
    }
    statuses = tuple(s for s in query.get("status", "any").split(",") if s) or ("any",)
    for index, status in enumerate(statuses):
        _checked(problems, f"status[{index}]", status, _one_of(*STATUS_ENUM))
    include = _checked(problems, "include", query.get("include", ""), _ids)
    exclude = _checked(problems, "exclude", query.get("exclude", ""), _ids)
    if problems:
        raise Invalid(problems)
    return OrderQuery(pages, orderby, statuses, bounds, include, exclude)


def select(records: Sequence[Dated], query: OrderQuery) -> list[Dated]:
    """The records the query's filters keep, in its order."""
    statuses = set(query.statuses)
    bounds = query.bounds

    def kept(record: Dated) -> bool:
        status, order_id = record.body["status"], record.body["id"]
        wanted = status != "trash" if "any" in statuses else status in statuses
        included = order_id in query.include if query.include else True
        listed = included and order_id not in query.exclude
        if not wanted or not listed:
            return False
        return (
            _above(record.created, bounds.get("after"))
            and _below(record.created, bounds.get("before"))
            and _above(record.modified, bounds.get("modified_after"))
            and _below(record.modified, bounds.get("modified_before"))
        )

    keys: dict[str, Callable[[Dated], tuple[float, int]]] = {
        "date": lambda r: (r.created, r.body["id"]),
        "modified": lambda r: (r.modified, r.body["id"]),
        "include": lambda r: (float(_position(query.include, r.body["id"])), r.body["id"]),
    }
    key = keys.get(query.orderby, lambda r: (0.0, r.body["id"]))  # id, title, slug
    return sorted(filter(kept, records), key=key, reverse=query.paging.order == "desc")


def _above(value: float, bound: float | None) -> bool:
    return bound is None or value > bound


def _below(value: float, bound: float | None) -> bool:
    return bound is None or value < bound


def _position(ids: tuple[int, ...], order_id: int) -> int:
    return ids.index(order_id) if order_id in ids else len(ids)


def page_of(
    items: Sequence[T], pages: Paging, base: str, query: dict[str, str]
) -> tuple[list[T], dict[str, str]]:
    """One page of the sorted items and the headers that describe the whole."""
    total = len(items)
    last = math.ceil(total / pages.per_page)
    start = (pages.page - 1) * pages.per_page
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(last)}
    links = []
    if pages.page > 1:
        links.append(_link(base, query, min(pages.page - 1, last), "prev"))
    if last > pages.page:
        links.append(_link(base, query, pages.page + 1, "next"))
    if links:
        headers["Link"] = ", ".join(links)
    return list(items[start : start + pages.per_page]), headers


def _link(base: str, query: dict[str, str], page: int, rel: str) -> str:
    return f'<{base}?{urlencode({**query, "page": str(page)}, safe=",:")}>; rel="{rel}"'


def _checked(
    problems: dict[str, tuple[str, str]], name: str, value: str, check: Callable[[str, str], Any]
) -> Any:
    try:
        return check(name, value)
    except _Problem as problem:
        problems[name] = (problem.code, problem.message)
        return None


class _Problem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _integer(minimum: int, maximum: int | None) -> Callable[[str, str], int]:
    def check(name: str, value: str) -> int:
        if not value.lstrip("-").isdigit():
            raise _Problem("rest_invalid_type", f"{name} is not of type integer.")
        number = int(value)
        if maximum is not None and not minimum <= number <= maximum:
            message = f"{name} must be between {minimum} (inclusive) and {maximum} (inclusive)"
            raise _Problem("rest_out_of_bounds", message)
        if number < minimum:
            raise _Problem(
                "rest_out_of_bounds", f"{name} must be greater than or equal to {minimum}"
            )
        return number

    return check


def _one_of(*choices: str) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        if value not in choices:
            raise _Problem("rest_not_in_enum", f"{name} is not one of {', '.join(choices)}.")
        return value

    return check


def _boolean(name: str, value: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0", ""):
        return False
    raise _Problem("rest_invalid_type", f"{name} is not of type boolean.")


def _date(offset: int) -> Callable[[str, str], float]:
    def check(name: str, value: str) -> float:
        parsed = parse_time(value, offset) if _RFC3339.fullmatch(value) else None
        if parsed is None:
            raise _Problem("rest_invalid_date", "Invalid date.")
        return parsed[0]

    return check


def _ids(name: str, value: str) -> tuple[int, ...]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise _Problem("rest_invalid_type", f"{name}[0] is not of type integer.")
    return tuple(int(part) for part in parts)
