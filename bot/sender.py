"""Sends messages through the delivery ledger: claim, post (with the delivery key in the message's
metadata), mark sent. A permanent Slack error is recorded and shown to the admins; a transient one
leaves the claim pending, to be retried once it goes stale. A message too long for one post goes out as
parts (the first in the channel, the others in its thread), each with its own ledger entry; the whole
counts as sent only once every part is."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import Any, Literal

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.mrkdwn import escape
from kpi_core import ledger
from kpi_core.isolation import ComputeFailure

logger = logging.getLogger(__name__)

METADATA_EVENT = "kpi_bot_delivery"
#: Slack errors that a later attempt can get past; any other error code (msg_blocks_too_long,
#: invalid_blocks, invalid_arguments, channel_not_found, not_in_channel, is_archived, missing_scope...)
#: says the message itself or the app's access is wrong, so retrying every catch-up would never end:
#: it is marked failed and the admins are told, once.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
#: The network, not Slack: the answer (and so whether Slack posted) is unknown.
NETWORK_ERRORS = (OSError, HTTPException)
Outcome = Literal["sent", "found", "skipped", "failed", "retry"]
HISTORY_PAGES = 5  # at most 1,000 recent messages are searched for a crashed sender's post


@dataclass(frozen=True)
class Chart:
    """A PNG posted in the thread of its message; rendered only when its upload is actually claimed."""

    render: Callable[[], bytes | None]
    filename: str
    title: str


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver exactly once: ``kind``, ``team`` and ``subject`` make its ledger key.
    ``continued``: the blocks of its further parts (bot.render.message_parts), replies in its thread."""

    kind: str
    team: str | None
    subject: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    chart: Chart | None = None
    #: teams the message could not compute (it says so); the job that sends it tells the admins
    failures: tuple[ComputeFailure, ...] = ()
    continued: list[list[dict[str, Any]]] = field(default_factory=list)


