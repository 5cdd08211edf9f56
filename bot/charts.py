"""PNG charts for Slack, drawn from plain data specs (so a process pool can render them, see
bot.chart_pool): a team's KPIs as small multiples, one panel per KPI in its own unit, and the scorecard
ranking as bars.

A panel draws the KPI's values (a missing period is NaN, so the line breaks there instead of bridging
it), its target line, its band or alert threshold, and says in its title which way is better. Panels
have no tick machinery: tick labels are most of matplotlib's drawing time, and the title, the target
label and the latest value say what a reader needs (see README, Benchmarks).

Chinese labels use Noto Sans CJK (OFL), installed with the package (the cvttf-NotoSansCJK-Regular wheel
ships its static Regular weight; the Noto Sans SC wheels on PyPI ship only the variable font, which
matplotlib draws at its default Thin weight) and registered with matplotlib on first use; nothing is
downloaded at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; and the object API below keeps no global state between threads

from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: The font matplotlib ships (Latin only).
LATIN_FAMILY = "DejaVu Sans"
#: The CJK font file inside the cvttf-NotoSansCJK-Regular wheel.
CJK_FONT = ("cvttf_NotoSansCJK_Regular", "NotoSansCJKtc-Regular.otf")
COLUMNS = 4
DPI = 80
PANEL_WIDTH, PANEL_HEIGHT, HEADER = 2.6, 1.75, 0.4  # inches
VALUE_COLOUR = "#2c6fbb"
TARGET_COLOUR = "#4d4d4d"
THRESHOLD_COLOUR = "#c0392b"
BAND_COLOUR = "#2ca02c"


@dataclass(frozen=True)
class Panel:
    """One KPI over its recent periods: ``values`` line up with ``labels`` (None: no data that period)."""

    title: str  # the KPI's name
    subtitle: str  # unit and direction ("↓ lower is better"), then the periods spanned
    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    latest: str  # the last value with data, formatted with its unit
    target: float | None = None
    target_label: str = ""
    band: tuple[float, float] | None = None
    threshold: float | None = None
    threshold_label: str = ""


@dataclass(frozen=True)
class TrendSpec:
    title: str
    panels: tuple[Panel, ...]
    cjk: bool  # labels hold Chinese: draw them with the CJK font


def font_families(cjk: bool) -> list[str]:
    """The font families to draw with: the CJK font first when labels hold Chinese (it has Latin glyphs
    too), with matplotlib's own font as the per-glyph fallback."""
    return [_cjk_family(), LATIN_FAMILY] if cjk else [LATIN_FAMILY]


@cache
def _cjk_family() -> str:
    path = str(files(CJK_FONT[0]).joinpath(CJK_FONT[1]))
    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


def trend_figure(spec: TrendSpec) -> Figure:
    """The small multiples of ``spec``: up to four panels a row, each with its own y scale."""
    family = font_families(spec.cjk)
    columns = min(COLUMNS, len(spec.panels))
    rows = math.ceil(len(spec.panels) / columns)
    height = rows * PANEL_HEIGHT + HEADER
    figure = Figure(figsize=(columns * PANEL_WIDTH, height), dpi=DPI)
    # each panel keeps the top 40 % of its cell for its three-line title
    grid = figure.add_gridspec(
        rows, columns, left=0.03, right=0.97, top=1 - (HEADER + 0.55) / height, bottom=0.03, hspace=0.75, wspace=0.15
    )
    figure.suptitle(spec.title, x=0.03, y=1 - 0.08 / height, ha="left", va="top", fontsize=10, fontfamily=family)
    for index, panel in enumerate(spec.panels):
        axes = figure.add_subplot(grid[index // columns, index % columns])
        _draw_panel(axes, panel, family)
    return figure


def _draw_panel(axes: Axes, panel: Panel, family: list[str]) -> None:
    axes.set_axis_off()  # no ticks (see the module doc); the frame below shows the panel's extent
    xs = list(range(len(panel.values)))
    ys = [math.nan if value is None else value for value in panel.values]
    axes.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.2, color=VALUE_COLOUR, gid="values")
    limits = [value for value in ys if not math.isnan(value)]
    if panel.band is not None:
        axes.axhspan(*panel.band, color=BAND_COLOUR, alpha=0.15, linewidth=0, gid="band")
        limits.extend(panel.band)
    if panel.target is not None:
        axes.axhline(panel.target, color=TARGET_COLOUR, linestyle="--", linewidth=0.8, gid="target")
        axes.text(1, panel.target, panel.target_label, transform=axes.get_yaxis_transform(), **_small(family))
        limits.append(panel.target)
    if panel.threshold is not None:
        axes.axhline(panel.threshold, color=THRESHOLD_COLOUR, linestyle=":", linewidth=1, gid="threshold")
        axes.text(1, panel.threshold, panel.threshold_label, transform=axes.get_yaxis_transform(), **_small(family))
        limits.append(panel.threshold)
    low, high = min(limits), max(limits)
    pad = (high - low) * 0.12 or abs(high) * 0.1 or 1
    axes.set_ylim(low - pad, high + pad)
    axes.set_xlim(-0.5, len(xs) - 0.5)
    axes.plot([-0.5, len(xs) - 0.5], [low - pad] * 2, color="#cccccc", linewidth=0.8)  # a baseline, not an axis
    last = max((x for x, y in zip(xs, ys, strict=True) if not math.isnan(y)), default=None)
    if last is not None:
        axes.annotate(
            panel.latest,
            (last, ys[last]),
            xytext=(-3, 3),
            textcoords="offset points",
            **_small(family) | {"color": VALUE_COLOUR},
        )
    axes.set_title(f"{panel.title}\n{panel.subtitle}", loc="left", fontsize=7, fontfamily=family, pad=2)


def _small(family: list[str]) -> dict[str, Any]:
    """Line labels: right-aligned just above their line, inside the panel."""
    return {"fontsize": 6, "fontfamily": family, "va": "bottom", "ha": "right", "color": TARGET_COLOUR}


def render_trend(spec: TrendSpec) -> bytes | None:
    """The PNG of ``spec``; None when no KPI has data (the message then carries no chart)."""
    if not spec.panels:
        return None
    return _png(trend_figure(spec))


def score_bars(*, title: str, teams: list[str], scores: list[float], cjk: bool = False) -> bytes:
    """Horizontal bars of the weighted scores, best on top."""
    family = font_families(cjk)
    figure = Figure(figsize=(6, 0.45 * len(teams) + 1.2), dpi=90)
    axes = figure.add_subplot()
    positions = list(range(len(teams)))[::-1]
    axes.barh(positions, scores, color=VALUE_COLOUR)
    axes.set_yticks(positions, teams, fontsize=8, fontfamily=family)
    axes.set_xlim(0, 100)
    axes.set_title(title, fontfamily=family)
    for position, score in zip(positions, scores, strict=True):
        axes.text(score + 1, position, f"{score:.1f}", va="center", fontsize=8)
    figure.subplots_adjust(left=0.3, right=0.95)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
