"""The messages of a period close, each sent exactly once through the delivery ledger: the final
scorecard in management's channel (key ``period_close:*:<period>``; a later revision, closed again after
a reopening or corrected by an upheld appeal, replies in its thread) and HR's results file of each
revision (CSV, in the thread of a short message in HR's channel). Closing sends them at once; the jobs'
catch-up sends whatever a crash or a restart left unsent (two replicas may both try: the ledger lets one
through).

Who sees what: the final scorecard shows each team's score, rank, grade, rank rewards and verified share
to management's channel; pay factors and personal results are only in HR's file (and ``kpi-bot export
results``, for operators)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.close_export import result_rows, results_csv
from bot.mrkdwn import mention
from bot.render import message_parts
from bot.sender import Chart, Outcome, Outgoing, Sender
from bot.services import Services
from kpi_core import appeal_use_cases, close_use_cases
from kpi_core.close_scoring import ClosedResult
from kpi_core.config import Config, Language
from kpi_core.period_close import Revision

KIND = "period_close"
HR_KIND = "period_close_hr"
REOPEN_KIND = "period_close_reopen"


def scorecard_channel(config: Config) -> str | None:
    """``period_close.channel``, else the quarterly scorecard schedule's channel."""
    schedule = config.schedules.get("quarterly_scorecard")
    return config.period_close.channel or (schedule.channel if schedule else None)


def scorecard_subject(revision: Revision) -> str:
    """The first revision's is the period label (the key other branches reply to); later ones name theirs."""
    return revision.period if revision.revision == 1 else f"{revision.period}:r{revision.revision}"


def hr_subject(revision: Revision) -> str:
    return f"{revision.period}:r{revision.revision}"


def final_scorecard_text(
    services: Services, revision: Revision, results: Sequence[ClosedResult], *, language: Language
) -> str:
    def reward_text(reward: Mapping[str, str]) -> str:
        if language == "both":
            return reward["en"] if reward["en"] == reward["zh"] else f"{reward['en']} / {reward['zh']}"
        return reward[language]

    config = services.config
    return services.renderer.render(
        "final_scorecard.txt.j2",
        language=language,
        scheme=config.scorecards[revision.scheme],
        period=revision.period,
        revision=revision,
        teams=[result for result in results if result.subject_kind == "team"],
        persons=sum(1 for result in results if result.subject_kind == "person"),
        reward_text=reward_text,
    )


def close_messages(
    services: Services,
    sender: Sender,
    revision: Revision,
    results: Sequence[ClosedResult],
    *,
    appeal_states: Mapping[tuple[str, str], str],
) -> list[Outgoing]:
    """The final scorecard (both languages, for management) and HR's results file, where configured."""
    config, messages = services.config, []
    channel = scorecard_channel(config)
    if channel is not None:
        text = final_scorecard_text(services, revision, results, language="both")
        first, *more = message_parts(text)
        thread = None
        if revision.revision > 1:
            original = sender.sent_ts(KIND, None, revision.period)
            thread = original[1] if original is not None and original[0] == channel else None
        messages.append(
            Outgoing(
                kind=KIND,
                team=None,
                subject=scorecard_subject(revision),
                channel=channel,
                text=text.splitlines()[0],
                blocks=first,
                continued=more,
                thread_ts=thread,
            )
        )
    hr_channel = config.period_close.hr_channel
    if hr_channel is not None:
        title = services.renderer.mrkdwn(
            "period_close.hr_title", "both", period=revision.period, revision=revision.revision
        )
        content = results_csv(result_rows(config, results, appeal_states=appeal_states)).encode("utf-8")
        messages.append(
            Outgoing(
                kind=HR_KIND,
                team=None,
                subject=hr_subject(revision),
                channel=hr_channel,
                text=title,
                # the file goes into the message's thread once the message is delivered, once (bot.sender)
                chart=Chart(
                    render=lambda: content,
                    filename=f"kpi-results-{revision.period}-r{revision.revision}.csv",
                    title=f"{revision.period} r{revision.revision}",
                ),
            )
        )
    return messages


def deliver(services: Services, sender: Sender, period_label: str) -> list[Outcome]:
    """Sends what the period's current revision still owes (nothing when it is open or all is sent)."""
    found = close_use_cases.frozen(services.engine, period_label=period_label)
    if found is None:
        return []
    revision, results = found
    if sender.settled(KIND, None, scorecard_subject(revision)) and sender.settled(
        HR_KIND, None, hr_subject(revision), with_chart=True
    ):
        return []
    states = appeal_use_cases.appeal_states(services.engine, period_label=revision.period)
    messages = close_messages(services, sender, revision, results, appeal_states=states)
    return [sender.send(message) for message in messages]


def reopen_notice(services: Services, sender: Sender, reopened: Revision) -> Outcome | None:
    """Who reopened the period and why, in the thread of its final scorecard, once per reopened revision
    (``period_close_reopen:*:<period>:r<n>``); None when no final scorecard was posted to reply to."""
    original = sender.sent_ts(KIND, None, reopened.period)
    if original is None:
        return None
    text = services.renderer.mrkdwn(
        "period_close.reopen_notice",
        "both",
        period=reopened.period,
        revision=reopened.revision,
        user=mention(reopened.made_by),
        reason=reopened.reason or "",
    )
    notice = Outgoing(
        kind=REOPEN_KIND,
        team=None,
        subject=f"{reopened.period}:r{reopened.revision}",
        channel=original[0],
        thread_ts=original[1],
        text=text,
    )
    return sender.send(notice)


def deliver_closed(services: Services, sender: Sender) -> None:
    """The catch-up: every closed period's final scorecard and results file not yet sent."""
    for label in close_use_cases.closed_labels(services.engine):
        deliver(services, sender, label)
