"""Errors raised by kpi_core.

KpiError
├── ConfigError            the YAML config is unreadable or inconsistent (names the file and field paths)
├── ExpressionSyntaxError  a formula is not plain arithmetic over measure names
├── PeriodError            a period label such as ``2026-W54`` cannot be parsed
├── ImportFileError        a CSV import was rejected (names the file, line and column); nothing was stored
├── AlreadyImported        a CSV file whose content is imported already (names that submission)
├── UnknownTeam            a team key that the config does not declare
├── SettingsError          a setting of the environment the process cannot run without
├── StorageUnavailable     the database cannot be reached or refuses writes for now; the transaction stored nothing
├── ReviewError            a 360° review or interview step that is refused (names why); nothing was stored
├── PeriodCloseError       a close, reopening or correction of a period, or a write into a closed period, is refused
└── AppealError            a confirmation, appeal or decision that is refused (names why); nothing was stored
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any


class KpiError(Exception):
    """Root of every error kpi_core raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config: where (a dotted field path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(KpiError):
    """The config file cannot be used; lists every problem found."""

    def __init__(self, *, file: str, problems: list[ConfigProblem]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  {file}: {problem}" for problem in problems)
        super().__init__(f"invalid config {file} ({len(problems)} problem(s)):\n{lines}")


class ExpressionSyntaxError(KpiError, ValueError):
    """The text is not plain arithmetic (+ - * / and parentheses) over names and numbers."""


class PeriodError(KpiError, ValueError):
    """A period label that is not an ISO week, a month, a quarter or a year."""

    def __init__(self, *, label: str, reason: str) -> None:
        self.label = label
        super().__init__(f"bad period {label!r}: {reason} (expected e.g. 2026-W40, 2026-09, 2026-Q3 or 2026)")


@dataclass(frozen=True)
class RowProblem:
    """One bad cell (or row) of an import file."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class ImportFileError(KpiError):
    """A CSV file was rejected as a whole; nothing of it was stored."""

    def __init__(self, *, file: str, problems: list[RowProblem], more: int = 0) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  {file}: {problem}" for problem in problems)
        tail = f"\n  ... and {more} more problem(s)" if more else ""
        super().__init__(f"rejected {file}, nothing was stored:\n{lines}{tail}")


class AlreadyImported(KpiError):
    """The same bytes are imported already (and not withdrawn); nothing was stored."""

    def __init__(self, *, file: str, earlier: str, submission_id: int) -> None:
        self.file = file
        self.submission_id = submission_id
        super().__init__(
            f"rejected {file}, nothing was stored: the same content is already imported as {earlier}; "
            f"import with --replace to replace it, or withdraw it with `kpi-bot submissions withdraw {submission_id}`"
        )


class UnknownTeam(KpiError, LookupError):
    """A team key that the config does not declare."""

    def __init__(self, *, team: str) -> None:
        self.team = team
        super().__init__(f"unknown team {team!r}")


class SettingsError(KpiError, ValueError):
    """A setting the process cannot run without (``SLACK_BOT_TOKEN`` for a command that posts)."""

    def __init__(self, *, setting: str, reason: str = "is not set") -> None:
        self.setting = setting
        super().__init__(f"{setting} {reason}")


class StorageUnavailable(KpiError):
    """The database is down, unreachable, locked or full: the transaction was rolled back; try again later."""

    def __init__(self, *, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the database is unavailable: {reason}")

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        # pickled by keyword (a report's worker process sends it back to the server, bot/answer_lane.py)
        return partial(StorageUnavailable, reason=self.reason), ()


#: What a refused review step says, by reason; bot/templates/strings.yaml has them as ``reviews.errors.<reason>``.
REVIEW_REASONS = {
    "bad_cycle": "{text!r} is not a review cycle: give a year (2026), maybe with quarterly, or a quarter (2026-Q4)",
    "bad_deadline": "{text!r} is not a deadline: give a date after today, such as 2026-12-15",
    "future_cycle": "cycle {cycle} has not begun yet",
    "cycle_exists": "cycle {cycle} was launched already",
    "no_cycle": "there is no review cycle {cycle}",
    "no_people": "the config names no people to review",
    "not_allowed": "only admins or HR may do this",
    "closed": "cycle {cycle} is closed",
    "not_closed": "cycle {cycle} is still open",
    "not_yours": "this is not yours to answer",
    "past_deadline": "the deadline of cycle {cycle} has passed",
    "not_a_person": "{user} is not among the people reviewed",
    "bad_peer": "{user} cannot be your peer (yourself, your superior or a subordinate rate you already)",
    "too_many_peers": "at most {count} peers",
    "not_recorded": "the interview has not been recorded yet",
    "not_confirmed": "the interview is not confirmed by both superiors yet",
    "done": "this is done already",
}


class ReviewError(KpiError):
    """A review or interview step that is refused; ``reason`` keys the message (REVIEW_REASONS)."""

    def __init__(self, *, reason: str, **params: object) -> None:
        self.reason = reason
        self.params = params
        super().__init__(REVIEW_REASONS[reason].format(**params))


class PeriodCloseError(KpiError):
    """A period close step, or a write dated inside a closed period, that is refused; the message says why."""

    def __init__(self, message: str, *, period: str) -> None:
        self.period = period
        super().__init__(message)


#: What a refused appeal step says, by reason; bot/templates/strings.yaml has them as ``appeals.errors.<reason>``.
APPEAL_REASONS = {
    "not_closed": "period {period} is not closed",
    "no_window": "period {period} is not open for appeals",
    "window_closed": "the appeal window of {period} closed on {closes}",
    "not_yours": "only the assessed lead or person may confirm or appeal this result",
    "answered": "this result was {state} already",
    "not_allowed": "only management or HR may decide appeals",
    "own_appeal": "you cannot decide your own appeal",
    "no_appeal": "there is no such appeal",
    "bad_step": "an appeal that is {state} cannot become {to}",
    "reason_required": "a reason is required",
    "unknown_item": "{item!r} is not an item of this scorecard",
    "bad_link": "{link!r} is not an http(s) link",
    "value_required": "an upheld appeal needs the corrected value",
    "not_corrected": "the closed result could not be corrected: {detail}",
}


class AppealError(KpiError):
    """A confirmation, appeal or decision that is refused; ``reason`` keys the message (APPEAL_REASONS)."""

    def __init__(self, *, reason: str, **params: object) -> None:
        self.reason = reason
        self.params = params
        super().__init__(APPEAL_REASONS[reason].format(**params))
