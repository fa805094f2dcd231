"""A secret bound to a shop (`shop=secret`) signs for that shop only; a bare secret (a
Shopify app's client secret) signs for any. The shop header is not under the HMAC, so
without the binding one shop's secret could rewrite another shop's orders."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Engine

from service import samples
from service.app import create_app
from service.config import Config
from service.webhook_secrets import secrets_for, split_entry
from tests.integration.ingest_support import assert_problem, empty_counts, row_counts

A, B = "shop-a.myshopify.com", "shop-b.myshopify.com"
SITE_A, SITE_B = "a.example.com", "b.example.com/shop"


@pytest.fixture
def app(config: Config, engine: Engine) -> Flask:
    bound = config.replace(
        shopify_webhook_secrets=(f"{A}=secret-of-a", f"{B}=secret-of-b", "app-client-secret"),
        woocommerce_webhook_secrets=(f"{SITE_A}=woo-of-a", f"{SITE_B}=woo-of-b"),
    )
    app = create_app(bound, engine)
    app.config["TESTING"] = True
    return app


def shopify(app: Flask, secret: str, shop: str) -> int:
    body, headers = samples.shopify_request(samples.shopify_order(), secret, shop=shop)
    return int(app.test_client().post("/webhooks/shopify", data=body, headers=headers).status_code)


def woocommerce(app: Flask, secret: str, site: str) -> int:
    body, headers = samples.woocommerce_request(samples.woocommerce_order(), secret, site=site)
    answer = app.test_client().post("/webhooks/woocommerce", data=body, headers=headers)
    return int(answer.status_code)


def test_a_body_signed_with_shop_bs_secret_and_sent_as_shop_a_is_401_and_stores_nothing(
    app: Flask, engine: Engine
) -> None:
    body, headers = samples.shopify_request(samples.shopify_order(), "secret-of-b", shop=A)
    answer = app.test_client().post("/webhooks/shopify", data=body, headers=headers)

    assert_problem(answer, 401)
    assert row_counts(engine) == empty_counts()


def test_each_shop_signs_with_its_own_secret_and_the_app_secret_with_any(
    app: Flask, engine: Engine
) -> None:
    assert shopify(app, "secret-of-a", A) == 202
    assert shopify(app, "secret-of-b", B) == 202
    assert shopify(app, "app-client-secret", "shop-c.myshopify.com") == 202
    assert row_counts(engine)["orders"] == 3


def test_a_woocommerce_site_is_bound_the_same_way_sub_folder_included(
    app: Flask, engine: Engine
) -> None:
    assert woocommerce(app, "woo-of-b", f"https://{SITE_A}/") == 401
    assert row_counts(engine) == empty_counts()
    assert woocommerce(app, "woo-of-a", f"https://{SITE_A}/") == 202
    assert woocommerce(app, "woo-of-b", f"https://{SITE_B}/") == 202


def test_without_a_shop_header_only_a_bare_secret_can_sign(app: Flask) -> None:
    body, headers = samples.shopify_request(samples.shopify_order(), "secret-of-a", shop=A)
    del headers["X-Shopify-Shop-Domain"]
    assert (
        app.test_client().post("/webhooks/shopify", data=body, headers=headers).status_code == 401
    )


@pytest.mark.parametrize(
    ("entry", "split"),
    [
        ("acme.myshopify.com=s3cret", ("acme.myshopify.com", "s3cret")),
        ("Acme.MyShopify.com=s3cret", ("acme.myshopify.com", "s3cret")),
        ("example.com/shop=k=v", ("example.com/shop", "k=v")),
        ("c2VjcmV0IGtleQ==", (None, "c2VjcmV0IGtleQ==")),  # base64: no dot, bare
        ("shpss_abc=def", (None, "shpss_abc=def")),
        ("acme.myshopify.com=", (None, "acme.myshopify.com=")),
    ],
)
def test_an_entry_is_bound_when_it_starts_with_a_shop_domain(
    entry: str, split: tuple[str | None, str]
) -> None:
    assert split_entry(entry) == split


def test_secrets_for_a_shop_are_its_own_and_the_bare_ones() -> None:
    entries = ("a.example.com=one", "two", "b.example.com=three")
    assert secrets_for(entries, "a.example.com") == ("one", "two")
    assert secrets_for(entries, None) == ("two",)
