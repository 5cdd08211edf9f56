from __future__ import annotations

from slack_bolt import App

from bot.listeners.views import corrective_action, goals, plan, reviews, submissions, updates


def register(app: App) -> None:
    app.view("submit_goals")(goals.handle_goals)
    app.view("adjust_goals")(goals.handle_adjust)
    app.view("submit_measures")(submissions.handle_measures)
    app.view("confirm_replace")(submissions.handle_confirm_replace)
    app.view("submit_survey")(submissions.handle_survey)
    app.view("submit_case")(submissions.handle_case)
    app.view("submit_milestone")(submissions.handle_milestone)
    app.view("update_case")(updates.handle_case_update)
    app.view("complete_milestone")(updates.handle_milestone_completion)
    app.view("review_rating")(reviews.handle_rating)
    app.view("review_peers")(reviews.handle_peers)
    app.view("review_interview")(reviews.handle_interview)
    app.view("corrective_action")(corrective_action.handle_corrective_action)
    app.view("submit_plan")(plan.handle_plan)
    app.view("reject_plan")(plan.handle_reject)
