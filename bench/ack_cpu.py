"""CPU that the serving process spends per ``/kpi report`` ack, next to the bare Bolt app of bench/ack.py,
and where it goes: the WSGI application of each called in this process (no HTTP, no client), so the
figures are the server's own work, without the network or the load generator.

    python bench/ack_cpu.py [--database-url postgresql://.../bench_acks] [--config-teams 200]
                            [--requests 2000] [--rounds 3]

kpi-bot is built as ``kpi-bot serve`` builds it (bot/wiring.py), with its answer workers (the default),
so the reports are computed there and only the hand-over is counted here. Per round, each app answers
``--requests`` signed requests in turn; prints the process CPU (all threads: the request, Bolt's listener
thread, the answer lane's hand-over) per request, min and median over the rounds, then kpi-bot's CPU a
request by thread (Linux, /proc/self/task): where the serving process spends it. For a profile of one
thread's path, run the calls under cProfile with Bolt's ``process_before_response=True`` (everything on
the calling thread).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.ack import MANAGER, SECRET, TEAMS, WEEKS  # noqa: E402
from bench.common import bench_config  # noqa: E402
from bench.fake_process import FakeSlackProcess  # noqa: E402
from tests.slack_requests import TEAM_ID, sign, slash_command_body  # noqa: E402

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


def environ(body: bytes) -> dict[str, Any]:
    headers = sign(body, secret=SECRET, timestamp=int(time.time()))
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": headers["X-Slack-Request-Timestamp"],
        "HTTP_X_SLACK_SIGNATURE": headers["X-Slack-Signature"],
        "wsgi.input": io.BytesIO(body),
    }


def answer(application: WsgiApp, bodies: list[bytes]) -> float:
    """Process CPU seconds per request for answering ``bodies`` one after the other."""

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"unexpected status {status}")

    started = time.process_time()
    for body in bodies:
        b"".join(application(environ(body), start_response))
    return (time.process_time() - started) / len(bodies)


def kpi_app(database_url: str | None, config_teams: int, fake: FakeSlackProcess, folder: Path) -> tuple[WsgiApp, Any]:
    from bot.server import health, wsgi_app
    from bot.settings import Settings
    from bot.wiring import build

    if database_url is None:
        database_url = f"sqlite:///{folder}/bench.db"
        import subprocess

        env = os.environ | {"KPI_DATABASE_URL": database_url}
        subprocess.run([sys.executable, "-m", "bot.cli", "demo"], env=env, check=True, capture_output=True)
        config_file = None
    else:
        config_file = folder / "config.yaml"
        config = bench_config(config_teams)
        config_file.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude_none=True), allow_unicode=True))
    options: dict[str, Any] = {"KPI_DATABASE_URL": database_url}
    if config_file is not None:
        options["KPI_CONFIG"] = str(config_file)
    os.environ.update(options | {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": "xoxb-bench"})
    os.environ["SLACK_API_URL"] = fake.base_url
    settings = Settings()
    process = build(settings)
    app = process.app()
    process.services.answers.start_processes(settings, process.services.config, workers=settings.answer_workers)
    process.services.answers.wait_ready()
    application = wsgi_app(app, health=lambda: health(process.services.engine), signing_secret=SECRET, team_id=TEAM_ID)
    return application, process


def bare_app(fake: FakeSlackProcess) -> WsgiApp:
    from slack_bolt import Ack, App
    from slack_sdk import WebClient

    from bot.server import wsgi_app

    app = App(
        signing_secret=SECRET,
        client=WebClient(token="xoxb-bench", base_url=fake.base_url),
        token_verification_enabled=False,
    )

    @app.command("/kpi")
    def no_op(ack: Ack) -> None:
        ack()

    return wsgi_app(app, health=lambda: {"ok": True}, signing_secret=SECRET, team_id=TEAM_ID)


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each kind of thread of this process so far (Linux: /proc/self/task), by thread name
    without its number."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    spent: Counter[str] = Counter()
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        name = names.get(int(task.name), "(not a Python thread)").rstrip("0123456789_-")
        spent[name] += (int(fields[11]) + int(fields[12])) / ticks
    return dict(spent)


def _where(frame: Any) -> str:
    code = frame.f_code
    path = code.co_filename.replace(str(REPO_ROOT) + "/", "").split("site-packages/")[-1]
    return f"{path}:{code.co_firstlineno} {code.co_name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file with the demo data")
    parser.add_argument("--config-teams", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with FakeSlackProcess() as fake, tempfile.TemporaryDirectory() as folder:
        kpi, process = kpi_app(args.database_url, args.config_teams, fake, Path(folder))
        bare = bare_app(fake)

        def bodies(round_number: int) -> list[bytes]:
            return [
                slash_command_body(
                    f"report {TEAMS[i % len(TEAMS)]} {WEEKS[i // len(TEAMS) % len(WEEKS)]}",
                    user_id=MANAGER,
                    response_url=fake.response_url(f"c{round_number}-{i}"),
                )
                for i in range(args.requests)
            ]

        answer(kpi, bodies(-1)[:200])  # warm-up: imports, caches, the first connections
        answer(bare, bodies(-1)[:200])
        figures: dict[str, list[float]] = {"bare Bolt app": [], "kpi-bot": []}
        for number in range(args.rounds):
            figures["bare Bolt app"].append(answer(bare, bodies(number)))
            figures["kpi-bot"].append(answer(kpi, bodies(number)))
            print(
                f"  round {number + 1}: bare {figures['bare Bolt app'][-1] * 1000:.3f} ms, "
                f"kpi-bot {figures['kpi-bot'][-1] * 1000:.3f} ms CPU a request; load {os.getloadavg()[0]:.1f}"
            )
        for name, values in figures.items():
            low, middle = min(values) * 1000, statistics.median(values) * 1000
            print(f"{name:14} CPU a request: min {low:.3f} ms / median {middle:.3f} ms")
        before = thread_cpu()
        answer(kpi, bodies(98))
        after = thread_cpu()
        print("kpi-bot's CPU a request by thread:")
        for name in sorted(after, key=lambda name: -(after[name] - before.get(name, 0))):
            print(f"  {(after[name] - before.get(name, 0)) / args.requests * 1000:6.3f} ms  {name}")
        process.services.answers.close(grace=0)


if __name__ == "__main__":
    main()
