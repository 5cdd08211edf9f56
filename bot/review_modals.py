"""The review modals, rendered from templates/views/review_*.json.j2."""

from __future__ import annotations

from typing import Any

from bot.modals import option_text
from bot.mrkdwn import mention
from bot.reviews import ReviewMessenger
from kpi_core.config import Language
from kpi_core.review_models import COMMENT_CHARS, ReviewCycle, ReviewInterview
from kpi_core.reviews import RaterForm


def _score_options(messenger: ReviewMessenger, language: Language) -> list[tuple[str, str]]:
    renderer = messenger.services.renderer
    return [(str(score), option_text(renderer.text(f"reviews.score_{score}", language))) for score in range(1, 6)]


def rating_modal(messenger: ReviewMessenger, form: RaterForm, *, rater: str, language: Language) -> dict[str, Any]:
    renderer = messenger.services.renderer
    names = messenger.competency_names(language)
    intro = renderer.mrkdwn(
        "reviews.rating_intro",
        language,
        cycle=form.cycle.key,
        person=mention(form.assignment.subject),
        relation=renderer.text(f"reviews.as.{form.assignment.relation}", language),
        deadline=messenger.local_time(form.cycle.deadline_at, rater),
    )
    return renderer.view(
        "review_rating",
        language=language,
        metadata={"assignment": form.assignment.id},
        intro=intro,
        competencies=[(key, option_text(names.get(key, key))) for key in form.competencies],
        score_options=_score_options(messenger, language),
        scores={key: str(score) for key, score in form.scores.items()},
        comment=form.comment,
        comment_chars=COMMENT_CHARS,
    )


def peers_modal(messenger: ReviewMessenger, cycle: ReviewCycle, *, language: Language) -> dict[str, Any]:
    return messenger.services.renderer.view(
        "review_peers",
        language=language,
        metadata={"cycle": cycle.id},
        max_peers=messenger.services.config.reviews.max_peers,
        initial=[],
    )


def interview_modal(
    messenger: ReviewMessenger, interview: ReviewInterview, cycle: ReviewCycle, *, language: Language
) -> dict[str, Any]:
    renderer = messenger.services.renderer
    intro = renderer.mrkdwn("reviews.packet_title", language, person=mention(interview.subject), cycle=cycle.key)
    return renderer.view(
        "review_interview",
        language=language,
        metadata={"interview": interview.id},
        intro=intro,
        held_on=interview.held_on.isoformat() if interview.held_on else None,
        score_options=_score_options(messenger, language),
        rating=str(interview.rating) if interview.rating else None,
        strengths=interview.strengths,
        development_plan=interview.development_plan,
        text_chars=COMMENT_CHARS,
    )
