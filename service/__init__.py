"""line-item-relay: shop orders into HubSpot line items."""
