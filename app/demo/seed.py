"""Demo data: company, catalog, providers, customers and orders in every state. Safe to run repeatedly.

Everything is keyed (slugs, emails, names, order idempotency keys ``seed:…``), so a second run only adds what
is missing. Orders are placed and moved through the same domain services the product uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.actors import Actor, ActorKind
from app.catalog.commands import create_category, create_service
from app.catalog.models import Category, Service
from app.company.commands import save_company_settings
from app.company.models import CompanySettings
from app.customers.commands import create_customer
from app.customers.models import Customer
from app.demo.catalog import CATEGORIES, COMPANY, CUSTOMERS, PROVIDER_RATE_CURRENCY, SERVICES
from app.demo.instagram import stable_following, stable_media
from app.fulfillment import commands as fulfillment
from app.fulfillment.commands import DispatchResult, UpstreamProgress
from app.fulfillment.models import Provider, ProviderKind, ProviderService
from app.i18n import N_
from app.instagram.models import InstagramSnapshot
from app.instagram.profiles import profile_handle
from app.invoicing.commands import issue_invoice
from app.invoicing.tax import TaxDecision, TaxTreatment
from app.orders import commands
from app.orders.checkout import CheckoutInput
from app.orders.models import Order, OrderLine, OrderSource
from app.orders.placing import LineInput
from app.orders.states import LineStatus
from app.payments import subscribing
from app.payments.links import create_checkout_link
from app.payments.models import CheckoutLink, PaymentMethod
from app.payments.subscriptions import order_by_key
from app.providers.commands import (
    UpstreamService,
    create_provider,
    record_provider_balance,
    sync_provider_services,
)
from app.uow import UnitOfWork, utc_now
from app.validation import EU_COUNTRIES

SEED_ACTOR = Actor(ActorKind.SYSTEM, None, "demo data")
PROVIDER_ACTOR = Actor(ActorKind.PROVIDER, None, "Demo provider")
SANDBOX_ACTOR = Actor(ActorKind.WORKER, None, "provider sync")
SANDBOX_PROVIDER = "Demo provider (sandbox)"
MANUAL_PROVIDER = "Manual work"


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, count: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + count

    def summary(self) -> str:
        if not self.created:
            return "demo data already complete: nothing to add"
        return "demo data added: " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.created.items()))


def demo_tax(customer: Customer) -> TaxDecision:
    """A plain rule set for the demo; the checkout uses the VAT engine."""
    if customer.country == "DE" or (customer.country in EU_COUNTRIES and not customer.vat_id):
        return TaxDecision.domestic()
    if customer.country in EU_COUNTRIES:
        return TaxDecision(TaxTreatment.REVERSE_CHARGE, Decimal("0.00"))
    return TaxDecision(
        TaxTreatment.NON_EU_BUSINESS if customer.company else TaxTreatment.NON_EU_CONSUMER, Decimal("0.00")
    )


async def seed_demo_data(session: AsyncSession) -> SeedReport:
    """Everything goes through the same commands staff and the worker use (actor: "demo data")."""
    report = SeedReport()
    uow = UnitOfWork(session)
    await _company(uow, report)
    providers = await _providers(uow, report)
    services = await _catalog(uow, providers, report)
    customers = await _customers(uow, report)
    await _orders(session, services, customers, report)
    await _follower_history(session, report)
    await _checkout_links(uow, services, customers, report)
    await _subscriptions(uow, services, customers, report)
    await session.flush()
    return report


async def _company(uow: UnitOfWork, report: SeedReport) -> None:
    if await uow.session.get(CompanySettings, 1) is None:
        await save_company_settings(uow, values=COMPANY, actor=SEED_ACTOR)
        report.add("company settings")


async def _providers(uow: UnitOfWork, report: SeedReport) -> dict[str, Provider]:
    wanted: dict[str, dict[str, Any]] = {
        SANDBOX_PROVIDER: {
            "kind": ProviderKind.SANDBOX,
            "api_url": "sandbox://smm",
            "api_key": "demo-key",
            "currency": PROVIDER_RATE_CURRENCY,
            "eur_per_unit": Decimal("0.92"),
            "low_balance_threshold": Decimal("100.00"),
        },
        MANUAL_PROVIDER: {"kind": ProviderKind.MANUAL, "currency": "EUR"},
    }
    providers: dict[str, Provider] = {}
    for name, values in wanted.items():
        provider = await uow.session.scalar(sa.select(Provider).where(Provider.name == name))
        if provider is None:
            provider = await create_provider(uow, values={"name": name, **values}, actor=SEED_ACTOR)
            report.add("providers")
        providers[name] = provider
    sandbox = providers[SANDBOX_PROVIDER]
    if sandbox.balance is None:
        await record_provider_balance(uow, provider_id=sandbox.id, balance=Decimal("84.2500"), actor=SANDBOX_ACTOR)
    return providers


def upstream_id(position: int) -> str:
    """The sandbox provider's service id for the demo service at ``position``."""
    return str(101 + position)


