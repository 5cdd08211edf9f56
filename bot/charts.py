"""PNG charts for Slack: a team's KPI trends over recent weeks, and the scorecard ranking as bars.

Labels use the English names: matplotlib's bundled font has no CJK glyphs (Chinese stays in the text).
"""

from __future__ import annotations

from io import BytesIO

import matplotlib

matplotlib.use("Agg")  # no display; and the object API below keeps no global state between threads

from matplotlib.figure import Figure  # noqa: E402

MAX_PANELS = 6


def trend_chart(
    *, title: str, labels: list[str], series: dict[str, list[float | None]], targets: dict[str, float | None]
) -> bytes | None:
    """Small multiples, one per KPI that has data in the window (None: no chart, nothing has data)."""
    with_data = [name for name, values in series.items() if any(value is not None for value in values)]
    if not with_data:
        return None
    panels = with_data[:MAX_PANELS]
    columns = 2 if len(panels) > 1 else 1
    rows = (len(panels) + columns - 1) // columns
    figure = Figure(figsize=(5 * columns, 2.2 * rows + 0.6), dpi=90)
    figure.suptitle(title)
    short_labels = [label.split("-")[-1] for label in labels]
    for index, name in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        points = [(x, value) for x, value in enumerate(series[name]) if value is not None]
        axes.plot([x for x, _ in points], [value for _, value in points], marker="o", linewidth=1.5)
        target = targets.get(name)
        if target is not None:
            axes.axhline(target, linestyle="--", linewidth=1, color="grey")
        axes.set_title(name, fontsize=9)
        axes.set_xticks(range(len(labels)), short_labels, fontsize=7)
        axes.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    return _png(figure)


def score_bars(*, title: str, teams: list[str], scores: list[float]) -> bytes:
    """Horizontal bars of the weighted scores, best on top."""
    figure = Figure(figsize=(6, 0.45 * len(teams) + 1.2), dpi=90)
    axes = figure.add_subplot()
    positions = list(range(len(teams)))[::-1]
    axes.barh(positions, scores, color="#2c6fbb")
    axes.set_yticks(positions, teams, fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_title(title)
    for position, score in zip(positions, scores, strict=True):
        axes.text(score + 1, position, f"{score:.1f}", va="center", fontsize=8)
    figure.tight_layout()
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
