"""LexofficeClient against the loopback Lexware Office: its rate limit, retries, refusals and doubtful creates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.lexoffice.client import LexofficeClient, LexofficeRejected, Throttle, VoucherInDoubt
from app.sandbox.lexoffice import LexofficeFault, LexofficeFaultRule, SandboxLexoffice
from tests.integration.lexoffice.helpers import QUICK_RETRIES


def voucher(number: str = "RE-2026-000001", **changes: Any) -> dict[str, Any]:
    return {
        "type": "salesinvoice",
        "voucherNumber": number,
        "voucherDate": "2026-11-30T00:00:00.000+01:00",
        "totalGrossAmount": Decimal("11.90"),
        "totalTaxAmount": Decimal("1.90"),
        "taxType": "net",
        "useCollectiveContact": True,
        "voucherItems": [
            {
                "amount": Decimal("10.00"),
                "taxAmount": Decimal("1.90"),
                "taxRatePercent": Decimal("19.00"),
                "categoryId": "8f8664a8-fd86-11e1-a21f-0800200c9a66",
            }
        ],
    } | changes


async def test_requests_through_the_shared_throttle_never_exceed_two_in_any_second(sandbox: SandboxLexoffice):
    async with (
        LexofficeClient(sandbox.url, sandbox.api_key) as first,
        LexofficeClient(sandbox.url, sandbox.api_key) as second,
    ):
        for position in range(4):
            await first.create_voucher(voucher(f"RE-2026-00000{position}"))
            await second.find_voucher(f"RE-2026-00000{position}")

    assert len(sandbox.requests) == 8
    assert sandbox.busiest_second() <= 2
    assert [request.status for request in sandbox.requests if request.status == 429] == []


async def test_a_burst_over_the_limit_is_answered_429_and_every_request_still_succeeds(sandbox: SandboxLexoffice):
    async with LexofficeClient(sandbox.url, sandbox.api_key, throttle=Throttle(interval=0)) as unthrottled:
        for position in range(4):
            await unthrottled.create_voucher(voucher(f"RE-2026-00001{position}"))

    assert any(request.status == 429 for request in sandbox.requests)
    assert len(sandbox.vouchers) == 4


async def test_a_voucher_that_does_not_add_up_is_refused_with_the_issues_for_finance(sandbox: SandboxLexoffice):
    async with LexofficeClient(sandbox.url, sandbox.api_key) as client:
        with pytest.raises(LexofficeRejected) as refused:
            await client.create_voucher(voucher(totalGrossAmount=Decimal("12.00")))
        with pytest.raises(LexofficeRejected) as incomplete:
            await client.create_voucher(voucher(useCollectiveContact=False))

    assert refused.value.retryable is False
    assert refused.value.reason == "HTTP 406: totalGrossAmount: invalid_value"
    assert incomplete.value.reason == "HTTP 406: contactId: missing_entity"
    assert sandbox.vouchers == []


async def test_a_server_error_is_retried_and_books_one_voucher(sandbox: SandboxLexoffice):
    sandbox.set_faults([LexofficeFaultRule(LexofficeFault.SERVER_ERROR, "create", times=1)])
    async with LexofficeClient(sandbox.url, sandbox.api_key, retry_delays=QUICK_RETRIES) as client:
        voucher_id = await client.create_voucher(voucher())

    assert [request.status for request in sandbox.requests] == [500, 200]
    assert [booked.id for booked in sandbox.vouchers] == [voucher_id]


async def test_a_create_answered_504_is_not_sent_again_and_is_found_by_its_number(sandbox: SandboxLexoffice):
    sandbox.set_faults([LexofficeFaultRule(LexofficeFault.GATEWAY_TIMEOUT_AFTER_CREATE, "create", times=1)])
    async with LexofficeClient(sandbox.url, sandbox.api_key, retry_delays=QUICK_RETRIES) as client:
        with pytest.raises(VoucherInDoubt):
            await client.create_voucher(voucher())
        found = await client.find_voucher("RE-2026-000001")

    assert [request.endpoint for request in sandbox.requests] == ["create", "lookup"]
    assert [booked.id for booked in sandbox.vouchers] == [found]


async def test_a_pdf_is_attached_to_its_voucher(sandbox: SandboxLexoffice):
    async with LexofficeClient(sandbox.url, sandbox.api_key) as client:
        voucher_id = await client.create_voucher(voucher())
        await client.upload_file(voucher_id, "RE-2026-000001.pdf", b"%PDF-1.7 test")
        with pytest.raises(LexofficeRejected, match="file: invalid_file"):
            await client.upload_file(voucher_id, "notes.pdf", b"not a pdf")
        files = await client.voucher_files(voucher_id)

    assert len(files) == 1
