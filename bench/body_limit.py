"""The server's memory and answer time under oversized and unsigned request bodies.

    python bench/body_limit.py [--server-repo PATH]

``--server-repo`` runs the server from another checkout (e.g. ``git archive`` of an older commit), to
compare with the code before the body cap; the requests are the same.

Starts ``kpi-bot serve --no-scheduler`` on a fresh SQLite database against the fake Slack server of the
tests, warms it up with one signed command, then sends each body below (over a bare socket, the body
streamed while the answer is awaited) and prints the status, the time until the status line arrived,
and the growth of the server's resident set (VmHWM, the peak, reset before each body through
/proc/PID/clear_refs, against VmRSS before it). Linux only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bench.common import table  # noqa: E402
from bot.request_gate import MAX_BODY_BYTES  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.slack_requests import FORM, SlackClient, post_raw, sign, slash_command_body  # noqa: E402

SECRET = "bench-signing-secret"
MIB = 1024 * 1024


def start(env: dict[str, str], cwd: str) -> tuple[subprocess.Popen[str], str]:
    """``kpi-bot serve`` from the checkout on env's PYTHONPATH."""
    command = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--no-scheduler"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, cwd=cwd)
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            threading.Thread(target=process.stderr.read, daemon=True).start()  # a full pipe would block it
            return process, match.group(1)
    raise SystemExit("kpi-bot serve did not start")


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak resident set to the current one


def _first_existing(root: Path, *candidates: str) -> Path:
    return next((root / name for name in candidates if (root / name).exists()), root / candidates[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-repo", type=Path, default=REPO_ROOT, help="the checkout to run the server from")
    server_repo = parser.parse_args().server_repo.resolve()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("KPI_", "SLACK_"))}
        env |= {
            "KPI_DATABASE_URL": f"sqlite:///{folder}/bench.db",
            # inside the package since the wheel carries them; an older checkout has them at its top
            "KPI_CONFIG": str(_first_existing(server_repo, "bot/config/example.yaml", "config/example.yaml")),
            "KPI_TEMPLATES": str(_first_existing(server_repo, "bot/templates", "templates")),
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": fake.base_url,
            "PYTHONPATH": str(server_repo),
        }
        process, url = start(env, folder)
        try:
            warm = SlackClient(url, SECRET).command("help", user_id="U0ADMIN", response_url=fake.response_url("w"))
            assert warm.status == 200, warm
            signed_at_cap = slash_command_body("help", user_id="U0ADMIN", response_url=fake.response_url("c"))
            signed_at_cap += b"&k=v" * ((MAX_BODY_BYTES - len(signed_at_cap)) // 4)
            bodies = [
                ("50 MB unsigned, form", b"x" * (50 * 1000 * 1000), {}),
                ("20 MB unsigned, k=v& pairs", b"k=v&" * (5 * 1000 * 1000), {}),
                ("1 MiB - 1 unsigned, k=v& pairs", (b"k=v&" * (MIB // 4))[:-1], {}),
                (f"{len(signed_at_cap)} B signed, k=v& pairs", signed_at_cap, "signed"),
            ]
            rows = []
            for name, body, signed in bodies:
                head = {"Content-Type": FORM, "Content-Length": str(len(body))}
                if signed:
                    head |= sign(body, secret=SECRET, timestamp=int(time.time()))
                time.sleep(0.5)  # let the previous request's garbage go
                before = memory_mib(process.pid)["VmRSS"]
                reset_peak(process.pid)
                status, seconds = post_raw(url, head, body, timeout=60)
                time.sleep(0.5)  # the server may still be reading what it refused
                after = memory_mib(process.pid)
                rows.append(
                    (
                        name,
                        status,
                        f"{seconds * 1000:.1f} ms",
                        f"{before:.0f} MiB",
                        f"{after['VmHWM'] - before:+.1f} MiB",
                        f"{after['VmRSS'] - before:+.1f} MiB",
                    )
                )
            print(f"kpi-bot serve from {server_repo} (this tree's body cap: {MAX_BODY_BYTES} bytes)\n")
            print(table(rows, ("body", "status", "answered in", "RSS before", "peak growth", "growth after")))
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
