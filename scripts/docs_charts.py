"""The README's example charts and digest, from the demo data (a throwaway SQLite database):

    .venv/bin/python scripts/docs_charts.py

writes docs/trend-<team>.png (each team's weekly digest chart), docs/trend-monthly-shanghai_ops.png (the
September monthly digest's chart, monthly and quarterly KPIs), docs/scorecard.png, docs/alert-chart.png
and docs/digest-<team>.md (the weekly digest's Block Kit as text: headers, sections, fields, context).
"""

from __future__ import annotations

import html
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.digests import monthly_digests, quarterly_scorecards, weekly_digests  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.trends import alert_trend_png  # noqa: E402
from bot.wiring import build_services  # noqa: E402
from kpi_core.models import Alert  # noqa: E402
from kpi_core.periods import Period  # noqa: E402
from kpi_core.use_cases import load_demo_once  # noqa: E402

DOCS = REPO_ROOT / "docs"
NOW = datetime(2026, 10, 5, 8, tzinfo=UTC)  # Monday after the demo's last full week, 2026-W40
WEEK = Period.parse("2026-W39")
QUARTER = Period.parse("2026-Q3")
MONTH = Period.parse("2026-09")
#: An alert as the demo would open it: Shanghai's on-time delivery under its 90 % threshold.
ALERT = Alert(
    team="shanghai_ops",
    kpi="on_time_delivery",
    value=88.4,
    threshold=90,
    opened_at=datetime(2026, 9, 30, 3, tzinfo=UTC),
)


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Block Kit as Markdown-ish text: what Slack shows, block by block."""
    lines: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            lines.append(f"## {block['text']['text']}")
        elif kind == "section":
            if "text" in block:
                lines.append(block["text"]["text"])
            for field in block.get("fields", []):
                lines.append(f"    {field['text']}".replace("\n", "\n    "))
        elif kind == "context":
            lines.append(" · ".join(f"_{element.get('text', '')}_" for element in block["elements"]))
        elif kind == "divider":
            lines.append("---")
        else:
            lines.append(f"[{kind}]")
        lines.append("")
    return html.unescape("\n".join(lines))  # Slack shows &lt; as <


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/docs.db")  # type: ignore[call-arg]
        services = build_services(settings, clock=lambda: NOW)
        load_demo_once(services.engine, config=services.config, now=NOW)
        for message in weekly_digests(services, teams=services.config.teams, period=WEEK):
            assert message.chart is not None
            png = message.chart.render()
            if png is not None:
                (DOCS / f"trend-{message.team}.png").write_bytes(png)
            (DOCS / f"digest-{message.team}.md").write_text(block_text(message.blocks), encoding="utf-8")
        [monthly] = monthly_digests(services, teams=[services.config.team("shanghai_ops")], period=MONTH)
        assert monthly.chart is not None
        (DOCS / "trend-monthly-shanghai_ops.png").write_bytes(monthly.chart.render() or b"")
        for message in quarterly_scorecards(services, channel="C", period=QUARTER)[:1]:
            assert message.chart is not None
            (DOCS / "scorecard.png").write_bytes(message.chart.render() or b"")
        (DOCS / "alert-chart.png").write_bytes(alert_trend_png(services, ALERT) or b"")
        services.engine.dispose()
    print("\n".join(sorted(path.name for path in DOCS.iterdir())))


if __name__ == "__main__":
    main()
