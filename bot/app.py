"""Builds the Bolt app: signature verification on, the Web API client with its retry policy, listeners."""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.alert_poster import AlertPoster
from bot.failures import NotifyAdmins, StickyAck, handle_error
from bot.listeners import register
from bot.reviews import ReviewMessenger
from bot.services import Services
from bot.settings import Settings
from bot.slack_retries import retry_handlers
from kpi_core.access import access_for
from kpi_core.errors import SettingsError

ACCESS_CACHE = 10_000  # users whose access is kept


def build_client(settings: Settings) -> WebClient:
    if settings.slack_bot_token is None:
        raise SettingsError(setting="SLACK_BOT_TOKEN")
    options: dict[str, Any] = {"token": settings.slack_bot_token.get_secret_value()}
    if settings.slack_api_url:
        options["base_url"] = settings.slack_api_url
    # Retries sleep; they run in listener threads and jobs, never before an ack. The policy replaces
    # slack_sdk's default, which would repeat a post whose answer was lost (bot/slack_retries.py).
    return WebClient(**options, retry_handlers=retry_handlers())


def build_app(
    settings: Settings,
    services: Services,
    *,
    client: WebClient | None = None,
    alerts: AlertPoster | None = None,
    notify_admins: NotifyAdmins | None = None,
    reviews: ReviewMessenger | None = None,
) -> App:
    """The Bolt app; ``alerts`` (when given) checks thresholds after every write a listener makes;
    ``notify_admins`` (when given) tells the admins of every listener's unexpected failure."""
    if settings.slack_signing_secret is None:
        raise SettingsError(setting="SLACK_SIGNING_SECRET")
    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=client or build_client(settings),
        request_verification_enabled=True,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )

    # who may do what follows from the config alone, fixed for the app's life: worked out once a user
    # (about 0.1 ms with 200 teams, on every request's ack path otherwise)
    access_of = lru_cache(maxsize=ACCESS_CACHE)(partial(access_for, services.config))

    @app.middleware
    def attach_services(context: BoltContext, next: Any) -> None:  # noqa: A002 - Bolt's argument name
        context["ack"] = StickyAck()  # see StickyAck: a listener failing after its ack must not undo it
        context["services"] = services
        context["alerts"] = alerts
        context["notify_admins"] = notify_admins
        context["reviews"] = reviews  # the review DMs (through the delivery ledger)
        if context.user_id:
            context["access"] = access_of(context.user_id)
        next()

    app.error(handle_error)  # every listener's failure is answered there (bot/failures.py)
    register(app)
    return app
