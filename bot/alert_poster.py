"""Real-time alerts: evaluate thresholds after writes (on the alert queue's thread, never a listener's),
on the sweep and on the case timer, then post what changed.

An alert goes to the team channel when it opens; its recovery is a reply in the alert's thread, and the
alert message is edited to show it is resolved. During a team's quiet hours messages are held and go
out at the next check after the quiet hours end; an alert that opened and resolved while held posts
nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from bot.alert_queue import AlertQueue
from bot.alert_view import alert_blocks
from bot.failure_notices import tell_admins
from bot.render import format_value
from bot.sender import Chart, Outgoing, Sender
from bot.services import Services
from bot.trends import alert_trend_png, prepare_alert_charts
from kpi_core.alert_rules import Evaluation, in_quiet_hours
from kpi_core.alert_sweep import Change, DuePost, SweepState
from kpi_core.config import Language, Team
from kpi_core.models import Alert, CustomerCase
from kpi_core.use_cases import alerts_to_post, check_alerts, sweep_alerts

logger = logging.getLogger(__name__)

#: teams whose alerts are posted at the same time (each team's own in order)
POSTERS = 4


@dataclass
class AlertPoster:
    services: Services
    sender: Sender
    #: called with the next case deadline, so the scheduler can fire exactly then (None: no scheduler)
    on_next_deadline: Callable[[datetime | None], None] | None = None
    #: what this process's last sweep saw (kpi_core/alert_sweep.py); None: the next sweep evaluates all
    last_sweep: SweepState | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.queue = AlertQueue(self.evaluate)
        self._sweeping = threading.Lock()  # the scheduler's threads (sweep, case timer) take turns

    def submit(self, change: Change) -> None:
        """After a write: evaluates what it changed on the alert queue's thread, never the caller's."""
        self.queue.put(change)

    def check(self, teams: list[str] | None = None) -> None:
        """Evaluates every alert of ``teams`` now; without teams, sweeps (what moved since the last
        sweep, and the cases the clock made due)."""
        if teams is None:
            self.sweep()
        else:
            self.evaluate([Change(team, everything=True) for team in teams])

    def evaluate(self, changes: list[Change]) -> None:
        """Evaluates what ``changes`` can have changed, then posts those teams' alerts and recoveries."""
        services = self.services
        evaluation, deadline, looked_up = check_alerts(
            services.engine, config=services.config, changes=changes, now=services.clock()
        )
        self._report(evaluation)
        self.flush(teams=sorted({change.team for change in changes}))
        if looked_up and self.on_next_deadline is not None:
            self.on_next_deadline(deadline)

    def sweep(self) -> None:
        """The periodic sweep and the case timer: what moved since the last sweep; posts what is due."""
        services = self.services
        with self._sweeping:
            evaluation, self.last_sweep, deadline = sweep_alerts(
                services.engine, config=services.config, now=services.clock(), last=self.last_sweep
            )
        self._report(evaluation)
        self.flush()
        if self.on_next_deadline is not None:
            self.on_next_deadline(deadline)

    def _report(self, evaluation: Evaluation) -> None:
        for transition in evaluation.transitions:
            alert = transition.alert
            logger.info("alert %s team=%s kpi=%s case=%s", transition.change, alert.team, alert.kpi, alert.case_id)
        tell_admins(self.sender, self.services.renderer, evaluation.failures)

    def flush(self, teams: list[str] | None = None) -> None:
        """Posts every alert or recovery (of ``teams``, default all) that is due and not yet posted,
        outside quiet hours; found in one query. The alerts' charts follow once every alert is out."""
        now = self.services.clock()
        by_team: dict[str, list[DuePost]] = {}
        for due in alerts_to_post(self.services.engine, now=now, teams=teams):
            by_team.setdefault(due.alert.team, []).append(due)
        charted: list[tuple[Outgoing, Alert]] = []
        if len(by_team) <= 1:
            for dues in by_team.values():
                charted += self._post_in_order(dues, now)
        else:
            # Slack's round trips overlap across teams; a team's own posts keep their order (a channel's
            # messages in the order the alerts opened). The ledger keeps each one single however they interleave.
            with ThreadPoolExecutor(min(POSTERS, len(by_team)), thread_name_prefix="alert-post") as pool:
                for team_charted in pool.map(lambda dues: self._post_in_order(dues, now), by_team.values()):
                    charted += team_charted
        # charts only after every alert is out: each computes its KPI's recent periods and renders a PNG,
        # which must not delay the next team's alert; their periods are computed once for all of them
        if charted:
            try:
                prepare_alert_charts(self.services, [alert for _, alert in charted])
            except Exception:  # a chart is a courtesy: each computes its own periods below instead
                logger.exception("the alert charts' periods could not be computed at once")
        for message, _ in charted:
            try:
                self.sender.upload_chart(message)
            except Exception:  # a chart is a courtesy: its failure must not hold back the others
                logger.exception(
                    "the chart of alert %s of team %s could not be uploaded", message.subject, message.team
                )

    def _post_in_order(self, dues: list[DuePost], now: datetime) -> list[tuple[Outgoing, Alert]]:
        """Posts a team's due alerts in order; returns the alert messages whose chart is to follow."""
        charted: list[tuple[Outgoing, Alert]] = []
        for due in dues:
            alert = due.alert
            try:
                charted += self._post(due, now)
            except Exception as error:  # one alert that cannot be posted must not hold back the others
                logger.exception("alert %s of team %s could not be posted", alert.id, alert.team)
                self.sender.notify_admins(
                    subject=f"alert_failed:{alert.team}:{alert.id}",
                    text=self.services.renderer.mrkdwn(
                        "alert_failed_notice", "en", alert=alert.id, team=alert.team, error=type(error).__name__
                    ),
                )
        return charted

    def _post(self, due: DuePost, now: datetime) -> list[tuple[Outgoing, Alert]]:
        """Posts the alert or its recovery when due; returns the alert message whose chart is to follow."""
        alert, case, posted = due.alert, due.case, due.posted
        team = self.services.config.team(alert.team)
        if in_quiet_hours(team, now):
            return []
        if alert.resolved_at is None:
            if posted is not None:
                return []
            message = self._alert_message(alert, case)
            self.sender.send(message, with_chart=False)
            return [(message, alert)] if message.chart is not None else []
        if posted is None:
            return []  # opened and resolved while held: nothing worth posting now
        channel, ts = posted
        outcome = self.sender.send(self._recovery_message(alert, case, thread_ts=ts))
        if outcome in ("sent", "found"):
            text = "✅ " + alert_text(self.services, alert, case, resolved=True)
            self.sender.update(channel=channel, ts=ts, text=text, blocks=_section(text))
        return []

    def _alert_message(self, alert: Alert, case: CustomerCase | None) -> Outgoing:
        team = self.services.config.team(alert.team)
        text = "🔴 " + alert_text(self.services, alert, case)
        return Outgoing(
            kind="alert",
            team=alert.team,
            subject=str(alert.id),
            channel=team.channel,
            text=text,
            blocks=alert_blocks(self.services, alert=alert, text=text, handling=None),
            # the KPI's recent periods, uploaded once into the alert's thread (its own ledger entry); not
            # for an overdue case: every case of the team would carry the same chart of the team's KPI
            chart=None
            if case is not None
            else Chart(
                lambda: alert_trend_png(self.services, alert),
                f"kpi-alert-{alert.team}-{alert.kpi}-{alert.id}.png",
                f"{team.name.en}: {self.services.config.kpi_by_key[alert.kpi].name.en}",
            ),
        )

    def _recovery_message(self, alert: Alert, case: CustomerCase | None, *, thread_ts: str) -> Outgoing:
        services = self.services
        team = services.config.team(alert.team)
        kpi = services.config.kpi_by_key[alert.kpi]

        def sentence(language: Language) -> str:
            if case is not None:
                return services.renderer.mrkdwn(
                    "recovered_case",
                    language,
                    case=case.id,
                    event=services.renderer.text(_event(kpi.formula), language),
                    taken="–" if alert.resolved_value is None else f"{alert.resolved_value:.1f}",  # the text says "h"
                )
            return services.renderer.mrkdwn(
                "recovered_kpi",
                language,
                kpi=kpi.name.in_language(language),
                value=_number(alert.resolved_value, kpi.unit),
                threshold=_number(alert.threshold, kpi.unit),
            )

        text = _in_team_language(team, sentence)
        return Outgoing(
            kind="recovery",
            team=alert.team,
            subject=str(alert.id),
            channel=team.channel,
            text="✅ " + text,
            thread_ts=thread_ts,
        )


