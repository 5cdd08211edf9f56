"""``/kpi away``: a lead's absence, recorded by the lead (or an admin) and refused to anyone else, with
hostile input; and who stands in (kpi_core.absence.recipients), on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

import pytest
import yaml
from sqlmodel import select

from kpi_core.absence import parse_days, recipients, record_absence
from kpi_core.config import parse_config
from kpi_core.db import transaction
from kpi_core.models import Absence
from tests.bot_harness import ADMIN, LEAD_BEIJING, LEAD_SHANGHAI_AND_BERLIN, MANAGER, STRANGER
from tests.conftest import EXAMPLE_CONFIG

NOW = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
LEAD_BERLIN = "U0LEADBE"  # a lead of an English-speaking team


def absences(bot) -> list[tuple[str, date, date, str]]:
    with transaction(bot.engine) as session:
        rows = session.exec(select(Absence).order_by(Absence.id)).all()
        return [(row.user_id, row.first_day, row.last_day, row.recorded_by) for row in rows]


def test_a_lead_records_their_absence_and_hears_who_stands_in(bot):
    status, body = bot.command("away 2026-10-01..2026-10-07", user_id=LEAD_BEIJING)
    assert status == 200
    # Beijing has one lead and no backup: management stands in
    assert "2026-10-01" in body["text"] and "2026-10-07" in body["text"] and "<@U0MANAGER>" in body["text"]
    assert absences(bot) == [(LEAD_BEIJING, date(2026, 10, 1), date(2026, 10, 7), LEAD_BEIJING)]

    _, listed = bot.command("away", user_id=LEAD_BEIJING)
    assert "2026-10-01..2026-10-07" in listed["text"]
    bot.command("away 2026-10-01..2026-10-07", user_id=LEAD_BEIJING)  # again: not a second row
    assert len(absences(bot)) == 1

    _, cancelled = bot.command("away cancel", user_id=LEAD_BEIJING)
    assert "1" in cancelled["text"]
    assert absences(bot) == []


def test_an_admin_records_a_leads_absence(bot):
    status, body = bot.command("away <@U0LEADBJ|lead.beijing> 2026-10-02", user_id=ADMIN)
    assert status == 200 and "<@U0LEADBJ>" in body["text"]
    assert absences(bot) == [(LEAD_BEIJING, date(2026, 10, 2), date(2026, 10, 2), ADMIN)]


@pytest.mark.parametrize(
    ("user", "text"),
    [
        pytest.param(STRANGER, "away 2026-10-01..2026-10-07", id="stranger"),
        pytest.param(MANAGER, "away 2026-10-01..2026-10-07", id="management-leads-no-team"),
        pytest.param(LEAD_SHANGHAI_AND_BERLIN, "away <@U0LEADBJ> 2026-10-01", id="lead-for-another-lead"),
        pytest.param(ADMIN, "away <@U0MANAGER> 2026-10-01", id="admin-for-a-non-lead"),
        pytest.param(ADMIN, "away 2026-10-01", id="admin-leads-no-team"),
    ],
)
def test_nobody_else_records_an_absence(bot, user, text):
    status, body = bot.command(text, user_id=user)
    assert status == 200
    assert "Recorded" not in str(body) and ("Sorry" in str(body) or "leads no team" in str(body))
    assert absences(bot) == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("2026-02-30", "does not exist", id="impossible-date"),
        pytest.param("2026-10-07..2026-10-01", "ends before it starts", id="reversed"),
        pytest.param("2025-01-01..2025-01-02", "over already", id="past"),
        pytest.param("2026-10-01..2028-10-01", "longer than a year", id="too-long"),
        pytest.param("<!channel>", "&lt;!channel&gt;", id="broadcast-mention-escaped"),
        pytest.param("2026-10-01..", "not a range of days", id="open-range"),
        pytest.param("２０２６-10-01", "not a range of days", id="fullwidth-digits"),
        pytest.param("2026-10-01;DROP TABLE absence", "Use `/kpi away", id="sql"),
        pytest.param("9" * 5000, "not a range of days", id="five-thousand-digits"),
        pytest.param("2026-10-01 2026-10-07", "Use `/kpi away", id="two-words"),
    ],
)
def test_hostile_days_get_a_clear_answer_and_store_nothing(bot, text, says):
    status, body = bot.command(f"away {text}", user_id=LEAD_BERLIN)
    assert status == 200
    assert says in body["text"]
    assert "<!channel>" not in body["text"]
    assert len(body["text"]) < 1000
    assert absences(bot) == []


def test_parse_days_accepts_one_day_and_a_range():
    today = date(2026, 9, 30)
    assert parse_days("2026-10-01", today=today) == (date(2026, 10, 1), date(2026, 10, 1))
    assert parse_days("2026-09-29..2026-10-01", today=today) == (date(2026, 9, 29), date(2026, 10, 1))


def _config(backup: str | None = None):
    raw = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    if backup:
        next(team for team in raw["teams"] if team["key"] == "beijing_service")["backup"] = backup
    return parse_config(raw)


def test_who_stands_in_for_an_absent_lead(engine):
    away = {"first_day": date(2026, 10, 1), "last_day": date(2026, 10, 7), "recorded_by": "x", "now": NOW}
    plain, with_backup = _config(), _config(backup="U0BACKUP")
    berlin, beijing = plain.team("berlin_ops"), with_backup.team("beijing_service")

    def on(config, team, day):
        with transaction(engine) as session:
            return recipients(session, config=config, team=team, on=day)

    assert on(with_backup, beijing, date(2026, 10, 3)) == [LEAD_BEIJING]
    record_absence(engine, user=LEAD_BEIJING, **away)
    assert on(with_backup, beijing, date(2026, 10, 3)) == ["U0BACKUP"]  # the backup
    assert on(plain, plain.team("beijing_service"), date(2026, 10, 3)) == [MANAGER]  # no backup: management
    assert on(with_backup, beijing, date(2026, 10, 8)) == [LEAD_BEIJING]  # back
    assert on(with_backup, beijing, date(2026, 9, 30)) == [LEAD_BEIJING]  # not yet away
    record_absence(engine, user="U0BACKUP", **away)
    assert on(with_backup, beijing, date(2026, 10, 3)) == [MANAGER]  # the backup is away too

    # Berlin has two leads: the one present covers for the one away
    record_absence(engine, user="U0LEADBE", **away)
    assert on(plain, berlin, date(2026, 10, 3)) == [LEAD_SHANGHAI_AND_BERLIN]
    record_absence(engine, user=LEAD_SHANGHAI_AND_BERLIN, **away)
    assert on(plain, berlin, date(2026, 10, 3)) == [MANAGER]
