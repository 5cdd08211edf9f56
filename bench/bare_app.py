"""The baseline for bench/ack.py: a bare Bolt app with a no-op /kpi command, served like kpi-bot serve."""

from __future__ import annotations

import os
import signal
import sys

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.server import HttpServer, wsgi_app


def main() -> None:
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"]),
        token_verification_enabled=False,
    )

    @app.command("/kpi")
    def no_op(ack: Ack) -> None:
        ack()

    application = wsgi_app(
        app,
        health=lambda: {"ok": True},
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        team_id="T0TEAM",  # the team of the bench bodies
    )
    server = HttpServer(application, host="127.0.0.1", port=0)
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    print(f"listening on http://127.0.0.1:{server.port}/slack/events", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
