"""Jinja2 rendering of digests, reports and scorecards (one set of templates for Slack and the CLI).

Every value a template interpolates is escaped for Slack mrkdwn (bot/mrkdwn.py) by Jinja's autoescaping:
``finalize`` escapes it and hands Jinja a ``Mrkdwn``, which Jinja's own (HTML) escape leaves alone; text
written in the template itself is markup and stays as written. In the Block Kit templates ``tojson`` only
encodes JSON: a plain_text field is ``value | tojson``, a mrkdwn field is ``value | mrkdwn | tojson`` or a
``{% filter tojson %}`` block, whose interpolations are escaped like any other.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import yaml

from bot.digest_view import DigestView, KpiLine, Section, digest_view
from bot.mrkdwn import Mrkdwn, escape, mention
from kpi_core.config import Config, Language, Team
from kpi_core.display_limits import FORM_TITLE_MAX_CHARS
from kpi_core.isolation import ComputeFailure
from kpi_core.kpis import KpiResult
from kpi_core.reporting import Report
from kpi_core.scorecard import TeamScore

STATUS_ICONS = {"met": "✅", "missed": "⚠️", "breach": "🔴", "no_data": "▫️", "info": "•"}
MONEY_UNITS = {"CNY", "EUR", "USD"}
#: after a value that includes data not verified yet (strings.yaml verification.unverified_legend)
UNVERIFIED_MARK = "†"


class Renderer:
    """Renders the message templates in ``templates_dir`` for one config."""

    def __init__(self, *, templates_dir: Path, config: Config) -> None:
        self.config = config
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            undefined=jinja2.StrictUndefined,
            autoescape=True,  # with finalize: Slack's mrkdwn escaping, not HTML's
            finalize=escape,
            keep_trailing_newline=False,
        )
        self.environment.filters.update(tojson=to_json, mrkdwn=escape, escape=escape, e=escape, mention=mention)
        self.strings: dict[str, Any] = yaml.safe_load((templates_dir / "strings.yaml").read_text(encoding="utf-8"))

    def render(self, name: str, *, language: Language, **context: Any) -> Mrkdwn:
        template = self.environment.get_template(name)
        return Mrkdwn(
            template.render(
                t=lambda key, **params: self.text(key, language, **params),
                value=lambda number, unit: format_value(number, unit, no_data=self.text("no_data", language)),
                status_icon=STATUS_ICONS.__getitem__,
                names={kpi.key: kpi.name.in_language(language) for kpi in self.config.kpis},
                units={kpi.key: self.unit(kpi.unit, language) for kpi in self.config.kpis},
                team_names={team.key: team.name.in_language(language) for team in self.config.teams},
                goal=lambda key, kpi: self._goal(key, kpi, language),
                modal_title=lambda key: self.modal_title(key, language),
                language=language,
                **context,
            ).strip()
        )

    def scorecard(
        self,
        *,
        scheme_key: str,
        period: str,
        ranking: list[TeamScore],
        language: Language,
        failures: Sequence[ComputeFailure] = (),
    ) -> Mrkdwn:
        """A scheme's ranking; ``failures`` are the teams that could not be computed (named, not ranked)."""
        return self.render(
            "scorecard.txt.j2",
            language=language,
            scheme=self.config.scorecards[scheme_key],
            period=period,
            ranking=ranking,
            not_ranked=[self.config.team(failure.team).name.in_language(language) for failure in failures],
        )

    def digest_blocks(self, view: DigestView, *, title: str = "weekly_digest") -> list[dict[str, Any]]:
        """A digest (bot.digest_view) as Block Kit blocks in the team's language."""
        language = view.team.language
        names = {kpi.key: kpi.name.in_language(language) for kpi in self.config.kpis}
        return self.blocks(
            "digest",
            language=language,
            title=title,
            view=view,
            one_day=timedelta(days=1),
            group_name=lambda group: self.config.group_name(group).in_language(language),
            kpi_field=lambda line: self._kpi_field(line, language),
            not_reported_names=[names[key] for key in view.not_reported],
            mentions=[mention(lead) for lead in view.team.leads],
            submit_hints=[f"/kpi submit {form}" for form in view.missing_forms],
        )

    def report_blocks(
        self,
        *,
        team: Team,
        report: Report,
        previous: Report,
        now: datetime | None = None,
        unverified: Collection[str] = (),
    ) -> list[dict[str, Any]]:
        """A report (``/kpi report``, ``kpi-bot report``): the digest's layout over every KPI of the asked
        period, whatever its cadence, next to the previous period; ``now`` and ``unverified`` (the KPIs
        whose values include data not verified yet) as for bot.digest_view."""
        sections = [Section(report, previous, list(report.kpis))]
        view = digest_view(self.config, team, sections, now=now, unverified={report.period: unverified})
        return self.digest_blocks(view, title="report")

    def _kpi_field(self, line: KpiLine, language: Language) -> Mrkdwn:
        """One KPI's field: status and name; the value, precise enough to explain its status, with the
        target (and the alert threshold when breached); the previous period's value and the basis. Each
        piece is escaped for mrkdwn (names and units come from the config); the markup is ours."""
        kpi = self.config.kpi_by_key[line.key]
        result = line.result
        unit = self.unit(kpi.unit, language)
        limits = [limit for limit in (result.target, result.threshold) if limit is not None]
        value = format_value(result.value, unit, no_data=self.text("no_data", language), against=limits)
        parts = [
            f"*{escape(value)}*" + (f" {UNVERIFIED_MARK}" if line.unverified else ""),
            escape(self._goal(line.key, result, language)),
        ]
        if line.status == "breach" and result.threshold is not None:
            sign = "<" if kpi.better == "higher" else ">"
            threshold = format_value(result.threshold, unit, no_data="", against=[result.value or 0])
            parts.append(escape(f"{self.text('alert_at', language)} {sign} {threshold}"))
        previous = format_value(line.previous, unit, no_data=self.text("no_data", language))
        details = [f"{self.text('last_' + line.period.kind.value, language)} {previous}"]
        if line.basis is not None:
            details.append(f"{line.basis.count:,.0f} {self.unit(line.basis.unit, language)}")
        if line.open_cases:
            details.append(f"{line.open_cases} {self.text('open_cases_long', language)}")
        name = escape(kpi.name.in_language(language))
        return Mrkdwn(f"{STATUS_ICONS[line.status]} *{name}*\n{' · '.join(parts)}\n{escape(' · '.join(details))}")

    def unit(self, unit: str, language: Language) -> str:
        """A unit in ``language`` (strings.yaml ``units``; a bilingual team reads the English one)."""
        units: dict[str, str] = self.strings["zh" if language == "zh" else "en"].get("units", {})
        return units.get(unit, unit)

    def view(self, name: str, *, language: Language, **context: Any) -> dict[str, Any]:
        """A Block Kit view (modal or home tab) from ``templates/views/<name>.json.j2``."""
        view: dict[str, Any] = json.loads(self.render(f"views/{name}.json.j2", language=language, **context))
        return view

    def blocks(self, name: str, *, language: Language, **context: Any) -> list[dict[str, Any]]:
        """Message blocks from ``templates/blocks/<name>.json.j2``."""
        blocks: list[dict[str, Any]] = json.loads(self.render(f"blocks/{name}.json.j2", language=language, **context))
        return blocks

    def mrkdwn(self, key: str, language: Language, **params: Any) -> Mrkdwn:
        """``text`` for a Slack message: the params escaped for mrkdwn (the strings themselves are markup)."""
        return Mrkdwn(self.text(key, language, **{name: escape(value) for name, value in params.items()}))

    def text(self, key: str, language: Language, **params: Any) -> str:
        """An interface string from strings.yaml (dotted key), formatted with ``params``; both languages
        joined by " / " when ``language`` is "both". Plain text: for plain_text fields and templates (which
        escape what they interpolate); a message built outside a template uses ``mrkdwn``."""
        if language == "both":
            return f"{self.text(key, 'en', **params)} / {self.text(key, 'zh', **params)}"
        node: Any = self.strings[language]
        for part in key.split("."):
            node = node.get(part, key) if isinstance(node, dict) else key
        return str(node).format(**params) if params else str(node)

    def modal_title(self, key: str, language: Language) -> str:
        """A string as a modal's title: both languages while they fit (kpi_core.display_limits), else the
        English one, instead of a cut that would drop the Chinese half."""
        if language == "both":
            both = self.text(key, language)
            return both if len(both) <= FORM_TITLE_MAX_CHARS else self.text(key, "en")
        return self.text(key, language)

    def _goal(self, key: str, result: KpiResult, language: Language) -> str:
        kpi = self.config.kpi_by_key[key]
        unit = self.unit(kpi.unit, language)
        if kpi.band is not None:
            low = format_value(kpi.band.low, unit, no_data="")
            high = format_value(kpi.band.high, unit, no_data="")
            return f"{self.text('band', language)} {low} – {high}"
        if result.target is None:
            return f"{self.text('target', language)} –"
        sign = "≥" if kpi.better == "higher" else "≤"
        return f"{self.text('target', language)} {sign} {format_value(result.target, unit, no_data='')}"


