"""Digest and scorecard templates: 'no data' is never shown as 0, and each language gets its own names."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from bot.render import Renderer, format_value, message_parts
from bot.resources import TEMPLATES_DIR
from kpi_core.config import Config, Language
from kpi_core.kpis import KpiResult, TeamReport, status_of
from kpi_core.periods import Period
from kpi_core.reporting import report_of
from kpi_core.scorecard import score_teams
from tests import slack_limits

WEEK = Period.parse("2026-W39")
QUARTER = Period.parse("2026-Q3")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def renderer(example_config: Config) -> Renderer:
    return Renderer(templates_dir=TEMPLATES_DIR, config=example_config)


def team_report(
    config: Config,
    team: str,
    period: Period,
    values: dict[str, float | None] | None = None,
    details: dict[str, dict[str, float]] | None = None,
) -> TeamReport:
    """Every KPI without data, except those in ``values``."""
    values = values or {}
    results = {}
    for kpi in config.kpis:
        value = values.get(kpi.key)
        target = kpi.target_for(team, period.kind)
        threshold = kpi.alert_threshold_for(team)
        results[kpi.key] = KpiResult(
            key=kpi.key,
            value=value,
            n=0 if value is None else 3,
            target=target,
            threshold=threshold,
            status=status_of(kpi, value, target=target, threshold=threshold),
            details=(details or {}).get(kpi.key, {}),
        )
    return TeamReport(team=team, period=period, results=results)


def digest(
    renderer: Renderer,
    config: Config,
    team: str,
    values: dict[str, float | None] | None = None,
    previous: dict[str, float | None] | None = None,
    **kwargs: dict[str, dict[str, float]],
) -> str:
    current = report_of(team_report(config, team, WEEK, values, **kwargs), {})
    before = report_of(team_report(config, team, WEEK.previous(), previous), {})
    return renderer.digest(team=config.team(team), report=current, previous=before)


def kpi_line(text: str, name: str) -> str:
    [line] = [line for line in text.splitlines() if f" {name}: " in line]
    return line


@pytest.mark.parametrize(
    ("team", "name", "no_data", "last_week"),
    [
        pytest.param("berlin_ops", "On-time delivery rate", "no data", "last week", id="en"),
        pytest.param("beijing_service", "准时交付率", "无数据", "上周", id="zh"),
        pytest.param(
            "shanghai_ops",
            "On-time delivery rate / 准时交付率",
            "no data / 无数据",
            "last week / 上周",
            id="both",
        ),
    ],
)
def test_kpi_without_data_renders_no_data_not_zero(
    renderer: Renderer, example_config: Config, team: str, name: str, no_data: str, last_week: str
) -> None:
    text = digest(renderer, example_config, team)
    line = kpi_line(text, name)
    assert line.startswith(f"▫️ {name}: *{no_data}* ({last_week} {no_data}, ")
    assert line.endswith("=0")
    assert "0.0 %" not in line.split("(")[0]
    assert text.count(f"*{no_data}*") == 19


def test_zero_is_a_value_and_none_is_no_data(renderer: Renderer, example_config: Config) -> None:
    text = digest(
        renderer,
        example_config,
        "berlin_ops",
        values={"complaint_rate": 0.0, "schedule_slip": 0.0},
        previous={"complaint_rate": 1.5},
    )
    assert kpi_line(text, "Complaint rate").startswith("✅ Complaint rate: *0.0 %* (last week 1.5 %, target ≤ 2.0 %)")
    assert kpi_line(text, "Schedule slip").startswith("✅ Schedule slip: *0.0 days* (last week no data, ")
    assert kpi_line(text, "On-time delivery rate").startswith("▫️ On-time delivery rate: *no data*")


@pytest.mark.parametrize(
    ("team", "language"),
    [
        pytest.param("berlin_ops", "en", id="en"),
        pytest.param("beijing_service", "zh", id="zh"),
        pytest.param("shanghai_ops", "both", id="both"),
    ],
)
def test_digest_uses_the_teams_language(
    renderer: Renderer, example_config: Config, team: str, language: Language
) -> None:
    text = digest(renderer, example_config, team, values={"csat": 4.5})
    names = {kpi.key: kpi.name for kpi in example_config.kpis}
    if language == "en":
        assert text.startswith("*Weekly KPI digest · Berlin Operations · 2026-W39* (2026-09-21 – 2026-09-27)")
        assert "*Service and delivery*" in text
        assert not CJK.search(text)
        for name in names.values():
            assert f" {name.en}: " in text
    elif language == "zh":
        assert text.startswith("*每周KPI摘要 · 北京客户服务部 · 2026-W39* (2026-09-21 – 2026-09-27)")
        assert "*服务与交付*" in text
        for name in names.values():
            assert f" {name.zh}: " in text
            assert name.en not in text
        assert "Weekly" not in text and "target" not in text and "last week" not in text
    else:
        assert text.startswith(
            "*Weekly KPI digest / 每周KPI摘要 · Shanghai Operations / 上海运营中心 · 2026-W39* "
            "(2026-09-21 – 2026-09-27)"
        )
        assert "*Service and delivery / 服务与交付*" in text
        for name in names.values():
            assert f" {name.en} / {name.zh}: " in text
    assert len([line for line in text.splitlines() if line and line[0] in "▫✅⚠🔴•"]) == 19
    assert "4.50/5" in kpi_line(text, names["csat"].in_language(language))


def test_goal_band_target_and_open_cases(renderer: Renderer, example_config: Config) -> None:
    text = digest(
        renderer,
        example_config,
        "beijing_service",
        values={"response_time": 3.2},
        details={"response_time": {"open_cases": 2}},
    )
    assert kpi_line(text, "资产负债率").startswith("▫️ 资产负债率: *无数据* (上周 无数据, 区间 30.0 % – 60.0 %)")
    assert (
        kpi_line(text, "售后服务响应时间")
        == "✅ 售后服务响应时间: *3.2 小时* (上周 无数据, 目标 ≤ 4.0 小时) · 样本=3 · 未处理 2"
    )

    current = report_of(team_report(example_config, "berlin_ops", WEEK), {})
    current = replace(current, kpis={**current.kpis, "roi": replace(current.kpis["roi"], target=None)})
    previous = report_of(team_report(example_config, "berlin_ops", WEEK.previous()), {})
    text = renderer.digest(team=example_config.team("berlin_ops"), report=current, previous=previous)
    assert "Return on investment: *no data* (last week no data, target –)" in text


def test_report_title_and_previous_period_word(renderer: Renderer, example_config: Config) -> None:
    current = report_of(team_report(example_config, "berlin_ops", QUARTER), {})
    before = report_of(team_report(example_config, "berlin_ops", QUARTER.previous()), {})
    text = renderer.digest(team=example_config.team("berlin_ops"), report=current, previous=before, title="report")
    assert text.startswith("*KPI report · Berlin Operations · 2026-Q3* (2026-07-01 – 2026-09-30)")
    assert "(last quarter no data, " in text


@pytest.mark.parametrize(
    ("language", "header", "no_data_line"),
    [
        pytest.param(
            "en",
            "*Quarterly operations scorecard · 2026-Q3* (2 teams)",
            "    Customer satisfaction (20 %): no data → 0.0",
            id="en",
        ),
        pytest.param("zh", "*季度绩效考核 · 2026-Q3* (2 个团队)", "    客户满意度 (20 %): 无数据 → 0.0", id="zh"),
        pytest.param(
            "both",
            "*Quarterly operations scorecard / 季度绩效考核 · 2026-Q3* (2 teams / 个团队)",
            "    Customer satisfaction / 客户满意度 (20 %): no data / 无数据 → 0.0",
            id="both",
        ),
    ],
)
def test_scorecard_ranks_and_no_data(
    renderer: Renderer, example_config: Config, language: Language, header: str, no_data_line: str
) -> None:
    full: dict[str, float | None] = {
        "sales": 3_000_000,
        "csat": 4.2,
        "response_time": 3.0,
        "budget_variance": 0.0,
        "milestone_on_time": 95.0,
    }
    reports = {
        "berlin_ops": team_report(example_config, "berlin_ops", QUARTER, full),
        "newyork_delivery": team_report(example_config, "newyork_delivery", QUARTER, {**full, "csat": None}),
    }
    ranking = score_teams(example_config, "quarterly", reports)
    text = renderer.scorecard(scheme_key="quarterly", period="2026-Q3", ranking=ranking, language=language)
    lines = text.splitlines()
    assert lines[0] == header
    assert re.match(r"1\. \*(Berlin Operations|柏林运营部)[^*]*\*: 100\.0 / 100$", lines[1])
    assert re.match(r"2\. \*(New York Delivery|纽约交付部)[^*]*\*: 80\.0 / 100$", lines[7])
    assert lines[9] == no_data_line


@pytest.mark.parametrize(
    ("number", "unit", "text"),
    [
        (None, "%", "–"),
        (0.0, "%", "0.0 %"),
        (-5.04, "%", "-5.0 %"),
        (1_234_567.8, "CNY", "1,234,568 CNY"),
        (3.456, "h", "3.5 h"),
        (2.0, "days", "2.0 days"),
        (4.123, "/5", "4.12/5"),
        (2.5, "×", "2.50×"),
        (12.345, "orders", "12.35 orders"),
    ],
)
def test_format_value(number: float | None, unit: str, text: str) -> None:
    assert format_value(number, unit, no_data="–") == text


def _section_lines(parts: list[list[dict[str, Any]]]) -> list[str]:
    return [
        line
        for blocks in parts
        for block in blocks
        if block["type"] == "section"
        for line in block["text"]["text"].splitlines()
    ]


def test_a_long_text_becomes_numbered_parts_that_slack_accepts_cut_only_between_lines():
    lines = [f"line {number:05d} " + "x" * 90 for number in range(2000)]
    parts = message_parts("\n".join(lines))
    assert len(parts) == 18
    for blocks in parts:
        assert slack_limits.message_violations({"text": "t", "blocks": blocks}, method="chat.postMessage") == []
    assert _section_lines(parts) == lines  # every line, whole and in order
    assert parts[0][-1]["elements"][0]["text"] == "(1/18)"  # the first part ends with its mark
    assert [blocks[0]["elements"][0]["text"] for blocks in parts[1:]] == [f"({n}/18)" for n in range(2, 19)]
    assert message_parts("\n".join(lines[:20])) == [
        [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines[:20])}}]
    ]


def test_parts_break_at_a_blank_line_or_before_an_entry_never_between_an_entry_and_its_indented_lines():
    entries = [[f"{n}. *Team {n}*: " + "y" * 60, *(f"    KPI {k}: " + "z" * 60 for k in range(5))] for n in range(100)]
    parts = message_parts("\n".join(line for entry in entries for line in entry))
    assert len(parts) > 1
    for blocks in parts:
        sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
        assert sections[0][:1].isdigit()  # each part starts with a team, its KPI lines follow it
    above, below = ["a" * 99] * 80, ["b" * 99] * 40  # 8,000 and 4,000 characters: together too long
    first, second = message_parts("\n".join(["*Title*", *above, "", *below]))
    assert _section_lines([first]) == ["*Title*", *above] and _section_lines([second]) == below


def test_an_answer_limited_to_five_parts_counts_the_lines_left_out():
    lines = [f"line {number:05d} " + "x" * 90 for number in range(2000)]
    parts = message_parts("\n".join(lines), max_parts=5)
    assert len(parts) == 5
    shown = _section_lines(parts)
    assert shown == lines[: len(shown)]
    assert parts[-1][-1]["elements"][0]["text"].startswith(f"… {len(lines) - len(shown)} more lines")
