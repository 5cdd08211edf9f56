"""Digest, report and scorecard templates: 'no data' is never shown as 0, and each language gets its own
names."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from bot.digest_view import Section, digest_view
from bot.render import Renderer, blocks_text, format_value, message_parts
from bot.resources import TEMPLATES_DIR
from kpi_core.config import Config, Language
from kpi_core.kpis import KpiResult, TeamReport, status_of
from kpi_core.periods import Period, PeriodKind
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
) -> list[dict[str, Any]]:
    """The weekly digest's blocks over every KPI of the catalogue."""
    current = report_of(team_report(config, team, WEEK, values, **kwargs), {})
    before = report_of(team_report(config, team, WEEK.previous(), previous), {})
    view = digest_view(config, config.team(team), [Section(current, before, list(current.kpis))])
    return renderer.digest_blocks(view)


def kpi_fields(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """Each KPI field's text by the name it shows ("✅ *Sales*" on its first line)."""
    fields = [field["text"] for block in blocks for field in block.get("fields", [])]
    return {text.splitlines()[0].split(" ", 1)[1].strip("*"): text for text in fields}


def not_reported(blocks: list[dict[str, Any]]) -> str:
    """The one line that folds the KPIs without data."""
    [line] = [line for line in blocks_text(blocks).splitlines() if line.startswith("▫️ *") and "*: " in line]
    return line


@pytest.mark.parametrize(
    ("team", "folded", "names"),
    [
        pytest.param("berlin_ops", "Not reported this week", "en", id="en"),
        pytest.param("beijing_service", "本周未报告", "zh", id="zh"),
        pytest.param("shanghai_ops", "Not reported this week / 本周未报告", "both", id="both"),
    ],
)
def test_kpi_without_data_renders_no_data_not_zero(
    renderer: Renderer, example_config: Config, team: str, folded: str, names: Language
) -> None:
    blocks = digest(renderer, example_config, team)
    assert kpi_fields(blocks) == {}  # no KPI is shown with a value, not even 0
    line = not_reported(blocks)
    assert line.startswith(f"▫️ *{folded}*: ")
    assert [kpi.name.in_language(names) for kpi in example_config.kpis] == line.split("*: ", 1)[1].split(", ")
    assert "0.0" not in blocks_text(blocks)


def test_zero_is_a_value_and_none_is_no_data(renderer: Renderer, example_config: Config) -> None:
    blocks = digest(
        renderer,
        example_config,
        "berlin_ops",
        values={"complaint_rate": 0.0, "schedule_slip": 0.0},
        previous={"complaint_rate": 1.5},
    )
    fields = kpi_fields(blocks)
    assert fields["Complaint rate"] == "✅ *Complaint rate*\n*0.0 %* · target ≤ 2.0 %\nlast week 1.5 %"
    assert fields["Schedule slip"].startswith("✅ *Schedule slip*\n*0.0 days* · target ≤ ")
    assert fields["Schedule slip"].splitlines()[2].startswith("last week no data")
    assert "On-time delivery rate" not in fields and "On-time delivery rate" in not_reported(blocks)


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
    blocks = digest(renderer, example_config, team, values={"csat": 4.5, "on_time_delivery": 96.0})
    text = blocks_text(blocks)
    names = {kpi.key: kpi.name for kpi in example_config.kpis}
    if language == "en":
        assert text.startswith("Weekly KPI digest · Berlin Operations · 2026-W39\n2026-09-21 – 2026-09-27\n")
        assert "*Service and delivery*" in text
        assert not CJK.search(text)
    elif language == "zh":
        assert text.startswith("每周KPI摘要 · 北京客户服务部 · 2026-W39\n2026-09-21 – 2026-09-27\n")
        assert "*服务与交付*" in text
        for name in names.values():
            assert name.en not in text
        assert "Weekly" not in text and "target" not in text and "last week" not in text
    else:
        assert text.startswith(
            "Weekly KPI digest / 每周KPI摘要 · Shanghai Operations / 上海运营中心 · 2026-W39\n2026-09-21 – 2026-09-27\n"
        )
        assert "*Service and delivery / 服务与交付*" in text
    shown = [*kpi_fields(blocks), *not_reported(blocks).split("*: ", 1)[1].split(", ")]
    assert sorted(shown) == sorted(name.in_language(language) for name in names.values())  # each KPI once
    assert "*4.50/5*" in kpi_fields(blocks)[names["csat"].in_language(language)]


def test_goal_band_target_and_open_cases(renderer: Renderer, example_config: Config) -> None:
    blocks = digest(
        renderer,
        example_config,
        "beijing_service",
        values={"response_time": 3.2, "debt_to_asset": 45.0},
        details={"response_time": {"open_cases": 2}},
    )
    fields = kpi_fields(blocks)
    assert fields["资产负债率"].splitlines()[1] == "*45.0 %* · 区间 30.0 % – 60.0 %"
    response = fields["售后服务响应时间"].splitlines()
    assert response[:2] == ["✅ *售后服务响应时间*", "*3.2 小时* · 目标 ≤ 4.0 小时"]
    assert response[2] == "上周 无数据 · 3 个案例 · 2 仍未处理"

    current = report_of(team_report(example_config, "berlin_ops", WEEK, {"roi": 12.0}), {})
    current = replace(current, kpis={**current.kpis, "roi": replace(current.kpis["roi"], target=None)})
    previous = report_of(team_report(example_config, "berlin_ops", WEEK.previous()), {})
    blocks = renderer.report_blocks(team=example_config.team("berlin_ops"), report=current, previous=previous)
    assert kpi_fields(blocks)["Return on investment"].splitlines()[1:] == ["*12.0 %* · target –", "last week no data"]


def test_report_title_and_previous_period_word(renderer: Renderer, example_config: Config) -> None:
    current = report_of(team_report(example_config, "berlin_ops", QUARTER, {"sales": 2_000_000}), {})
    before = report_of(team_report(example_config, "berlin_ops", QUARTER.previous()), {})
    blocks = renderer.report_blocks(team=example_config.team("berlin_ops"), report=current, previous=before)
    assert blocks_text(blocks).startswith("KPI report · Berlin Operations · 2026-Q3\n2026-07-01 – 2026-09-30\n")
    assert kpi_fields(blocks)["Sales"].splitlines()[2] == "last quarter no data"
    assert not_reported(blocks).startswith("▫️ *Not reported this quarter*: On-time delivery rate, ")
    assert slack_limits.message_violations({"text": "t", "blocks": blocks}, method="chat.postMessage") == []


@pytest.mark.parametrize("kind", list(PeriodKind))
@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_report_of_any_period_kind_has_its_words(renderer: Renderer, kind: PeriodKind, language: Language) -> None:
    """A report may ask for any kind of period: its folded line and previous-period word exist in both
    languages (a missing string would show its raw key)."""
    for key in ("report", f"not_reported_{kind.value}", f"last_{kind.value}"):
        assert renderer.text(key, language) != key


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