def alert_text(services: Services, alert: Alert, case: CustomerCase | None, *, resolved: bool = False) -> str:
    """The alert's sentence in its team's language (struck through and marked once resolved)."""
    team = services.config.team(alert.team)
    renderer = services.renderer
    kpi = services.config.kpi_by_key[alert.kpi]

    def sentence(language: Language) -> str:
        if case is not None:
            text = renderer.mrkdwn(
                "alert_case",
                language,
                team=team.name.in_language(language),
                case=case.id,
                kind=renderer.text(case.kind, language),
                raised=case.raised_at.astimezone(team.tz).strftime("%Y-%m-%d %H:%M"),
                event=renderer.text(_event(kpi.formula), language),
                hours=f"{alert.threshold:g}",
            )
        else:
            text = renderer.mrkdwn(
                "alert_kpi",
                language,
                team=team.name.in_language(language),
                kpi=kpi.name.in_language(language),
                value=_number(alert.value, kpi.unit),
                threshold=_number(alert.threshold, kpi.unit),
            )
        return f"~{text}~ ({renderer.mrkdwn('resolved', language)})" if resolved else text

    return _in_team_language(team, sentence)


def _in_team_language(team: Team, sentence: Callable[[Language], str]) -> str:
    """The sentence in the team's language; for "both", the whole sentence in each language, so names are
    not doubled inside each half."""
    if team.language == "both":
        return f"{sentence('en')} / {sentence('zh')}"
    return sentence(team.language)


def _event(formula: object) -> str:
    return "first_response" if getattr(formula, "until", "") == "first_response" else "resolution"


def _number(value: float | None, unit: str) -> str:
    return format_value(value, unit, no_data="–")


def _section(text: str) -> list[dict[str, object]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
