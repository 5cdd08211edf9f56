"""The "Year to date vs plan" part of reports and monthly digests: through the real Bolt app for
``/kpi report``, through the digest job's builder for the monthly digest; in the team's language, escaped,
within Slack's limits (checked by tests/slack_limits.py), on both backends where data is read."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.digests import monthly_digests, weekly_digests
from bot.mrkdwn import unescape
from bot.render import blocks_text
from bot.settings import Settings
from bot.wiring import build_services
from kpi_core.config import Config, parse_config
from kpi_core.periods import Period
from tests import factories, slack_limits
from tests.bot_harness import LEAD_BEIJING, NOW, Bot, running_bot
from tests.conftest import EXAMPLE_CONFIG
from tests.fake_slack import FakeSlack
from tests.mrkdwn import HOSTILE, as_slack_shows, mrkdwn_problems

LEAD_BERLIN = "U0LEADBE"


def _report(bot: Bot, text: str, *, user_id: str) -> str:
    assert bot.command(text, user_id=user_id, name="report") == (200, "")
    (call,) = bot.fake.wait_for("response")
    return unescape(blocks_text(call.params["blocks"]))


def _berlin_sales(engine: Any) -> None:
    """400,000 in July and 500,000 in August 2026: 900,000 in the 62 days of the two months."""
    factories.add(
        engine,
        *factories.measures("berlin_ops", date(2026, 7, 10), sales=400_000),
        *factories.measures("berlin_ops", date(2026, 8, 14), sales=500_000),
    )


def _money(value: float) -> str:
    return f"{value:,.0f} CNY"


def test_a_month_report_shows_the_year_to_date_and_the_run_rate_projection(bot: Bot) -> None:
    _berlin_sales(bot.engine)
    text = _report(bot, "report berlin_ops 2026-08", user_id=LEAD_BERLIN)
    # the part sits before the digest's legend, once
    assert text.count("*Year to date vs plan · to 2026-08*") == 1
    assert text.index("Year to date vs plan") < text.index("✅ on target")
    # Berlin has no annual plan: the KPI's own targets, 780,000 a month and 2,300,000 a quarter (9,200,000 a year)
    ytd_plan, quarter_plan, year_plan = 2 * 780_000, 2_300_000, 4 * 2_300_000
    # Q3: July and August as they are, September's 30 days at 900,000 / 62 a day; the year: 303 more days
    quarter, year = 900_000 + 900_000 / 62 * 30, 900_000 + 900_000 / 62 * 303
    line = next(line for line in text.splitlines() if "*Sales*: YTD" in line)
    assert line.endswith(
        f"*Sales*: YTD 900,000 CNY / {_money(ytd_plan)} · 2026-Q3 → {_money(quarter)} / {_money(quarter_plan)}"
        f" · 2026 → {_money(year)} / {_money(year_plan)}"
    )
    assert "Projection: run rate (the year to date's pace continued)" in text
    assert "🟡 at risk (short of plan by at most 5 %)" in text


def test_a_quarter_report_runs_to_its_last_complete_month(bot: Bot) -> None:
    _berlin_sales(bot.engine)
    # the harness clock is 2026-09-30: September is not complete, the year to date runs to August
    text = _report(bot, "report berlin_ops 2026-Q3", user_id=LEAD_BERLIN)
    assert "*Year to date vs plan · to 2026-08*" in text and "YTD 900,000 CNY" in text


def test_a_week_report_has_no_year_to_date(bot: Bot) -> None:
    _berlin_sales(bot.engine)
    text = _report(bot, "report berlin_ops 2026-W39", user_id=LEAD_BERLIN)
    assert "Year to date" not in text


def test_a_chinese_team_reads_the_part_in_chinese(bot: Bot) -> None:
    factories.add(bot.engine, *factories.measures("beijing_service", date(2026, 8, 3), sales=1_000_000))
    text = _report(bot, "report beijing_service 2026-08", user_id=LEAD_BEIJING)
    assert "*年初至今对比计划 · 截至2026-08*" in text
    assert "*销售额*: 年累计 1,000,000 CNY" in text
    assert "预测方法：按年初至今进度推算" in text


def test_a_full_year_of_history_switches_to_the_seasonal_method(bot: Bot) -> None:
    # 2025: 100,000 a month, 1,000,000 in December; 2026 so far: twice 2025's pace
    history = [
        row
        for month in range(1, 13)
        for row in factories.measures("berlin_ops", date(2025, month, 5), sales=1_000_000 if month == 12 else 100_000)
    ]
    factories.add(bot.engine, *history, *factories.measures("berlin_ops", date(2026, 1, 5), sales=200_000))
    text = _report(bot, "report berlin_ops 2026-08", user_id=LEAD_BERLIN)
    line = next(line for line in text.splitlines() if "*Sales*: YTD" in line)
    # only January has data: the rest of 2026 is last year's rest (2,000,000) doubled
    assert "2026 → 4,200,000 CNY" in line
    assert "Projection: seasonal (last year's monthly shape)" in text  # Sales alone has data


def hostile_config() -> Config:
    """The example config with the Sales KPI named like an attack."""
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for kpi in raw["kpis"]:
        if kpi["key"] == "sales":
            kpi["name"] = {"en": HOSTILE[0], "zh": HOSTILE[0]}
    return parse_config(raw)


def test_a_hostile_kpi_name_is_shown_literally(sqlite_template: Path, tmp_path: Path, fake_slack: FakeSlack) -> None:
    path = tmp_path / "bot.db"
    shutil.copyfile(sqlite_template, path)
    with running_bot(config=hostile_config(), database_url=f"sqlite:///{path}", fake=fake_slack) as bot:
        _berlin_sales(bot.engine)
        assert bot.command("report berlin_ops 2026-08", user_id=LEAD_BERLIN, name="r") == (200, "")
        (answer,) = bot.fake.wait_for("response")
    part = [block for block in answer.params["blocks"] if "YTD" in block.get("text", {}).get("text", "")]
    texts = [block["text"]["text"] for block in part]
    assert texts and [problem for text in texts for problem in mrkdwn_problems(text)] == []
    assert f"*{HOSTILE[0]}*: YTD 900,000 CNY" in as_slack_shows("\n".join(texts))


@pytest.fixture
def services(database_url: str) -> Iterator[Any]:
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test", KPI_DATABASE_URL=database_url)
    built = build_services(settings, clock=lambda: NOW, config=None)
    yield built
    built.engine.dispose()


def test_the_monthly_digest_carries_the_part_for_its_month(services: Any) -> None:
    _berlin_sales(services.engine)
    berlin = services.config.team("berlin_ops")
    [digest] = monthly_digests(services, teams=[berlin], period=Period.parse("2026-08"), charts=False)
    text = unescape(blocks_text(digest.blocks))
    assert "*Year to date vs plan · to 2026-08*" in text and "*Sales*: YTD 900,000 CNY" in text
    assert digest.blocks[-1]["type"] == "context" and "on target" in digest.blocks[-1]["elements"][0]["text"]
    assert (
        slack_limits.message_violations({"text": digest.text, "blocks": digest.blocks}, method="chat.postMessage") == []
    )


def many_items_config() -> Config:
    """Four teams and a monthly scheme of 30 items: copies of Sales, 3 or 4 % each."""
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    sales = next(kpi for kpi in raw["kpis"] if kpi["key"] == "sales")
    raw["kpis"] += [dict(sales, key=f"sales_{number:02d}", report_growth=[]) for number in range(30)]
    items = [{"kpi": f"sales_{number:02d}", "weight": 3 if number < 20 else 4} for number in range(30)]
    raw["scorecards"]["many"] = {"name": "Many", "period": "month", "items": items}
    return parse_config(raw)


def test_thirty_items_fit_one_monthly_digest(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "kpi.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(SLACK_BOT_TOKEN="xoxb-test", KPI_DATABASE_URL=f"sqlite:///{path}")
    services = build_services(settings, clock=lambda: NOW, config=many_items_config())
    try:
        _berlin_sales(services.engine)
        [digest] = monthly_digests(
            services, teams=[services.config.team("berlin_ops")], period=Period.parse("2026-08"), charts=False
        )
    finally:
        services.engine.dispose()
    text = unescape(blocks_text(digest.blocks))
    assert text.count(": YTD 900,000 CNY") == 31  # Sales and its 30 copies
    assert text.count(": YTD ") == 36  # and the other 5 items of the example's schemes, without data
    assert (
        slack_limits.message_violations({"text": digest.text, "blocks": digest.blocks}, method="chat.postMessage") == []
    )


def test_the_weekly_digest_has_one_line_for_the_last_complete_month(services: Any) -> None:
    _berlin_sales(services.engine)
    berlin = services.config.team("berlin_ops")
    [digest] = weekly_digests(services, teams=[berlin], period=Period.parse("2026-W39"), charts=False)
    lines = [line for line in unescape(blocks_text(digest.blocks)).splitlines() if "Year to date" in line]
    [line] = lines
    found = re.fullmatch(
        r"Year to date vs plan, to 2026-08: 🟢 (\d) on track · 🟡 (\d) at risk · 🔴 (\d) off track; each item:"
        r" `/kpi report berlin_ops 2026-08`",
        line,
    )
    assert found is not None, line
    assert sum(int(count) for count in found.groups()) == 1  # Sales, the only item with data
    [block] = [block for block in digest.blocks if "Year to date" in str(block)]
    assert block["type"] == "context"


def test_the_weekly_digest_has_no_line_without_data(services: Any) -> None:
    berlin = services.config.team("berlin_ops")
    [digest] = weekly_digests(services, teams=[berlin], period=Period.parse("2026-W39"), charts=False)
    assert "Year to date" not in str(digest.blocks)
