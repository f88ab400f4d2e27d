"""Invoice PDFs per second on one core: the invoice renderer against a minimal ReportLab PDF in the same run.

Run ``uv run python bench/invoices.py [--count 300]``. No database: invoices are built in memory as issuing
builds them (a German domestic invoice with three lines, seller and buyer snapshots, every §14 UStG field). The
timed path is ``render_invoice`` (platypus tables, embedded DejaVu TTF fonts, "Page x of y" footer); fonts and
styles are set up once before timing, as in a worker. Rates are per second of this process's CPU time (one core),
so that other work on a shared machine does not distort them.

Figures, one per line: ``plain: N invoices/s``, ``baseline minimal: N pdfs/s`` (a one-line ReportLab canvas
PDF), and ``ratio`` (last) = plain / minimal; the issue's target is at least 0.05. Factur-X is not built yet,
so there is no ``factur-x`` line.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

from reportlab.pdfgen.canvas import Canvas

import app.models  # noqa: F401 - every mapper configured before an Invoice is built
from app.invoicing.pdf import render_invoice, styles
from tests.unit.invoice_samples import sample_invoice


def minimal_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.drawString(72, 720, "Invoice RE-2026-000001")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def rate(work: Callable[[], bytes], count: int) -> float:
    start = time.process_time()
    for _ in range(count):
        work()
    return count / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    count = parser.parse_args().count
    invoice = sample_invoice(lines=3)
    styles()
    render_invoice(invoice)  # warm-up: font subsets, caches
    minimal_pdf()
    plain = rate(lambda: render_invoice(invoice), count)
    minimal = rate(minimal_pdf, count * 10)
    print(f"plain: {plain:.0f} invoices/s")
    print(f"baseline minimal: {minimal:.0f} pdfs/s")
    print(f"ratio: {plain / minimal:.3f}")


if __name__ == "__main__":
    main()
