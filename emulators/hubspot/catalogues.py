"""HubSpot's default properties for each emulated object type: name -> (label, type,
fieldType). Names and types are from shared/reference/commerce.md §1 and hubspot.md §4;
labels not quoted there are the emulator's own wording. `type` drives validation in
`validation`: number, datetime (ISO 8601 or epoch milliseconds), enumeration (options).
"""

from __future__ import annotations

Definition = tuple[str, str, str]  # label, type, fieldType

_NUMBER = ("number", "number")
_TEXT = ("string", "text")
_DATETIME = ("datetime", "date")
_SELECT = ("enumeration", "select")


def _table(rows: dict[str, tuple[str, tuple[str, str]]]) -> dict[str, Definition]:
    return {name: (label, *kind) for name, (label, kind) in rows.items()}


LINE_ITEMS = _table(
    {
        "name": ("Name", _TEXT),
        "description": ("Description", ("string", "textarea")),
        "price": ("Unit price", _NUMBER),
        "quantity": ("Quantity", _NUMBER),
        "discount": ("Unit discount", _NUMBER),
        "hs_discount_percentage": ("Unit discount percentage", _NUMBER),
        "tax": ("Tax", _NUMBER),
        "hs_sku": ("SKU", _TEXT),
        "hs_product_id": ("Product ID", _NUMBER),
        "hs_line_item_currency_code": ("Currency", _TEXT),
        "recurringbillingfrequency": ("Billing frequency", _SELECT),
        "hs_recurring_billing_period": ("Term", _TEXT),
        "hs_recurring_billing_start_date": ("Billing start date", ("date", "date")),
        "hs_cost_of_goods_sold": ("Unit cost", _NUMBER),
        "hs_position_on_quote": ("Position on quote", _NUMBER),
        "hs_tax_rate_group_id": ("Tax rate", _TEXT),
        "amount": ("Net price", _NUMBER),
        "hs_object_id": ("Record ID", _NUMBER),
        "createdate": ("Create date", _DATETIME),
        "hs_lastmodifieddate": ("Last modified date", _DATETIME),
    }
)

_ADDRESS = {
    f"hs_{side}_address_{part}": (f"{side.capitalize()} address {part}", _TEXT)
    for side, parts in (
        ("billing", ("name", "firstname", "lastname", "email", "phone")),
        ("shipping", ("name", "street", "city", "state", "postal_code", "country")),
    )
    for part in parts
}

ORDERS = _table(
    {
        "hs_order_name": ("Name", _TEXT),
        "hs_currency_code": ("Currency", _SELECT),
        "hs_total_price": ("Total", _NUMBER),
        "hs_subtotal_price": ("Subtotal", _NUMBER),
        "hs_order_discount": ("Order discount", _NUMBER),
        "hs_tax": ("Tax", _NUMBER),
        "hs_shipping_cost": ("Shipping cost", _NUMBER),
        "hs_refund_amount": ("Refund amount", _NUMBER),
        "hs_external_order_id": ("Order ID", _TEXT),
        "hs_external_order_status": ("Order status", _TEXT),
        "hs_external_order_url": ("Order URL", _TEXT),
        "hs_source_store": ("Source store", _TEXT),
        "hs_external_created_date": ("Order creation date", _DATETIME),
        "hs_payment_status": ("Payment status", _TEXT),
        "hs_fulfillment_status": ("Fulfillment status", _TEXT),
        "hs_shipping_tracking_number": ("Shipping tracking number", _TEXT),
        "hs_shipping_status_url": ("Shipping status URL", _TEXT),
        "hs_order_note": ("Order note", _TEXT),
        "hs_discount_codes": ("Discount codes", _TEXT),
        **_ADDRESS,
        "hs_pipeline": ("Pipeline", _SELECT),
        "hs_pipeline_stage": ("Stage", _SELECT),
        "hs_exchange_rate": ("Exchange rate", _NUMBER),
        "hs_object_id": ("Record ID", _NUMBER),
        "hs_createdate": ("Create date", _DATETIME),
        "hs_lastmodifieddate": ("Last modified date", _DATETIME),
    }
)

DEALS = _table(
    {
        "dealname": ("Deal name", _TEXT),
        "amount": ("Amount", _NUMBER),
        "deal_currency_code": ("Currency", _SELECT),
        "pipeline": ("Pipeline", _SELECT),
        "dealstage": ("Deal stage", _SELECT),
        "closedate": ("Close date", _DATETIME),
        "description": ("Deal description", ("string", "textarea")),
        "hs_object_id": ("Record ID", _NUMBER),
        "createdate": ("Create date", _DATETIME),
        "hs_lastmodifieddate": ("Last modified date", _DATETIME),
    }
)

CONTACTS = _table(
    {
        "email": ("Email", _TEXT),
        "firstname": ("First name", _TEXT),
        "lastname": ("Last name", _TEXT),
        "phone": ("Phone number", ("string", "phonenumber")),
        "hs_object_id": ("Record ID", _NUMBER),
        "createdate": ("Create date", _DATETIME),
        "lastmodifieddate": ("Last modified date", _DATETIME),
    }
)

FREQUENCIES: tuple[str, ...] = ("weekly", "biweekly", "monthly", "quarterly", "per_six_months")
FREQUENCIES += ("annually", "per_two_years", "per_three_years", "per_four_years")
FREQUENCIES += ("per_five_years",)

# A portal enables its own currencies; these are the common ones (UNCONFIRMED which a
# real portal holds: see shared/reference/hubspot.md §4 Currency).
_CODES = (
    "AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR "
    "ISK JPY KRW MXN MYR NOK NZD PEN PHP PKR PLN RON SAR SEK SGD THB TRY TWD UAH USD "
    "VND ZAR"
)
CURRENCIES: tuple[str, ...] = tuple(_CODES.split())
