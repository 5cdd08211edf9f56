"""``/kpi verify``: the submissions waiting for the calling verifier, with Verify / Query (verifiers only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.listeners.context import after_ack, verification_of
from bot.render import RESPONSE_URL_POSTS
from kpi_core.verification import is_on

if TYPE_CHECKING:  # the command module imports this one
    from bot.listeners.commands.kpi import Invocation


def verify(invocation: Invocation) -> None:
    config, user = invocation.services.config, invocation.access.user
    if not is_on(config):
        invocation.reply(invocation.localize("verification.off"))
        return
    if user not in config.roles.verifiers:
        invocation.reply(invocation.localize("verification.refused"))
        return
    invocation.ack()  # the list is read after the ack, and answered through response_url in parts
    after_ack(invocation.context, "/kpi verify", lambda: _answer(invocation))


def _answer(invocation: Invocation) -> None:
    messenger = verification_of(invocation.context)
    for text, blocks in messenger.pages(invocation.access.user, pages=RESPONSE_URL_POSTS):
        invocation.respond(text=text, blocks=blocks or None, response_type="ephemeral")
