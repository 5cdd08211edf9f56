"""The corrective action modal: built for a team's KPI (from an alert, or from a digest line), and its
submission read into a validated ``ActionInput`` or field errors keyed by block id (the rules of
kpi_core.rules). What the action is about travels in the modal's metadata and is checked again on
submission: the metadata comes back from the client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.forms import Errors, Localize, State, _Checker
from bot.services import Services
from kpi_core import rules
from kpi_core.access import Access
from kpi_core.actions import ActionInput
from kpi_core.alert_lifecycle import handling_of
from kpi_core.config import Config
from kpi_core.models import ACTION_TEXT_CHARS, Alert

SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
#: the due date the modal proposes: a week from today
DEFAULT_DUE = timedelta(days=7)


@dataclass(frozen=True)
class Subject:
    """What a corrective action is about: a team's KPI, and the alert it was opened from (if any)."""

    team: str
    kpi: str
    alert_id: int | None = None

    @classmethod
    def of(cls, alert: Alert) -> Subject:
        return cls(alert.team, alert.kpi, alert.id)

    def metadata(self) -> dict[str, Any]:
        return {"alert": self.alert_id} if self.alert_id is not None else {"team": self.team, "kpi": self.kpi}


def action_modal(services: Services, access: Access, *, subject: Subject) -> dict[str, Any]:
    """The modal for a corrective action on ``subject``'s KPI."""
    config, language = services.config, access.language
    team = config.team(subject.team)
    today = services.clock().astimezone(team.tz).date()
    return services.renderer.view(
        "corrective_action",
        language=language,
        metadata=subject.metadata(),
        team_name=team.name.in_language(language),
        kpi_name=config.kpi_by_key[subject.kpi].name.in_language(language),
        max_chars=ACTION_TEXT_CHARS,
        owner=access.user if SLACK_USER.fullmatch(access.user) else None,
        due_on=(today + DEFAULT_DUE).isoformat(),
    )


def subject_of(services: Services, view: dict[str, Any]) -> Subject | None:
    """What a submitted modal is about, read again from the database and the config; None when the
    metadata names no such alert, team or KPI (tampered with, or the config changed meanwhile)."""
    metadata = State(view).metadata
    config = services.config
    if "alert" in metadata:
        alert_id = metadata["alert"]
        if not isinstance(alert_id, int) or isinstance(alert_id, bool) or not 0 < alert_id < 2**63:
            return None
        alert, _, _ = handling_of(services.engine, alert_id=alert_id)
        subject = Subject.of(alert) if alert is not None else None
    else:
        team, kpi = metadata.get("team"), metadata.get("kpi")
        subject = Subject(team, kpi) if isinstance(team, str) and isinstance(kpi, str) else None
    if subject is None or subject.team not in config.team_by_key or subject.kpi not in config.kpi_by_key:
        return None
    return subject


def parse_action(
    view: dict[str, Any], *, subject: Subject, config: Config, now: datetime, localize: Localize
) -> tuple[ActionInput | None, Errors]:
    """The action of a submitted modal, or every field's problem at once."""
    state = State(view)
    checker = _Checker(state, localize, config)
    root_cause = checker.required_text("root_cause", maximum=ACTION_TEXT_CHARS)
    action = checker.required_text("action", maximum=ACTION_TEXT_CHARS)
    owner = state.values.get("owner", {}).get("value", {}).get("selected_user")
    if not isinstance(owner, str) or not SLACK_USER.fullmatch(owner):
        checker.errors["owner"] = localize("alert_ops.not_a_user")
    today = now.astimezone(config.team(subject.team).tz).date()
    due_on = _due_date(checker, state, today=today, data_since=config.data_since)
    if checker.errors or due_on is None or not isinstance(owner, str):
        return None, checker.errors
    data = ActionInput(subject.team, subject.kpi, subject.alert_id, root_cause, action, owner, due_on)
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
