"""VAT IDs: stdnum's documented valid numbers pass compacted; wrong check digits and other countries' prefixes fail."""

from __future__ import annotations

import pytest

from app.invoicing.vat_ids import InvalidVatId, normalise_vat_id
from app.invoicing.vat_rates import UnknownCountry


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("DE 136,695 976", "DE", "DE136695976"),  # stdnum.de.vat
        ("AT U13585627", "AT", "ATU13585627"),  # stdnum.at.uid
        ("Fr 40 303 265 045", "FR", "FR40303265045"),  # stdnum.fr.tva
        ("FRK7399859412", "FR", "FRK7399859412"),  # new-style French number
        ("EL 094259216 ", "GR", "EL094259216"),  # stdnum.gr.vat: Greece is GR, its VAT IDs say EL
        ("el094259216", "gr", "EL094259216"),
        ("BE697449992", "BE", "BE0697449992"),  # stdnum.eu.vat: Belgian numbers gain their leading zero
        ("FR40303265045", "MC", "FR40303265045"),  # Monaco belongs to the French VAT territory
    ],
)
def test_valid_vat_ids_are_compacted_with_their_prefix(raw, country, expected):
    assert normalise_vat_id(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("DE136695978", "DE"),  # stdnum.de.vat: wrong check digit
        ("ATU13585626", "AT"),  # stdnum.at.uid: wrong check digit
        ("FR84323140391", "FR"),  # stdnum.fr.tva: wrong check digit
        ("EL123456781", "GR"),  # stdnum.gr.vat: wrong check digit
        ("DE12345", "DE"),  # too short
    ],
)
def test_wrong_check_digit_or_format_is_refused(raw, country):
    with pytest.raises(InvalidVatId, match="wrong format or check digit"):
        normalise_vat_id(raw, country)


@pytest.mark.parametrize(
    ("raw", "country", "prefix"),
    [
        ("DE136695976", "AT", "AT"),  # valid German number for an Austrian customer
        ("ATU13585627", "DE", "DE"),
        ("GR094259216", "GR", "EL"),  # stdnum accepts GR; VIES and invoices need EL
        ("EL094259216", "CY", "CY"),
        ("EU372000041", "DE", "DE"),  # an OSS registration number is no VAT ID of a country
    ],
)
def test_prefix_of_another_country_is_refused(raw, country, prefix):
    with pytest.raises(InvalidVatId, match=f"must start with {prefix}"):
        normalise_vat_id(raw, country)


@pytest.mark.parametrize("raw", ["136695976", "XX136695976", "", "   "])
def test_number_without_a_country_prefix_is_refused(raw):
    with pytest.raises(InvalidVatId, match="country code, then the number"):
        normalise_vat_id(raw, "DE")


def test_vat_ids_are_only_checked_for_eu_customers():
    with pytest.raises(InvalidVatId, match="customers in the EU"):
        normalise_vat_id("CHE-116.281.710 MWST", "CH")


def test_unknown_customer_country_is_refused():
    with pytest.raises(UnknownCountry):
        normalise_vat_id("DE136695976", "EL")


def test_invalid_vat_id_is_a_value_error_with_a_german_message():
    from app.i18n import translations

    with pytest.raises(ValueError, match="must start with") as caught:
        normalise_vat_id("DE136695976", "AT")
    assert isinstance(caught.value, InvalidVatId)
    assert caught.value.translated(translations("de").gettext) == "muss für Kunden in AT mit AT beginnen"