async def _catalog(uow: UnitOfWork, providers: dict[str, Provider], report: SeedReport) -> dict[str, Service]:
    session = uow.session
    categories: dict[str, int] = {}
    for position, demo_category in enumerate(CATEGORIES):
        category = await session.scalar(sa.select(Category).where(Category.slug == demo_category.slug))
        if category is None:
            values = {
                "slug": demo_category.slug,
                "platform": demo_category.platform,
                "name_de": demo_category.name_de,
                "name_en": demo_category.name_en,
                "position": position,
            }
            category = await create_category(uow, values=values, actor=SEED_ACTOR)
            report.add("categories")
        categories[demo_category.slug] = category.id

    sandbox = providers[SANDBOX_PROVIDER]
    if sandbox.services_synced_at is None:
        listed = [
            UpstreamService(
                external_id=upstream_id(position),
                name=demo.name_en,
                type="Custom Comments" if demo.kind == "custom_comments" else "Default",
                category=demo.category.capitalize(),
                rate=Decimal(demo.provider_rate),
                min_quantity=demo.min_quantity,
                max_quantity=demo.max_quantity,
                refill=demo.refill_days > 0,
                cancel=demo.cancellable,
            )
            for position, demo in enumerate(SERVICES)
            if demo.provider_rate is not None
        ]
        await sync_provider_services(uow, provider_id=sandbox.id, listed=listed, actor=SANDBOX_ACTOR)
    upstream = dict(
        (
            await session.execute(
                sa.select(ProviderService.external_id, ProviderService.id).where(
                    ProviderService.provider_id == sandbox.id
                )
            )
        )
        .tuples()
        .all()
    )

    slugs = []
    for position, demo in enumerate(SERVICES):
        slugs.append(demo.slug)
        if await session.scalar(sa.select(Service.id).where(Service.slug == demo.slug)) is not None:
            continue
        values = {
            "slug": demo.slug,
            "category_id": categories[demo.category],
            "kind": demo.kind,
            "name_de": demo.name_de,
            "name_en": demo.name_en,
            "description_de": demo.description_de,
            "description_en": demo.description_en,
            "price": Decimal(demo.price),
            "currency": "EUR",
            "min_quantity": demo.min_quantity,
            "max_quantity": demo.max_quantity,
            "refill_days": demo.refill_days,
            "expected_start_hours": demo.expected_start_hours,
            "speed_per_day": demo.speed_per_day,
            "cancellable": demo.cancellable,
            "position": position,
            "provider_service_id": upstream.get(upstream_id(position)) if demo.provider_rate else None,
        }
        await create_service(uow, values=values, actor=SEED_ACTOR)
        report.add("services")
    loaded = (await session.scalars(sa.select(Service).where(Service.slug.in_(slugs)))).unique().all()
    return {service.slug: service for service in loaded}


async def _customers(uow: UnitOfWork, report: SeedReport) -> list[Customer]:
    customers = []
    for demo in CUSTOMERS:
        customer = await uow.session.scalar(sa.select(Customer).where(Customer.email == demo.email))
        if customer is None:
            values = {
                "email": demo.email,
                "name": demo.name,
                "company": demo.company,
                "address_line1": demo.address_line1,
                "postal_code": demo.postal_code,
                "city": demo.city,
                "country": demo.country,
                "vat_id": demo.vat_id,
                "locale": demo.locale,
            }
            customer = await create_customer(uow, values=values, actor=SEED_ACTOR)
            report.add("customers")
        customers.append(customer)
    return customers


# -- orders ----------------------------------------------------------------------------------------------------

Step = Callable[[UnitOfWork, Order, "Scenario"], Awaitable[None]]
STAFF_ACTOR = Actor(ActorKind.STAFF, None, "staff@smplat.example")


@dataclass(frozen=True)
class Scenario:
    key: str
    customer: int
    items: list[tuple[str, int, str]]  # (service slug, quantity, link)
    days_ago: float
    steps: list[Step]
    number: int = 0


