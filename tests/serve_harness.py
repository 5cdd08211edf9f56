"""``kpi-bot serve`` as a real subprocess for tests: started the way production starts it, on a free port."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from bot.resources import EXAMPLE_CONFIG

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET = "serve-test-signing-secret"
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/slack/events")
START_TIMEOUT = 30.0  # the first start migrates a fresh database


def serve_env(tmp_path: Path, fake_slack, **overrides) -> dict[str, str]:
    """The process's environment: ours without any KPI_/SLACK_ setting, then the test's (None removes one)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KPI_", "SLACK_"))}
    env |= {
        "KPI_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "KPI_CONFIG": str(EXAMPLE_CONFIG),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-serve-test",
        "SLACK_API_URL": fake_slack.base_url,
        "PYTHONPATH": str(REPO_ROOT),
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    # cwd is an empty directory: no .env file of the developer's may leak into the settings
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    stderr: list[str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def _drain(stream: IO[str], lines: list[str], found: queue.Queue[int]) -> None:
    """Reads the process's stderr to the end (so the pipe never fills), reporting the port once seen."""
    for line in stream:
        lines.append(line)
        match = LISTENING.search(line)
        if match:
            found.put(int(match.group(1)))


@contextmanager
def running_serve(tmp_path: Path, env: dict[str, str]) -> Iterator[Served]:
    """A running ``kpi-bot serve``, killed at the end if the test has not stopped it."""
    process = start(tmp_path, env)
    assert process.stderr is not None and process.stdout is not None
    lines: list[str] = []
    found: queue.Queue[int] = queue.Queue()
    reader = threading.Thread(target=_drain, args=(process.stderr, lines, found), daemon=True)
    reader.start()
    try:
        port = found.get(timeout=START_TIMEOUT)
    except queue.Empty:
        process.kill()
        process.wait()
        pytest.fail("kpi-bot serve did not start:\n" + "".join(lines))
    try:
        yield Served(process, f"http://127.0.0.1:{port}", lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stdout.close()
        process.stderr.close()
