"""Checks of Slack mrkdwn in recorded payloads (a payload validator can call ``mrkdwn_problems``)."""

from __future__ import annotations

import re

from bot.mrkdwn import unescape

# The only markup the bot builds itself: user mentions and channel links.
BUILT_MARKUP = re.compile(r"<@[UW][A-Z0-9]+>|<#[CG][A-Z0-9]+>")
HOSTILE = [
    "R&D <!channel> <https://evil.example|click here>",
    "<@U999>",
    "a > b & c",
    "&amp; already",
    '🚀 上海 "quoted" back\\slash',
]


def mrkdwn_problems(text: str) -> list[str]:
    """Raw ``<``/``>`` outside the bot's own mentions, and ``&`` that starts no escape."""
    rest = BUILT_MARKUP.sub("", text)
    problems = [f"raw {char!r}" for char in "<>" if char in rest]
    if re.search(r"&(?!amp;|lt;|gt;)", rest):
        problems.append("raw '&'")
    return problems


def as_slack_shows(text: str) -> str:
    return unescape(text)
