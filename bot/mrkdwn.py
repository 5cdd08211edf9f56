"""Slack mrkdwn escaping: the one rule for putting user- or config-supplied text into a Slack message.

Slack reads ``<…>`` as mentions (``<@U1>``, ``<!channel>``) and links (``<https://x|label>``), so a value
must have ``&``, ``<`` and ``>`` replaced by ``&amp;``, ``&lt;`` and ``&gt;`` (Slack's rule: nothing else is
escaped). Text that is already mrkdwn (escaped values, markup the bot builds on purpose) is a ``Mrkdwn``
and is never escaped twice. The templates apply this through Jinja's autoescaping (bot/render.py).
"""

from __future__ import annotations

import re

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_UNESCAPES = {escaped: raw for raw, escaped in _ESCAPES.items()}
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class Mrkdwn(str):
    """Text that is mrkdwn already. ``__html__`` is the protocol by which Jinja's autoescaping (and
    markupsafe) recognise text that must not be escaped again."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def escape(value: object) -> Mrkdwn:
    """``value`` as mrkdwn that shows it literally; a ``Mrkdwn`` (or a Jinja ``Markup``) is kept as is."""
    html = getattr(value, "__html__", None)
    if html is not None:
        return Mrkdwn(html())
    return Mrkdwn(re.sub("[&<>]", lambda match: _ESCAPES[match.group()], str(value)))


def unescape(text: str) -> str:
    """What Slack shows for mrkdwn ``text``'s escapes (for the terminal, which has no mrkdwn)."""
    return re.sub("&(amp|lt|gt);", lambda match: _UNESCAPES[match.group()], text)


def mention(user: str) -> Mrkdwn:
    """``<@U…>`` for a Slack user id; anything else (``cli``, a name an import recorded) as escaped text,
    since ``<@cli>`` is no mention."""
    if _SLACK_USER_ID.fullmatch(user):
        return Mrkdwn(f"<@{user}>")
    return escape(user)