def format_value(number: float | None, unit: str, *, no_data: str, against: Sequence[float] = ()) -> str:
    """A KPI value with its unit, sized for a chat line; ``no_data`` when there is none. With more
    decimals when the usual ones would show it equal to a limit in ``against`` it is not equal to
    (89.95 against a threshold of 90 reads "89.95 %", not "90.0 %")."""
    if number is None:
        return no_data
    decimals = 0 if unit in MONEY_UNITS else 1 if unit in {"%", "h", "days", "小时", "天"} else 2
    while decimals < 4 and any(
        limit != number and f"{limit:.{decimals}f}" == f"{number:.{decimals}f}" for limit in against
    ):
        decimals += 1
    shown = f"{number:,.{decimals}f}"
    if unit == "/5":
        return f"{shown}/5"
    if unit == "×":
        return f"{shown}×"
    return f"{shown} {unit}"


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """The text of Block Kit blocks, one line per text and field (the CLI's dry run, a notification)."""
    lines = []
    for block in blocks:
        if "text" in block:
            lines.append(block["text"]["text"])
        lines += [field["text"] for field in block.get("fields", [])]
        # a context's texts; a button's label (a text object) is no line of the message
        lines += [element["text"] for element in block.get("elements", []) if isinstance(element.get("text"), str)]
    return "\n".join(lines)


