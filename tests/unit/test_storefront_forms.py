"""The public forms: where a POST may come from, and how the order form is read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.catalog.models import Platform, ServiceKind
from app.catalog.services import CategoryInfo, ServiceOffer
from app.errors import ValidationFailed
from storefront.order_form import OrderForm, read_checkout
from storefront.same_origin import same_origin

HOST = "shop.example"


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({}, True),  # no browser hints (curl, very old browsers): nothing a foreign page could have sent
        ({"sec-fetch-site": "same-origin", "origin": "https://shop.example"}, True),
        ({"sec-fetch-site": "none"}, True),  # typed into the address bar / bookmark
        ({"origin": "https://shop.example"}, True),
        ({"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, False),
        ({"sec-fetch-site": "same-site", "origin": "https://sub.shop.example"}, False),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "http://shop.example"}, False),  # another scheme is another origin
        ({"origin": "null"}, False),  # sandboxed frames, data: pages
        ({"sec-fetch-site": "cross-site"}, False),
    ],
)
def test_only_forms_on_our_own_pages_may_post(headers: dict[str, str], allowed: bool):
    assert same_origin(headers, "https", HOST) is allowed


def offer(kind: ServiceKind = ServiceKind.DEFAULT) -> ServiceOffer:
    category = CategoryInfo(id=1, slug="ig", platform=Platform.INSTAGRAM, name_de="IG", name_en="IG")
    return ServiceOffer(
        id=7,
        slug="s",
        kind=kind,
        name_de="S",
        name_en="S",
        description_de="",
        description_en="",
        price=Decimal("2.50"),
        currency="EUR",
        min_quantity=100,
        max_quantity=10_000,
        refill_days=0,
        category=category,
    )


def test_a_filled_form_reads_into_one_line_with_the_forms_idempotency_key():
    form = OrderForm.from_form({"link": "@anna", "quantity": "1.500", "email": "a@example.com", "form_key": "k1"})
    checkout = read_checkout(form, offer(), "de")
    (item,) = checkout.items
    assert (item.service_id, item.quantity, item.link) == (7, 1500, "@anna")
    assert checkout.idempotency_key == "storefront:k1"
    assert (checkout.country, checkout.company, checkout.vat_id) == ("DE", None, None)


@pytest.mark.parametrize("quantity", ["", "abc", "1,5", "-3", "0", "1e9"])
def test_a_quantity_that_is_no_whole_number_is_a_field_error(quantity: str):
    form = OrderForm.from_form({"link": "@anna", "quantity": quantity, "email": "a@example.com"})
    with pytest.raises(ValidationFailed) as refused:
        read_checkout(form, offer(), "de")
    assert set(refused.value.errors) == {"quantity"}


def test_drip_feed_reads_runs_and_interval_and_packages_need_no_quantity():
    drip = read_checkout(
        OrderForm.from_form({"quantity": "100", "runs": "5", "interval_minutes": "60"}),
        offer(ServiceKind.DRIP_FEED),
        "en",
    )
    assert (drip.items[0].runs, drip.items[0].interval_minutes) == (5, 60)
    package = read_checkout(OrderForm.from_form({"quantity": ""}), offer(ServiceKind.PACKAGE), "en")
    assert package.items[0].quantity == 1


def test_every_field_is_cut_to_a_sane_length_and_unknown_fields_are_dropped():
    form = OrderForm.from_form({"comments": "x" * 100_000, "evil": "1"})
    assert len(form.comments) == 20_000
    assert "evil" not in form.values()