@dataclass
class Sender:
    engine: sa.Engine
    clock: Callable[[], datetime]
    client: WebClient
    owner: str  # this process's name in the ledger
    admins: Sequence[str] = ()  # told by DM of what fails for good
    stale_after: timedelta = timedelta(minutes=5)

    def send_all(self, messages: list[Outgoing]) -> list[Outcome]:
        """Posts every message first, then their charts: a chart takes tens of milliseconds to render,
        and a slow chart should not hold back the next team's digest."""
        from bot.chart_pool import prerendered  # imports this module

        outcomes = [self.send(message, with_chart=False) for message in messages]
        due = [message for message in messages if message.chart is not None and not self._chart_settled(message)]
        for message in prerendered(due):
            self.upload_chart(message)
        return outcomes

    def settled(self, kind: str, team: str | None, subject: str, *, with_chart: bool = False) -> bool:
        """Whether the delivery is done, so the caller need not even build it: sent (every part of a long
        message, and, ``with_chart``, its chart too), or failed for good (a message that never went out
        gets no chart either)."""
        row = ledger.find(self.engine, key=ledger.delivery_key(kind, team, subject))
        if row is None or row.state == ledger.PENDING:
            return False
        if row.state == ledger.FAILED or not with_chart:
            return True
        return self.settled(f"{kind}_chart", team, subject)

    def _chart_settled(self, message: Outgoing) -> bool:
        return self.settled(message.kind, message.team, message.subject, with_chart=True)

    def send(self, message: Outgoing, *, with_chart: bool = True) -> Outcome:
        outcome = self._send_parts(message) if message.continued else self._post(message)
        if with_chart and outcome in ("sent", "found"):
            # after a takeover too: the dead sender may have died before the upload (it has its own claim)
            self.upload_chart(message)
        return outcome

    def _send_parts(self, message: Outgoing) -> Outcome:
        """A long message: its ledger entry (the whole) is claimed first and marked sent, with the first
        part's ts, once every part is; each part is a delivery of its own (``<key>#part2``), posted in
        order, the others in the first's thread. Run again after a crash, it skips the parts the ledger
        has as sent, and a stale part's taker looks for it in the channel or thread before posting."""
        now = self.clock()
        claim = self._claim(message.kind, message.team, message.subject)
        if claim is None:
            logger.info(
                "delivery already claimed or sent %s", ledger.delivery_key(message.kind, message.team, message.subject)
            )
            return "skipped"
        parts = [message.blocks, *message.continued]
        first: tuple[str, str] | None = None
        for number, blocks in enumerate(parts, start=1):
            part = replace(
                message,
                subject=ledger.part_subject(message.subject, number),
                text=message.text if number == 1 else f"{message.text} ({number}/{len(parts)})",
                blocks=blocks,
                thread_ts=first[1] if first else message.thread_ts,
                chart=None,
                continued=[],
            )
            self._post(part)
            posted = self.sent_ts(part.kind, part.team, part.subject)
            if posted is None:
                row = ledger.find(self.engine, key=ledger.delivery_key(part.kind, part.team, part.subject))
                if row is not None and row.state == ledger.FAILED:
                    # the part's failure told the admins; the whole will not be completed either
                    ledger.mark_failed(self.engine, key=claim.key, error=f"part {number}: {row.error}")
                    return "failed"
                # pending (its answer lost, or another sender on it): the whole stays pending too, and
                # the catch-up after both claims go stale picks up from this part
                return "retry"
            first = first or posted
        assert first is not None  # parts holds at least the first
        ledger.mark_sent(self.engine, key=claim.key, now=now, channel=first[0], ts=first[1])
        logger.info("delivered %s in %d parts ts=%s", claim.key, len(parts), first[1])
        return "sent"

    def _post(self, message: Outgoing) -> Outcome:
        """One message: claimed, looked for in Slack when a dead sender's claim is taken over, posted."""
        now = self.clock()
        claim = self._claim(message.kind, message.team, message.subject)
        log = {
            "key": ledger.delivery_key(message.kind, message.team, message.subject),
            "team": message.team,
        }
        if claim is None:
            logger.info("delivery already claimed or sent %s", log)
            return "skipped"
        if claim.taken_over:
            try:
                found = self._find_posted(message, claim.key)
            except (SlackApiError, *NETWORK_ERRORS) as error:
                # Not knowing whether the dead sender's message is there, posting could double it.
                logger.warning("cannot read %s history to check %s (%s); it stays pending", message.channel, log, error)
                return "retry"
            if found is not None:
                # The crashed sender's message did reach Slack: record it instead of posting it again.
                ledger.mark_sent(self.engine, key=claim.key, now=now, channel=message.channel, ts=found)
                logger.info("delivery found in channel history %s", log)
                return "found"
        try:
            posted = self.client.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks or None,
                thread_ts=message.thread_ts,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": claim.key}},
                unfurl_links=False,
            )
        except SlackApiError as error:
            return self._failed(claim.key, message, error)
        except NETWORK_ERRORS as error:
            # Slack may have posted before the answer was lost: never post again here. The claim goes
            # stale, and its taker looks for the message in the channel before posting (exactly once).
            logger.warning(
                "delivery %s to %s got no answer (%r); it is checked and retried when its claim expires",
                claim.key,
                message.channel,
                error,
            )
            return "retry"
        ts = str(posted["ts"])
        ledger.mark_sent(self.engine, key=claim.key, now=now, channel=str(posted["channel"]), ts=ts)
        logger.info("delivered %s ts=%s", log, ts)
        return "sent"

    def _claim(self, kind: str, team: str | None, subject: str) -> ledger.Claim | None:
        return ledger.claim(
            self.engine,
            kind=kind,
            team=team,
            subject=subject,
            owner=self.owner,
            now=self.clock(),
            stale_after=self.stale_after,
        )

    def sent_ts(self, kind: str, team: str | None, subject: str) -> tuple[str, str] | None:
        """The channel and ts of a delivered message, e.g. to reply in an alert's thread."""
        row = ledger.find(self.engine, key=ledger.delivery_key(kind, team, subject))
        if row is None or row.state != ledger.SENT or row.ts is None or row.channel is None:
            return None
        return row.channel, row.ts

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Edits a posted message (idempotent, so it needs no ledger entry)."""
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or None)
        except (SlackApiError, *NETWORK_ERRORS) as error:
            logger.warning("could not update message %s in %s: %s", ts, channel, error)

    def upload_chart(self, message: Outgoing) -> None:
        """Uploads the message's chart into its thread, once, after the message itself was delivered."""
        posted = self.sent_ts(message.kind, message.team, message.subject)
        if message.chart is None or posted is None:
            return
        channel, ts = posted
        chart_kind = f"{message.kind}_chart"
        claim = self._claim(chart_kind, message.team, message.subject)
        if claim is None:
            return
        if claim.taken_over:
            try:
                shared = self._chart_in_thread(channel, ts, message.chart.filename)
            except (SlackApiError, *NETWORK_ERRORS) as error:
                logger.warning("cannot read the thread to check chart %s (%s); it stays pending", claim.key, error)
                return
            if shared:  # the upload went through, only its answer was lost: record it, do not upload again
                ledger.mark_sent(self.engine, key=claim.key, now=self.clock(), channel=channel, ts=ts)
                return
        png = message.chart.render()
        try:
            if png is not None:
                self.client.files_upload_v2(
                    channel=channel,
                    content=png,
                    filename=message.chart.filename,
                    title=message.chart.title,
                    thread_ts=ts,
                )
        except SlackApiError as error:
            self._failed(claim.key, message, error)
            return
        except NETWORK_ERRORS as error:
            logger.warning(
                "chart %s got no answer (%r); it is checked and retried when its claim expires", claim.key, error
            )
            return
        ledger.mark_sent(self.engine, key=claim.key, now=self.clock(), channel=channel, ts=ts)

    def _chart_in_thread(self, channel: str, ts: str, filename: str) -> bool:
        """Whether the message's thread already holds the chart: files carry no metadata, so the file
        name (which names the team and period) identifies it."""
        page = self.client.conversations_replies(channel=channel, ts=ts, limit=200)
        replies: list[dict[str, Any]] = page.get("messages", [])
        return any(shared.get("name") == filename for reply in replies for shared in reply.get("files") or [])

    def _find_posted(self, message: Outgoing, key: str) -> str | None:
        """The ts of a message carrying ``key`` in its metadata: among the thread's replies for a reply
        (channel history leaves replies out), else among the channel's last two days, page by page.
        A failure to read raises: "not found" must mean Slack said so."""
        oldest = (self.clock() - timedelta(days=2)).timestamp()
        cursor = None
        for _ in range(HISTORY_PAGES):
            if message.thread_ts:
                page = self.client.conversations_replies(
                    channel=message.channel,
                    ts=message.thread_ts,
                    limit=200,
                    cursor=cursor,
                    include_all_metadata=True,
                )
            else:
                page = self.client.conversations_history(
                    channel=message.channel,
                    oldest=f"{oldest:.6f}",
                    limit=200,
                    cursor=cursor,
                    include_all_metadata=True,
                )
            posted_messages: list[dict[str, Any]] = page.get("messages", [])
            for posted in posted_messages:
                metadata = posted.get("metadata") or {}
                if metadata.get("event_type") == METADATA_EVENT and metadata.get("event_payload", {}).get("key") == key:
                    return str(posted["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _failed(self, key: str, message: Outgoing, error: SlackApiError) -> Outcome:
        code = str(error.response.get("error", "unknown_error"))
        if is_transient(error):
            logger.warning(
                "delivery %s to %s failed (%s); it is retried when its claim expires",
                key,
                message.channel,
                code,
            )
            return "retry"
        ledger.mark_failed(self.engine, key=key, error=code)
        logger.error("delivery %s for team %s to %s failed for good: %s", key, message.team, message.channel, code)
        if message.kind != "notice":
            self.notify_admins(
                subject=key,
                text=f":warning: KPI Bot could not post `{escape(key)}` to <#{message.channel}>: `{escape(code)}`",
            )
        return "failed"

    def notify_admins(self, *, subject: str, text: str) -> None:
        """A DM to every admin, once per subject."""
        for admin in self.admins:
            self.send(Outgoing(kind="notice", team=admin, subject=subject, channel=admin, text=text))


def is_transient(error: SlackApiError) -> bool:
    """Whether a later attempt may succeed: a transient code, or an HTTP 429 or 5xx (whose body may not
    even be Slack's JSON, e.g. a gateway's HTML page)."""
    status = error.response.status_code
    return str(error.response.get("error", "")) in TRANSIENT_ERRORS or status == 429 or status >= 500
