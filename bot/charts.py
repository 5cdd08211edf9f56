"""PNG charts for Slack, drawn from plain data specs (so a process pool can render them, see
bot.chart_pool): a team's KPIs as small multiples, one panel per KPI in its own unit, and the scorecard
ranking as bars.

A panel draws the KPI's values (a missing period is NaN, so the line breaks there instead of bridging
it), its target line, its band or alert threshold, and says under its title which way is better.

A panel is a handful of figure artists placed by a transform from the panel's data to its plot area,
not an Axes: an Axes builds tick, spine and axis machinery that cost about 25 ms a panel, most
of a chart's time. The labels a reader needs (the latest value, the target and threshold, the first
and last period) are drawn as text instead of ticks; the artists keep the data in the KPI's own unit,
which is what the tests read.

Chinese labels use Noto Sans SC (SIL OFL 1.1), installed with the package from the
pylopdf-fonts-zh-cn wheel (its static Regular weight; licence in the wheel's metadata) and registered
with matplotlib on first use; nothing is downloaded at run time.
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
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox, BboxTransform  # noqa: E402
from PIL import Image  # noqa: E402

from bot.chart_canvas import TextCachingCanvas  # noqa: E402

#: The font matplotlib ships (Latin only).
LATIN_FAMILY = "DejaVu Sans"
#: The CJK font file inside the pylopdf-fonts-zh-cn wheel.
CJK_FONT = ("pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf")
COLUMNS = 4
DPI = 100
PANEL_WIDTH, PANEL_HEIGHT, HEADER, MIN_WIDTH = 2.4, 1.6, 0.35, 4.0  # inches
#: The plot area inside a panel, as fractions of the panel: room above for the title lines, below for
#: the first and last period, right for the line labels.
PLOT = Bbox.from_extents(0.04, 0.16, 0.96, 0.66)
VALUE_COLOUR = "#2c6fbb"
TARGET_COLOUR = "#4d4d4d"
THRESHOLD_COLOUR = "#c0392b"
BAND_COLOUR = "#2ca02c"
MUTED = "#777777"
PALETTE = 64  # colours of the PNG


@dataclass(frozen=True)
class Panel:
    """One KPI over its recent periods: ``values`` line up with ``labels`` (None: no data that period)."""

    title: str  # the KPI's name (a bilingual team's on two lines)
    subtitle: str  # unit and direction ("% · ↓ lower is better")
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


def missing_glyphs(figure: Figure) -> set[str]:
    """The characters of the figure's labels that none of their fonts can draw (drawn as empty boxes)."""
    missing: set[str] = set()
    for text in figure.findobj(Text):
        fonts = [
            font_manager.findfont(font_manager.FontProperties(family=[family])) for family in text.get_fontfamily()
        ]
        charmaps = [font_manager.get_font(path).get_charmap() for path in fonts]
        missing |= {
            char for char in text.get_text() if not char.isspace() and not any(ord(char) in m for m in charmaps)
        }
    return missing


def trend_figure(spec: TrendSpec) -> Figure:
    """The small multiples of ``spec``: up to four panels a row, each with its own vertical scale. Panel
    ``i``'s artists have the gid ``"i:role"`` (roles: values, target, threshold, band, title, subtitle,
    ...), see ``panel_artists``."""
    family = font_families(spec.cjk)
    columns = min(COLUMNS, len(spec.panels)) or 1
    rows = math.ceil(len(spec.panels) / columns) or 1
    # a lone panel (an alert's chart) is drawn wider, so that its title fits
    width, height = max(columns * PANEL_WIDTH, MIN_WIDTH), rows * PANEL_HEIGHT + HEADER
    figure = Figure(figsize=(width, height), dpi=DPI)
    figure.text(0.1 / width, 1 - 0.08 / height, spec.title, ha="left", va="top", fontsize=10, fontfamily=family)
    cell_width, cell_height = 1 / columns, PANEL_HEIGHT / height
    for index, panel in enumerate(spec.panels):
        row, column = divmod(index, columns)
        cell = Bbox.from_bounds(column * cell_width, (rows - row - 1) * cell_height, cell_width, cell_height)
        _draw_panel(figure, f"{index}:", panel, cell, family)
    return figure


def panel_artists(figure: Figure, index: int) -> dict[str, Any]:
    """Panel ``index``'s artists by role."""
    prefix = f"{index}:"
    roles = {artist: (artist.get_gid() or "").removeprefix(prefix) for artist in figure.artists + figure.texts}
    return {role: artist for artist, role in roles.items() if (artist.get_gid() or "").startswith(prefix)}


