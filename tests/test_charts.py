"""The trend charts' content, read from the matplotlib Figure (not pixels): one panel per KPI in its own
unit and cadence, with target, band and threshold lines, gaps left as gaps, Chinese drawn without a
missing glyph."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from bot.chart_canvas import TextCachingCanvas
from bot.charts import (
    LATIN_FAMILY,
    Panel,
    TrendSpec,
    font_families,
    missing_glyphs,
    panel_artists,
    render_trend,
    score_figure,
    trend_figure,
)
from bot.digests import monthly_digests, weekly_digests
from bot.render import Renderer
from bot.resources import TEMPLATES_DIR
from bot.services import Services
from bot.trends import alert_trend_spec, kpi_panel, window
from kpi_core.config import Config
from kpi_core.kpis import KpiResult
from kpi_core.models import Alert
from kpi_core.periods import Period, PeriodKind
from tests.factories import add, at, measures

COMPLAINTS = Panel(
    title="投诉率",
    subtitle="% · ↓ 越低越好",
    labels=("2026-W27", "2026-W28", "2026-W29", "2026-W30"),
    values=(0.0, None, 0.52, 0.0),
    latest="0.0 %",
    target=2,
    target_label="目标 2.0 %",
    threshold=3,
    threshold_label="告警线 3.0 %",
)


def ydata(artist: Any) -> list[float]:
    return [float(y) for y in artist.get_ydata()]


def test_a_panel_plots_the_values_in_their_own_unit_with_gaps_and_the_target_and_threshold():
    figure = trend_figure(TrendSpec(title="Shanghai", panels=(COMPLAINTS,), cjk=True))
    panel = panel_artists(figure, 0)
    values = ydata(panel["values"])
    # a zero-complaint week plots at 0 (the best), not at "100 % of target"; the missing week stays a gap
    assert values[0] == 0.0 and values[2] == 0.52 and values[3] == 0.0
    assert math.isnan(values[1])
    assert list(panel["values"].get_xdata()) == [0, 1, 2, 3]
    assert ydata(panel["target"]) == [2, 2]
    assert ydata(panel["threshold"]) == [3, 3]
    assert "band" not in panel
    texts = {role: artist.get_text() for role, artist in panel.items() if isinstance(artist, Text)}
    assert texts == {
        "title": "投诉率",
        "subtitle": "% · ↓ 越低越好",
        "first": "2026-W27",
        "last": "2026-W30",
        "target_label": "目标 2.0 %",
        "threshold_label": "告警线 3.0 %",
        "latest": "0.0 %",
    }
    assert panel["title"].get_fontfamily()[0] == font_families(cjk=True)[0] != LATIN_FAMILY
    # the latest value is written at the last period with data
    assert panel["latest"].get_position() == (3, 0.0)


def test_each_panel_keeps_its_own_data_and_scale():
    weekly = Panel(title="On time", subtitle="%", labels=("a", "b", "c"), values=(96, 97.5, None), latest="97.5 %")
    monthly = Panel(title="Cost", subtitle="CNY", labels=("2026-07", "2026-08"), values=(120_000, 90_000), latest="90k")
    figure = trend_figure(TrendSpec(title="t", panels=(weekly, monthly, COMPLAINTS), cjk=True))
    assert ydata(panel_artists(figure, 0)["values"])[:2] == [96, 97.5]
    assert math.isnan(ydata(panel_artists(figure, 0)["values"])[2])
    assert ydata(panel_artists(figure, 1)["values"]) == [120_000, 90_000]
    assert panel_artists(figure, 1)["last"].get_text() == "2026-08"
    assert "target" not in panel_artists(figure, 0)
    assert ydata(panel_artists(figure, 2)["target"]) == [2, 2]


def test_a_band_kpi_shades_its_band():
    band = Panel(title="Debt", subtitle="%", labels=("a", "b"), values=(40, 65), latest="65 %", band=(30, 60))
    shade = panel_artists(trend_figure(TrendSpec(title="t", panels=(band, COMPLAINTS), cjk=False)), 0)["band"]
    assert isinstance(shade, Rectangle)
    assert (shade.get_y(), shade.get_y() + shade.get_height()) == (30, 60)


def test_chinese_labels_have_every_glyph_and_the_latin_font_would_miss_them():
    spec = TrendSpec(title="上海运营中心：截至 2026-W38 的KPI", panels=(COMPLAINTS,), cjk=True)
    assert missing_glyphs(trend_figure(spec)) == set()
    png = render_trend(spec)
    assert png is not None and png.startswith(b"\x89PNG")
    # the check can fail: the same labels in matplotlib's own font lose their glyphs
    latin = trend_figure(TrendSpec(title=spec.title, panels=spec.panels, cjk=False))
    assert {"上", "投", "越"} <= missing_glyphs(latin)


def test_no_panel_no_chart():
    assert render_trend(TrendSpec(title="t", panels=(), cjk=False)) is None


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
    assert panel.title == {"en": "Complaint rate", "zh": "客户投诉率", "both": "Complaint rate\n客户投诉率"}[language]


# the digest's and the alert's charts, from stored data


@pytest.fixture
def services(example_config: Config, engine: sa.Engine) -> Services:
    renderer = Renderer(templates_dir=TEMPLATES_DIR, config=example_config)
    return Services(config=example_config, engine=engine, renderer=renderer, clock=lambda: at("2026-10-05 08:00"))


def digest_spec(services: Services, team: str) -> TrendSpec:
    [message] = weekly_digests(services, teams=[services.config.team(team)], period=Period.parse("2026-W39"))
    assert message.chart is not None
    spec = message.chart.render.args[0]  # type: ignore[attr-defined]  # partial(render_trend, spec)
    assert isinstance(spec, TrendSpec)
    return spec


def test_the_digest_chart_draws_each_kpi_at_its_own_cadence_with_gaps(services: Services):
    add(
        services.engine,
        # on-time delivery in W36 and W39, nothing in W37-W38 (weekly form)
        *measures("shanghai_ops", date(2026, 9, 2), orders=100, on_time_orders=90),
        *measures("shanghai_ops", date(2026, 9, 23), orders=200, on_time_orders=190),
        # production cost rate in July and August (monthly form), nothing in June
        *measures("shanghai_ops", date(2026, 7, 31), production_cost=60, production_value=100),
        *measures("shanghai_ops", date(2026, 8, 31), production_cost=75, production_value=100),
    )
    spec = digest_spec(services, "shanghai_ops")
    # the weekly digest charts the weekly KPIs with data; the monthly cost KPI is not spread over weeks
    [weekly] = spec.panels
    assert weekly.title == "On-time delivery rate\n准时交付率"
    assert weekly.labels[-4:] == ("2026-W36", "2026-W37", "2026-W38", "2026-W39")
    assert weekly.values[-4:] == (90.0, None, None, 95.0)  # the missing weeks stay gaps
    assert (weekly.target, weekly.threshold) == (95.0, 90.0)
    assert "↑ higher is better" in weekly.subtitle
    assert ydata(panel_artists(trend_figure(spec), 0)["values"])[-1] == 95.0

    # the monthly digest charts the monthly KPIs at their own cadence: a month's value once, at its month
    [message] = monthly_digests(services, teams=[services.config.team("shanghai_ops")], period=Period.parse("2026-08"))
    assert message.chart is not None
    coarser = message.chart.render.args[0]  # type: ignore[attr-defined]  # partial(render_trend, spec)
    [monthly] = coarser.panels
    assert monthly.title == "Production cost rate\n生产成本率"
    assert monthly.labels == ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08")
    assert monthly.values == (None, None, None, None, 60.0, 75.0)
    assert (monthly.target, monthly.threshold) == (70.0, 80.0)
    assert "↓ lower is better" in monthly.subtitle
    assert ydata(panel_artists(trend_figure(coarser), 0)["values"])[-2:] == [60.0, 75.0]


def test_a_chinese_team_gets_its_chart_in_chinese_without_missing_glyphs(services: Services):
    add(services.engine, *measures("beijing_service", date(2026, 9, 23), orders=100, on_time_orders=85))
    spec = digest_spec(services, "beijing_service")
    assert spec.cjk and spec.title == "北京客户服务部：截至 2026-W39 的KPI"
    [panel] = [panel for panel in spec.panels if panel.title == "准时交付率"]
    assert panel.subtitle == "% · ↑ 越高越好" and panel.target_label == "目标 95.0 %"
    assert missing_glyphs(trend_figure(spec)) == set()


def test_an_alert_chart_shows_the_kpi_up_to_the_alerted_period_with_its_threshold(services: Services):
    add(
        services.engine,
        *measures("shanghai_ops", date(2026, 9, 16), orders=100, on_time_orders=96),
        *measures("shanghai_ops", date(2026, 9, 23), orders=100, on_time_orders=85),
    )
    alert = Alert(team="shanghai_ops", kpi="on_time_delivery", value=85, threshold=90, opened_at=at("2026-09-24 02:00"))
    [panel] = alert_trend_spec(services, alert).panels
    assert panel.labels[-1] == "2026-W39" and len(panel.labels) == 12
    assert panel.values[-3:] == (None, 96.0, 85.0)
    assert panel.threshold == 90 and panel.threshold_label == "告警线 90.0 %"


def test_the_scorecard_bars_are_the_scores_best_on_top_with_chinese_names():
    teams = ["New York Delivery / 纽约交付部", "Berlin Operations / 柏林运营部", "Shanghai Operations / 上海运营中心"]
    figure = score_figure(
        title="Quarterly scorecard / 季度计分卡 2026-Q3", teams=teams, scores=[99.2, 96.9, 87.8], cjk=True
    )
    [axes] = figure.axes
    bars = sorted(axes.patches, key=lambda bar: -bar.get_y())  # type: ignore[attr-defined]
    assert [bar.get_width() for bar in bars] == [99.2, 96.9, 87.8]  # type: ignore[attr-defined]
    assert [label.get_text() for label in axes.get_yticklabels()] == teams  # at the bars, top down
    assert missing_glyphs(figure) == set()


def test_cached_labels_land_where_matplotlib_draws_them():
    """bot.chart_canvas blits each label's bitmap instead of matplotlib's glyph-by-glyph drawing: the ink
    must cover the same place (within a pixel: whole-pixel placement), in every alignment."""

    def draw(canvas_class: type[FigureCanvasAgg]) -> np.ndarray:
        figure = Figure(figsize=(4, 2), dpi=100)
        cjk = font_families(cjk=True)
        figure.text(0.05, 0.75, "目标 95.0 % gjpq", fontsize=8, fontfamily=cjk, va="bottom")
        figure.text(0.95, 0.45, "2026-W39", fontsize=6, fontfamily=cjk, ha="right", va="top")
        figure.text(0.5, 0.15, "Wyg latest", fontsize=10, fontfamily=font_families(cjk=False), ha="center")
        canvas = canvas_class(figure)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., 0] < 200  # ink

    ours, theirs = draw(TextCachingCanvas), draw(FigureCanvasAgg)
    for band in (slice(0, 70), slice(70, 140), slice(140, 200)):
        ink_ours, ink_theirs = np.nonzero(ours[band]), np.nonzero(theirs[band])
        assert ink_theirs[0].size > 0
        for axis in (0, 1):
            assert abs(int(ink_ours[axis].min()) - int(ink_theirs[axis].min())) <= 1
            assert abs(int(ink_ours[axis].max()) - int(ink_theirs[axis].max())) <= 1
