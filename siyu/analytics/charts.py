"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, no style attributes.

Why our own small renderer rather than pygal: the console's Content-Security-Policy allows styles
only from our own files (no <style> elements, no style= attributes, no inline script), and pygal's
SVG carries both, plus a script reference to its CDN unless switched off. Here every colour is a
presentation attribute (fill=, stroke=), which the policy does not govern; the hover text is a
<title> per mark, which browsers show without script; the SVG has a viewBox and width="100%", so it
scales to a phone. Each chart also has a table beside it, which is what screen readers and exports
use. Coordinates are plain floats: they place marks, they never carry money.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = int | Decimal | float | None
PALETTE = ("#2f6fde", "#e0822d", "#2a9d6f", "#9b59b6", "#c0392b", "#7f8c8d")
MUTED = "#b6bcc6"
GRID = "#e6e8ec"
TEXT = "#555"


@dataclass
class Series:
    name: str
    values: Sequence[Number]
    color: str = PALETTE[0]
    dashed: bool = False


def _f(value: Number) -> float:
    return float(value) if value is not None else 0.0


def _svg(width: int, height: int, label: str, body: list[str], css: str = "chart") -> SafeString:
    return mark_safe(  # noqa: S308 - every text below went through escape()
        f'<svg class="{css}" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: object, *, anchor: str = "middle", size: int = 11, color: str = TEXT) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{color}">'
        f"{escape(str(text))}</text>"
    )


def _scale_top(values: Sequence[Number]) -> float:
    top = max((_f(v) for v in values if v is not None), default=0.0)
    return top if top > 0 else 1.0


def _label_step(count: int, room: int) -> int:
    return max(1, -(-count // room))


def _axis(labels: Sequence[str], top: float, left: int, plot_w: float, plot_h: float, fmt) -> list[str]:
    body = []
    for i in range(3):  # gridlines at 0, ½ and the top
        y = 10 + plot_h - plot_h * i / 2
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 4, y + 4, fmt(top * i / 2), anchor="end", size=10))
    step = _label_step(len(labels), 8)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = left + plot_w * (i + 0.5) / max(len(labels), 1)
            body.append(_text(x, 10 + plot_h + 14, label, size=10))
    return body


def _plain(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, label: str, fmt=_plain, width: int = 640, height: int = 220
) -> SafeString:
    """Lines over periods; a dashed series (the previous period) is drawn under the others."""
    left, plot_w, plot_h = 56, width - 66, height - 40
    top = _scale_top([v for s in series for v in s.values])
    body = _axis(labels, top, left, plot_w, plot_h, fmt)
    n = max(len(labels), 1)
    for s in sorted(series, key=lambda s: not s.dashed):
        points = [
            (left + plot_w * (i + 0.5) / n, 10 + plot_h - plot_h * _f(v) / top, v, labels[i] if i < len(labels) else "")
            for i, v in enumerate(s.values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, v, _l in points if v is not None)
        dash = ' stroke-dasharray="5 4"' if s.dashed else ""
        body.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"{dash}/>')
        for x, y, v, point_label in points:
            if v is not None:
                body.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{s.color}">'
                    f"<title>{escape(f'{s.name} · {point_label}: {fmt(_f(v))}')}</title></circle>"
                )
    return _svg(width, height, label, body)


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    stacked: bool = False,
    fmt=_plain,
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """Bars per period: side by side, or stacked (the series add up to the bar)."""
    left, plot_w, plot_h = 56, width - 66, height - 40
    if stacked:
        top = _scale_top([sum(_f(s.values[i]) for s in series) for i in range(len(labels))])
    else:
        top = _scale_top([v for s in series for v in s.values])
    body = _axis(labels, top, left, plot_w, plot_h, fmt)
    slot = plot_w / max(len(labels), 1)
    bar_w = slot * 0.7 / (1 if stacked else max(len(series), 1))
    for i, period in enumerate(labels):
        base = 0.0
        for j, s in enumerate(series):
            value = _f(s.values[i])
            h = plot_h * value / top
            x = left + slot * i + slot * 0.15 + (0 if stacked else bar_w * j)
            y = 10 + plot_h - h - (plot_h * base / top if stacked else 0)
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{s.color}">'
                f"<title>{escape(f'{s.name} · {period}: {fmt(value)}')}</title></rect>"
            )
            if stacked:
                base += value
    return _svg(width, height, label, body)