def _draw_panel(figure: Figure, gid: str, panel: Panel, cell: Bbox, family: list[str]) -> None:
    ys = [math.nan if value is None else float(value) for value in panel.values]
    xs = list(range(len(ys)))
    limits = [value for value in ys if not math.isnan(value)]
    limits += [level for level in (panel.target, panel.threshold) if level is not None]
    limits += list(panel.band or ())
    low, high = min(limits), max(limits)
    pad = (high - low) * 0.15 or abs(high) * 0.1 or 1
    data = Bbox.from_extents(-0.5, low - pad, len(xs) - 0.5, high + pad)
    to_cell = BboxTransform(Bbox.unit(), cell) + figure.transFigure  # panel fractions -> figure
    to_plot = BboxTransform(data, PLOT) + to_cell  # the KPI's periods and unit -> the plot area
    left, right = data.x0, data.x1

    def add(role: str, artist: Any) -> None:
        artist.set_transform(to_plot)
        artist.set_gid(gid + role)
        figure.add_artist(artist)

    add("frame", Rectangle((left, data.y0), data.width, data.height, facecolor="#f6f6f6", linewidth=0))
    if panel.band is not None:
        band_low, band_high = panel.band
        add("band", Rectangle((left, band_low), data.width, band_high - band_low, color=BAND_COLOUR, alpha=0.15))
    if panel.target is not None:
        add("target", Line2D([left, right], [panel.target] * 2, color=TARGET_COLOUR, linestyle="--", linewidth=0.8))
        add("target_label", _label(panel.target_label, (left, panel.target), family, colour=TARGET_COLOUR))
    if panel.threshold is not None:
        add("threshold", Line2D([left, right], [panel.threshold] * 2, color=THRESHOLD_COLOUR, linestyle=":"))
        add("threshold_label", _label(panel.threshold_label, (left, panel.threshold), family, colour=THRESHOLD_COLOUR))
    add("values", Line2D(xs, ys, marker="o", markersize=2.5, linewidth=1.3, color=VALUE_COLOUR))
    last = max(x for x, y in zip(xs, ys, strict=True) if not math.isnan(y))
    latest = _label(panel.latest, (last, ys[last]), family, colour=VALUE_COLOUR)
    latest.set_horizontalalignment("right" if last > len(xs) / 2 else "left")
    add("latest", latest)
    small: dict[str, Any] = {"fontsize": 6, "fontfamily": family, "color": MUTED, "transform": to_cell}
    figure.text(
        PLOT.x0, 0.97, panel.title, va="top", fontsize=8, fontfamily=family, transform=to_cell, gid=gid + "title"
    )
    # below the title's lines (two for a bilingual team's KPI name)
    subtitle_top = 0.82 - 0.085 * panel.title.count("\n")
    figure.text(PLOT.x0, subtitle_top, panel.subtitle, va="top", gid=gid + "subtitle", **small)
    figure.text(PLOT.x0, 0.03, panel.labels[0], va="bottom", gid=gid + "first", **small)
    figure.text(PLOT.x1, 0.03, panel.labels[-1], va="bottom", ha="right", gid=gid + "last", **small)


def _label(text: str, at: tuple[float, float], family: list[str], *, colour: str) -> Text:
    """A line's label, just above its left end (or above the latest point)."""
    return Text(*at, text, fontsize=6, fontfamily=family, color=colour, va="bottom")


def render_trend(spec: TrendSpec) -> bytes | None:
    """The PNG of ``spec``; None when no KPI has data (the message then carries no chart)."""
    if not spec.panels:
        return None
    return _png(trend_figure(spec))


def score_bars(*, title: str, teams: list[str], scores: list[float], cjk: bool = False) -> bytes:
    """The PNG of ``score_figure``."""
    return _png(score_figure(title=title, teams=teams, scores=scores, cjk=cjk))


def score_figure(*, title: str, teams: list[str], scores: list[float], cjk: bool = False) -> Figure:
    """Horizontal bars of the weighted scores (0-100), in the given order from the top (best first)."""
    family = font_families(cjk)
    width = 7.0
    figure = Figure(figsize=(width, 0.4 * len(teams) + 1.0), dpi=DPI)
    axes = figure.add_subplot()
    positions = list(range(len(teams)))[::-1]
    axes.barh(positions, scores, color=VALUE_COLOUR, gid="scores")
    axes.set_yticks(positions, teams, fontsize=8, fontfamily=family)
    axes.set_xlim(0, 105)
    axes.tick_params(axis="x", labelsize=7)
    axes.set_title(title, fontfamily=family, fontsize=10, loc="left")
    for position, score in zip(positions, scores, strict=True):
        axes.text(score + 1, position, f"{score:.1f}", va="center", fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    # room for the longest name at 8 pt: about 0.06 in a Latin character, 0.11 in a Chinese one
    names = max((sum(0.11 if ord(char) >= 0x2E80 else 0.06 for char in team) for team in teams), default=1)
    left = min(0.5, (names + 0.15) / width)
    figure.subplots_adjust(left=left, right=0.97, top=1 - 0.45 / (0.4 * len(teams) + 1.0), bottom=0.12)
    return figure


def _png(figure: Figure) -> bytes:
    canvas = TextCachingCanvas(figure)  # labels rasterised once per process (see bot.chart_canvas)
    canvas.draw()
    # A palette of 64 colours (the chart has a handful, plus the anti-aliased edges between them; the
    # result cannot be told from full colour at 100 dpi) at a fast zlib level: a third of the bytes to
    # compress and to upload of an RGB PNG, and about a quarter less encoding time
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(physical=True), canvas.buffer_rgba())
    image = rgba.convert("RGB").quantize(colors=PALETTE, method=Image.Quantize.FASTOCTREE)
    buffer = BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()
