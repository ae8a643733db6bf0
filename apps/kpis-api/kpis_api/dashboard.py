"""Server-rendered HTML dashboard: KPI tiles, an inline SVG bar chart and a table.

No JavaScript and no external assets: it renders in any browser and behind any proxy.
Links are built from ``prefix`` (``""`` or the configured base path such as ``/kpis``) so
they work whether the page was reached as ``/`` or as ``/kpis/``.

Example::

    html_page = render_dashboard(summary, prefix="/kpis")
"""

from __future__ import annotations

from html import escape

from kpis_api.kpis import WINDOW_DAYS, DailyRevenue, KpiSummary

_CHART_WIDTH = 560
_CHART_HEIGHT = 220
_CHART_TOP = 24  # room for the value label above the tallest bar
_CHART_BOTTOM = 28  # room for the day labels
_BAR_GAP = 12
# An empty inline icon: otherwise every browser also requests /favicon.ico, gets our 404 and
# logs a console error on every visit.
_NO_FAVICON = '<link rel="icon" href="data:,">'

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.5rem;margin-bottom:.25rem}
.muted{color:#616e7c;font-size:.9rem}
.tiles{display:flex;flex-wrap:wrap;gap:1rem;margin:1.5rem 0}
.tile{border:1px solid #d9e2ec;border-radius:8px;padding:1rem 1.25rem;min-width:10rem}
.tile dt{color:#616e7c;font-size:.85rem}
.tile dd{margin:0;font-size:1.6rem;font-weight:600}
table{border-collapse:collapse;margin-top:1rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.35rem .9rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.bar{fill:#2680c2}
.axis{stroke:#9aa5b1}
svg text{font-size:11px;fill:#323f4b}
"""


def format_cents(cents: int) -> str:
    """``123456`` -> ``"1,234.56"``; integer arithmetic so no rounding can creep in."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{fraction:02d}"


def _format_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def render_daily_revenue_svg(days: tuple[DailyRevenue, ...]) -> str:
    """A bar per day, scaled to the best day; zero days draw no bar but keep their label."""
    plot_height = _CHART_HEIGHT - _CHART_TOP - _CHART_BOTTOM
    baseline = _CHART_TOP + plot_height
    tallest = max((day.revenue_cents for day in days), default=0)
    slot = _CHART_WIDTH / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_CHART_WIDTH}" '
        f'height="{_CHART_HEIGHT}" viewBox="0 0 {_CHART_WIDTH} {_CHART_HEIGHT}" '
        'role="img" aria-labelledby="daily-revenue-title">',
        f'<title id="daily-revenue-title">Paid revenue per UTC day, last {len(days)} days</title>',
        f'<line class="axis" x1="0" y1="{baseline}" x2="{_CHART_WIDTH}" y2="{baseline}"/>',
    ]
    for index, day in enumerate(days):
        height = 0.0 if tallest == 0 else plot_height * day.revenue_cents / tallest
        x = index * slot + _BAR_GAP / 2
        center = index * slot + slot / 2
        label = escape(format_cents(day.revenue_cents))
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{baseline - height:.1f}" '
            f'width="{slot - _BAR_GAP:.1f}" height="{height:.1f}">'
            f"<title>{day.day.isoformat()}: {label}</title></rect>"
        )
        parts.append(
            f'<text x="{center:.1f}" y="{baseline - height - 6:.1f}" '
            f'text-anchor="middle">{label}</text>'
        )
        parts.append(
            f'<text x="{center:.1f}" y="{_CHART_HEIGHT - 8}" '
            f'text-anchor="middle">{day.day.strftime("%m-%d")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_dashboard(summary: KpiSummary, prefix: str) -> str:
    """The full HTML page for ``GET /``."""
    aov = summary.average_order_value_cents
    tiles = (
        ("Revenue", format_cents(summary.revenue_cents)),
        ("Paid orders", f"{summary.paid_orders:,}"),
        ("Average order value", "—" if aov is None else format_cents(aov)),
        ("Active customers", f"{summary.active_customers:,}"),
        ("Refund rate", _format_rate(summary.refund_rate)),
    )
    tile_html = "".join(
        f'<div class="tile"><dl><dt>{escape(name)}</dt><dd>{escape(value)}</dd></dl></div>'
        for name, value in tiles
    )
    rows = "".join(
        f"<tr><td>{day.day.isoformat()}</td><td>{escape(format_cents(day.revenue_cents))}</td>"
        f"<td>{day.paid_orders:,}</td></tr>"
        for day in summary.daily_revenue
    )
    window_end = summary.window_end.strftime("%Y-%m-%d %H:%M UTC")
    summary_href = escape(f"{prefix}/api/kpi/summary", quote=True)
    metrics_href = escape(f"{prefix}/metrics", quote=True)
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{_NO_FAVICON}<title>KPIs</title><style>{_STYLE}</style></head><body>"
        "<h1>Business KPIs</h1>"
        f'<p class="muted">Last {WINDOW_DAYS} days up to {escape(window_end)}. '
        "Amounts are in currency units.</p>"
        f'<section class="tiles">{tile_html}</section>'
        "<h2>Daily revenue</h2>"
        f"{render_daily_revenue_svg(summary.daily_revenue)}"
        "<table><thead><tr><th>Day (UTC)</th><th>Revenue</th><th>Paid orders</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f'<p class="muted"><a href="{summary_href}">JSON summary</a> · '
        f'<a href="{metrics_href}">Prometheus metrics</a></p>'
        "</body></html>\n"
    )


def render_unavailable_page(reason: str, prefix: str) -> str:
    """The 503 page shown when the database cannot answer."""
    ready_href = escape(f"{prefix}/ready", quote=True)
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8">{_NO_FAVICON}<title>KPIs unavailable</title>'
        f"<style>{_STYLE}</style></head><body><h1>KPIs are temporarily unavailable</h1>"
        f'<p>{escape(reason)}</p><p class="muted"><a href="{ready_href}">Readiness</a></p>'
        "</body></html>\n"
    )
