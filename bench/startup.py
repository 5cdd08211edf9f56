"""Start-up cost of the command line: wall time and peak RSS of `kpi-bot --help`, run as a fresh process.

    python bench/startup.py [--runs 7]

Interleaved with two baselines in the same run: a bare interpreter (`python -c pass`), and a process that
imports everything `bot/cli.py` used to import at its top (matplotlib, Bolt, APScheduler, SQLModel through
bot.app, bot.digests and bot.wiring), which is what `--help` cost before commands imported lazily.
Prints min and median of each (target: `kpi-bot --help` under 0.5 s).

The peak RSS is the child's own (from wait4), but Linux counts what the child had at fork, before exec:
this script therefore imports nothing beyond the standard library, and `python -c pass` shows that floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EAGER_IMPORTS = "import bot.app, bot.digests, bot.wiring, bot.server, apscheduler.schedulers.blocking, sqlmodel"


def kpi_bot_executable() -> list[str]:
    """The installed console script next to this interpreter (the real entry point), else `-m bot.cli`."""
    script = Path(sys.executable).with_name("kpi-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run; the RSS comes from wait4, for this child alone."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode() if process.stderr else ''}")
    rss_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return elapsed, rss_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "kpi-bot --help": [*kpi_bot_executable(), "--help"],
        "eager imports (before)": [sys.executable, "-c", EAGER_IMPORTS],
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for command in commands.values():  # one warm-up each: the first run pays for cold file caches
        run_once(command)
    for _ in range(args.runs):
        for name, command in commands.items():
            samples[name].append(run_once(command))

    print(f"{args.runs} runs each, interleaved\n")
    print(f"{'process':<24}{'min s':>8}{'median s':>10}{'min RSS MiB':>13}{'median RSS MiB':>16}")
    for name, runs in samples.items():
        seconds = [elapsed for elapsed, _ in runs]
        rss = [peak for _, peak in runs]
        print(
            f"{name:<24}{min(seconds):>8.3f}{statistics.median(seconds):>10.3f}"
            f"{min(rss):>13.0f}{statistics.median(rss):>16.0f}"
        )


if __name__ == "__main__":
    main()
