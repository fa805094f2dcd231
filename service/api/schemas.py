"""Response and query schemas of the HTTP API; the OpenAPI document is built from these
and from the request schemas in service.sources."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from service.domain import RecordKind, RecordState, RejectionReason, Source

STATES = [state.value for state in RecordState]
KINDS = [kind.value for kind in RecordKind]
REASONS = [reason.value for reason in RejectionReason]
SOURCES = [source.value for source in Source]
MAX_ID = 2**63 - 1  # ids the store can compare (SQLite's and PostgreSQL's 64-bit integers)


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.Raw(metadata={"description": "Field messages, keyed by field path."})
    request_id = fields.String()


class IngestAnswerSchema(Schema):
    status = fields.String(
        required=True,
        validate=validate.OneOf(["accepted", "duplicate", "stale", "ignored", "pong"]),
    )
    line_items = fields.Integer()
    topic = fields.String(allow_none=True)


class RejectedAnswerSchema(Schema):
    """A signed webhook that did not fit, kept for an operator (GET /v1/rejected/{id})."""

    status = fields.String(required=True, validate=validate.Equal("rejected"))
    rejected_id = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    errors = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "Field (or header) messages, keyed by field path."},
    )


class RecordStatusSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    key = fields.String(required=True, metadata={"example": "erp:eu-store:SO-10042:1"})
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    version = fields.Integer(required=True)
    delivered_version = fields.Integer(required=True)
    hubspot_id = fields.String(
        allow_none=True,
        metadata={"description": "An association's is '<from id>><to id>' as delivered."},
    )
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    last_error = fields.String(allow_none=True)
    dead_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    delivered_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    properties = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    from_key = fields.String(metadata={"description": "An association's from record"})
    to_key = fields.String(metadata={"description": "An association's to record"})


class DeadLetterSchema(RecordStatusSchema):
    source = fields.String(required=True)
    store = fields.String(required=True)
    order_id = fields.String(required=True)


class OrderStatusSchema(Schema):
    source = fields.String(required=True)
    store = fields.String(required=True)
    order_id = fields.String(required=True)
    currency = fields.String(required=True)
    updated_at = fields.String(required=True, metadata={"format": "date-time"})
    order_record = fields.Nested(
        RecordStatusSchema,
        allow_none=True,
        required=True,
        metadata={"description": "The HubSpot order or deal; null with HUBSPOT_ORDER_OBJECT=none"},
    )
    contacts = fields.List(fields.Nested(RecordStatusSchema), required=True)
    line_items = fields.List(fields.Nested(RecordStatusSchema), required=True)
    associations = fields.List(fields.Nested(RecordStatusSchema), required=True)


class DeadLetterQuerySchema(Schema):
    source = fields.String()
    store = fields.String()
    order_id = fields.String()
    kind = fields.String(validate=validate.OneOf(KINDS))
    reason = fields.String(
        validate=validate.Length(1, 500), metadata={"description": "A part of the last error"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(metadata={"description": "next_cursor of the previous page"})


class DeadLetterPageSchema(Schema):
    items = fields.List(fields.Nested(DeadLetterSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ReplayFilterSchema(Schema):
    class Meta:
        unknown = RAISE

    source = fields.String()
    store = fields.String()
    order_id = fields.String()
    kind = fields.String(validate=validate.OneOf(KINDS))
    reason = fields.String(
        validate=validate.Length(1, 500), metadata={"description": "A part of the last error"}
    )


class ReplayByKeysSchema(Schema):
    class Meta:
        unknown = RAISE

    keys = fields.List(
        fields.String(validate=validate.Length(1, 1000)),
        required=True,
        validate=validate.Length(1, 1000),
    )


class ReplayByFilterSchema(Schema):
    class Meta:
        unknown = RAISE

    filter = fields.Nested(
        ReplayFilterSchema, required=True, metadata={"description": "{} matches every one"}
    )


class ReplayAllSchema(Schema):
    class Meta:
        unknown = RAISE

    all = fields.Boolean(required=True, validate=validate.Equal(True))


# A replay request selects by exactly one of these; the body names which by its only key.
REPLAY_SCHEMAS: dict[str, type[Schema]] = {
    "keys": ReplayByKeysSchema,
    "filter": ReplayByFilterSchema,
    "all": ReplayAllSchema,
}


class ReplayAnswerSchema(Schema):
    replayed = fields.Integer(required=True)


class RejectedQuerySchema(Schema):
    source = fields.String(validate=validate.OneOf(SOURCES))
    store = fields.String()
    reason = fields.String(validate=validate.OneOf(REASONS))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.Integer(
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "next_cursor of the previous page"},
    )


class RejectedWebhookSchema(Schema):
    """A rejected webhook as a list shows it: what and why, never the body."""

    id = fields.Integer(required=True)
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    store = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The store its header names; null when none or not valid"},
    )
    topic = fields.String(required=True)
    delivery_id = fields.String(
        allow_none=True, required=True, metadata={"description": "X-Shopify-Webhook-Id"}
    )
    received_at = fields.String(required=True, metadata={"format": "date-time"})
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    errors = fields.Dict(keys=fields.String(), required=True)
    attempts = fields.Integer(
        required=True, metadata={"description": "Runs through parsing and mapping, replays too"}
    )
    last_replayed_at = fields.String(
        allow_none=True, required=True, metadata={"format": "date-time"}
    )
    body_bytes = fields.Integer(required=True)


class RejectedWebhookBodySchema(RejectedWebhookSchema):
    """One rejected webhook with the unsigned headers the relay read and its raw body."""

    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    body_encoding = fields.String(required=True, validate=validate.OneOf(["utf-8", "base64"]))
    body = fields.String(required=True, metadata={"description": "As text, or in base64"})


class RejectedPageSchema(Schema):
    items = fields.List(fields.Nested(RejectedWebhookSchema), required=True)
    next_cursor = fields.Integer(allow_none=True, required=True)


class RejectedFilterSchema(Schema):
    class Meta:
        unknown = RAISE

    source = fields.String(validate=validate.OneOf(SOURCES))
    store = fields.String()
    reason = fields.String(validate=validate.OneOf(REASONS))


class RejectedByIdsSchema(Schema):
    class Meta:
        unknown = RAISE

    ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(1, MAX_ID)),
        required=True,
        validate=validate.Length(1, 1000),
    )


class RejectedByFilterSchema(Schema):
    class Meta:
        unknown = RAISE

    filter = fields.Nested(
        RejectedFilterSchema, required=True, metadata={"description": "{} matches every one"}
    )


# A rejected-webhook replay or purge selects by exactly one of these, as a replay does.
REJECTED_SCHEMAS: dict[str, type[Schema]] = {
    "ids": RejectedByIdsSchema,
    "filter": RejectedByFilterSchema,
    "all": ReplayAllSchema,
}


class RejectedReplayAnswerSchema(Schema):
    replayed = fields.Integer(required=True)
    accepted = fields.Integer(required=True, metadata={"description": "Stored; removed"})
    duplicate = fields.Integer(required=True, metadata={"description": "Seen; removed"})
    stale = fields.Integer(required=True, metadata={"description": "Older; removed"})
    rejected = fields.Integer(required=True, metadata={"description": "Rejected again; kept"})


class PurgeAnswerSchema(Schema):
    purged = fields.Integer(required=True)
