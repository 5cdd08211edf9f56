"""Appeals' messages, each sent once through the delivery ledger: the Confirm / Appeal DM to each assessed
lead and person after a close, the appeal to every decider (management and HR) with Take up / Uphold /
Reject, their reminders before the decision deadline, and each state change to the appellant; an upheld
appeal's revised scorecard goes out as the corrected revision's final scorecard, in the thread of the
period's first (bot/close_delivery.py). ``tick`` is the job body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.close_delivery import deliver
from bot.mrkdwn import Mrkdwn, mention
from bot.reviews import Button, ReviewMessenger, person_named
from bot.sender import Outgoing
from bot.services import Services
from kpi_core import appeal_use_cases as use
from kpi_core import close_use_cases
from kpi_core.appeal_models import Appeal
from kpi_core.appeal_use_cases import Invitation
from kpi_core.appeals import assessed_users, deciders, due_reminder
from kpi_core.config import Language
from kpi_core.period_close import ClosedResult


def item_value(item: object) -> float | None:
    """The value of a closed result's item (kpi_core.period_close keeps weight, value, target and score)."""
    value = item.get("value") if isinstance(item, dict) else getattr(item, "value", None)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def answer_value(period_label: str, subject_kind: str, subject: str) -> str:
    """What the Confirm and Appeal buttons (and the appeal modal's metadata) carry."""
    return f"{period_label}|{subject_kind}|{subject}"


def parse_answer_value(value: str) -> tuple[str, str, str]:
    """The inverse of ``answer_value`` for a value from the client; nothing found there is trusted."""
    period_label, _, rest = value.partition("|")
    subject_kind, _, subject = rest.partition("|")
    return period_label[:16], subject_kind[:8], subject[:64]


