"""Invoice PDFs per second on one core: the invoice renderer against a minimal ReportLab PDF in the same run.

Run ``uv run python bench/invoices.py [--count 300]``. No database: invoices are built in memory as issuing builds
them (a German domestic invoice with three lines, seller and buyer snapshots, every §14 UStG field). The timed paths
are ``render_invoice`` (platypus tables, embedded DejaVu TTF fonts, "Page x of y" footer) and ``invoice_pdf``, the
PDF the render job stores (the same plus the EN 16931 XML built, schema-checked and attached as Factur-X); fonts and
styles are set up once before timing, as in a worker. Rates are per second of this process's CPU time (one core), so
that other work on a shared machine does not distort them.

Figures, one per line: ``plain: N invoices/s``, ``factur-x: N invoices/s``, ``baseline minimal: N pdfs/s`` (a one-
line ReportLab canvas PDF), ``factur-x ratio`` = factur-x / minimal (target at least 0.02) and ``ratio`` (last) =
plain / minimal; the issue's target is at least 0.05.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

from reportlab.pdfgen.canvas import Canvas

import app.models  # noqa: F401 - every mapper configured before an Invoice is built
from app.invoicing.facturx import invoice_pdf
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
    invoice_pdf(invoice)  # warm-up: font subsets, caches, the ICC profile
    minimal_pdf()
    plain = rate(lambda: render_invoice(invoice), count)
    facturx = rate(lambda: invoice_pdf(invoice), count)
    minimal = rate(minimal_pdf, count * 10)
    print(f"plain: {plain:.0f} invoices/s")
    print(f"factur-x: {facturx:.0f} invoices/s")
    print(f"baseline minimal: {minimal:.0f} pdfs/s")
    print(f"factur-x ratio: {facturx / minimal:.3f}")
    print(f"ratio: {plain / minimal:.3f}")


if __name__ == "__main__":
    main()