async def _paid(uow: UnitOfWork, order: Order, _s: Scenario) -> None:
    payer = Actor(ActorKind.STRIPE, None, "Demo payment")
    paid = await commands.mark_paid(uow, order_id=order.id, actor=payer, method=PaymentMethod.DEMO, note="demo payment")
    await issue_invoice(uow, paid, payer)


def _line_to(
    *path: LineStatus,
    start: int | None = None,
    remains: int | None = None,
    note: str | None = None,
    progress_now: bool = False,
) -> Step:
    """Move every line of the order along ``path`` through the fulfillment commands, as dispatch and polling do."""

    async def step(uow: UnitOfWork, order: Order, scenario: Scenario) -> None:
        for line in order.lines:
            for target in path:
                await _move_line(uow, line, target, scenario, start=start, remains=remains, note=note)
            if progress_now and start is not None:
                clock, uow.clock = uow.clock, utc_now  # the provider reported just now: not stuck
                report = UpstreamProgress(line.fulfillment_status, start, line.quantity if remains is None else remains)
                await fulfillment.record_progress(uow, line_id=line.id, actor=PROVIDER_ACTOR, progress=report)
                uow.clock = clock

    return step


async def _move_line(
    uow: UnitOfWork,
    line: OrderLine,
    target: LineStatus,
    scenario: Scenario,
    *,
    start: int | None,
    remains: int | None,
    note: str | None,
) -> None:
    if target == LineStatus.DISPATCHING:
        await fulfillment.start_dispatch(uow, line_id=line.id, actor=SEED_ACTOR)
    elif target == LineStatus.ON_HOLD:
        await commands.hold_lines(uow, line_ids=[line.id], actor=STAFF_ACTOR, reason=note or "held")
    elif target == LineStatus.NEEDS_REVIEW:
        await fulfillment.flag_for_review(uow, line_id=line.id, actor=SEED_ACTOR, reason=note or "needs review")
    elif target in DISPATCH_RESULTS:
        upstream = str(scenario.number * 10 + line.position) if target == LineStatus.DISPATCHED else None
        await fulfillment.record_dispatch(
            uow,
            line_id=line.id,
            actor=PROVIDER_ACTOR,
            result=DISPATCH_RESULTS[target],
            provider_order_id=upstream,
            note=note,
        )
    else:
        left = 0 if target == LineStatus.COMPLETED else (line.quantity if remains is None else remains)
        report = UpstreamProgress(target, start, min(left, line.quantity))
        await fulfillment.record_progress(uow, line_id=line.id, actor=PROVIDER_ACTOR, progress=report, note=note)


DISPATCH_RESULTS = {
    LineStatus.DISPATCHED: DispatchResult.ACCEPTED,
    LineStatus.DISPATCH_UNKNOWN: DispatchResult.UNKNOWN,
    LineStatus.FAILED: DispatchResult.REFUSED,
}


async def _expired(uow: UnitOfWork, order: Order, _s: Scenario) -> None:
    await commands.expire_order(uow, order_id=order.id, actor=SEED_ACTOR)


async def _canceled(uow: UnitOfWork, order: Order, _s: Scenario) -> None:
    await commands.cancel_orders(uow, order_ids=[order.id], actor=STAFF_ACTOR, reason="customer changed their mind")


async def _note(uow: UnitOfWork, order: Order, _s: Scenario) -> None:
    await commands.add_note(
        uow,
        order_ids=[order.id],
        actor=STAFF_ACTOR,
        note="Customer asked for a slow start; checked the link, profile is public.",
    )


DEMO_COMMENTS = [
    "Wie lecker sieht das aus! 😍",
    "Bester Kaffee in Köln ☕",
    "Muss ich unbedingt probieren!",
    "Tolle Atmosphäre 👏",
    "Wir kommen am Wochenende vorbei!",
]

D = LineStatus
IG, TT, YT = "https://www.instagram.com/", "https://www.tiktok.com/@", "https://www.youtube.com/watch?v="

