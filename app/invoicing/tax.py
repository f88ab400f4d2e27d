"""The VAT engine: which tax a sale carries, and its amounts rounded to cents the one way invoices show them.

German law for a seller in Germany. Pure functions: callers pass in what the database knows (the company's §19
status and service classification, the buyer's country and checked VAT ID, the year's cross-border consumer sales).
Rates by date live in ``vat_rates``, VAT ID checks in ``vat_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.errors import DomainError
from app.i18n import N_, Message, translations
from app.invoicing.vat_ids import InvalidVatId
from app.invoicing.vat_rates import EU_COUNTRIES, GERMANY, country_code, eu_standard_rate, vat_id_prefix, vat_territory
from app.money import to_cents

# §12 Abs. 1 UStG
GERMAN_STANDARD_RATE = Decimal("19.00")
ZERO_RATE = Decimal("0.00")
HUNDRED = Decimal(100)

# §3a Abs. 5 Satz 3 UStG / Art. 59c MwStSystRL: cross-border consumer sales of electronic services, EU-wide, net.
EU_B2C_THRESHOLD = Decimal("10000.00")


class TaxTreatment(StrEnum):
    DOMESTIC = "domestic"  # German VAT
    REVERSE_CHARGE = "reverse_charge"  # EU business with a valid VAT ID (§13b UStG)
    EU_OSS = "eu_oss"  # EU consumer above the threshold: buyer country's rate, declared via OSS
    NON_EU_BUSINESS = "non_eu_business"  # not taxable in Germany (§3a Abs. 2 UStG)
    NON_EU_CONSUMER = "non_eu_consumer"  # 0 % for electronic services (§3a Abs. 5), else German VAT (§3a Abs. 1)
    SMALL_BUSINESS = "small_business"  # Kleinunternehmer, no VAT (§19 UStG)


class ServiceClassification(StrEnum):
    """What our services are for the place-of-supply rules on sales to consumers (a company setting)."""

    ELECTRONIC = "electronic"  # electronically supplied services: taxed where the consumer lives (§3a Abs. 5 UStG)
    GENERAL = "general"  # taxed where the seller is (§3a Abs. 1 UStG)


# Notes the invoice must carry instead of (or beside) a tax amount (§14a Abs. 5 UStG, §19 UStG). English ids;
# the German catalog holds the wording of the law, which the invoice prints.
REVERSE_CHARGE_NOTE = Message(
    N_("Reverse charge: the recipient is liable for the VAT (§13b UStG / Art. 196 VAT Directive 2006/112/EC)")
)
SMALL_BUSINESS_NOTE = Message(N_("No VAT is charged under § 19 UStG (small business scheme)."))
NOT_TAXABLE_BUSINESS_NOTE = Message(N_("Not taxable in Germany (§3a(2) UStG)"))
NOT_TAXABLE_CONSUMER_NOTE = Message(N_("Not taxable in Germany: supplied where the customer lives (§3a(5) UStG)"))


@dataclass(frozen=True)
class TaxDecision:
    treatment: TaxTreatment
    rate: Decimal  # percent, e.g. 19.00
    country: str | None = None  # ISO code of the country whose VAT is charged; None when the invoice charges none
    legal_note: Message | None = None  # printed on the invoice; render it with ``legal_note_in``

    @classmethod
    def domestic(cls) -> TaxDecision:
        return cls(TaxTreatment.DOMESTIC, GERMAN_STANDARD_RATE, GERMANY)

    def tax_on(self, net: Decimal) -> Decimal:
        """Tax on a net amount, rounded half-up to cents."""
        return to_cents(net * self.rate / HUNDRED)

    def amounts(self, net: Decimal) -> Amounts:
        return net_tax_gross(net, self.rate)

    def legal_note_in(self, locale: str) -> str | None:
        """The note in ``locale`` (``de`` for the invoice, the visitor's language in the storefront)."""
        return None if self.legal_note is None else self.legal_note.render(translations(locale).gettext)


# -- who pays which VAT ------------------------------------------------------------------------------------------


class UnsupportedSeller(DomainError):
    code = "unsupported_seller"
    title = N_("VAT cannot be decided")


@dataclass(frozen=True, slots=True, kw_only=True)
class Seller:
    country: str = GERMANY
    small_business: bool = False  # Kleinunternehmer, §19 UStG
    service_classification: ServiceClassification = ServiceClassification.ELECTRONIC


@dataclass(frozen=True, slots=True, kw_only=True)
class Buyer:
    country: str  # ISO 3166-1 alpha-2 (GR for Greece)
    is_business: bool
    vat_id: str | None = None  # already checked with ``normalise_vat_id``


def decide_tax(
    seller: Seller,
    buyer: Buyer,
    *,
    on: date,
    eu_b2c_sales: Decimal,
    eu_b2c_sales_previous_year: Decimal,
) -> TaxDecision:
    """The VAT of a sale supplied on ``on``.

    ``eu_b2c_sales``: net sales to consumers in other EU member states this calendar year, including this sale;
    ``eu_b2c_sales_previous_year``: the same for the whole previous year (both in EUR).
    Raises ``UnknownCountry`` for a buyer country that is no ISO code, ``InvalidVatId`` for a VAT ID of another
    country, ``UnsupportedSeller`` for a seller outside Germany.
    """
    if country_code(seller.country) != GERMANY:
        raise UnsupportedSeller(N_("VAT is decided by German law: the seller must be in Germany"))
    territory = vat_territory(buyer.country)
    if seller.small_business:  # §19 Abs. 1 UStG: no VAT on any sale, whoever buys
        return TaxDecision(TaxTreatment.SMALL_BUSINESS, ZERO_RATE, None, SMALL_BUSINESS_NOTE)
    if territory == GERMANY:
        return _german_vat(TaxTreatment.DOMESTIC, on)
    if territory in EU_COUNTRIES:
        # Art. 18 Abs. 2 MwSt-DVO (EU 282/2011): without a VAT ID the buyer may be treated as a consumer.
        if buyer.is_business and buyer.vat_id:
            return _reverse_charge(buyer.vat_id, territory)
        return _eu_consumer(seller, territory, on, eu_b2c_sales, eu_b2c_sales_previous_year)
    if buyer.is_business:  # §3a Abs. 2 UStG: supplied where the business is, outside the EU
        return TaxDecision(TaxTreatment.NON_EU_BUSINESS, ZERO_RATE, None, NOT_TAXABLE_BUSINESS_NOTE)
    if seller.service_classification is ServiceClassification.GENERAL:  # §3a Abs. 1 UStG
        return _german_vat(TaxTreatment.NON_EU_CONSUMER, on)
    # §3a Abs. 5 Satz 1, Satz 2 Nr. 3 UStG: electronic services are supplied where the consumer lives.
    return TaxDecision(TaxTreatment.NON_EU_CONSUMER, ZERO_RATE, None, NOT_TAXABLE_CONSUMER_NOTE)


def _german_vat(treatment: TaxTreatment, on: date) -> TaxDecision:
    return TaxDecision(treatment, eu_standard_rate(GERMANY, on), GERMANY)


def _reverse_charge(vat_id: str, territory: str) -> TaxDecision:
    prefix = vat_id_prefix(territory)
    if not vat_id.startswith(prefix):
        raise InvalidVatId(
            N_("must start with %(prefix)s for a customer in %(country)s"), prefix=prefix, country=territory
        )
    # §3a Abs. 2 UStG: supplied where the business is; it owes the VAT (§13b UStG / Art. 196 MwStSystRL).
    return TaxDecision(TaxTreatment.REVERSE_CHARGE, ZERO_RATE, None, REVERSE_CHARGE_NOTE)


def _eu_consumer(
    seller: Seller, territory: str, on: date, current_year: Decimal, previous_year: Decimal
) -> TaxDecision:
    if seller.service_classification is ServiceClassification.GENERAL:
        # §3a Abs. 1 UStG: supplied where the seller is; the threshold only concerns electronic services.
        return _german_vat(TaxTreatment.DOMESTIC, on)
    # §3a Abs. 5 Satz 3 UStG: German VAT while neither last year's nor this year's total (this sale included)
    # exceeds €10,000; the sale that crosses it is already taxed in the buyer's country.
    if previous_year <= EU_B2C_THRESHOLD and current_year <= EU_B2C_THRESHOLD:
        return _german_vat(TaxTreatment.DOMESTIC, on)
    return TaxDecision(TaxTreatment.EU_OSS, eu_standard_rate(territory, on), territory)


# -- amounts -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Amounts:
    """Net, tax and gross in cents; ``net + tax == gross`` always."""

    net: Decimal
    tax: Decimal
    gross: Decimal


def net_tax_gross(net: Decimal, rate: Decimal) -> Amounts:
    """From a net price: net in cents, tax = net * rate/100 rounded half-up to cents, gross = net + tax."""
    net_cents = to_cents(net)
    tax = to_cents(net_cents * _checked(rate) / HUNDRED)
    return Amounts(net_cents, tax, net_cents + tax)


def split_gross(gross: Decimal, rate: Decimal) -> Amounts:
    """From a gross price: net = gross / (1 + rate/100) rounded half-up to cents, tax = gross - net.

    Inverse of ``net_tax_gross`` for every gross it can produce: ``split_gross(net_tax_gross(n, r).gross, r)``
    gives back ``n`` (for 0 ≤ r < 100). A gross it cannot produce (with r > 0 some cents are skipped) splits into a
    net whose ``net_tax_gross`` is one cent off.
    """
    gross_cents = to_cents(gross)
    net = to_cents(gross_cents * HUNDRED / (HUNDRED + _checked(rate)))
    return Amounts(net, gross_cents - net, gross_cents)


def _checked(rate: Decimal) -> Decimal:
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"a VAT rate is a percentage of at least 0, not {rate}")
    return rate
