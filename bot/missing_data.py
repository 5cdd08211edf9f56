"""Missing-data alerts (kpi_core.missing_data): a DM to the team's leads (stand-ins for leads away) when a
form's data is late, the team channel when it is still missing later, and a reply in that alert's thread
when it arrives. Each through the delivery ledger: once, whichever replica or check gets there first."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.sender import Outgoing, Sender
from bot.services import Services
from kpi_core.absence import team_recipients
from kpi_core.missing_data import Expected, kpis_of, watch

logger = logging.getLogger(__name__)

DM, CHANNEL, RECOVERED = "missing_data_dm", "missing_data", "missing_data_recovered"
#: ledger kind -> message (strings.yaml calendars.*)
TEXTS = {DM: "missing_data_dm", CHANNEL: "missing_data_channel", RECOVERED: "missing_data_recovered"}


@dataclass
class MissingDataPoster:
    services: Services
    sender: Sender

    def check(self) -> None:
        services = self.services
        now = services.clock()
        for item in watch(services.engine, config=services.config, now=now):
            team = item.team.key
            if item.arrived:
                alert = self.sender.sent_ts(CHANNEL, team, item.subject)
                if alert is not None:
                    self.sender.send(self._message(RECOVERED, item, item.subject, item.team.channel, alert[1]))
                continue
            if not item.latest:
                continue  # an older period is not chased again once a newer one is due
            # the leads first (also when a process that was down meanwhile finds the channel due already)
            for user in team_recipients(services.engine, config=services.config, team=item.team, now=now):
                self.sender.send(self._message(DM, item, f"{item.subject}:{user}", user))
            if now >= item.channel_at:
                self.sender.send(self._message(CHANNEL, item, item.subject, item.team.channel))

    def _message(self, kind: str, item: Expected, subject: str, channel: str, thread_ts: str | None = None) -> Outgoing:
        services = self.services
        team = item.team
        language = team.language
        config = services.config
        kpis = ", ".join(config.kpi_by_key[key].name.in_language(language) for key in kpis_of(config, item.form))
        text = services.renderer.mrkdwn(
            f"calendars.{TEXTS[kind]}",
            language,
            team=team.name.in_language(language),
            form=item.form.key,
            period=item.period.label,
            due=f"{item.due_at.astimezone(team.tz):%a %Y-%m-%d %H:%M}",
            kpis=kpis or "-",
        )
        logger.info("missing data %s team=%s form=%s period=%s", kind, team.key, item.form.key, item.period.label)
        return Outgoing(kind=kind, team=team.key, subject=subject, channel=channel, text=text, thread_ts=thread_ts)