SCENARIOS = [
    Scenario("seed:pending", 0, [("instagram-likes", 500, IG + "p/C0demo01/")], 0.1, []),
    Scenario("seed:expired", 4, [("instagram-follower-global", 1000, IG + "claire.paris/")], 3, [_expired]),
    Scenario("seed:canceled-unpaid", 5, [("tiktok-likes", 2000, TT + "fitnessmaxx/video/7301")], 6, [_canceled]),
    Scenario("seed:queued", 1, [("instagram-follower-de", 1000, IG + "cafe.lindenblatt/")], 0.02, [_paid]),
    Scenario(
        "seed:on-hold",
        3,
        [("youtube-views", 5000, YT + "nwStudio01")],
        0.5,
        [_paid, _line_to(D.ON_HOLD, note="customer asked us to wait for their launch"), _note],
    ),
    Scenario(
        "seed:dispatched",
        2,
        [("instagram-reel-views", 20000, IG + "reel/Bergblick01/")],
        0.2,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED)],
    ),
    Scenario(
        "seed:in-progress",
        0,
        [("instagram-follower-de", 2500, IG + "lena.schmidt/")],
        1,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS, start=812, remains=1400, progress_now=True)],
    ),
    Scenario(
        "seed:dispatch-unknown",
        5,
        [("tiktok-follower", 1000, TT + "fitnessmaxx")],
        0.3,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCH_UNKNOWN, note=N_("provider timed out after the request"))],
    ),
    Scenario(
        "seed:needs-review",
        1,
        [("youtube-abonnenten", 200, "https://www.youtube.com/@cafelindenblatt")],
        0.8,
        [
            _paid,
            _line_to(
                D.DISPATCHING,
                D.DISPATCH_UNKNOWN,
                D.NEEDS_REVIEW,
                note=N_("no matching order in the provider's status data"),
            ),
        ],
    ),
    Scenario(
        "seed:failed",
        3,
        [("youtube-likes", 300, YT + "nwStudio02")],
        2,
        [_paid, _line_to(D.DISPATCHING, D.FAILED, note="provider: Incorrect service ID")],
    ),
    Scenario(
        "seed:stuck",
        2,
        [("instagram-likes", 3000, IG + "p/Bergblick02/")],
        2,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS, start=45, remains=3000)],
    ),
    Scenario(
        "seed:completed",
        1,
        [("instagram-likes", 1000, IG + "p/Lindenblatt1/"), ("instagram-reel-views", 10000, IG + "reel/Lindenblatt2/")],
        9,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS, D.COMPLETED, start=120, remains=0)],
    ),
    Scenario(
        "seed:partial",
        3,
        [("tiktok-views", 10000, TT + "northwind/video/7302")],
        12,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS, D.PARTIAL, start=300, remains=2500)],
    ),
    Scenario("seed:canceled-paid", 0, [("youtube-views", 1000, YT + "lenaVlog1")], 4, [_paid, _canceled]),
    Scenario(
        "seed:comments",
        1,
        [("instagram-kommentare", 5, IG + "p/Lindenblatt3/")],
        5,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED, D.COMPLETED, start=14, remains=0)],
    ),
    Scenario(
        "seed:package",
        5,
        [("starter-paket-instagram", 1, IG + "fitnessmaxx/")],
        15,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED, D.COMPLETED, start=980, remains=0)],
    ),
]

# A month of finished business, so that revenue figures have something to show.
_HISTORY_ITEMS = [  # (service slug, quantity, link with {n} for the order's number in the history)
    ("instagram-follower-de", 1000, IG + "p/History{n:02d}/"),
    ("instagram-likes", 2000, IG + "p/History{n:02d}/"),
    ("tiktok-follower", 500, TT + "history{n:02d}"),
    ("youtube-views", 10000, YT + "history{n:02d}"),
    ("instagram-follower-global", 5000, IG + "p/History{n:02d}/"),
    ("tiktok-likes", 5000, TT + "history{n:02d}"),
    ("youtube-abonnenten", 100, YT + "history{n:02d}"),
]


def _history(n: int) -> Scenario:
    slug, quantity, link = _HISTORY_ITEMS[n % len(_HISTORY_ITEMS)]
    return Scenario(
        f"seed:history-{n:02d}",
        n % len(CUSTOMERS),
        [(slug, quantity, link.format(n=n))],
        2 + n * 1.3,
        [_paid, _line_to(D.DISPATCHING, D.DISPATCHED, D.IN_PROGRESS, D.COMPLETED, start=100, remains=0)],
    )


SCENARIOS += [_history(n) for n in range(1, 21)]