@dataclass(frozen=True)
class AppealMessenger:
    reviews: ReviewMessenger  # its language, local time and DM shape serve appeals too

    @property
    def services(self) -> Services:
        return self.reviews.services

    def _say(self, key: str, to: str, **params: Any) -> Mrkdwn:
        return self.services.renderer.mrkdwn(key, self.reviews.language(to), **params)

    def subject_name(self, subject_kind: str, subject: str, language: Language) -> str:
        """A team's name, or a person's name (else a mention)."""
        if subject_kind == "team":
            team = self.services.config.team_by_key.get(subject)
            return team.name.in_language(language) if team is not None else subject
        return person_named(self.services.config, subject)

    def result_to_answer(self, answer: str, user: str) -> ClosedResult:
        """The closed result a Confirm / Appeal button or the appeal modal names (``answer_value``, from
        the client), if ``user`` may still answer it; AppealError otherwise."""
        period_label, subject_kind, subject = parse_answer_value(answer)
        services = self.services
        return use.result_to_answer(
            services.engine,
            config=services.config,
            period_label=period_label,
            subject_kind=subject_kind,
            subject=subject,
            user=user,
            now=services.clock(),
        )

    def result_text(self, result: ClosedResult, language: Language) -> Mrkdwn:
        return self.services.renderer.render("appeal_result.txt.j2", language=language, result=result)

    # after a close: Confirm / Appeal

    def send_invitations(self) -> None:
        """Opens the window of each period closed just now, and asks each assessed lead and person of an
        open window to confirm or appeal, once each."""
        services = self.services
        for window in use.open_windows(services.engine, config=services.config, now=services.clock()):
            for invitation in use.invitations(services.engine, config=services.config, window=window):
                for user in invitation.users:
                    subject = self._invitation_subject(invitation, user)
                    if not self.reviews.sender.settled("appeal_invite", None, subject):
                        self.reviews.sender.send(self.invitation(invitation, user))

    @staticmethod
    def _invitation_subject(invitation: Invitation, user: str) -> str:
        result = invitation.result
        return f"{invitation.window.period_label}:{result.subject_kind}:{result.subject}:{user}"

    def invitation(self, invitation: Invitation, user: str) -> Outgoing:
        language, result = self.reviews.language(user), invitation.result
        period = invitation.window.period_label
        text = self._say(
            "appeals.invite",
            user,
            period=period,
            subject=self.subject_name(result.subject_kind, result.subject, language),
            closes=self.reviews.local_time(invitation.window.closes_at, user),
        )
        value = answer_value(period, result.subject_kind, result.subject)
        buttons: list[Button] = [
            ("appeal_confirm", "appeals.confirm", value, "primary"),
            ("appeal_open", "appeals.appeal", value, None),
        ]
        return self.reviews.dm(
            kind="appeal_invite",
            subject=self._invitation_subject(invitation, user),
            to=user,
            text=text,
            more=self.result_text(result, language),
            buttons=buttons,
        )

    # an appeal: to the deciders, reminders, the appellant told of each step

    def appeal_text(self, appeal: Appeal, to: str) -> Mrkdwn:
        language = self.reviews.language(to)
        current = use.item_of(self.services.engine, appeal=appeal)
        return self.services.renderer.render(
            "appeal.txt.j2",
            language=language,
            appeal=appeal,
            subject=self.subject_name(appeal.subject_kind, appeal.subject, language),
            appellant=mention(appeal.by_user),
            current=item_value(current),
            deadline=self.reviews.local_time(appeal.decide_by, to) if appeal.decide_by else "-",
            events=use.events(self.services.engine, appeal_id=appeal.id or 0),
        )

    @staticmethod
    def _decider_buttons(appeal: Appeal) -> list[Button]:
        """The steps still open: Take up while submitted, then Uphold / Reject; none once decided."""
        take_up: list[Button] = [("appeal_take_up", "appeals.take_up", appeal.id, "primary")]
        decide: list[Button] = [
            ("appeal_uphold", "appeals.uphold", appeal.id, None),
            ("appeal_reject", "appeals.reject", appeal.id, "danger"),
        ]
        return {"submitted": take_up + decide, "under_review": decide}.get(appeal.state, [])

    def send_to_deciders(self, appeal: Appeal) -> None:
        """The appeal to each of management and HR (but its own appellant), once each."""
        for decider in deciders(self.services.config):
            subject = f"{appeal.id}:{decider}"
            if decider == appeal.by_user or self.reviews.sender.settled("appeal_decide", None, subject):
                continue
            text = self._say(
                "appeals.to_decide", decider, period=appeal.period_label, appellant=mention(appeal.by_user)
            )
            self.reviews.sender.send(
                self.reviews.dm(
                    kind="appeal_decide",
                    subject=subject,
                    to=decider,
                    text=text,
                    more=self.appeal_text(appeal, decider),
                    buttons=self._decider_buttons(appeal),
                )
            )

    def send_reminders(self) -> int:
        """Each decider's reminder of each undecided appeal (``appeals.remind_days_before`` its deadline),
        once each; returns how many went out now."""
        services, sent = self.services, 0
        for appeal in use.undecided(services.engine):
            self.send_to_deciders(appeal)  # an appeal whose sender died after storing it
            days = due_reminder(
                appeal, remind_days_before=services.config.appeals.remind_days_before, now=services.clock()
            )
            if days is None:
                continue
            for decider in deciders(services.config):
                subject = f"{appeal.id}:{decider}:d{days}"
                if decider == appeal.by_user or self.reviews.sender.settled("appeal_reminder", None, subject):
                    continue
                deadline = self.reviews.local_time(appeal.decide_by, decider) if appeal.decide_by else "-"
                text = self._say("appeals.reminder", decider, period=appeal.period_label, deadline=deadline)
                message = self.reviews.dm(
                    kind="appeal_reminder",
                    subject=subject,
                    to=decider,
                    text=text,
                    more=self.appeal_text(appeal, decider),
                    buttons=self._decider_buttons(appeal),
                )
                sent += self.reviews.sender.send(message) == "sent"
        return sent

    def tell_appellant(self, appeal: Appeal) -> None:
        """The appellant hears of the appeal's new state and its reason, once per state."""
        to = appeal.by_user
        text = self._say(f"appeals.now_{appeal.state}", to, period=appeal.period_label)
        self.reviews.sender.send(
            self.reviews.dm(
                kind="appeal_state",
                subject=f"{appeal.id}:{appeal.state}",
                to=to,
                text=text,
                more=self.appeal_text(appeal, to),
                buttons=[],
            )
        )

    def after_appeal(self, appeal: Appeal) -> None:
        """The appeal goes to the deciders, and the result's Confirm / Appeal DMs lose their buttons."""
        self.send_to_deciders(appeal)
        self.redraw_invitations(appeal)

    def after_decision(self, appeal: Appeal) -> None:
        """Every decider's DM of the appeal is redrawn and the appellant told; upheld, the corrected
        revision's final scorecard replies in the thread of the period's first one, and HR gets the
        revised results file (bot/close_delivery.py; the jobs' catch-up sends them should this fail)."""
        self.redraw_for_deciders(appeal)
        self.tell_appellant(appeal)
        if appeal.state == "upheld":
            deliver(self.services, self.reviews.sender, appeal.period_label)

    # redrawn once answered or decided (chat.update is idempotent: no ledger entry of its own)

    def _redraw(self, kind: str, subject: str, message: Outgoing) -> None:
        """The first part of a delivered DM replaced by ``message``'s (its ts is the ledger's)."""
        posted = self.reviews.sender.sent_ts(kind, None, subject)
        if posted is not None:
            self.reviews.sender.update(channel=posted[0], ts=posted[1], text=message.text, blocks=message.blocks)

    def redraw_for_deciders(self, appeal: Appeal) -> None:
        """Each decider's DM of the appeal (and each reminder of it) says who moved it to its state, with
        only the buttons that still apply: after the take-up Uphold / Reject, after a decision none."""
        steps = use.events(self.services.engine, appeal_id=appeal.id or 0)
        by = mention(steps[-1].by_user if steps else appeal.decided_by or "-")
        remind = self.services.config.appeals.remind_days_before
        for decider in deciders(self.services.config):
            subjects = [
                ("appeal_decide", f"{appeal.id}:{decider}"),
                *(("appeal_reminder", f"{appeal.id}:{decider}:d{days}") for days in remind),
            ]
            text = self._say(
                f"appeals.moved_{appeal.state}",
                decider,
                period=appeal.period_label,
                appellant=mention(appeal.by_user),
                user=by,
            )
            for kind, subject in subjects:
                message = self.reviews.dm(
                    kind=kind,
                    subject=subject,
                    to=decider,
                    text=text,
                    more=self.appeal_text(appeal, decider),
                    buttons=self._decider_buttons(appeal),
                )
                self._redraw(kind, subject, message)

    def redraw_invitations(self, answer: Appeal) -> None:
        """Each Confirm / Appeal DM of the answered result (a team's every lead) says who confirmed or
        appealed it, without the buttons: a result is answered once."""
        frozen = close_use_cases.frozen(self.services.engine, period_label=answer.period_label)
        results = frozen[1] if frozen is not None else []
        result = next(
            (one for one in results if (one.subject_kind, one.subject) == (answer.subject_kind, answer.subject)), None
        )
        how = "confirmed" if answer.state == "confirmed" else "appealed"
        for user in assessed_users(self.services.config, subject_kind=answer.subject_kind, subject=answer.subject):
            language = self.reviews.language(user)
            subject = f"{answer.period_label}:{answer.subject_kind}:{answer.subject}:{user}"
            text = self._say(
                f"appeals.answered_{how}",
                user,
                period=answer.period_label,
                subject=self.subject_name(answer.subject_kind, answer.subject, language),
                user=mention(answer.by_user),
            )
            more = self.result_text(result, language) if result is not None else None
            message = self.reviews.dm(kind="appeal_invite", subject=subject, to=user, text=text, more=more, buttons=[])
            self._redraw("appeal_invite", subject, message)

    # the scheduler's job body

    def tick(self) -> None:
        """Everything due, each message once (the ledger), so every replica may run it."""
        self.send_invitations()
        self.send_reminders()
