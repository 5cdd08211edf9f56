"""The corrective action modal: built for an alert's team and KPI, and its submission read into a
validated ``ActionInput`` or field errors keyed by block id (the rules of kpi_core.rules)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from bot.forms import Errors, Localize, State, _Checker
from bot.services import Services
from kpi_core import rules
from kpi_core.access import Access
from kpi_core.actions import ActionInput
from kpi_core.config import Config
from kpi_core.models import ACTION_TEXT_CHARS, Alert

SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
#: the due date the modal proposes: a week from today
DEFAULT_DUE = timedelta(days=7)


def action_modal(services: Services, access: Access, *, alert: Alert) -> dict[str, Any]:
    """The modal for a corrective action on ``alert``'s KPI; the alert travels in the metadata and is
    read again (and its team checked) when the modal is submitted."""
    config, language = services.config, access.language
    team = config.team(alert.team)
    today = services.clock().astimezone(team.tz).date()
    return services.renderer.view(
        "corrective_action",
        language=language,
        metadata={"alert": alert.id},
        team_name=team.name.in_language(language),
        kpi_name=config.kpi_by_key[alert.kpi].name.in_language(language),
        max_chars=ACTION_TEXT_CHARS,
        owner=access.user if SLACK_USER.fullmatch(access.user) else None,
        due_on=(today + DEFAULT_DUE).isoformat(),
    )


def metadata_alert_id(view: dict[str, Any]) -> int:
    """The alert id the modal carries; 0 (no alert has it) when the metadata was tampered with."""
    value = State(view).metadata.get("alert")
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 else 0


def parse_action(
    view: dict[str, Any], *, alert: Alert, config: Config, now: datetime, localize: Localize
) -> tuple[ActionInput | None, Errors]:
    """The action of a submitted modal, or every field's problem at once."""
    state = State(view)
    checker = _Checker(state, localize, config)
    root_cause = checker.required_text("root_cause", maximum=ACTION_TEXT_CHARS)
    action = checker.required_text("action", maximum=ACTION_TEXT_CHARS)
    owner = state.values.get("owner", {}).get("value", {}).get("selected_user")
    if not isinstance(owner, str) or not SLACK_USER.fullmatch(owner):
        checker.errors["owner"] = localize("alert_ops.not_a_user")
    today = now.astimezone(config.team(alert.team).tz).date()
    due_on = _due_date(checker, state, today=today, data_since=config.data_since)
    if checker.errors or due_on is None or not isinstance(owner, str):
        return None, checker.errors
    data = ActionInput(alert.team, alert.kpi, alert.id, root_cause, action, owner, due_on)
    return data, {}


def _due_date(checker: _Checker, state: State, *, today: date, data_since: date) -> date | None:
    value = state.date("due_on")
    if value is None:
        checker.fail("due_on", "required")
        return None
    if value < today:
        checker.errors["due_on"] = checker.localize("alert_ops.due_in_past")
        return None
    problem = rules.check_due_date(value, data_since=data_since, today=today)
    checker.report("due_on", problem)
    return value if problem is None else None
