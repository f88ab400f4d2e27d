"""The VAT engine: which treatment, rate, country and note each kind of sale gets, and the rate table by date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.i18n import Message
from app.invoicing.tax import (
    EU_B2C_THRESHOLD,
    GERMAN_STANDARD_RATE,
    NOT_TAXABLE_BUSINESS_NOTE,
    NOT_TAXABLE_CONSUMER_NOTE,
    REVERSE_CHARGE_NOTE,
    SMALL_BUSINESS_NOTE,
    Buyer,
    Seller,
    ServiceClassification,
    TaxDecision,
    TaxTreatment,
    UnsupportedSeller,
    decide_tax,
)
from app.invoicing.vat_ids import InvalidVatId
from app.invoicing.vat_rates import (
    EU_COUNTRIES,
    EU_STANDARD_RATES,
    NoVatRate,
    UnknownCountry,
    country_code,
    eu_standard_rate,
    vat_id_prefix,
)

ON = date(2026, 3, 15)
SELLER = Seller()
SMALL = Seller(small_business=True)
GENERAL = Seller(service_classification=ServiceClassification.GENERAL)
ZERO = Decimal("0.00")
UNDER = Decimal("9999.99")
AT = EU_B2C_THRESHOLD  # exactly 10,000.00: still within
OVER = Decimal("10000.01")


def business(country: str, vat_id: str | None = None) -> Buyer:
    return Buyer(country=country, is_business=True, vat_id=vat_id)


def consumer(country: str, vat_id: str | None = None) -> Buyer:
    return Buyer(country=country, is_business=False, vat_id=vat_id)


def decide(seller: Seller, buyer: Buyer, current: Decimal = ZERO, previous: Decimal = ZERO, on: date = ON):
    return decide_tax(seller, buyer, on=on, eu_b2c_sales=current, eu_b2c_sales_previous_year=previous)


DE_VAT = (TaxTreatment.DOMESTIC, Decimal("19.00"), "DE", None)
REVERSE = (TaxTreatment.REVERSE_CHARGE, ZERO, None, REVERSE_CHARGE_NOTE)
NO_VAT_SMALL = (TaxTreatment.SMALL_BUSINESS, ZERO, None, SMALL_BUSINESS_NOTE)
NON_EU_B2B = (TaxTreatment.NON_EU_BUSINESS, ZERO, None, NOT_TAXABLE_BUSINESS_NOTE)
NON_EU_B2C = (TaxTreatment.NON_EU_CONSUMER, ZERO, None, NOT_TAXABLE_CONSUMER_NOTE)


def oss(country: str, rate: str):
    return (TaxTreatment.EU_OSS, Decimal(rate), country, None)


@pytest.mark.parametrize(
    ("case", "seller", "buyer", "current", "previous", "expected"),
    [
        # Germany: German VAT whoever buys, VAT ID or not
        ("german consumer", SELLER, consumer("DE"), ZERO, ZERO, DE_VAT),
        ("german business", SELLER, business("DE", "DE136695976"), OVER, OVER, DE_VAT),
        ("lower-case country", SELLER, consumer("de"), ZERO, ZERO, DE_VAT),
        # EU business with a VAT ID: reverse charge, threshold irrelevant
        ("austrian business", SELLER, business("AT", "ATU13585627"), OVER, OVER, REVERSE),
        ("greek business, EL prefix", SELLER, business("GR", "EL094259216"), ZERO, ZERO, REVERSE),
        ("monaco business, FR prefix", SELLER, business("MC", "FR40303265045"), ZERO, ZERO, REVERSE),
        # EU business without a VAT ID is a consumer
        ("business without VAT ID, under", SELLER, business("AT"), UNDER, ZERO, DE_VAT),
        ("business without VAT ID, over", SELLER, business("AT"), OVER, ZERO, oss("AT", "20.00")),
        ("business with empty VAT ID", SELLER, business("FR", ""), OVER, ZERO, oss("FR", "20.00")),
        # a consumer's VAT ID changes nothing
        ("consumer with VAT ID", SELLER, consumer("AT", "ATU13585627"), ZERO, ZERO, DE_VAT),
        # EU consumers: the €10,000 threshold, this year and last year
        ("eu consumer, nothing sold yet", SELLER, consumer("FR"), ZERO, ZERO, DE_VAT),
        ("eu consumer, this year exactly at", SELLER, consumer("FR"), AT, ZERO, DE_VAT),
        ("eu consumer, this year one cent over", SELLER, consumer("FR"), OVER, ZERO, oss("FR", "20.00")),
        ("eu consumer, last year exactly at", SELLER, consumer("FR"), ZERO, AT, DE_VAT),
        ("eu consumer, last year over", SELLER, consumer("FR"), ZERO, OVER, oss("FR", "20.00")),
        ("eu consumer, both at", SELLER, consumer("FR"), AT, AT, DE_VAT),
        ("greek consumer over", SELLER, consumer("GR"), OVER, ZERO, oss("GR", "24.00")),
        ("finnish consumer over", SELLER, consumer("FI"), OVER, ZERO, oss("FI", "25.50")),
        ("hungarian consumer over", SELLER, consumer("HU"), OVER, OVER, oss("HU", "27.00")),
        ("monaco consumer over: French VAT", SELLER, consumer("MC"), OVER, ZERO, oss("FR", "20.00")),
        # general services are taxed where the seller is, for EU consumers whatever the threshold
        ("general, eu consumer over", GENERAL, consumer("FR"), OVER, OVER, DE_VAT),
        ("general, eu business", GENERAL, business("FR", "FR40303265045"), ZERO, ZERO, REVERSE),
        # outside the EU
        ("swiss business", SELLER, business("CH"), ZERO, ZERO, NON_EU_B2B),
        ("uk business with a number", SELLER, business("GB", "GB980780684"), ZERO, ZERO, NON_EU_B2B),
        ("general, us business", GENERAL, business("US"), ZERO, ZERO, NON_EU_B2B),
        ("us consumer, electronic", SELLER, consumer("US"), OVER, OVER, NON_EU_B2C),
        ("aland consumer is outside the EU VAT area", SELLER, consumer("AX"), ZERO, ZERO, NON_EU_B2C),
        ("canary islands consumer", SELLER, consumer("IC"), ZERO, ZERO, NON_EU_B2C),
        (
            "us consumer, general",
            GENERAL,
            consumer("US"),
            ZERO,
            ZERO,
            (TaxTreatment.NON_EU_CONSUMER, Decimal("19.00"), "DE", None),
        ),
        # the small business scheme comes first, for every buyer
        ("small, german consumer", SMALL, consumer("DE"), ZERO, ZERO, NO_VAT_SMALL),
        ("small, eu business", SMALL, business("AT", "ATU13585627"), ZERO, ZERO, NO_VAT_SMALL),
        ("small, eu consumer over", SMALL, consumer("FR"), OVER, OVER, NO_VAT_SMALL),
        ("small, non-eu business", SMALL, business("CH"), ZERO, ZERO, NO_VAT_SMALL),
        (
            "small, non-eu consumer, general",
            Seller(small_business=True, service_classification=ServiceClassification.GENERAL),
            consumer("US"),
            ZERO,
            ZERO,
            NO_VAT_SMALL,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_kind_of_sale_gets_its_treatment_rate_country_and_note(case, seller, buyer, current, previous, expected):
    decision = decide(seller, buyer, current, previous)
    assert (decision.treatment, decision.rate, decision.country, decision.legal_note) == expected, case


def test_eu_consumer_threshold_boundary_is_inclusive():
    buyer = consumer("AT")
    assert decide(SELLER, buyer, Decimal("10000.00")).treatment is TaxTreatment.DOMESTIC
    assert decide(SELLER, buyer, Decimal("10000.01")).treatment is TaxTreatment.EU_OSS
    assert decide(SELLER, buyer, ZERO, Decimal("10000.01")).treatment is TaxTreatment.EU_OSS


def test_german_vat_follows_the_date_of_supply():
    buyer = consumer("DE")
    assert decide(SELLER, buyer, on=date(2020, 6, 30)).rate == Decimal("19.00")
    assert decide(SELLER, buyer, on=date(2020, 7, 1)).rate == Decimal("16.00")
    assert decide(SELLER, buyer, on=date(2021, 1, 1)).rate == Decimal("19.00")


def test_oss_rate_follows_the_date_of_supply():
    buyer = consumer("RO")
    assert decide(SELLER, buyer, OVER, on=date(2025, 7, 31)).rate == Decimal("19.00")
    assert decide(SELLER, buyer, OVER, on=date(2025, 8, 1)).rate == Decimal("21.00")


@pytest.mark.parametrize("country", ["XX", "EL", "EU", "ZZ", "D", "DEU", "", "1A", "ÄÖ"])
def test_unknown_buyer_country_is_refused(country):
    with pytest.raises(UnknownCountry, match="not a known country code"):
        decide(SELLER, consumer(country))


def test_unknown_buyer_country_is_refused_even_for_a_small_business():
    with pytest.raises(UnknownCountry):
        decide(SMALL, consumer("XX"))


def test_reverse_charge_refuses_a_vat_id_of_another_country():
    with pytest.raises(InvalidVatId, match="must start with AT"):
        decide(SELLER, business("AT", "DE136695976"))
    with pytest.raises(InvalidVatId, match="must start with EL"):
        decide(SELLER, business("GR", "GR094259216"))


def test_seller_outside_germany_is_refused():
    with pytest.raises(UnsupportedSeller, match="German law"):
        decide(Seller(country="AT"), consumer("DE"))


# -- legal notes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "german"),
    [
        (
            REVERSE_CHARGE_NOTE,
            "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, §13b UStG / Art. 196 MwStSystRL)",
        ),
        (SMALL_BUSINESS_NOTE, "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."),
        (NOT_TAXABLE_BUSINESS_NOTE, "Nicht im Inland steuerbar (§3a Abs. 2 UStG)"),
        (
            NOT_TAXABLE_CONSUMER_NOTE,
            "Nicht im Inland steuerbar, Leistungsort beim Leistungsempfänger (§3a Abs. 5 UStG)",
        ),
    ],
)
def test_legal_notes_read_in_german_on_the_invoice_and_in_english_in_the_shop(note: Message, german: str):
    decision = TaxDecision(TaxTreatment.REVERSE_CHARGE, ZERO, None, note)
    assert decision.legal_note_in("de") == german
    assert decision.legal_note_in("en") == note.id


def test_decision_without_note_renders_none():
    assert TaxDecision.domestic().legal_note_in("de") is None


def test_existing_callers_keep_working():
    domestic = TaxDecision.domestic()
    assert (domestic.treatment, domestic.rate, domestic.country) == (TaxTreatment.DOMESTIC, GERMAN_STANDARD_RATE, "DE")
    assert domestic.tax_on(Decimal("4.83")) == Decimal("0.92")
    legacy = TaxDecision(TaxTreatment.REVERSE_CHARGE, Decimal("0"))
    assert (legacy.country, legacy.legal_note) == (None, None)


# -- the rate table ------------------------------------------------------------------------------------------------


def test_rate_table_covers_exactly_the_27_member_states():
    assert len(EU_COUNTRIES) == 27
    assert {entry.country for entry in EU_STANDARD_RATES} == EU_COUNTRIES
    assert "GR" in EU_COUNTRIES
    assert "EL" not in EU_COUNTRIES


def test_rate_table_has_one_entry_per_country_and_date_within_eu_bounds():
    keys = [(entry.country, entry.valid_from) for entry in EU_STANDARD_RATES]
    assert len(keys) == len(set(keys))
    # Art. 97 MwStSystRL: a standard rate is at least 15 %; none is above Hungary's 27 %.
    assert all(Decimal(15) <= entry.rate <= Decimal(27) for entry in EU_STANDARD_RATES)
    # every member state has a rate for every day since 2020
    firsts: dict[str, date] = {}
    for entry in EU_STANDARD_RATES:
        firsts[entry.country] = min(firsts.get(entry.country, entry.valid_from), entry.valid_from)
    assert all(first < date(2020, 1, 1) for first in firsts.values())


CURRENT_2026 = {
    "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19", "DK": "25", "EE": "24", "ES": "21",
    "FI": "25.5", "FR": "20", "GR": "24", "HR": "25", "HU": "27", "IE": "23", "IT": "22", "LT": "21", "LU": "17",
    "LV": "21", "MT": "18", "NL": "21", "PL": "23", "PT": "23", "RO": "21", "SE": "25", "SI": "22", "SK": "23",
}  # fmt: skip


@pytest.mark.parametrize(("country", "rate"), sorted(CURRENT_2026.items()))
def test_standard_rate_in_2026(country, rate):
    assert eu_standard_rate(country, date(2026, 1, 1)) == Decimal(rate)


@pytest.mark.parametrize(
    ("country", "valid_from", "before", "since"),
    [
        ("DE", date(2007, 1, 1), None, "19"),
        ("DE", date(2020, 7, 1), "19", "16"),
        ("DE", date(2021, 1, 1), "16", "19"),
        ("FI", date(2024, 9, 1), "24", "25.5"),
        ("EE", date(2024, 1, 1), "20", "22"),
        ("EE", date(2025, 7, 1), "22", "24"),
        ("SK", date(2025, 1, 1), "20", "23"),
        ("RO", date(2025, 8, 1), "19", "21"),
        ("IE", date(2020, 9, 1), "23", "21"),
        ("IE", date(2021, 3, 1), "21", "23"),
        ("LU", date(2023, 1, 1), "17", "16"),
        ("LU", date(2024, 1, 1), "16", "17"),
    ],
)
def test_rate_changes_on_its_valid_from_date_not_the_day_before(country, valid_from, before, since):
    assert eu_standard_rate(country, valid_from) == Decimal(since)
    day_before = valid_from - timedelta(days=1)
    if before is None:
        with pytest.raises(NoVatRate, match="No VAT rate for DE is known on 2006-12-31"):
            eu_standard_rate(country, day_before)
    else:
        assert eu_standard_rate(country, day_before) == Decimal(before)


def test_rate_lookup_accepts_lower_case_and_refuses_non_members_and_non_codes():
    assert eu_standard_rate("gr", ON) == Decimal("24.00")
    with pytest.raises(NoVatRate, match="CH is not an EU member state"):
        eu_standard_rate("CH", ON)
    with pytest.raises(UnknownCountry):
        eu_standard_rate("EL", ON)


def test_country_codes_and_vat_prefixes():
    assert country_code(" at ") == "AT"
    assert vat_id_prefix("GR") == "EL"
    assert vat_id_prefix("MC") == "FR"
    assert vat_id_prefix("DE") == "DE"
