"""Every schedule, declared in one place: weekly digests and reminders in each team's time zone, the
management summary, the quarterly scorecard, the alert sweep and the case timer.

Job bodies are idempotent through the delivery ledger, so running one again (a retry, a catch-up after
downtime, a second replica) never posts twice. ``catch_up`` runs each job whose fire time in its current
cycle has passed: at start-up that recovers runs missed while the process was down, and every few minutes
it retries deliveries whose sender died.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cached_property, partial
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.alert_followup import AlertFollowUpJob
from bot.alert_poster import AlertPoster
from bot.anomaly_alerts import anomaly_alerts, anomaly_alerts_pending, team_anomalies
from bot.appeals import AppealMessenger
from bot.close_delivery import deliver_closed
from bot.digests import (
    last_month,
    last_week,
    management_summary,
    monthly_digests,
    quarterly_scorecards,
    reminders,
    weekly_digests,
)
from bot.failure_notices import tell_admins
from bot.missing_data import MissingDataPoster
from bot.mrkdwn import escape
from bot.reviews import ReviewMessenger
from bot.sender import Outgoing, Sender
from bot.services import Services
from bot.verification import VerificationMessenger
from bot.working_days import team_cron
from kpi_core.data_changes import ChangeLogPruner
from kpi_core.periods import Period, PeriodKind

logger = logging.getLogger(__name__)

CATCH_UP_EVERY = timedelta(minutes=5)
MISSING_DATA_EVERY = timedelta(minutes=1)  # a form due at 12:00 is chased by 12:01
REVIEW_TICK_EVERY = timedelta(minutes=5)
VERIFICATION_TICK_EVERY = timedelta(minutes=5)
CASE_TIMER_ID = "case_timer"


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    trigger: CronTrigger
    cycle: PeriodKind  # the run in each such period (in the trigger's zone) is the one that counts
    run: Callable[[], None]


@dataclass
class Jobs:
    services: Services
    sender: Sender
    alerts: AlertPoster
    change_log: ChangeLogPruner = field(default_factory=ChangeLogPruner)

    @cached_property
    def reviews(self) -> ReviewMessenger:
        return ReviewMessenger(self.services, self.sender)

    def verification_lists(self) -> None:
        """Each verifier's daily list of what waits, from its time in their zone (bot/verification.py)."""
        VerificationMessenger(self.services, self.sender).send_daily()

    @cached_property
    def appeals(self) -> AppealMessenger:
        return AppealMessenger(self.reviews)

    # job bodies: plain functions of the clock, the database and Slack

    def weekly_digest(self, team_key: str) -> None:
        services = self.services
        team = services.config.team(team_key)
        week = last_week(team, services)
        sent = self.sender.settled("weekly_digest", team_key, week.label, with_chart=True)
        if sent and not anomaly_alerts_pending(services, team=team, period=week):
            return  # a catch-up after it went out: not even worth computing
        digests = [] if sent else weekly_digests(services, teams=[team], period=week)
        # with the digest, the KPIs that ask to be alerted when unusual (each once: the ledger). Posted in
        # the same batch, before any chart: a digest settled with its chart means every alert was claimed,
        # so one a transient Slack error left pending is found above and retried by a later catch-up.
        anomalies = team_anomalies(services, teams=[team], period=week)[team.key]
        self._send([*digests, *anomaly_alerts(services, team=team, period=week, anomalies=anomalies)])

    def monthly_digest(self, team_key: str) -> None:
        services = self.services
        team = services.config.team(team_key)
        month = last_month(team, services)
        if not self.sender.settled("monthly_digest", team_key, month.label):
            self._send(monthly_digests(services, teams=[team], period=month))

    def management_summary(self, channel: str, zone: ZoneInfo) -> None:
        services = self.services
        period = Period.current(PeriodKind.WEEK, now=services.clock(), tz=zone).previous()
        if not self.sender.settled("management_summary", None, period.label):
            self._send([management_summary(services, channel=channel, period=period)])

    def quarterly_scorecard(self, channel: str, zone: ZoneInfo) -> None:
        services = self.services
        period = Period.current(PeriodKind.QUARTER, now=services.clock(), tz=zone).previous()
        schemes = [key for key, scheme in services.config.scorecards.items() if scheme.period is PeriodKind.QUARTER]
        if all(self.sender.settled(f"scorecard_{key}", None, period.label, with_chart=True) for key in schemes):
            return
        self._send(quarterly_scorecards(services, channel=channel, period=period))

    def _send(self, messages: list[Outgoing]) -> None:
        """Posts the messages (each says which team could not be computed), then tells the admins."""
        self.sender.send_all(messages)
        tell_admins(
            self.sender, self.services.renderer, [failure for message in messages for failure in message.failures]
        )

    def follow_up(self) -> None:
        """Escalations, reminders in open alerts' threads, overdue corrective actions (bot/alert_followup.py)."""
        AlertFollowUpJob(self.services, self.sender).run()

    def prune_change_log(self) -> None:
        self.change_log.run(self.services.engine, now=self.services.clock())

    def submission_reminder(self, team_key: str) -> None:
        team = self.services.config.team(team_key)
        for message in reminders(self.services, team=team):
            self.sender.send(message)

    # the schedule

    def scheduled(self) -> list[ScheduledJob]:
        """The cron jobs the config asks for, with stable ids."""
        config = self.services.config
        jobs = []
        schedules = config.schedules
        for team in config.teams:
            for team_job, team_cycle, run_for_team in (
                ("weekly_digest", PeriodKind.WEEK, self.weekly_digest),
                ("monthly_digest", PeriodKind.MONTH, self.monthly_digest),
                ("submission_reminder", PeriodKind.WEEK, self.submission_reminder),
            ):
                if team_job in schedules:
                    trigger = team_cron(schedules[team_job].cron, team, team_cycle)
                    run = partial(run_for_team, team.key)
                    jobs.append(ScheduledJob(f"{team_job}:{team.key}", trigger, team_cycle, run))
        for name, body, cycle in (
            ("management_summary", self.management_summary, PeriodKind.WEEK),
            ("quarterly_scorecard", self.quarterly_scorecard, PeriodKind.QUARTER),
        ):
            schedule = schedules.get(name)
            if schedule is None or schedule.channel is None:
                continue
            zone = ZoneInfo(schedule.timezone or "UTC")
            jobs.append(
                ScheduledJob(
                    name,
                    CronTrigger.from_crontab(schedule.cron, timezone=zone),
                    cycle,
                    partial(body, schedule.channel, zone),
                )
            )
        return jobs

    def catch_up(self) -> list[str]:
        """Runs every job whose fire time in its current cycle has passed; returns their ids."""
        now = self.services.clock()
        ran = []
        for job in self.scheduled():
            if due_in_cycle(job, now):
                self._run_reporting_errors(job.id, job.run)
                ran.append(job.id)
        # a closed period's final scorecard and HR file that a crash or restart left unsent (no schedule)
        self._run_reporting_errors("period_close", partial(deliver_closed, self.services, self.sender))
        # after it, so the Confirm / Appeal DMs follow the final scorecard: appeals' DMs and reminders due
        self._run_reporting_errors("appeal_tick", self.appeals.tick)
        # the change log keeps what a reader may still need (kpi_core.data_changes)
        self._run_reporting_errors("change_log", self.prune_change_log)
        return ran

    def install(self, scheduler: BaseScheduler, *, alert_sweep_every: timedelta) -> None:
        """Adds every job to ``scheduler`` (which must use the real clock) and the admin error report."""
        missing_data = MissingDataPoster(self.services, self.sender)
        defaults: dict[str, Any] = {
            "replace_existing": True,
            "misfire_grace_time": 6 * 3600,
            "coalesce": True,
        }
        for job in self.scheduled():
            scheduler.add_job(self._run_reporting_errors, job.trigger, args=(job.id, job.run), id=job.id, **defaults)
        for job_id, trigger, run in (
            ("catch_up", IntervalTrigger(seconds=CATCH_UP_EVERY.total_seconds()), self.catch_up),
            ("alert_sweep", IntervalTrigger(seconds=alert_sweep_every.total_seconds()), self.alerts.check),
            ("missing_data", IntervalTrigger(seconds=MISSING_DATA_EVERY.total_seconds()), missing_data.check),
            # 360° reviews: requests, reminders from 09:00 in each rater's zone, closing at the deadline
            ("review_tick", IntervalTrigger(seconds=REVIEW_TICK_EVERY.total_seconds()), self.reviews.tick),
            ("alert_followup", IntervalTrigger(seconds=alert_sweep_every.total_seconds()), self.follow_up),
            # the verifiers' daily lists, each from verification.dm_at in the verifier's zone, once a day
            (
                "verification_lists",
                IntervalTrigger(seconds=VERIFICATION_TICK_EVERY.total_seconds()),
                self.verification_lists,
            ),
            # at start: the runs missed while the process was down, and the case timer rebuilt from the data
            ("startup_catch_up", DateTrigger(), self.catch_up),
            ("startup_alert_check", DateTrigger(), self.alerts.check),
            ("startup_missing_data", DateTrigger(), missing_data.check),
        ):
            scheduler.add_job(self._run_reporting_errors, trigger, args=(job_id, run), id=job_id, **defaults)
        timer_lock = threading.Lock()  # the timer is moved from listener threads and the scheduler's

        def reschedule_case_timer(deadline: datetime | None) -> None:
            if scheduler.state == STATE_STOPPED:
                return  # shutting down: shutdown() holds the job store lock while it waits for this job
            with timer_lock:
                if deadline is not None:
                    scheduler.add_job(
                        self._run_reporting_errors,
                        DateTrigger(deadline),
                        args=(CASE_TIMER_ID, self.alerts.check),
                        id=CASE_TIMER_ID,
                        **defaults,
                    )
                elif scheduler.get_job(CASE_TIMER_ID):
                    scheduler.remove_job(CASE_TIMER_ID)

        self.alerts.on_next_deadline = reschedule_case_timer
        scheduler.add_listener(self._report_missed, EVENT_JOB_MISSED)

    def _run_reporting_errors(self, job_id: str, run: Callable[[], None]) -> None:
        try:
            run()
        except Exception as error:
            logger.exception("scheduled job %s failed", job_id)
            self.sender.notify_admins(
                subject=f"job_error:{job_id}:{self.services.clock():%Y-%m-%dT%H}",
                text=f":warning: KPI Bot job `{job_id}` failed: `{escape(f'{type(error).__name__}: {error}')}`",
            )
        else:
            # by our id: APScheduler's own "executed successfully" names only the method, so the start-up
            # catch-up's end (which scripts/slack_demo.py waits for) could not be told from a sweep's
            logger.info("scheduled job %s done", job_id)

    def _report_missed(self, event: JobExecutionEvent) -> None:
        """A run APScheduler skipped (past its grace time): the admins hear of it; catch_up still runs it."""
        if event.code != EVENT_JOB_MISSED:
            return  # errors are reported by _run_reporting_errors, with the exception
        logger.warning("job %s missed its run at %s; catch_up will run it", event.job_id, event.scheduled_run_time)
        self.sender.notify_admins(
            subject=f"job_missed:{event.job_id}:{event.scheduled_run_time:%Y-%m-%dT%H:%M}",
            text=(
                f":warning: KPI Bot job `{event.job_id}` missed its run at {event.scheduled_run_time:%Y-%m-%d %H:%M %Z}"
                " (the process was busy or down); it is caught up now."
            ),
        )


def due_in_cycle(job: ScheduledJob, now: datetime) -> bool:
    """Whether the job's first fire time in the current cycle (week or quarter, in its zone) has passed."""
    zone = job.trigger.timezone
    cycle = Period.current(job.cycle, now=now, tz=zone)
    cycle_start = datetime.combine(cycle.start, time(0), zone)
    first_fire = job.trigger.get_next_fire_time(None, cycle_start)
    return first_fire is not None and first_fire <= now
