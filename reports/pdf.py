"""A report as a PDF for people: title, period, when it was made, a summary box, the chart and the table.

Landscape A4. The summary box holds the row count and, per currency, the totals of the money columns (the same
totals as the XLSX totals rows). The chart is the admin page's (``reports.report_charts``) drawn as vectors;
the table repeats its header on every page and right-aligns numbers, formatted as the language writes them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import polars as pl
from babel.dates import format_date
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.i18n import N_, Translate, babel_locale, format_datetime, format_money, format_number
from app.invoicing.pdf import ACCENT, BOLD, MUTED, REGULAR, STRIPE, register_fonts
from reports.cells import display_text
from reports.charts import BarChart, FunnelChart, HeatMap
from reports.columns import COLUMN_TITLES, totals
from reports.periods import DateRange
from reports.report_charts import ReportChart, Size, report_chart

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN = 14 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN - 12  # less the frame's padding on both sides
CHART_HEIGHT = 150
HEAT_MAP_HEIGHT = 380  # at most: a longer range's cohorts are drawn smaller to stay on one page
TEXT_FONT_SIZE = 7.5
BAR = colors.HexColor("#206BC4")
GRID = colors.HexColor("#E6E7E9")


def report_pdf(
    frame: pl.DataFrame,
    *,
    title: str,
    period: DateRange,
    report: str,
    generated_at: datetime,
    translate: Translate,
    locale: str,
) -> bytes:
    """The PDF of a report's ``frame``; ``report`` (its name in ``reports.catalog``) picks the chart."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        initialFontName=REGULAR,
    )
    made = format_datetime(generated_at, locale)
    story: list[Flowable] = [
        Paragraph(escape(title), _style("title", BOLD, 15, spaceAfter=2 * mm)),
        Paragraph(
            escape(f"{translate(N_('Period'))}: {_day(period.first, locale)} – {_day(period.last, locale)}")
            + escape(f" · {translate(N_('Generated'))}: {made}"),
            _style("meta", REGULAR, 8.5, textColor=MUTED, spaceAfter=4 * mm),
        ),
        _summary(frame, translate, locale),
        Spacer(0, 5 * mm),
    ]
    chart = report_chart(report, frame, translate, Size(int(WIDTH), CHART_HEIGHT))
    if chart is not None:
        story += [*_chart(chart, translate, locale), Spacer(0, 4 * mm)]
    story.append(_table(frame, translate, locale))

    def footer(canvas: Canvas, _doc: Any) -> None:
        canvas.setFont(REGULAR, 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN + 6, MARGIN - 2 * mm, f"{title} · {made}")
        canvas.drawRightString(PAGE_WIDTH - MARGIN - 6, MARGIN - 2 * mm, str(canvas.getPageNumber()))

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _day(day: date, locale: str) -> str:
    return format_date(day, "medium", locale=babel_locale(locale))


def _style(name: str, font: str, size: float, **options: Any) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.3, **options)