def hbar_chart(
    rows: Sequence[tuple[str, Number, str]], *, label: str, fmt=_plain, width: int = 640, color: str = PALETTE[0]
) -> SafeString:
    """Horizontal bars, one per (label, value, note) row, widest = largest |value|: funnels, and
    the factors of a change (negative bars point left of the middle line)."""
    row_h, left, right = 30, 150, 130
    height = row_h * len(rows) + 10
    diverging = any(_f(v) < 0 for _l, v, _n in rows)
    top = max((abs(_f(v)) for _l, v, _n in rows), default=0.0) or 1.0
    plot_w = width - left - right
    zero = left + (plot_w / 2 if diverging else 0)
    span = plot_w / 2 if diverging else plot_w
    body = []
    for i, (row_label, value, note) in enumerate(rows):
        y = 5 + row_h * i
        w = span * abs(_f(value)) / top
        x = zero - w if _f(value) < 0 else zero
        fill = PALETTE[4] if _f(value) < 0 else color
        body.append(_text(left - 8, y + 18, row_label, anchor="end", size=12))
        body.append(
            f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{max(w, 1):.1f}" height="{row_h - 10}" fill="{fill}">'
            f"<title>{escape(f'{row_label}: {fmt(_f(value))} {note}'.strip())}</title></rect>"
        )
        body.append(_text(left + plot_w + 6, y + 18, f"{fmt(_f(value))} {note}".strip(), anchor="start", size=12))
    if diverging:
        body.append(f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" stroke="{MUTED}"/>')
    return _svg(width, height, label, body)


def _heat(share: float) -> str:
    """White to the palette blue, by share 0..1."""
    share = min(max(share, 0.0), 1.0)
    r, g, b = (int(255 + (c - 255) * share) for c in (0x2F, 0x6F, 0xDE))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[tuple[Number, str] | None]],
    *,
    label: str,
    top: Number = None,
    cell_w: int = 46,
) -> SafeString:
    """A grid: one row per cohort, one column per month; each cell (value, text) is shaded by
    value ÷ top (the largest value when top is not given); None leaves a cell blank."""
    left, head, row_h = 70, 22, 24
    values = [_f(c[0]) for row in cells for c in row if c is not None]
    scale = _f(top) or max(values, default=0.0) or 1.0
    width, height = left + cell_w * len(columns) + 4, head + row_h * len(rows) + 4
    body = [_text(left + cell_w * (j + 0.5), 15, col, size=10) for j, col in enumerate(columns)]
    for i, row_label in enumerate(rows):
        y = head + row_h * i
        body.append(_text(left - 6, y + 16, row_label, anchor="end", size=10))
        for j, cell in enumerate(cells[i]):
            if cell is None:
                continue
            value, text = cell
            share = _f(value) / scale
            body.append(
                f'<rect x="{left + cell_w * j:.1f}" y="{y}" width="{cell_w - 2}" height="{row_h - 2}" '
                f'fill="{_heat(share)}"><title>{escape(f"{row_label} · {columns[j]}: {text}")}</title></rect>'
            )
            body.append(_text(left + cell_w * (j + 0.5), y + 15, text, size=9, color="#fff" if share > 0.55 else TEXT))
    return _svg(width, height, label, body, css="chart chart-heat")


def sparkline(values: Sequence[Number], *, label: str, width: int = 160, height: int = 36) -> SafeString:
    """A small line without axes, for a tile."""
    top = _scale_top(values)
    n = max(len(values) - 1, 1)
    path = " ".join(
        f"{2 + (width - 4) * i / n:.1f},{height - 3 - (height - 6) * _f(v) / top:.1f}" for i, v in enumerate(values)
    )
    body = [f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>']
    return _svg(width, height, label, body, css="chart chart-spark")
