"""Charts drawn on the server as SVG: no script, no other host, readable by screen readers
(role="img" with a text alternative) and printable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from ledger.domain.money import format_money


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: Decimal
    css_class: str = "bar"


def horizontal_bars(bars: Sequence[Bar], *, title: str, width: int = 640, bar_height: int = 26) -> str:
    """Labelled horizontal bars with their values; the widest bar fills the plot."""
    label_width, value_width, gap = 190, 120, 8
    plot = width - label_width - value_width
    top = max((b.value for b in bars), default=Decimal(0)) or Decimal(1)
    height = len(bars) * (bar_height + gap) + gap
    description = "; ".join(f"{b.label}: {format_money(b.value)}" for b in bars)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title><desc>{escape(description)}</desc>']
    for index, bar in enumerate(bars):
        y = gap + index * (bar_height + gap)
        length = int(plot * (bar.value / top)) if bar.value > 0 else 0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.0f}" text-anchor="end" class="chart-label">'
            f"{escape(bar.label)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{max(length, 1)}" height="{bar_height}" class="{bar.css_class}"/>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.7:.0f}" class="chart-value">'
            f"{escape(format_money(bar.value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def column_bars(bars: Sequence[Bar], *, title: str, width: int = 720, height: int = 220) -> str:
    """Vertical bars for a time series (one per month), with every third label shown."""
    left, bottom, top_pad = 10, 40, 10
    count = max(len(bars), 1)
    slot = Decimal(width - left * 2) / count
    top = max((b.value for b in bars), default=Decimal(0)) or Decimal(1)
    plot = height - bottom - top_pad
    description = "; ".join(f"{b.label}: {format_money(b.value)}" for b in bars if b.value)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
             f"<desc>{escape(description or 'nothing falls due')}</desc>"]
    for index, bar in enumerate(bars):
        x = left + index * slot
        length = plot * bar.value / top if bar.value > 0 else Decimal(0)  # pixels, kept exact
        parts.append(f'<rect x="{x + 2:.1f}" y="{top_pad + plot - length:.1f}" width="{max(slot - 4, 1):.1f}" '
                     f'height="{max(length, 0.5):.1f}" class="{bar.css_class}"/>')
        if index % 3 == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'class="chart-label">{escape(bar.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
