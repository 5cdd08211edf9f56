"""Following open alerts and corrective actions up, on the alert sweep: an alert nobody acknowledged in
time is escalated to management once; an acknowledged alert still open is re-reminded in its thread every
``remind_every_minutes``; an overdue corrective action reminds its owner once a day. Each message goes
through the delivery ledger under a key that names its occasion (``escalation:<team>:<alert>``,
``alert_reminder:<team>:<alert>:<n>``, ``action_overdue:<team>:<action>:<local date>``), so a second
run, a restart or a second replica never sends it twice. Snoozed alerts wait for their snooze to end."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.alert_poster import alert_text
from bot.alert_view import sentence
from bot.mrkdwn import Mrkdwn, escape, mention
from bot.sender import Outgoing, Sender
from bot.services import Services
from kpi_core.actions import actions_of, is_overdue
from kpi_core.alert_lifecycle import follow_up_due, open_alerts
from kpi_core.alert_rules import in_quiet_hours
from kpi_core.models import CorrectiveAction
from kpi_core.work_clock import DEFAULT_MORNING

logger = logging.getLogger(__name__)
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


def channel_link(channel: str) -> Mrkdwn:
    """``<#C…>`` for a channel id (Slack shows its name); anything else from the config as escaped text."""
    return Mrkdwn(f"<#{channel}>") if _CHANNEL_ID.fullmatch(channel) else escape(channel)


@dataclass
class AlertFollowUpJob:
    services: Services
    sender: Sender

    def run(self) -> None:
        """Sends every escalation, reminder and overdue notice that is due and not sent yet."""
        self.alerts()
        self.overdue_actions()

    def alerts(self) -> None:
        services = self.services
        config, now = services.config, services.clock()
        for item in open_alerts(services.engine):
            alert = item.alert
            if alert.team not in config.team_by_key or alert.kpi not in config.kpi_by_key:
                continue  # a team or KPI since removed from the config
            team = config.team(alert.team)
            policy = config.alert_followup.for_team(alert.team)
            due = follow_up_due(alert, item.handling, policy=policy, team=team, now=now)
            escalate = due.escalate and not self._escalated(alert.team, str(alert.id))
            remind = due.reminder is not None and not in_quiet_hours(team, now)
            if not escalate and not remind:
                continue  # the common case: nothing due, or sent already; no message is built
            posted = self.sender.sent_ts("alert", alert.team, str(alert.id))
            if posted is None:
                continue  # held in quiet hours, or not posted yet: nobody could have acknowledged it
            text = Mrkdwn(alert_text(services, alert, item.case))  # mrkdwn already, escaped where built
            if escalate:
                self._escalate(alert.team, str(alert.id), text, minutes=policy.escalate_after_minutes or 0)
            if remind:
                owner = item.handling.owner if item.handling and item.handling.owner else "-"
                reminder = services.renderer.mrkdwn(
                    "alert_ops.reminder", team.language, owner=mention(owner), alert=text
                )
                self.sender.send(
                    Outgoing(
                        kind="alert_reminder",
                        team=alert.team,
                        subject=f"{alert.id}:{due.reminder}",
                        channel=posted[0],
                        text=reminder,
                        thread_ts=posted[1],
                    )
                )

    def _recipients(self) -> list[tuple[str, str | None]]:
        """Where escalations go: (channel or user, the suffix of its ledger subject)."""
        config = self.services.config
        if config.alert_followup.channel is not None:
            return [(config.alert_followup.channel, None)]
        return [(user, user) for user in config.roles.management]

    def _escalated(self, team: str, alert_id: str) -> bool:
        return all(
            self.sender.settled("escalation", team, alert_id if suffix is None else f"{alert_id}:{suffix}")
            for _, suffix in self._recipients()
        )

    def _escalate(self, team_key: str, alert_id: str, text: Mrkdwn, *, minutes: int) -> None:
        """To the escalation channel, or by DM to each of management; each once (its own ledger entry)."""
        team = self.services.config.team(team_key)
        message = self.services.renderer.mrkdwn(
            "alert_ops.escalation", team.language, channel=channel_link(team.channel), minutes=minutes, alert=text
        )
        for recipient, suffix in self._recipients():
            subject = alert_id if suffix is None else f"{alert_id}:{suffix}"
            self.sender.send(
                Outgoing(kind="escalation", team=team_key, subject=subject, channel=recipient, text=message)
            )

    def overdue_actions(self) -> None:
        """Each overdue action's owner, once a day (in the team's zone), from the working morning on."""
        services = self.services
        config, now = services.config, services.clock()
        for action in actions_of(services.engine, teams=None):
            if action.team not in config.team_by_key or action.kpi not in config.kpi_by_key:
                continue
            team = config.team(action.team)
            local = now.astimezone(team.tz)
            if not is_overdue(action, config=config, now=now) or local.time() < DEFAULT_MORNING:
                continue
            if in_quiet_hours(team, now):
                continue
            self.sender.send(self._overdue_notice(action, today=local.date().isoformat()))

    def _overdue_notice(self, action: CorrectiveAction, *, today: str) -> Outgoing:
        config = self.services.config
        team = config.team(action.team)
        text = sentence(
            self.services,
            "alert_ops.overdue_reminder",
            team.language,
            id=action.id,
            team=team.name,
            kpi=config.kpi_by_key[action.kpi].name,
            due=action.due_on.isoformat(),
            action=action.action,
        )
        return Outgoing(
            kind="action_overdue", team=action.team, subject=f"{action.id}:{today}", channel=action.owner, text=text
        )
