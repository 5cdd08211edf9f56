"""The trend charts' content, read from the matplotlib Figure (not pixels): one panel per KPI in its own
unit and cadence, with target, band and threshold lines, gaps left as gaps, Chinese drawn without a
missing glyph."""

from __future__ import annotations

import math
import warnings

import pytest
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from bot.charts import LATIN_FAMILY, Panel, TrendSpec, font_families, render_trend, trend_figure
from bot.render import Renderer
from bot.resources import TEMPLATES_DIR
from bot.trends import cadence, kpi_panel, window
from kpi_core.config import Config
from kpi_core.kpis import KpiResult
from kpi_core.periods import Period, PeriodKind

COMPLAINTS = Panel(
    title="投诉率",
    subtitle="% · ↓ 越低越好\n2026-W27 – 2026-W30",
    labels=("2026-W27", "2026-W28", "2026-W29", "2026-W30"),
    values=(0.0, None, 0.52, 0.0),
    latest="0.0 %",
    target=2,
    target_label="目标 2.0 %",
    threshold=3,
    threshold_label="告警线 3.0 %",
)


def line(axes: Axes, gid: str) -> list[float]:
    [found] = [artist for artist in axes.lines if artist.get_gid() == gid]
    return [float(y) for y in found.get_ydata()]  # type: ignore[union-attr]


def test_a_panel_plots_the_values_in_their_own_unit_with_gaps_and_the_target_and_threshold():
    figure = trend_figure(TrendSpec(title="Shanghai", panels=(COMPLAINTS,), cjk=True))
    [axes] = figure.axes
    values = line(axes, "values")
    # a zero-complaint week plots at 0 (the best), not at "100 % of target"; the missing week stays a gap
    assert values[0] == 0.0 and values[2] == 0.52 and values[3] == 0.0
    assert math.isnan(values[1])
    assert line(axes, "target") == [2, 2]
    assert line(axes, "threshold") == [3, 3]
    assert axes.get_title(loc="left") == "投诉率\n% · ↓ 越低越好\n2026-W27 – 2026-W30"
    texts = [text.get_text() for text in axes.texts]
    assert "目标 2.0 %" in texts and "告警线 3.0 %" in texts
    [title] = [text for text in axes.get_children() if isinstance(text, Text) and text.get_text().startswith("投诉率")]
    assert title.get_fontfamily()[0] == font_families(cjk=True)[0] != LATIN_FAMILY


def test_a_band_kpi_shades_its_band():
    band = Panel(title="Debt", subtitle="%", labels=("a", "b"), values=(40, 65), latest="65 %", band=(30, 60))
    [axes] = trend_figure(TrendSpec(title="t", panels=(band, COMPLAINTS), cjk=False)).axes[:1]
    [shade] = [patch for patch in axes.patches if patch.get_gid() == "band"]
    assert isinstance(shade, Rectangle)
    assert (shade.get_y(), shade.get_y() + shade.get_height()) == (30, 60)


def test_chinese_labels_have_every_glyph_and_the_latin_font_would_miss_them():
    spec = TrendSpec(title="上海运营中心：截至 2026-W38 的KPI", panels=(COMPLAINTS,), cjk=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_trend(spec)
    assert png is not None and png.startswith(b"\x89PNG")
    assert [str(warning.message) for warning in caught if "missing from font" in str(warning.message)] == []
    # the check can fail: the same labels in matplotlib's own font lose their glyphs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_trend(TrendSpec(title=spec.title, panels=spec.panels, cjk=False))
    assert any("missing from font" in str(warning.message) for warning in caught)


def test_no_panel_no_chart():
    assert render_trend(TrendSpec(title="t", panels=(), cjk=False)) is None


def test_each_kpi_has_the_cadence_of_the_forms_that_collect_its_measures(example_config: Config):
    kpis = example_config.kpi_by_key
    assert cadence(example_config, kpis["complaint_rate"]) is PeriodKind.WEEK
    assert cadence(example_config, kpis["production_cost_rate"]) is PeriodKind.MONTH
    assert cadence(example_config, kpis["debt_to_asset"]) is PeriodKind.QUARTER
    assert cadence(example_config, kpis["response_time"]) is PeriodKind.WEEK  # cases: no form period


def test_windows_end_with_the_last_complete_period():
    week = Period.parse("2026-W39")  # 2026-09-21 .. 2026-09-27
    assert [p.label for p in window(PeriodKind.WEEK, ending=week)][-2:] == ["2026-W38", "2026-W39"]
    months = window(PeriodKind.MONTH, ending=week)
    assert [p.label for p in months] == ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    assert window(PeriodKind.QUARTER, ending=week)[-1].label == "2026-Q2"


@pytest.mark.parametrize("language", ["en", "zh", "both"])
def test_a_kpi_panel_is_labelled_in_the_team_language_with_its_direction(example_config: Config, language):
    renderer = Renderer(templates_dir=TEMPLATES_DIR, config=example_config)
    kpi = example_config.kpi_by_key["complaint_rate"]
    team = example_config.teams[0].model_copy(update={"language": language})
    weeks = window(PeriodKind.WEEK, ending=Period.parse("2026-W39"))
    series = [
        (week, {kpi.key: KpiResult(kpi.key, None if index % 3 else 0.5, 1, 2.0, None, "met")})
        for index, week in enumerate(weeks)
    ]
    panel = kpi_panel(renderer, kpi=kpi, team=team, series=series)
    assert panel is not None
    assert panel.values[0] == 0.5 and panel.values[1] is None
    assert panel.target == 2.0
    direction = {"en": "lower is better", "zh": "越低越好", "both": "越低越好"}[language]
    assert direction in panel.subtitle
    assert panel.title == kpi.name.in_language(language)
