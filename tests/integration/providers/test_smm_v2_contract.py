"""The API v2 client against the sandbox provider over real HTTP: every action, and every fault in its class."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from decimal import Decimal

import httpx
import pytest

from app.providers.smm_v2 import (
    CancelRequested,
    CustomCommentsOrder,
    DefaultOrder,
    InsufficientFunds,
    ItemError,
    MalformedAnswer,
    NotSent,
    OrderStatus,
    OutcomeUnknown,
    PackageOrder,
    PollOrder,
    ProviderRefused,
    RefillRequested,
    SmmV2Client,
    SubscriptionOrder,
    UpstreamOrderStatus,
    UpstreamRefillStatus,
)
from app.sandbox.provider import (
    DEFAULT_SERVICES,
    Fault,
    FaultRule,
    ManualClock,
    SandboxProvider,
    SandboxService,
    Simulation,
)
from tests.integration.providers.conftest import SANDBOX_KEY, SIMULATION, TEST_TIMEOUTS

FOLLOWERS, LIKES, COMMENTS, PACKAGE, SUBSCRIPTION, POLL = (s.id for s in DEFAULT_SERVICES)
LINK = "https://www.instagram.com/p/C0demo01/"


def follow(link: str = LINK, quantity: int = 1000) -> DefaultOrder:
    return DefaultOrder(FOLLOWERS, link, quantity)


# -- services and balance ----------------------------------------------------------------------------------------


async def test_services_list_what_the_sandbox_offers(client: SmmV2Client):
    listing = await client.services()
    assert [s.service_id for s in listing.services] == [str(s.id) for s in DEFAULT_SERVICES]
    followers = listing.services[0]
    assert (followers.name, followers.rate, followers.min_quantity, followers.max_quantity) == (
        "Instagram Followers",
        Decimal("0.90"),
        50,
        10000,
    )
    assert followers.refill and followers.cancel and followers.type == "Default"
    assert '"rate": "0.90"' in listing.raw and '"min": "50"' in listing.raw  # strings on the wire


async def test_balance_goes_down_by_the_charge(client: SmmV2Client, sandbox: SandboxProvider):
    before = await client.balance()
    assert (before.amount, before.currency) == (Decimal("1000.00"), "USD")
    await client.add(follow(quantity=2000))  # 2000 x 0.90 / 1000
    assert (await client.balance()).amount == Decimal("998.20")
    assert sandbox.balance == Decimal("998.20")


# -- add, one per service type -----------------------------------------------------------------------------------


async def test_every_service_type_can_be_ordered(client: SmmV2Client, sandbox: SandboxProvider):
    placed = [
        await client.add(DefaultOrder(FOLLOWERS, LINK, 500)),
        await client.add(DefaultOrder(LIKES, LINK, 100, runs=3, interval=15)),
        await client.add(CustomCommentsOrder(COMMENTS, LINK, ("Toll!", "Super", "Wow", "Schön", "Lecker"))),
        await client.add(PackageOrder(PACKAGE, "https://www.instagram.com/stories/lena/")),
        await client.add(SubscriptionOrder(SUBSCRIPTION, "lena.schmidt", 100, 200, posts=5, expiry=date(2027, 1, 31))),
        await client.add(PollOrder(POLL, "https://www.youtube.com/post/Ugk1", 200, 2)),
    ]
    log = sandbox.orders
    assert [p.order_id for p in placed] == [str(o.order_id) for o in log]
    assert [(o.service, o.quantity) for o in log] == [
        (FOLLOWERS, 500),
        (LIKES, 300),  # a drip-feed delivers quantity x runs
        (COMMENTS, 5),
        (PACKAGE, 1),
        (SUBSCRIPTION, 1000),  # max x posts
        (POLL, 200),
    ]
    assert log[1].fields["runs"] == "3" and log[1].fields["interval"] == "15"
    assert log[2].fields["comments"].splitlines() == ["Toll!", "Super", "Wow", "Schön", "Lecker"]
    assert log[4].link == "lena.schmidt" and log[4].fields["expiry"] == "31/01/2027"
    assert log[5].fields["answer_number"] == "2"
    assert "key" not in log[0].fields
    assert [o.charge for o in log] == [
        Decimal("0.45000"),
        Decimal("0.13500"),
        Decimal("0.06000"),
        Decimal("2.50000"),
        Decimal("0.60000"),
        Decimal("0.60000"),
    ]


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (DefaultOrder(999, LINK, 100), "Incorrect service ID"),
        (DefaultOrder(FOLLOWERS, LINK, 10), "Quantity less than minimal 50"),
        (DefaultOrder(FOLLOWERS, LINK, 20000), "Quantity more than maximal 10000"),
    ],
)
async def test_invalid_orders_are_refused_by_the_provider(
    client: SmmV2Client, sandbox: SandboxProvider, order, message
):
    with pytest.raises(ProviderRefused) as caught:
        await client.add(order)
    assert caught.value.provider_message == message
    assert sandbox.orders == ()


async def test_a_wrong_key_is_refused_and_never_shown(sandbox: SandboxProvider):
    wrong = "wrong-key-0123456789abcdef0123"
    async with SmmV2Client(sandbox.url, wrong, timeouts=TEST_TIMEOUTS) as client:
        with pytest.raises(ProviderRefused, match="Invalid API key") as caught:
            await client.balance()
    assert wrong not in str(caught.value) and wrong not in repr(client)
    assert sandbox.requests[-1].key_matched is False
    assert "key" not in sandbox.requests[-1].fields


# -- status ------------------------------------------------------------------------------------------------------


async def test_an_order_goes_from_pending_through_in_progress_to_completed(client: SmmV2Client, clock: ManualClock):
    order_id = (await client.add(follow())).order_id
    pending = await client.status(order_id)
    assert (pending.status, pending.remains, pending.charge) == (UpstreamOrderStatus.PENDING, 1000, Decimal("0.90000"))
    clock.advance(SIMULATION.start_after + 50)
    running = await client.status(order_id)
    assert (running.status, running.remains) == (UpstreamOrderStatus.IN_PROGRESS, 500)
    assert running.start_count is not None and running.start_count > 0
    assert '"remains": "500"' in running.raw  # string numbers on the wire
    clock.advance(60)
    done = await client.status(order_id)
    assert (done.status, done.remains, done.start_count) == (UpstreamOrderStatus.COMPLETED, 0, running.start_count)


async def test_partial_orders_are_charged_for_what_they_delivered(clock: ManualClock):
    always_partial = Simulation(start_after=0, delivery_seconds=100, partial_share=1.0)
    with SandboxProvider(api_key=SANDBOX_KEY, clock=clock, simulation=always_partial) as sandbox:
        async with SmmV2Client(sandbox.url, SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as client:
            order_id = (await client.add(follow())).order_id
            clock.advance(200)
            status = await client.status(order_id)
            balance = await client.balance()
    assert status.status is UpstreamOrderStatus.PARTIAL
    assert status.remains is not None and 100 <= status.remains <= 700
    delivered = 1000 - status.remains
    assert status.charge == (Decimal("0.90") * delivered / 1000).quantize(Decimal("0.00001"))
    assert balance.amount == Decimal("1000.00") - status.charge


async def test_which_orders_end_partial_is_the_same_every_run(clock: ManualClock):
    finals = []
    for _run in range(2):
        some_partial = Simulation(start_after=0, delivery_seconds=10, partial_share=0.5, seed=7)
        with SandboxProvider(api_key=SANDBOX_KEY, clock=clock, simulation=some_partial) as sandbox:
            async with SmmV2Client(sandbox.url, SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as client:
                ids = [(await client.add(follow(f"{LINK}{n}"))).order_id for n in range(12)]
                clock.advance(100)
                statuses = await client.multi_status(ids)
        finals.append([(s.status, s.remains) for s in statuses.values() if isinstance(s, OrderStatus)])
    assert finals[0] == finals[1]
    kinds = {status for status, _remains in finals[0]}
    assert kinds == {UpstreamOrderStatus.PARTIAL, UpstreamOrderStatus.COMPLETED}


async def test_multi_status_asks_in_batches_of_100(client: SmmV2Client, sandbox: SandboxProvider):
    placed = [(await client.add(follow(f"{LINK}{n}"))).order_id for n in range(5)]
    unknown = [str(90000 + n) for n in range(245)]
    before = len(sandbox.requests)

    result = await client.multi_status([*placed, *unknown])

    status_calls = sandbox.requests[before:]
    assert [r.action for r in status_calls] == ["status"] * 3
    assert [len(r.fields["orders"].split(",")) for r in status_calls] == [100, 100, 50]
    assert "order" not in status_calls[0].fields
    assert len(result) == 250
    assert all(isinstance(result[i], OrderStatus) for i in placed)
    assert result[unknown[0]] == ItemError(unknown[0], "Incorrect order ID")


async def test_a_failing_batch_keeps_what_the_batches_before_it_answered(client: SmmV2Client, sandbox: SandboxProvider):
    sandbox.set_faults([FaultRule(Fault.SERVER_ERROR, ("status",), skip=1)])
    ids = [str(n) for n in range(1, 151)]
    with pytest.raises(OutcomeUnknown) as caught:
        await client.multi_status(ids)
    assert sorted(caught.value.partial, key=int) == ids[:100]
    assert [r.fault for r in sandbox.requests] == [None, Fault.SERVER_ERROR]


async def test_status_of_an_unknown_order_is_refused(client: SmmV2Client):
    with pytest.raises(ProviderRefused, match="Incorrect order ID"):
        await client.status(424242)


# -- refill and cancel -------------------------------------------------------------------------------------------


async def test_refill_of_a_completed_order_and_its_progress(client: SmmV2Client, clock: ManualClock):
    order_id = (await client.add(follow())).order_id
    with pytest.raises(ProviderRefused, match="not completed"):
        await client.refill(order_id)
    clock.advance(200)
    refill = await client.refill(order_id)
    assert refill == RefillRequested(order_id, "1")
    assert (await client.refill_status(refill.refill_id)).status is UpstreamRefillStatus.PENDING
    clock.advance(15)
    assert (await client.refill_status(refill.refill_id)).status is UpstreamRefillStatus.IN_PROGRESS
    clock.advance(20)
    states = await client.multi_refill_status([refill.refill_id, "77"])
    assert states[refill.refill_id].status is UpstreamRefillStatus.COMPLETED  # type: ignore[union-attr]
    assert states["77"] == ItemError("77", "Incorrect refill ID")


async def test_multi_refill_answers_per_order(client: SmmV2Client, clock: ManualClock):
    followers = (await client.add(follow())).order_id
    likes = (await client.add(DefaultOrder(LIKES, LINK, 100))).order_id  # no refill for likes
    clock.advance(200)
    result = await client.multi_refill([followers, likes, "31337"])
    assert isinstance(result[followers], RefillRequested)
    assert result[likes] == ItemError(likes, "Refill is disabled for this service")
    assert result["31337"] == ItemError("31337", "Incorrect order ID")


async def test_cancel_gives_the_charge_back(client: SmmV2Client, sandbox: SandboxProvider):
    cancellable = (await client.add(follow())).order_id
    fixed = (await client.add(CustomCommentsOrder(COMMENTS, LINK, ("a", "b", "c", "d", "e")))).order_id
    result = await client.cancel([cancellable, fixed, "5"])
    assert result[cancellable] == CancelRequested(cancellable)
    assert result[fixed] == ItemError(fixed, "Cancel is disabled for this service")
    assert result["5"] == ItemError("5", "Incorrect order ID")
    status = await client.status(cancellable)
    assert (status.status, status.remains, status.charge) == (UpstreamOrderStatus.CANCELED, 1000, Decimal(0))
    assert sandbox.balance == Decimal("1000.00") - Decimal("0.06")  # only the comments are charged
    assert sandbox.requests[-2].fields["orders"] == f"{cancellable},{fixed},5"


# -- refusals the provider decides itself ------------------------------------------------------------------------


async def test_a_second_active_order_for_the_same_link_is_refused(client: SmmV2Client, clock: ManualClock):
    await client.add(follow())
    with pytest.raises(ProviderRefused) as caught:
        await client.add(follow())
    assert caught.value.provider_message.startswith("You have active order with this link")
    clock.advance(200)  # the first one completed
    await client.add(follow())


async def test_a_provider_out_of_funds_refuses_with_insufficient_funds(clock: ManualClock):
    with SandboxProvider(api_key=SANDBOX_KEY, clock=clock, balance=Decimal("0.50")) as sandbox:
        async with SmmV2Client(sandbox.url, SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as client:
            with pytest.raises(InsufficientFunds, match="Not enough funds on balance"):
                await client.add(follow())
            sandbox.top_up(Decimal(10))
            await client.add(follow())
    assert len(sandbox.orders) == 1


# -- faults ------------------------------------------------------------------------------------------------------


async def orders_appear(sandbox: SandboxProvider, within: float = 5.0) -> None:
    for _tick in range(int(within / 0.05)):
        if sandbox.orders:
            return
        await asyncio.sleep(0.05)


FAULTS = [
    # (rule, raised, is the order created?)
    (FaultRule(Fault.TIMEOUT_AFTER_ACCEPT, ("add",), seconds=1.5), OutcomeUnknown, True),
    (FaultRule(Fault.LATENCY, ("add",), seconds=1.5), OutcomeUnknown, False),  # the order comes after the timeout
    (FaultRule(Fault.SERVER_ERROR, ("add",)), OutcomeUnknown, False),
    (FaultRule(Fault.SERVER_ERROR, ("add",), status=503, after_processing=True), OutcomeUnknown, True),
    (FaultRule(Fault.HTML_ERROR, ("add",)), OutcomeUnknown, False),
    (FaultRule(Fault.HTML_ERROR, ("add",), status=200, after_processing=True), MalformedAnswer, True),
    (FaultRule(Fault.NOT_ENOUGH_FUNDS, ("add",)), InsufficientFunds, False),
    (FaultRule(Fault.ACTIVE_ORDER, ("add",)), ProviderRefused, False),
    (FaultRule(Fault.DROP_BEFORE_READ), OutcomeUnknown, False),
    (FaultRule(Fault.DROP_BEFORE_READ, ("add",)), OutcomeUnknown, False),
    (FaultRule(Fault.DROP_AFTER_ACCEPT, ("add",)), OutcomeUnknown, True),
]


@pytest.mark.parametrize(("rule", "raised", "created"), FAULTS, ids=lambda v: getattr(v, "value", None))
async def test_each_fault_raises_its_class_and_the_order_log_shows_the_truth(
    client: SmmV2Client, sandbox: SandboxProvider, rule: FaultRule, raised, created: bool
):
    sandbox.set_faults([rule])
    with pytest.raises(raised) as caught:
        await client.add(follow())
    assert type(caught.value) is raised
    if rule.fault == Fault.LATENCY:
        await orders_appear(sandbox)  # the held-back request is handled after all: the order exists, unanswered
        created = True
    assert [(o.link, o.service, o.quantity) for o in sandbox.orders] == ([(LINK, FOLLOWERS, 1000)] if created else [])
    assert [r.fault for r in sandbox.requests] == [rule.fault]  # recorded, also when never answered
    assert SANDBOX_KEY not in str(caught.value)


async def test_a_timeout_after_accepting_means_the_order_exists_so_unknown_is_honest(
    client: SmmV2Client, sandbox: SandboxProvider
):
    sandbox.set_faults([FaultRule(Fault.TIMEOUT_AFTER_ACCEPT, ("add",), times=1, seconds=1.5)])
    with pytest.raises(OutcomeUnknown, match="read timeout") as caught:
        await client.add(follow())
    assert caught.value.action == "add"
    (order,) = sandbox.orders
    assert (order.link, order.service, order.quantity) == (LINK, FOLLOWERS, 1000)
    # Sending it again blindly would be refused here, and at a panel without that rule it would be a duplicate.
    with pytest.raises(ProviderRefused, match="active order"):
        await client.add(follow())
    # The order is found in the provider's status data instead.
    assert (await client.status(order.order_id)).status is UpstreamOrderStatus.PENDING
    assert len(sandbox.orders) == 1


async def test_short_latency_only_slows_the_answer(client: SmmV2Client, sandbox: SandboxProvider):
    sandbox.set_faults([FaultRule(Fault.LATENCY, seconds=0.2)])
    started = time.monotonic()
    assert (await client.balance()).amount == Decimal("1000.00")
    assert time.monotonic() - started >= 0.2


async def test_scripted_faults_fire_the_given_number_of_times(client: SmmV2Client, sandbox: SandboxProvider):
    sandbox.set_faults([FaultRule(Fault.SERVER_ERROR, ("add",), times=2)])
    await client.balance()  # other actions are untouched
    for _attempt in range(2):
        with pytest.raises(OutcomeUnknown, match="HTTP 500"):
            await client.add(follow())
    assert (await client.add(follow())).order_id == str(sandbox.orders[0].order_id)


async def test_random_faults_follow_the_seed(clock: ManualClock):
    faulted_runs = []
    for _run in range(2):
        rule = FaultRule(Fault.NOT_ENOUGH_FUNDS, ("add",), probability=0.4)
        with SandboxProvider(api_key=SANDBOX_KEY, clock=clock, faults=[rule], seed=42, simulation=SIMULATION) as sb:
            async with SmmV2Client(sb.url, SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as client:
                outcomes = []
                for n in range(20):
                    try:
                        await client.add(follow(f"{LINK}{n}"))
                        outcomes.append("ok")
                    except InsufficientFunds:
                        outcomes.append("funds")
        faulted_runs.append(outcomes)
    assert faulted_runs[0] == faulted_runs[1]
    assert 2 <= faulted_runs[0].count("funds") <= 16


async def test_a_stopped_provider_refuses_the_connection_so_nothing_was_sent(sandbox: SandboxProvider):
    async with SmmV2Client(sandbox.url, SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as client:
        sandbox.stop()
        with pytest.raises(NotSent, match="could not connect"):
            await client.add(follow())
    assert sandbox.orders == ()


async def test_an_unknown_host_is_not_sent():
    async with SmmV2Client("http://panel.invalid/api/v2", SANDBOX_KEY, timeouts=TEST_TIMEOUTS) as client:
        with pytest.raises(NotSent):
            await client.balance()


# -- the sandbox's wire behaviour --------------------------------------------------------------------------------


async def test_the_sandbox_takes_get_and_multipart_and_always_answers_json(sandbox: SandboxProvider):
    async with httpx.AsyncClient() as http:
        by_get = await http.get(sandbox.url, params={"key": SANDBOX_KEY, "action": "balance"})
        by_multipart = await http.post(sandbox.url, files={"key": (None, SANDBOX_KEY), "action": (None, "balance")})
        refused = await http.post(sandbox.url, data={"key": SANDBOX_KEY, "action": "nonsense"})
        elsewhere = await http.post(sandbox.url.replace("/api/v2", "/api/v1"), data={"action": "balance"})
    assert by_get.json() == by_multipart.json() == {"balance": "1000.00000", "currency": "USD"}
    assert (refused.status_code, refused.json()) == (200, {"error": "Incorrect request"})
    assert elsewhere.status_code == 404
    for response in (by_get, by_multipart, refused, elsewhere):
        assert response.headers["content-type"] == "application/json"
    assert "error" not in by_get.json()


def test_the_sandbox_starts_fast_and_stops_while_an_answer_is_held_back(clock: ManualClock):
    rule = FaultRule(Fault.TIMEOUT_AFTER_ACCEPT, seconds=60)
    started = time.monotonic()
    sandbox = SandboxProvider(api_key=SANDBOX_KEY, clock=clock, faults=[rule]).start()
    assert time.monotonic() - started < 1
    url = sandbox.url
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, data={"key": SANDBOX_KEY, "action": "balance"}, timeout=0.3)
    stopping = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - stopping < 2
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, data={"key": SANDBOX_KEY, "action": "balance"}, timeout=1)


def test_services_can_change_while_running(sandbox: SandboxProvider):
    sandbox.set_services([SandboxService(42, "TikTok Views", Decimal("0.03"), 100, 1_000_000, category="TikTok")])
    answer = httpx.post(sandbox.url, data={"key": SANDBOX_KEY, "action": "services"}).json()
    assert answer == [
        {
            "service": 42,
            "name": "TikTok Views",
            "type": "Default",
            "category": "TikTok",
            "rate": "0.03",
            "min": "100",
            "max": "1000000",
            "refill": False,
            "cancel": False,
        }
    ]
