"""Jinja2 rendering of digests, reports and scorecards (one set of templates for Slack and the CLI)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
import yaml

from bot.digest_view import DigestView, KpiLine
from kpi_core.config import Config, Language, Team
from kpi_core.display_limits import FORM_TITLE_MAX_CHARS
from kpi_core.kpis import KpiResult
from kpi_core.reporting import Report
from kpi_core.scorecard import TeamScore

STATUS_ICONS = {"met": "✅", "missed": "⚠️", "breach": "🔴", "no_data": "▫️", "info": "•"}
MONEY_UNITS = {"CNY", "EUR", "USD"}


class Renderer:
    """Renders the message templates in ``templates_dir`` for one config."""

    def __init__(self, *, templates_dir: Path, config: Config) -> None:
        self.config = config
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain text and Slack mrkdwn, never HTML
            keep_trailing_newline=False,
        )
        self.strings: dict[str, Any] = yaml.safe_load((templates_dir / "strings.yaml").read_text(encoding="utf-8"))

    def render(self, name: str, *, language: Language, **context: Any) -> str:
        template = self.environment.get_template(name)
        return template.render(
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

    def digest(self, *, team: Team, report: Report, previous: Report, title: str = "weekly_digest") -> str:
        """A team's KPIs for a period next to the previous period's (the weekly digest, or a report)."""
        return self.render(
            "digest.txt.j2",
            language=team.language,
            title=title,
            team=team,
            report=report,
            last_day=report.period.end - timedelta(days=1),
            previous=previous,
            groups=self._groups,
        )

    def scorecard(self, *, scheme_key: str, period: str, ranking: list[TeamScore], language: Language) -> str:
        return self.render(
            "scorecard.txt.j2",
            language=language,
            scheme=self.config.scorecards[scheme_key],
            period=period,
            ranking=ranking,
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
            mentions=[f"<@{lead}>" for lead in view.team.leads],
            submit_hints=[f"`/kpi submit {form}`" for form in view.missing_forms],
        )

    def _kpi_field(self, line: KpiLine, language: Language) -> str:
        """One KPI's field: status and name; the value, precise enough to explain its status, with the
        target (and the alert threshold when breached); the previous period's value and the basis."""
        kpi = self.config.kpi_by_key[line.key]
        result = line.result
        unit = self.unit(kpi.unit, language)
        limits = [limit for limit in (result.target, result.threshold) if limit is not None]
        value = format_value(result.value, unit, no_data=self.text("no_data", language), against=limits)
        parts = [f"*{value}*", self._goal(line.key, result, language)]
        if line.status == "breach" and result.threshold is not None:
            sign = "<" if kpi.better == "higher" else ">"
            threshold = format_value(result.threshold, unit, no_data="", against=[result.value or 0])
            parts.append(f"{self.text('alert_at', language)} {sign} {threshold}")
        previous = format_value(line.previous, unit, no_data=self.text("no_data", language))
        details = [f"{self.text('last_' + line.period.kind.value, language)} {previous}"]
        if line.basis is not None:
            details.append(f"{line.basis.count:,.0f} {self.unit(line.basis.unit, language)}")
        if line.open_cases:
            details.append(f"{line.open_cases} {self.text('open_cases_long', language)}")
        name = kpi.name.in_language(language)
        return f"{STATUS_ICONS[line.status]} *{name}*\n{' · '.join(parts)}\n{' · '.join(details)}"

    def unit(self, unit: str, language: Language) -> str:
        """A unit in ``language`` (strings.yaml ``units``; a bilingual team reads the English one)."""
        units: dict[str, str] = self.strings["zh" if language == "zh" else "en"].get("units", {})
        return units.get(unit, unit)

    @cached_property
    def _groups(self) -> list[tuple[str, list[str]]]:
        groups: dict[str, list[str]] = {}
        for kpi in self.config.kpis:
            groups.setdefault(kpi.group, []).append(kpi.key)
        return list(groups.items())

    def view(self, name: str, *, language: Language, **context: Any) -> dict[str, Any]:
        """A Block Kit view (modal or home tab) from ``templates/views/<name>.json.j2``."""
        view: dict[str, Any] = json.loads(self.render(f"views/{name}.json.j2", language=language, **context))
        return view

    def blocks(self, name: str, *, language: Language, **context: Any) -> list[dict[str, Any]]:
        """Message blocks from ``templates/blocks/<name>.json.j2``."""
        blocks: list[dict[str, Any]] = json.loads(self.render(f"blocks/{name}.json.j2", language=language, **context))
        return blocks

    def text(self, key: str, language: Language, **params: Any) -> str:
        """An interface string from strings.yaml (dotted key), formatted with ``params``; both languages
        joined by " / " when ``language`` is "both"."""
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
        lines += [element["text"] for element in block.get("elements", []) if "text" in element]
    return "\n".join(lines)


def text_blocks(text: str, *, limit: int = 2900, max_blocks: int = 50) -> list[dict[str, Any]]:
    """Mrkdwn text as section blocks, split between lines to stay under Slack's 3,000 characters a block
    and 50 blocks a message; what does not fit is counted in a last line, not lost silently."""
    chunks: list[str] = []
    chunk = ""
    lines = text.splitlines()
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > limit:
            chunks.append(chunk)
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        chunks.append(chunk)
    if len(chunks) > max_blocks:
        shown = chunks[: max_blocks - 1]
        hidden = len(lines) - sum(part.count("\n") + 1 for part in shown)
        chunks = [*shown, f"… {hidden} more lines: see `kpi-bot report` for the full list"]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in chunks]
