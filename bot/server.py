"""The HTTP server behind ``kpi-bot serve``: Slack's request URL, a health check, and a clean stop."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, *, health: Callable[[], dict[str, Any]]) -> WsgiApp:
    """Routes Slack's requests to Bolt and answers the health check with ``health()`` as JSON."""
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            status = health()
            body = json.dumps(status).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response("200 OK" if status["ok"] else "503 Service Unavailable", headers)
            return [body]
        return slack(environ, start_response)

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
        self._server: Any = create_server(application, host=host, port=port, threads=threads)
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
