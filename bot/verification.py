"""Verified data in Slack, every message through the delivery ledger: the verifiers' daily list (in each
verifier's zone, once a day, nothing when nothing waits), the list `/kpi verify` answers, the query that
opens a thread between the verifier and the lead, and the thread's note when a correction answers it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from bot.mrkdwn import Mrkdwn, escape, mention
from bot.render import format_value
from bot.sender import Outgoing, Sender
from bot.services import Services
from kpi_core import verification_use_cases as use
from kpi_core.access import access_for
from kpi_core.config import Language
from kpi_core.config_verification import MAX_LISTED
from kpi_core.models import Submission
from kpi_core.review_cycles import zone_of
from kpi_core.verification import Waiting
from kpi_core.verification_models import SubmissionVerification

logger = logging.getLogger(__name__)

#: the measures an item names (the rest are counted), and the most characters of one item's text
ITEM_MEASURES, ITEM_CHARS = 6, 600
QUERY_KIND, ANSWER_KIND, DAILY_KIND = "verification_query", "verification_answer", "verification_daily"


@dataclass(frozen=True)
class VerificationMessenger:
    services: Services
    sender: Sender

    def language(self, user: str) -> Language:
        return access_for(self.services.config, user).language

    # the list of what waits

    def item_text(self, item: Waiting, language: Language) -> Mrkdwn:
        """One waiting submission: id, team, form, period; who and when; what it holds."""
        config, renderer = self.services.config, self.services.renderer
        submission = item.submission
        team = config.team_by_key.get(submission.team or "")
        form = config.form_by_key.get(submission.form or "")
        zone = team.tz if team is not None else UTC
        head = renderer.mrkdwn(
            "verification.item",
            language,
            id=submission.id,
            team=team.name.in_language(language) if team is not None else "-",
            form=form.title.in_language(language) if form is not None else submission.source,
            period=item.period or f"{item.first_day} – {item.last_day}",
        )
        by = renderer.mrkdwn(
            "verification.by",
            language,
            user=mention(submission.submitted_by),
            when=f"{submission.submitted_at.astimezone(zone):%Y-%m-%d %H:%M}",
        )
        values = [
            f"{config.measure_by_key[key].name.in_language(language) if key in config.measure_by_key else key}"
            f" {format_value(value, '', no_data='-').strip()}"
            for key, value in list(item.values.items())[:ITEM_MEASURES]
        ]
        if len(item.values) > ITEM_MEASURES:
            values.append(f"+{len(item.values) - ITEM_MEASURES}")
        held = " · ".join(values) if values else renderer.text("verification.records", language, rows=item.rows)
        text = f"{head}\n{by} · {escape(held)}"
        return Mrkdwn(text if len(text) <= ITEM_CHARS else text[: ITEM_CHARS - 1] + "…")

    def list_blocks(self, items: list[Waiting], *, language: Language, title: str, more: int) -> list[dict[str, Any]]:
        renderer = self.services.renderer
        more_text = renderer.mrkdwn("verification.more", language, count=more) if more else None
        return renderer.blocks(
            "verification_list",
            language=language,
            title=title,
            items=[(item.submission.id, self.item_text(item, language)) for item in items],
            more=more_text,
        )

    def pages(self, verifier: str, *, pages: int) -> list[tuple[str, list[dict[str, Any]]]]:
        """`/kpi verify`'s answer: the waiting submissions in parts of MAX_LISTED, at most ``pages`` parts,
        the last counting what did not fit; one part saying so when nothing waits."""
        language = self.language(verifier)
        config = self.services.config
        items, total = use.waiting(self.services.engine, config=config, verifier=verifier, limit=MAX_LISTED * pages)
        title = self.services.renderer.mrkdwn("verification.list_title", language, count=total)
        if not items:
            return [(self.services.renderer.text("verification.nothing", language), [])]
        chunks = [items[start : start + MAX_LISTED] for start in range(0, len(items), MAX_LISTED)]
        return [
            (title, self.list_blocks(chunk, language=language, title=title, more=total - len(items) if last else 0))
            for last, chunk in ((number == len(chunks), chunk) for number, chunk in enumerate(chunks, start=1))
        ]

    # the daily DM

    def send_daily(self) -> int:
        """Each verifier's list of the day, from ``verification.dm_at`` in their zone, once (the ledger),
        when something waits for them; returns how many went out now."""
        config, now = self.services.config, self.services.clock()
        sent = 0
        for verifier in config.roles.verifiers:
            local = now.astimezone(zone_of(config, verifier))
            subject = f"{verifier}:{local.date().isoformat()}"
            if local.time() < config.verification.dm_at or self.sender.settled(DAILY_KIND, None, subject):
                continue
            message = self.daily(verifier, subject)
            if message is not None:
                sent += self.sender.send(message) == "sent"
        return sent

    def daily(self, verifier: str, subject: str) -> Outgoing | None:
        config, language = self.services.config, self.language(verifier)
        shown = config.verification.dm_items
        items, total = use.waiting(self.services.engine, config=config, verifier=verifier, limit=shown)
        if not items:
            return None  # nothing waits: no DM today (a later tick may still find something)
        title = self.services.renderer.mrkdwn("verification.list_title", language, count=total)
        blocks = self.list_blocks(items, language=language, title=title, more=total - len(items))
        return Outgoing(kind=DAILY_KIND, team=None, subject=subject, channel=verifier, text=title, blocks=blocks)

    # the query and its thread

    def send_query(self, submission: Submission, verification: SubmissionVerification) -> list[str]:
        """Opens a conversation of the verifier and the lead (a group DM), where the exchange lives, with
        the question, what the submission holds and the lead's Correct button; returns who answers it."""
        config, renderer = self.services.config, self.services.renderer
        verifier = verification.queried_by or verification.changed_by
        leads = self._leads(submission)
        team = config.team_by_key.get(submission.team or "")
        language: Language = team.language if team is not None else "both"
        held = use.holding_of(self.services.engine, config=config, submission_id=submission.id or 0)
        channel = self.sender.client.conversations_open(users=",".join([verifier, *leads]))["channel"]["id"]
        what = self.item_text(held, language) if held is not None else Mrkdwn(f"#{submission.id}")
        intro = renderer.mrkdwn("verification.query_message", language, verifier=mention(verifier), id=submission.id)
        correctable = (
            submission.form in config.form_by_key and config.form_by_key[submission.form or ""].kind == "measures"
        )
        hint = renderer.text(
            "verification.query_correct_hint" if correctable else "verification.query_other_hint", language
        )
        blocks = renderer.blocks(
            "verification_query",
            language=language,
            intro=intro,
            what=what,
            question=verification.note or "",
            hint=hint,
            leads=Mrkdwn(" ".join(mention(lead) for lead in leads)),
            submission_id=submission.id if correctable else None,
        )
        stamp = f"{verification.queried_at or verification.changed_at:%Y%m%dT%H%M%S}"
        self.sender.send(
            Outgoing(
                kind=QUERY_KIND,
                team=submission.team,
                subject=f"{submission.id}:{stamp}",
                channel=channel,
                text=intro,
                blocks=blocks,
            )
        )
        return leads

    def _leads(self, submission: Submission) -> list[str]:
        """Who answers a query: the lead who submitted it, else the team's leads (an import's submitter is
        a name), else the admins (an import of several teams)."""
        config = self.services.config
        team = config.team_by_key.get(submission.team or "")
        if team is not None and submission.submitted_by in team.leads:
            return [submission.submitted_by]
        if team is not None and team.leads:
            return list(team.leads)
        return list(config.roles.admins)

    def tell_corrected(self, correction: Submission) -> None:
        """A reply in each query's thread that ``correction`` answered: the new values wait again."""
        for verification, submission in use.answered_by(self.services.engine, correction_id=correction.id or 0):
            stamp = f"{verification.queried_at or verification.changed_at:%Y%m%dT%H%M%S}"
            thread = self.sender.sent_ts(QUERY_KIND, submission.team, f"{submission.id}:{stamp}")
            if thread is None:
                logger.warning("no query thread for submission %s to tell of its correction", submission.id)
                continue
            team = self.services.config.team_by_key.get(submission.team or "")
            language: Language = team.language if team is not None else "both"
            text = self.services.renderer.mrkdwn(
                "verification.corrected",
                language,
                lead=mention(correction.submitted_by),
                id=submission.id,
                correction=correction.id,
                verifier=mention(verification.queried_by or ""),
            )
            self.sender.send(
                Outgoing(
                    kind=ANSWER_KIND,
                    team=submission.team,
                    subject=f"{submission.id}:{correction.id}",
                    channel=thread[0],
                    thread_ts=thread[1],
                    text=text,
                )
            )