async def _orders(
    session: AsyncSession, services: dict[str, Service], customers: list[Customer], report: SeedReport
) -> None:
    existing = set(
        (await session.scalars(sa.select(Order.idempotency_key).where(Order.idempotency_key.like("seed:%")))).all()
    )
    base = datetime.now(UTC)
    for number, template in enumerate(SCENARIOS, start=1):
        if template.key in existing:
            continue
        scenario = Scenario(**{**template.__dict__, "number": 9000 + number})
        moment = [base - timedelta(days=scenario.days_ago)]

        def clock(moment: list[datetime] = moment) -> datetime:
            moment[0] += timedelta(seconds=37)  # each step a little later, so the timeline reads in order
            return moment[0]

        uow = UnitOfWork(session, clock=clock)
        customer = customers[scenario.customer]
        placed = await commands.place_order(
            uow,
            customer_id=customer.id,
            items=[
                LineInput(
                    service_id=services[slug].id,
                    quantity=quantity,
                    link=link,
                    comments="\n".join(DEMO_COMMENTS[:quantity]) if "kommentare" in slug else None,
                )
                for slug, quantity, link in scenario.items
            ],
            source=OrderSource.STOREFRONT,
            actor=Actor.customer(customer.id, customer.email),
            tax=demo_tax(customer),
            idempotency_key=scenario.key,
        )
        for step in scenario.steps:
            await step(uow, placed.order, scenario)
        await session.flush()
        report.add("orders")


GROWTH_SCENARIO = "seed:in-progress"  # an Instagram profile being delivered: its follower chart has a history


async def _follower_history(session: AsyncSession, report: SeedReport) -> None:
    """Snapshots every two hours from half a day before the delivery started until now, as the demo's Instagram
    (app/demo/instagram.py) would have shown them: flat before the start, then growing with what was delivered."""
    line = await session.scalar(
        sa.select(OrderLine).join(Order).where(Order.idempotency_key == GROWTH_SCENARIO).order_by(OrderLine.id)
    )
    handle = profile_handle(line.link) if line is not None else None
    if line is None or handle is None or line.dispatched_at is None or line.start_count is None:
        return
    if await session.scalar(sa.select(InstagramSnapshot.id).where(InstagramSnapshot.handle == handle).limit(1)):
        return
    now, started = utc_now(), line.dispatched_at
    delivered = line.quantity - (line.remains or 0)
    moment = started - timedelta(hours=12)
    while moment <= now:
        share = max(0.0, (moment - started) / (now - started)) if moment > started else 0.0
        session.add(
            InstagramSnapshot(
                line_id=line.id,
                handle=handle,
                taken_at=moment,
                followers=line.start_count + round(delivered * share),
                following=stable_following(handle),
                media_count=stable_media(handle),
            )
        )
        report.add("follower snapshots")
        moment += timedelta(hours=2)


DEMO_LINK_NOTE = "demo: offer for a regular client"


async def _checkout_links(
    uow: UnitOfWork, services: dict[str, Service], customers: list[Customer], report: SeedReport
) -> None:
    """One payment link staff made for a regular client, at a discount (its address is shown only at creation)."""
    if await uow.session.scalar(sa.select(CheckoutLink.id).where(CheckoutLink.note == DEMO_LINK_NOTE)) is not None:
        return
    await create_checkout_link(
        uow,
        customer_id=customers[0].id,
        items=[LineInput(services["instagram-follower-de"].id, "@lena.schmidt", 5000, unit_price=Decimal("8.9000"))],
        expires_at=uow.now() + timedelta(days=30),
        actor=SEED_ACTOR,
        note=DEMO_LINK_NOTE,
        override_reason="regular client: 10 % off",
    )
    report.add("checkout links")


DEMO_SUBSCRIPTION_KEY = "seed:subscription:1"


async def _subscriptions(
    uow: UnitOfWork, services: dict[str, Service], customers: list[Customer], report: SeedReport
) -> None:
    """A client who started an auto-likes subscription and has not paid its first month yet."""
    if await order_by_key(uow, DEMO_SUBSCRIPTION_KEY) is not None:
        return
    client = customers[-1]
    checkout = CheckoutInput(
        email=client.email,
        items=[LineInput(services["auto-likes-abo"].id, "@studio.kern", 200)],
        country=client.country,
        company=client.company,
        vat_id=client.vat_id,
        locale=client.locale,
        idempotency_key=DEMO_SUBSCRIPTION_KEY,
    )
    await subscribing.place_subscription(uow, checkout, posts_per_period=12, actor=SEED_ACTOR)
    report.add("subscriptions")


async def count_seeded_orders(session: AsyncSession) -> int:
    return int(
        await session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.idempotency_key.like("seed:%")))
        or 0
    )
