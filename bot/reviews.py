"""The 360° review's messages, each sent once through the delivery ledger: rating requests, peer
invitations and approvals, reminders, the review packets when a cycle closes, and the interview's
confirmation and acknowledgement requests. ``tick`` is the scheduler's job body (bot/jobs.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.mrkdwn import Mrkdwn, escape, mention
from bot.people_views import card_text
from bot.render import message_parts
from bot.sender import Outgoing, Sender
from bot.services import Services
from kpi_core import review_use_cases as use
from kpi_core.access import access_for
from kpi_core.config import Config, Language
from kpi_core.people import person_of, superior_of
from kpi_core.people_use_cases import scorecard_of
from kpi_core.person_scorecard import default_period
from kpi_core.review_cycles import zone_of
from kpi_core.review_models import ReviewAssignment, ReviewCycle, ReviewInterview
from kpi_core.review_results import GroupResult, performance_score
from kpi_core.review_use_cases import Packet

logger = logging.getLogger(__name__)

#: a closed cycle's packets are retried by the tick for this long (a process that died mid-way)
PACKETS_RETRIED_FOR = timedelta(days=2)
Button = tuple[str, str, object, str | None]  # action_id, label key, value, style


def results_text(
    services: Services, *, cycle: ReviewCycle, subject: str, groups: dict[str, GroupResult], language: Language
) -> Mrkdwn:
    """A person's results by rater group (anonymity applied already) and the personal performance score."""
    config = services.config
    weights = {str(key): weight for key, weight in config.reviews.group_weights.items()}
    return services.renderer.render(
        "review_results.txt.j2",
        language=language,
        title=services.renderer.mrkdwn(
            "reviews.results_title", language, cycle=cycle.key, person=person_named(config, subject)
        ),
        groups=groups,
        competency_names={item.key: item.name.in_language(language) for item in config.competencies},
        min_raters=config.reviews.min_group_raters,
        score=performance_score(groups, weights=weights),
    )


def person_named(config: Config, user: str) -> str:
    """A person as the results title names them: their configured name, else a mention."""
    person = person_of(config, user)
    return person.name if person is not None and person.name else mention(user)