def _summary(frame: pl.DataFrame, translate: Translate, locale: str) -> Table:
    """The row count, then per currency the totals of its money columns, four to a line."""
    money = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    figures: list[tuple[str, str]] = [(translate(N_("Rows")), format_number(frame.height, locale))]
    for row in totals(frame, translate):
        total = dict(zip(frame.columns, row, strict=True))
        currency = str(total["currency"])
        for name in money:
            amount = total[name]
            if isinstance(amount, Decimal):
                label = f"{translate(COLUMN_TITLES.get(name, name))} ({currency})"
                figures.append((label, format_money(amount, currency, locale)))
    per_line = 4
    label_style = _style("kpi-label", REGULAR, 7, textColor=MUTED)
    value_style = _style("kpi-value", BOLD, 10.5)
    cells = [[Paragraph(escape(label), label_style), Paragraph(escape(value), value_style)] for label, value in figures]
    cells += [[Spacer(0, 0)]] * (-len(cells) % per_line)
    rows = [cells[i : i + per_line] for i in range(0, len(cells), per_line)]
    table = Table(rows, colWidths=[WIDTH / per_line] * per_line)
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, ACCENT),
                ("BACKGROUND", (0, 0), (-1, -1), STRIPE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return table


def _chart(chart: ReportChart, translate: Translate, locale: str) -> list[Flowable]:
    """The chart's title, its drawing and what it needs explained (the stacks' legend, the heat map's columns)."""
    flowables: list[Flowable] = [Paragraph(escape(chart.title), _style("caption", BOLD, 9))]
    if chart.bars is not None:
        flowables.append(_bars(chart.bars, locale))
        if chart.bars.legend:
            flowables.append(_legend(chart.bars.legend, chart.bars.left))
    if chart.funnel is not None:
        flowables.append(_funnel(chart.funnel, locale))
    if chart.heat_map is not None:
        months = N_("Columns: months since the first paid order (+0 is the month of the first order).")
        flowables += [
            _heat_map(chart.heat_map, locale),
            Paragraph(escape(translate(months)), _style("note", REGULAR, 7)),
        ]
    return flowables


def _flip(drawing: Drawing) -> Callable[[float], float]:
    """The charts' y (down, as in SVG) as ReportLab's (up)."""
    return lambda y: drawing.height - y


def _bars(chart: BarChart, locale: str) -> Drawing:
    """The bar chart's geometry, plain or stacked, as a ReportLab drawing, euros on the axis."""
    drawing = Drawing(chart.width, chart.height)
    flip = _flip(drawing)
    for tick in chart.ticks:
        drawing.add(Line(chart.left, flip(tick.y), chart.width, flip(tick.y), strokeColor=GRID, strokeWidth=0.5))
        label = f"{format_number(tick.value, locale)} €"
        drawing.add(String(chart.left - 4, flip(tick.y) - 2.5, label, fontName=REGULAR, fontSize=7, textAnchor="end"))
    slot = (chart.width - chart.left) / max(len(chart.bars), 1)
    widest = max((stringWidth(bar.label, REGULAR, 7) for bar in chart.bars), default=0)
    every = math.ceil((widest + 6) / slot)  # label every n-th bar, so that labels never overlap
    for index, bar in enumerate(chart.bars):
        for part in bar.segments:
            fill = colors.HexColor(part.fill)
            drawing.add(
                Rect(bar.x, flip(part.y + part.height), bar.width, part.height, fillColor=fill, strokeColor=None)
            )
        if index % every == 0:
            x = bar.x + bar.width / 2
            drawing.add(String(x, 8, bar.label, fontName=REGULAR, fontSize=7, textAnchor="middle"))
    zero = flip(chart.zero_y)
    drawing.add(Line(chart.left, zero, chart.width, zero, strokeColor=MUTED, strokeWidth=0.8))
    return drawing


def _legend(legend: Sequence[tuple[str, str]], indent: float) -> Paragraph:
    """The stacks' series in stacking order, each after a square of its colour, under the plot."""
    entries = [f'<font color="{fill}">■</font>&nbsp;{escape(series)}' for series, fill in legend]
    return Paragraph(" &nbsp; ".join(entries), _style("legend", REGULAR, 7.5, leftIndent=indent, spaceBefore=1 * mm))


def _funnel(chart: FunnelChart, locale: str) -> Drawing:
    """The funnel's steps as horizontal bars, each with its count and its share of the step before."""
    drawing = Drawing(chart.width, chart.height)
    flip = _flip(drawing)
    for step in chart.steps:
        middle = flip(step.y + chart.bar_height / 2) - 2.5
        drawing.add(String(chart.left - 6, middle, step.label, fontName=REGULAR, fontSize=7.5, textAnchor="end"))
        bottom = flip(step.y + chart.bar_height)
        drawing.add(Rect(chart.left, bottom, step.length, chart.bar_height, fillColor=BAR, strokeColor=None))
        figure = format_number(step.count, locale)
        if step.percent is not None:
            figure += f" · {display_text(step.percent, locale)} %"
        drawing.add(String(chart.left + step.length + 5, middle, figure, fontName=REGULAR, fontSize=7.5))
    return drawing


def _heat_map(chart: HeatMap, locale: str) -> Drawing:
    """The cohorts' shares as shaded cells with their percentages, shrunk to fit the page when there are many."""
    drawing = Drawing(chart.width, chart.height)
    flip = _flip(drawing)
    for label, x in chart.columns:
        drawing.add(String(x, flip(chart.top - 8), f"+{label}", fontName=REGULAR, fontSize=7, textAnchor="middle"))
    for row in chart.rows:
        middle = flip(row.y + chart.cell_height / 2) - 2.5
        drawing.add(String(chart.left - 4, middle, row.label, fontName=REGULAR, fontSize=7, textAnchor="end"))
        for cell in row.cells:
            bottom = flip(cell.y + chart.cell_height - 2)
            fill = colors.HexColor(cell.fill)
            drawing.add(
                Rect(cell.x, bottom, chart.cell_width - 2, chart.cell_height - 2, fillColor=fill, strokeColor=None)
            )
            if cell.share is not None:
                ink = colors.white if cell.share >= 50 else colors.black
                text = f"{display_text(cell.share, locale)} %"
                x = cell.x + chart.cell_width / 2 - 1
                drawing.add(String(x, middle, text, fontName=REGULAR, fontSize=6.5, textAnchor="middle", fillColor=ink))
    shrink = min(1.0, HEAT_MAP_HEIGHT / chart.height)
    drawing.scale(shrink, shrink)
    drawing.width, drawing.height = chart.width * shrink, chart.height * shrink
    return drawing


def _table(frame: pl.DataFrame, translate: Translate, locale: str) -> Table:
    """Header on every page; numbers right-aligned in the language's format, percentages with a sign."""
    numeric = [dtype.is_numeric() for dtype in frame.dtypes]
    head_style = _style("head", BOLD, TEXT_FONT_SIZE, textColor=colors.white)
    head_right = _style("head-right", BOLD, TEXT_FONT_SIZE, textColor=colors.white, alignment=2)
    header = [
        Paragraph(escape(translate(COLUMN_TITLES.get(name, name))), head_right if number else head_style)
        for name, number in zip(frame.columns, numeric, strict=True)
    ]
    body = [
        [_text(name, value, locale) for name, value in zip(frame.columns, row, strict=True)] for row in frame.rows()
    ]
    widths = _widths(frame.columns, body)
    empty = [("SPAN", (0, 1), (-1, 1))] if not body else []
    if not body:
        body = [[translate(N_("Nothing was sold or refunded in this period."))] + [""] * (frame.width - 1)]
    table = Table([header, *body], colWidths=widths, repeatRows=1)
    right = [("ALIGN", (i, 1), (i, -1), "RIGHT") for i, number in enumerate(numeric) if number]
    stripes = [("BACKGROUND", (0, row), (-1, row), STRIPE) for row in range(2, len(body) + 1, 2)]
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, TEXT_FONT_SIZE),
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, MUTED),
                *right,
                *stripes,
                *empty,
            ]
        )
    )
    return table


def _text(name: str, value: object, locale: str) -> str:
    text = display_text(value, locale)
    return f"{text} %" if name.endswith("_percent") and value is not None else text


def _widths(columns: Sequence[str], body: Sequence[Sequence[str]]) -> list[float]:
    """Each column as wide as its widest cell (headers wrap), scaled down together when the page is narrower."""
    padding = 8
    natural = [
        max([30.0, *(stringWidth(str(row[i]), REGULAR, TEXT_FONT_SIZE) + padding for row in body)])
        for i in range(len(columns))
    ]
    scale = min(1.0, WIDTH / sum(natural))
    spare = WIDTH - sum(natural) * scale
    return [width * scale + spare / len(columns) for width in natural]
