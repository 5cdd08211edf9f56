"""An Agg canvas whose text is rasterised once per process, not on every draw.

Matplotlib 3.11's Agg renders every glyph of every label anew on each draw (about 1 ms for a short
label in the CJK font), which was most of a trend chart's time. The charts of 500 teams repeat the
same labels (KPI names, directions, period labels, targets), so the canvas keeps each label's bitmap,
keyed by its text, font and size, and blits it. Labels are placed on whole pixels instead of
sub-pixels, which a 100 dpi chart cannot show anyway.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontProperties, fontManager, get_font

#: Distinct labels kept per process (a few hundred bytes to a few kB each).
CACHED_LABELS = 20_000


class TextCachingRenderer(RendererAgg):
    def draw_text(
        self,
        gc: Any,
        x: float,
        y: float,
        s: str,
        prop: FontProperties,
        angle: float,
        ismath: Any = False,
        mtext: Any = None,
    ) -> None:
        if ismath or angle:  # neither occurs in our charts; matplotlib draws them as usual
            super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            return
        image, left, bottom = _label_bitmap(s, prop.copy(), self.dpi, gc.get_antialiased())
        if image.size:
            # draw_text_image takes the bitmap's left and its bottom, y counted downwards
            self._renderer.draw_text_image(image, round(x + left), round(y + bottom), 0, gc)

    def get_text_width_height_descent(self, s: str, prop: FontProperties, ismath: Any) -> tuple[float, float, float]:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        return _label_extent(s, prop.copy(), self.dpi)

    def _get_font_height_metrics(self, prop: FontProperties) -> tuple[float, float, float]:
        # matplotlib's Text asks its renderer for these when it can (else reads the font's tables on every
        # layout, a third of a label's cost); same figures, computed once per font and size
        return _font_height_metrics(prop.copy(), self.dpi)


class TextCachingCanvas(FigureCanvasAgg):
    """``FigureCanvasAgg`` drawing with ``TextCachingRenderer``: ``TextCachingCanvas(figure)`` before
    ``figure.savefig``."""

    def get_renderer(self) -> RendererAgg:
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key:
            self.renderer = TextCachingRenderer(width, height, self.figure.dpi)
            self._lastKey = key  # type: ignore[assignment]
        return self.renderer


@lru_cache(maxsize=256)
def _font_height_metrics(prop: FontProperties, dpi: float) -> tuple[float, float, float]:
    """Ascent, descent and line gap of the font in pixels, from its OS/2 (else hhea) table, as
    ``matplotlib.text.Text._get_layout`` reads them."""
    font: Any = get_font(fontManager._find_fonts_by_props(prop))  # its tables as plain dicts
    scale = prop.get_size_in_points() * dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
    for table_name, gap, ascent, descent in (
        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
        ("hhea", "lineGap", "ascent", "descent"),
    ):
        table = font.get_sfnt_table(table_name)
        if table is not None:
            return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
    width, height, depth = _label_extent("lp", prop, dpi)
    return height - depth, depth, 0


@lru_cache(maxsize=CACHED_LABELS)
def _label_extent(text: str, prop: FontProperties, dpi: float) -> tuple[float, float, float]:
    """Width, height and descent of the label in pixels, as ``RendererAgg`` measures them."""
    font = _font(prop, dpi)
    font.set_text(text, 0, flags=get_hinting_flag())
    width, height = font.get_width_height()
    return width / 64, height / 64, font.get_descent() / 64


@lru_cache(maxsize=CACHED_LABELS)
def _label_bitmap(text: str, prop: FontProperties, dpi: float, antialiased: bool) -> tuple[Any, float, float]:
    """The label's grey bitmap, and its left and bottom offsets from the text's origin (the baseline's
    start, y downwards)."""
    font = _font(prop, dpi)
    font.set_text(text, 0, flags=get_hinting_flag())
    font.draw_glyphs_to_bitmap(antialiased=antialiased)
    left, top = (offset / 64 for offset in font.get_bitmap_offset())
    image = np.array(font.get_image(), dtype=np.uint8)  # a copy: the font's buffer is reused
    descent = font.get_descent() / 64
    return image, left, math.floor(top + descent) + 1


def _font(prop: FontProperties, dpi: float) -> Any:
    """The font of ``prop`` (its family list, with per-glyph fallbacks) cleared and sized, as
    ``RendererAgg._prepare_font`` gives it."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    font.clear()
    font.set_size(prop.get_size_in_points(), dpi)
    return font
