"""``kpi-bot serve`` answers reports from worker processes by default (bot/answer_lane.py), and no worker
outlives it, however it stops (bot/worker_guard.py). Real processes, found in /proc (Linux)."""

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.bot_harness import MANAGER
from tests.serve_harness import SECRET, Served, running_serve, serve_env
from tests.slack_requests import SlackClient

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

#: Only a hang fails: a generous ceiling keeps a worker that never leaves from hanging the suite.
GONE_WITHIN = 60.0


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, parent = text[text.rindex(")") + 2 :].split()[:2]  # the name, in parentheses, may hold spaces
    return state, int(parent)


def alive(pid: int) -> bool:
    """Running or stopped; a zombie has closed its files (the log pipe included) and counts as gone."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def descendants(pid: int) -> dict[int, str]:
    """Every living process below ``pid``, with its command line."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None and stat[0] != "Z":
            parents[int(entry.name)] = stat[1]
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                try:
                    found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except FileNotFoundError:
                    continue
                frontier.append(child)
    return found


def answer_workers(served: Served) -> list[int]:
    """The serving process's answer workers (multiprocessing's spawned children; not its resource tracker)."""
    return [pid for pid, command in descendants(served.process.pid).items() if "spawn_main" in command]


def wait_until_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + GONE_WITHIN
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@contextmanager
def serving(tmp_path: Path, fake_slack, database_url: str) -> Iterator[Served]:
    # the environment names no KPI_ANSWER_WORKERS: the default is under test
    with running_serve(tmp_path, serve_env(tmp_path, fake_slack, KPI_DATABASE_URL=database_url)) as served:
        yield served


@contextmanager
def stopped(pids: list[int]) -> Iterator[None]:
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)  # (again, for those already continued: harmless)


def test_by_default_a_report_is_answered_by_a_worker_process_while_the_server_is_frozen(
    tmp_path, fake_slack, database_url
):
    with serving(tmp_path, fake_slack, database_url) as served:
        workers = answer_workers(served)
        assert len(workers) == min(2, os.cpu_count() or 1)
        slack = SlackClient(served.url + "/slack/events", SECRET)
        # once, so that the workers have started (their imports take a while)
        assert slack.command("report", user_id=MANAGER, response_url=fake_slack.response_url("warm")).status == 200
        fake_slack.wait_for("response", timeout=GONE_WITHIN)
        with stopped(workers):
            reply = slack.command("report", user_id=MANAGER, response_url=fake_slack.response_url("frozen"))
            assert (reply.status, reply.body) == (200, "")  # acked by the server while the workers cannot run
            with stopped([served.process.pid]):
                assert len(fake_slack.calls("response")) == 1  # and nobody answered it meanwhile
                for pid in workers:
                    os.kill(pid, signal.SIGCONT)
                # the server is frozen: only a worker can answer now
                (_, answer) = fake_slack.wait_for("response", count=2, timeout=GONE_WITHIN)
        assert answer.path.endswith("/frozen")
        assert "blocks" in answer.params


def test_a_killed_server_leaves_no_process_behind_even_while_its_workers_are_starting(
    tmp_path, fake_slack, database_url
):
    with serving(tmp_path, fake_slack, database_url) as served:
        # at "listening" the workers are still importing, holding the server's stderr like the server
        left_behind = list(descendants(served.process.pid))
        assert answer_workers(served)
        served.process.kill()
        served.process.wait()
        assert wait_until_gone(left_behind) == []


def test_a_stopped_server_has_stopped_its_workers_when_it_exits(tmp_path, fake_slack, database_url):
    with serving(tmp_path, fake_slack, database_url) as served:
        workers = answer_workers(served)
        assert workers
        assert served.stop(signal.SIGTERM, timeout=GONE_WITHIN) == 0
        assert [pid for pid in workers if alive(pid)] == []  # joined by the server before it exited
        assert not any("Traceback" in line for line in served.stderr)
