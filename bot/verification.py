"""Verified data in Slack, every message through the delivery ledger: the verifiers' daily list (in each
verifier's zone, once a day, nothing when nothing waits), the list `/kpi verify` answers, the query that
opens a thread between the verifier and the lead, and the thread's note when a correction answers it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.webhook import WebhookClient
from sqlmodel import Session, col, select

from bot.forms import as_id
from bot.mrkdwn import Mrkdwn, escape, mention
from bot.render import format_value
from bot.sender import NETWORK_ERRORS, Outgoing, Sender
from bot.services import Services
from kpi_core import verification_use_cases as use
from kpi_core.access import access_for
from kpi_core.config import Language
from kpi_core.config_verification import MAX_LISTED
from kpi_core.models import Delivery, Submission
from kpi_core.review_cycles import zone_of
from kpi_core.verification import Waiting
from kpi_core.verification_models import SubmissionVerification

logger = logging.getLogger(__name__)

#: the measures an item names (the rest are counted), and the most characters of one item's text
ITEM_MEASURES, ITEM_CHARS = 6, 600
QUERY_KIND, ANSWER_KIND, DAILY_KIND = "verification_query", "verification_answer", "verification_daily"


Message = tuple[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Listed:
    """What a list message showed, carried in each of its buttons' values: Slack sends an ephemeral
    message's blocks back to nobody, so a click redraws the list from this (and the database)."""

    ids: tuple[int, ...]
    total: int
    more: int

    def value(self, submission_id: int) -> str:
        return f"{submission_id}|{self.total}|{self.more}|{','.join(str(key) for key in self.ids)}"


def clicked(value: object) -> tuple[int, Listed | None]:
    """A Verify / Query button's submission id (0 when it cannot be one) and the list it was in (None when
    the value, from the client, does not say so readably: then nothing is redrawn)."""
    text = value if isinstance(value, str) else ""
    head, _, rest = text.partition("|")
    submission_id = as_id(head)
    parts = rest.split("|")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts[:2]):
        return submission_id, None
    ids = tuple(as_id(key) for key in parts[2].split(",")[:MAX_LISTED])
    if submission_id not in ids or 0 in ids:
        return submission_id, None
    return submission_id, Listed(ids, min(int(parts[0][:9]), 10**9), min(int(parts[1][:9]), 10**9))


@dataclass(frozen=True)
class Where:
    """The list message clicked: an ephemeral answer's response_url, or a DM's channel and ts."""

    response_url: str | None = None
    channel: str | None = None
    ts: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Where:
        container = body.get("container") or {}
        if container.get("is_ephemeral"):
            url = body.get("response_url")
            return cls(response_url=url if isinstance(url, str) else None)
        channel, ts = container.get("channel_id"), container.get("message_ts")
        return cls(channel=channel if isinstance(channel, str) else None, ts=ts if isinstance(ts, str) else None)

    def metadata(self) -> dict[str, str]:
        """For the query modal's private_metadata: the list is redrawn once the question is sent."""
        return {key: value for key, value in vars(self).items() if isinstance(value, str)}

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> Where:
        """The inverse of ``metadata``, from the client: whatever is not text is left out."""
        fields = ("response_url", "channel", "ts")
        return cls(**{key: value for key in fields if isinstance(value := metadata.get(key), str)})


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

    def list_blocks(self, items: list[Waiting], *, language: Language, total: int, more: int) -> list[dict[str, Any]]:
        listed = Listed(tuple(item.submission.id or 0 for item in items), total, more)
        return self._blocks(
            listed, [(item.submission.id or 0, self.item_text(item, language)) for item in items], {}, language
        )

    def _blocks(
        self, listed: Listed, texts: list[tuple[int, Mrkdwn]], states: dict[int, Mrkdwn], language: Language
    ) -> list[dict[str, Any]]:
        """The list: each item's text, then its Verify / Query buttons (whose values carry ``listed``, to
        redraw it) or, once acted on, its ``states`` line."""
        renderer = self.services.renderer
        title = renderer.mrkdwn("verification.list_title", language, count=listed.total)
        more_text = renderer.mrkdwn("verification.more", language, count=listed.more) if listed.more else None
        return renderer.blocks(
            "verification_list",
            language=language,
            title=title,
            items=[(key, text, listed.value(key), states.get(key)) for key, text in texts],
            more=more_text,
        )

    def redrawn(self, listed: Listed, *, language: Language) -> Message:
        """The list as it was shown, but each item verified or queried since shows that state and who
        in place of its buttons (a queried item answered by a correction waits again: buttons again)."""
        ids = list(listed.ids)
        with Session(self.services.engine) as session:
            rows = session.exec(
                select(SubmissionVerification).where(col(SubmissionVerification.submission_id).in_(ids))
            )
            states = {
                row.submission_id: self.services.renderer.mrkdwn(
                    f"verification.now_{row.state}", language, user=mention(row.changed_by)
                )
                for row in rows
                if row.state in ("verified", "queried")
            }
        texts = []
        for key in ids:
            held = use.holding_of(self.services.engine, config=self.services.config, submission_id=key)
            texts.append((key, self.item_text(held, language) if held is not None else Mrkdwn(f"*#{key}*")))
        title = self.services.renderer.mrkdwn("verification.list_title", language, count=listed.total)
        return title, self._blocks(listed, texts, states, language)

    def redraw(self, where: Where, listed: Listed, *, verifier: str, language: Language) -> bool:
        """Edits the list message clicked: a daily DM with chat.update (only one the ledger recorded as
        this verifier's list), an ephemeral ``/kpi verify`` answer through its response_url. False when
        there was no such message to edit."""
        if where.response_url is not None:
            if not self._ours(where.response_url):
                return False
            text, blocks = self.redrawn(listed, language=language)
            try:
                WebhookClient(where.response_url).send(text=text, blocks=blocks, replace_original=True)
            except NETWORK_ERRORS as error:
                logger.warning("could not redraw the verification list of %s: %s", verifier, error)
            return True
        if not (where.channel and where.ts and self._daily_list(verifier, where.channel, where.ts)):
            return False
        text, blocks = self.redrawn(listed, language=language)
        self.sender.update(channel=where.channel, ts=where.ts, text=text, blocks=blocks)
        return True

    def _ours(self, url: str) -> bool:
        """Slack's response URLs (or, in tests, the Web API's host): never a URL a client could choose."""
        origin, target = urlsplit(self.sender.client.base_url), urlsplit(url)
        slack = target.scheme == "https" and target.hostname == "hooks.slack.com"
        return slack or (target.scheme, target.netloc) == (origin.scheme, origin.netloc)

    def _daily_list(self, verifier: str, channel: str, ts: str) -> bool:
        query = select(Delivery.id).where(
            Delivery.kind == DAILY_KIND,
            Delivery.channel == channel,
            Delivery.ts == ts,
            col(Delivery.subject).startswith(f"{verifier}:"),
        )
        with Session(self.services.engine) as session:
            return session.exec(query).first() is not None

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
            (title, self.list_blocks(chunk, language=language, total=total, more=total - len(items) if last else 0))
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
        blocks = self.list_blocks(items, language=language, total=total, more=total - len(items))
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