@dataclass(frozen=True)
class ReviewMessenger:
    services: Services
    sender: Sender

    # helpers shared by the messages, the listeners and the CLI

    def language(self, user: str) -> Language:
        """A user's language: their team's as a person, else their role's."""
        person = person_of(self.services.config, user)
        if person is not None and person.team in self.services.config.team_by_key:
            return self.services.config.team(person.team).language
        return access_for(self.services.config, user).language

    def local_time(self, moment: datetime, user: str) -> str:
        return moment.astimezone(zone_of(self.services.config, user)).strftime("%Y-%m-%d %H:%M")

    def competency_names(self, language: Language) -> dict[str, str]:
        return {item.key: item.name.in_language(language) for item in self.services.config.competencies}

    def results_text(
        self, *, cycle: ReviewCycle, subject: str, groups: dict[str, GroupResult], language: Language
    ) -> Mrkdwn:
        return results_text(self.services, cycle=cycle, subject=subject, groups=groups, language=language)

    def dm(
        self, *, kind: str, subject: str, to: str, text: Mrkdwn, buttons: list[Button], more: Mrkdwn | None = None
    ) -> Outgoing:
        """A DM: ``text`` (and ``more``, in parts when long) with the buttons under the first part."""
        language = self.language(to)
        parts = message_parts(text if more is None else Mrkdwn(f"{text}\n\n{more}"))
        actions = self.services.renderer.blocks("review_actions", language=language, buttons=buttons) if buttons else []
        return Outgoing(
            kind=kind,
            team=None,
            subject=subject,
            channel=to,
            text=text.splitlines()[0][:300],
            blocks=parts[0] + actions,
            continued=parts[1:],
        )

    def _say(self, key: str, to: str, **params: Any) -> Mrkdwn:
        return self.services.renderer.mrkdwn(key, self.language(to), **params)

    # rating requests, invitations, approvals, reminders

    def send_requests(self) -> None:
        """Asks every rater not asked yet, once each."""
        engine = self.services.engine
        for assignment, cycle in use.pending_requests(engine):
            message = self.request(assignment, cycle)
            self.sender.send(message)
            if self.sender.settled(message.kind, None, message.subject):
                use.mark_requested(engine, assignment_id=assignment.id or 0, now=self.services.clock())

    def request(self, assignment: ReviewAssignment, cycle: ReviewCycle) -> Outgoing:
        rater = assignment.rater
        relation = self.services.renderer.text(f"reviews.as.{assignment.relation}", self.language(rater))
        text = self._say(
            "reviews.request",
            rater,
            cycle=cycle.key,
            person=mention(assignment.subject),
            relation=relation,
            deadline=self.local_time(cycle.deadline_at, rater),
        )
        return self.dm(
            kind="review_request",
            subject=f"{cycle.key}:{assignment.id}",
            to=rater,
            text=text,
            buttons=[("review_rate", "reviews.rate", assignment.id, "primary")],
        )

    def send_invites(self) -> None:
        """Invites every person of an open cycle to nominate peers, until nominations are due."""
        now = self.services.clock()
        for cycle, user in use.nomination_invites(self.services.engine, config=self.services.config):
            subject = f"{cycle.key}:{user}"
            if now >= cycle.nominations_due_at or self.sender.settled("review_invite", None, subject):
                continue
            text = self._say(
                "reviews.invite",
                user,
                cycle=cycle.key,
                count=self.services.config.reviews.max_peers,
                due=self.local_time(cycle.nominations_due_at, user),
            )
            buttons: list[Button] = [("review_nominate", "reviews.nominate", cycle.id, None)]
            self.sender.send(self.dm(kind="review_invite", subject=subject, to=user, text=text, buttons=buttons))

    def ask_approval(self, cycle: ReviewCycle, subject: str, pending: list[ReviewAssignment]) -> None:
        superior = superior_of(self.services.config, subject)
        if superior is None or not pending:
            return
        peers = ", ".join(mention(assignment.rater) for assignment in pending)
        text = self._say("reviews.approve_ask", superior, cycle=cycle.key, person=mention(subject), peers=Mrkdwn(peers))
        value = f"{cycle.id}:{subject}"
        buttons: list[Button] = [
            ("review_peers_approve", "reviews.approve", value, "primary"),
            ("review_peers_decline", "reviews.decline", value, None),
        ]
        first = min(assignment.id or 0 for assignment in pending)
        self.sender.send(
            self.dm(
                kind="review_peers", subject=f"{cycle.key}:{subject}:{first}", to=superior, text=text, buttons=buttons
            )
        )

    def send_reminders(self) -> int:
        """The reminder each rater is due in their own zone (7 and 1 days before the deadline day, from
        09:00), once each; returns how many went out now."""
        sent = 0
        for due in use.due_reminders(self.services.engine, config=self.services.config, now=self.services.clock()):
            subject = f"{due.cycle.key}:{due.rater}:d{due.days}"
            if self.sender.settled("review_reminder", None, subject):
                continue  # the usual case on all but the first tick of the day: one read, nothing built
            people = ", ".join(mention(person) for person in due.subjects)
            text = self._say(
                "reviews.reminder",
                due.rater,
                cycle=due.cycle.key,
                deadline=self.local_time(due.cycle.deadline_at, due.rater),
                people=Mrkdwn(people),
            )
            message = self.dm(kind="review_reminder", subject=subject, to=due.rater, text=text, buttons=[])
            sent += self.sender.send(message) == "sent"
        return sent

    # closing: the review packets and the interview

    def send_packets(self, key: str) -> None:
        """The review packet to both holders of each interview, once; a packet (a personal scorecard to
        compute) is built only for the interviews whose packets are not all sent yet."""
        engine, config = self.services.engine, self.services.config
        due = {
            interview.subject
            for interview in use.interviews_of(engine, key=key)
            for holder in (interview.superior, interview.second_superior)
            if holder is not None
            and not self.sender.settled("review_packet", None, f"{key}:{interview.subject}:{holder}")
        }
        if not due:
            return
        for packet in use.packets(engine, config=config, key=key, subjects=sorted(due)):
            for holder in (packet.interview.superior, packet.interview.second_superior):
                if holder is not None:
                    self.sender.send(self.packet(packet, holder))

    def packet(self, packet: Packet, holder: str) -> Outgoing:
        language, subject = self.language(holder), packet.interview.subject
        intro = self._say("reviews.packet_intro", holder, cycle=packet.cycle.key, person=mention(subject))
        results = self.results_text(cycle=packet.cycle, subject=subject, groups=packet.results, language=language)
        card = self._scorecard(subject, language)
        return self.dm(
            kind="review_packet",
            subject=f"{packet.cycle.key}:{subject}:{holder}",
            to=holder,
            text=intro,
            more=results if card is None else Mrkdwn(f"{card}\n\n{results}"),
            buttons=[("interview_record", "reviews.record", packet.interview.id, "primary")],
        )

    def _scorecard(self, user: str, language: Language) -> Mrkdwn | None:
        """The person's KPI scorecard (kpi_core.person_scorecard) for the packet, when they are configured."""
        config = self.services.config
        person = person_of(config, user)
        if person is None:
            return None
        period = default_period(config, person, now=self.services.clock())
        card = scorecard_of(self.services.engine, config=config, person=person, period=period)
        return card_text(self.services.renderer, config, language, card)

    def interview_text(self, interview: ReviewInterview, to: str) -> Mrkdwn:
        language = self.language(to)
        line = self._say(
            "reviews.interview_line",
            to,
            held_on=interview.held_on,
            rating=interview.rating,
            recorder=mention(interview.recorded_by or "-"),
        )
        renderer = self.services.renderer
        strengths = f"*{renderer.text('reviews.strengths', language)}*\n{escape(interview.strengths or '')}"
        plan = f"*{renderer.text('reviews.development_plan', language)}*\n{escape(interview.development_plan or '')}"
        return Mrkdwn("\n".join([line, strengths, plan]))

    def after_record(self, interview: ReviewInterview, cycle: ReviewCycle) -> None:
        """Asks the holder who did not record it to confirm, or (both confirmed) the person to acknowledge."""
        stamp = f"{interview.recorded_at:%Y%m%dT%H%M%S}"
        for holder, confirmed_at in (
            (interview.superior, interview.superior_confirmed_at),
            (interview.second_superior, interview.second_confirmed_at),
        ):
            if holder is not None and confirmed_at is None:
                text = self._say(
                    "reviews.confirm_ask",
                    holder,
                    recorder=mention(interview.recorded_by or "-"),
                    person=mention(interview.subject),
                    cycle=cycle.key,
                )
                self.sender.send(
                    self.dm(
                        kind="interview_confirm",
                        subject=f"{cycle.key}:{interview.subject}:{holder}:{stamp}",
                        to=holder,
                        text=text,
                        more=self.interview_text(interview, holder),
                        buttons=[("interview_confirm", "reviews.confirm", interview.id, "primary")],
                    )
                )
                return
        subject = interview.subject
        self.sender.send(
            self.dm(
                kind="interview_ack",
                subject=f"{cycle.key}:{subject}:{stamp}",
                to=subject,
                text=self._say("reviews.ack_ask", subject, cycle=cycle.key),
                more=self.interview_text(interview, subject),
                buttons=[("interview_acknowledge", "reviews.acknowledge", interview.id, "primary")],
            )
        )

    # the scheduler's job body

    def tick(self) -> None:
        """Everything due: invitations, default peers, rating requests, reminders, closing at the
        deadline with the packets; each message once (the ledger), so every replica may run it."""
        services = self.services
        self.send_invites()
        use.default_peers(services.engine, config=services.config, now=services.clock())
        self.send_requests()
        self.send_reminders()
        use.close_due(services.engine, config=services.config, now=services.clock())
        recent = services.clock() - PACKETS_RETRIED_FOR
        for cycle in use.cycles(services.engine):
            if cycle.closed_at is not None and cycle.closed_at >= recent:
                self.send_packets(cycle.key)
