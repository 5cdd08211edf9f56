"""The year plan's messages, each sent once through the delivery ledger (issue 12): the approval request to
every other member of management and the admins (with Approve / Reject), the proposer's receipt and the
outcome; after a decision, every approval request is edited to say who decided, so no stale buttons stay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.mrkdwn import Mrkdwn, mention
from bot.plan_views import in_languages, names, plan_summary, proposal_text, source_text
from bot.sender import Outgoing, Sender
from bot.services import Services
from kpi_core.access import access_for
from kpi_core.annual_plan import YearPlan
from kpi_core.config_schema import Language
from kpi_core.plan_approval import approvers
from kpi_core.plan_models import AnnualPlan


@dataclass(frozen=True)
class PlanMessenger:
    services: Services
    sender: Sender

    def language(self, user: str) -> Language:
        return access_for(self.services.config, user).language

    def ask_approval(self, row: AnnualPlan, in_force: YearPlan | None) -> list[str]:
        """Asks every approver (each once, whatever retries) and tells the proposer whom; returns them."""
        asked = approvers(self.services.config, row.proposed_by)
        for approver in asked:
            language = self.language(approver)
            text = proposal_text(self.services, language, row=row, in_force=in_force)
            blocks = self.services.renderer.blocks("plan_proposal", language=language, text=text, plan_id=row.id)
            self._send("plan_approval", row, f"{row.id}:{approver}", approver, text, blocks)
        who = Mrkdwn(", ".join(mention(user) for user in asked))
        receipt = in_languages(
            self.language(row.proposed_by),
            lambda one: self.services.renderer.mrkdwn(
                "plans.proposal_sent", one, approvers=who, **names(self.services, one, row)
            ),
        )
        self._send("plan_proposed", row, str(row.id), row.proposed_by, receipt, [])
        return asked

    def tell_decision(self, row: AnnualPlan, before: YearPlan | None) -> None:
        """Tells the proposer the outcome and turns every approval request into a note of it."""
        renderer, decider = self.services.renderer, mention(row.decided_by or "-")
        approved = row.state == "approved"
        key = "plans.your_approved" if approved else "plans.your_rejected"
        told = in_languages(
            self.language(row.proposed_by),
            lambda one: renderer.mrkdwn(
                key, one, user=decider, reason=row.reason or "", **names(self.services, one, row)
            ),
        )
        self._send("plan_decision", row, str(row.id), row.proposed_by, told, [])
        for approver in approvers(self.services.config, row.proposed_by):
            posted = self.sender.sent_ts("plan_approval", row.team, f"{row.id}:{approver}")
            if posted is None:
                continue
            language = self.language(approver)
            note = self.decision_note(row, before, language)
            text = Mrkdwn(f"{note}\n{plan_summary(self.services, language, row)}")
            blocks = self.services.renderer.blocks("plan_proposal", language=language, text=text, plan_id=None)
            self.sender.update(channel=posted[0], ts=posted[1], text=note, blocks=blocks)

    def decision_note(self, row: AnnualPlan, before: YearPlan | None, language: Language) -> Mrkdwn:
        """``Approved by …: the 2027 plan of Sales for … It replaces …`` (or rejected, with the reason)."""
        renderer, decider = self.services.renderer, mention(row.decided_by or "-")

        def note(one: Language) -> Mrkdwn:
            words = names(self.services, one, row)
            if row.state == "approved":
                source = source_text(self.services, one, before, zone_of=row.team)
                return renderer.mrkdwn("plans.approved", one, user=decider, source=source, **words)
            return renderer.mrkdwn("plans.rejected", one, user=decider, reason=row.reason or "", **words)

        return in_languages(language, note)

    def _send(
        self, kind: str, row: AnnualPlan, subject: str, to: str, text: Mrkdwn, blocks: list[dict[str, Any]]
    ) -> None:
        first_line = text.splitlines()[0][:300]
        message = Outgoing(kind=kind, team=row.team, subject=subject, channel=to, text=first_line, blocks=blocks)
        self.sender.send(message)
