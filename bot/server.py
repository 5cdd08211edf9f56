"""The HTTP server behind ``kpi-bot serve``: Slack's request URL, a health check, and a clean stop."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from slack_bolt import App
from waitress import wasyncore
from waitress.server import create_server

from bot.request_gate import MAX_BODY_BYTES, RequestGate

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, *, health: Callable[[], dict[str, Any]], signing_secret: str, team_id: str) -> WsgiApp:
    """Routes Slack's requests through the gate (bot/request_gate.py) to Bolt and answers the health check
    with ``health()`` as JSON; ``team_id`` is the one workspace this deployment serves."""
    slack = RequestGate(app, signing_secret=signing_secret, team_id=team_id)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            status = health()
            body = json.dumps(status).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response("200 OK" if status["ok"] else "503 Service Unavailable", headers)
            return [body]
        if environ.get("PATH_INFO") == SLACK_PATH and environ.get("REQUEST_METHOD") == "POST":
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"Not Found"]

    return application


def health(engine: sa.Engine) -> dict[str, Any]:
    """Liveness plus a round trip to the database."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        return {"ok": False, "database": type(error).__name__}
    return {"ok": True, "database": "ok"}


class HttpServer:
    """A waitress server that another thread (or a signal handler) can stop cleanly."""

    def __init__(self, application: WsgiApp, *, host: str = "127.0.0.1", port: int = 3000, threads: int = 8):
        # waitress refuses a larger Content-Length (or chunked body) with 413 before reading it; its default
        # is 1 GiB, and it buffers what it accepts before the app runs. (It refuses from the limit itself: + 1.)
        self._server: Any = create_server(
            application, host=host, port=port, threads=threads, max_request_body_size=MAX_BODY_BYTES + 1
        )
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def serve_forever(self) -> None:
        # waitress's own run() cannot be stopped from outside without racing its select(); polling a flag
        # between short loop turns lets the serving thread close its own sockets.
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.1, map=self._server._map, count=1)
        finally:
            self._server.task_dispatcher.shutdown()
            wasyncore.close_all(self._server._map)

    def stop(self) -> None:
        self._stopping.set()