def to_json(value: Any) -> Mrkdwn:
    """``value`` as a JSON literal, marked safe so autoescaping does not touch the JSON. Strings are
    encoded as they are: mrkdwn escaping, where the field needs it, comes before (``| mrkdwn``)."""
    return Mrkdwn(json.dumps(str(value) if isinstance(value, str) else value, ensure_ascii=False))


#: What one message may carry. Slack refuses more than 50 blocks (chat.postMessage) and, with
#: msg_blocks_too_long, more than about 12,000 characters of block text in all (tests/slack_limits.py names
#: the sources); a part keeps room under the latter for its "(2/5)" mark and a "more lines" note.
PART_CHARS = 11_500
SECTION_CHARS = 2_900  # a section's text holds at most 3,000
#: A response_url takes at most five posts, so an answer to a command is at most five parts.
RESPONSE_URL_POSTS = 5


def message_parts(text: str, *, max_parts: int | None = None) -> list[list[dict[str, Any]]]:
    """Mrkdwn text as the blocks of one message or more (the first in the channel, the others in its
    thread), each within Slack's limits: every message that can grow with the number of teams or KPIs
    goes through here. Text is cut between lines, never inside one, and preferably where a reader would
    pause: at a blank line, else before a line that is not indented (a team stays with its indented KPI
    lines). A message of several parts carries "(n/total)" in each. With ``max_parts`` the last part
    counts the lines left out instead of losing them silently."""
    parts = _pack(_units(text.splitlines()), PART_CHARS)
    if not parts:
        return [[]]
    hidden = sum(len(part) for part in parts[max_parts or len(parts) :])
    parts = parts[: max_parts or len(parts)]
    messages = [[_section(chunk) for chunk in _pack([[line] for line in part], SECTION_CHARS)] for part in parts]
    if hidden:
        messages[-1].append(_context(f"… {hidden} more lines: Slack takes at most {max_parts} answers to one command"))
    if len(messages) > 1:
        for number, blocks in enumerate(messages, start=1):
            mark = _context(f"({number}/{len(messages)})")
            blocks.insert(0 if number > 1 else len(blocks), mark)  # the first part's ends with it
    return messages


def _units(lines: list[str]) -> list[list[str]]:
    """Lines grouped so that a group is kept together when it fits: a paragraph, or when a paragraph is
    too long for one part, a line with the indented lines below it."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        paragraphs[-1].append(line)
        if not line.strip():  # a blank line ends a paragraph (and stays with it)
            paragraphs.append([])
    units = []
    for paragraph in filter(None, paragraphs):
        if _size(paragraph) <= PART_CHARS:
            units.append(paragraph)
            continue
        entries: list[list[str]] = []
        for line in paragraph:
            if entries and line[:1].isspace() and line.strip():
                entries[-1].append(line)
            else:
                entries.append([line])
        # an entry longer than a part (a team with hundreds of KPI lines) is cut between its lines
        units += [chunk for entry in entries for chunk in ([entry] if _size(entry) <= PART_CHARS else _lines(entry))]
    return units


def _pack(units: list[list[str]], limit: int) -> list[list[str]]:
    """The units' lines in order, in as few groups of at most ``limit`` characters as greedy packing
    gives; a unit starts a new group rather than being split. Blank lines at a group's edges are dropped."""
    groups: list[list[str]] = []
    group: list[str] = []
    size = 0
    for unit in units:
        unit_size = _size(unit)
        if group and size + unit_size > limit:
            groups.append(group)
            group, size = [], 0
        group += unit
        size += unit_size
    groups.append(group)
    trimmed = [_trim(group) for group in groups]
    return [group for group in trimmed if group]


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)  # each line with its newline


def _lines(lines: list[str]) -> list[list[str]]:
    return [[line] for line in lines]


def _trim(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _section(lines: list[str]) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
