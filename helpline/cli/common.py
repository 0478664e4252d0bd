"""Helpers shared by the subcommands: start the platform from options, print problems."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from helpline.config import Settings
from helpline.services.platform import Platform, StartupError


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    for name in ("host", "port", "db", "metadata", "agi_host", "agi_port", "ami_host", "ami_port", "ami_user"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)
    return settings


def start_platform(settings: Settings, *, sync: bool = True, migrate: bool = True) -> Platform | None:
    """A started platform, or None after printing why it could not start."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    platform = Platform(auto_migrate=migrate)
    try:
        report = platform.start(settings.db, str(settings.metadata_dir()) if sync else None)
    except StartupError as exc:
        print(f"helpline: cannot start: {exc}", file=sys.stderr)
        return None
    if report is not None:
        if report.problems:
            print(f"metadata files refused ({len(report.problems)} problems); serving the last good revisions:",
                  file=sys.stderr)
            for p in report.problems:
                print(p.format(), file=sys.stderr)
        for kind, name in report.removed_files:
            print(f"note: {kind} '{name}' has no file any more; it stays live until removed in the designer",
                  file=sys.stderr)
        for kind, name in report.overrode_web_edits:
            print(f"note: the file of {kind} '{name}' changed and replaced a designer edit (see its history)",
                  file=sys.stderr)
    return platform


def start_demo_services(platform: Platform, settings: Settings, demo: bool) -> list[tuple[str, Any]]:
    """The extensions' stand-ins for outside systems (``DEMO_SERVICES``, e.g. the simulated billing system),
    started when the process runs the embedded demo on the simulated switch; nothing when Asterisk's manager is
    configured (a real installation). Each started one is printed; :func:`stop_demo_services` stops them."""
    if not demo or settings.ami_host:
        return []
    from helpline.extension_registry import registry

    started = registry().start_demo_services(platform)
    for name, service in started:
        print(f"demo: {service.description} ({name})", flush=True)
    return started


def stop_demo_services(started: list[tuple[str, Any]]) -> None:
    from helpline.extension_registry import ExtensionRegistry

    ExtensionRegistry.stop_demo_services(started)


def start_router(platform: Platform, settings: Settings) -> Any:
    """The platform's live router (agents from the database, statuses restored) and the agent functions on
    the call control of ``settings`` (Asterisk's AMI, else the simulated phones), running; None after
    printing why the call control cannot start (e.g. the manager refused the credentials)."""
    from helpline.services.notices import configure
    from telephony.control.factory import ControlStartupError, make_call_control
    from telephony.desk.service import DeskService
    from telephony.router.service import RouterService

    try:
        configure(settings)  # the notice channels' settings, checked before anything starts
        control = make_call_control(settings)
    except (ControlStartupError, ValueError) as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        return None
    from helpline.services.leader import default_instance_id
    from telephony.router.cluster import ClusterError, cluster_on

    instance = settings.instance_id or default_instance_id()
    try:  # cluster mode: the router is a replica fed by the command log on PostgreSQL (docs/operations.md)
        clustered = cluster_on(settings.cluster)
        router = RouterService.from_platform(platform, cluster=settings.db if clustered else None,
                                             instance=instance).start()
    except ClusterError as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        control.close()
        return None
    if router.cluster is not None:  # the call control of any instance finds the channels of every call
        from telephony.control.channels import CHANNELS
        from telephony.control.shared_channels import SharedChannels

        CHANNELS.share(SharedChannels(settings.db, instance))
    platform.router = router
    platform.desk = DeskService(platform, router, control)
    from helpline.services.leader import LeaderElection, LeaderError
    from helpline.services.scheduler import SchedulerError
    from telephony.monitoring import register_leader

    try:  # several instances on one PostgreSQL: one leads and runs the scheduled jobs (docs/operations.md)
        election = LeaderElection(settings.db, renew_s=settings.leader_renew_s, instance=instance).start()
    except LeaderError as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        stop_router(platform)
        return None
    register_leader(election)
    if router.cluster is not None:  # the leader ticks the shared router and ends the calls of dead instances
        router.cluster.follow(election)
    from telephony.outbound.dialler import dialler_of

    # campaigns are dialled on the leader: elected, it recovers the attempts left open, its hoppers refill
    dialler_of(platform.desk, leader=election)
    try:
        platform.scheduler = start_scheduler(platform, settings, router, leader=election)
    except SchedulerError as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        stop_router(platform)
        return None
    print(f"instance {election.instance}: {election.role}"
          + ("" if election.is_leader else " (scheduled jobs run on the leader)"), flush=True)
    agents = len(router.router.agents)
    signed = sum(1 for a in router.router.agents.values() if a.signed_in)
    print(f"router: {agents} agent profile(s), {signed} signed in again after the restart; "
          f"policy {router.router.policy.name}; call control {control.kind}", flush=True)
    return router


def stop_router(platform: Platform) -> None:
    if platform.scheduler is not None:
        platform.scheduler.stop()
        platform.scheduler = None
    from telephony.monitoring import SOURCES, register_leader

    if SOURCES.leader is not None:  # a standby leads at once instead of after the lock's connection times out
        SOURCES.leader.stop()
        register_leader(None)
    if platform.router is not None:
        platform.router.stop()
    if platform.desk is not None:
        from telephony.outbound.dialler import stop_dialler

        stop_dialler(platform.desk)  # the hopper's numbers go back undialled
        platform.desk.control.close()
    from telephony.control.channels import CHANNELS

    if (shared := CHANNELS.shared) is not None:
        CHANNELS.share(None)
        shared.close()


def start_scheduler(platform: Platform, settings: Settings, router: Any, leader: Any = None) -> Any:
    """The process's scheduler (``helpline.services.scheduler``) with the platform's jobs, started; with a
    ``leader`` election (``helpline.services.leader``) its jobs run only while this instance leads."""
    from helpline.services.recordings import purge
    from helpline.services.scheduler import JobSpec, Scheduler, SchedulerError

    def purge_recordings() -> dict[str, int]:
        return purge(router.router.settings.recording_retention_days)

    from helpline.extension_registry import registry

    scheduler = Scheduler(settings.scheduler_timezone, leader=leader)
    try:
        scheduler.add(JobSpec("recording_purge", settings.recording_purge_cron, purge_recordings,
                              "delete call recordings past their queue's retention"))
    except SchedulerError as exc:
        raise SchedulerError(f"HELPLINE_RECORDING_PURGE_CRON: {exc}") from exc
    from helpline.services.notices import configure
    from helpline.services.notices.outbox import deliver_due
    from helpline.services.qa_sampling import run_sampling

    configure(settings)
    scheduler.add(JobSpec("notice_delivery", "@every 30s", deliver_due,
                          "send notices by e-mail, SMS and extensions' channels; retry failed ones with back-off"))
    scheduler.add(JobSpec("sla_timers", "* * * * *", platform.workflows.sla.run_due,
                          "service-level warnings, breaches and escalations of work orders that are due"))
    if router is not None:
        from telephony.callbacks import CallbackQueue

        callbacks = CallbackQueue(platform, router).attach()
        if leader is not None:  # the leader's router holds the tasks: synced when elected (at once if it leads)
            callbacks.follow(leader)
        else:  # after a restart every open call-back task is offered (or held for its retry) again
            callbacks.sync()
        scheduler.add(JobSpec("callback_sync", "@every 30s", callbacks.sync,
                              "hand the call-back tasks other processes opened to the router; withdraw closed ones"))
    scheduler.add(JobSpec("knowledge_expiry", "5 0 * * *", platform.knowledge.retire_expired,
                          "retire the knowledge articles past their expiry date (docs/knowledge.md)"))
    from helpline.services.report_schedules import send_due

    scheduler.add(JobSpec("report_schedules", "0 6 * * *", lambda: send_due(platform),
                          "send the scheduled reports (daily: yesterday; weekly on Mondays: last week) as Excel"))
    scheduler.add(JobSpec("qa_sampling", "0 2 * * 1", lambda: run_sampling(platform),
                          "queue last week's calls for quality evaluation by the scorecards' sampling rules"))
    from telephony.outbound.reminders import reminder_job

    scheduler.add(JobSpec("reminders", "@every 60s", reminder_job(platform),
                          "dial the running reminder campaigns' due customers without an agent (docs/outbound.md)"))
    scheduler.add(JobSpec("bulletin_notices", "* * * * *", platform.bulletins.announce_due,
                          "tell the audience of bulletins whose validity began after they were published"))
    if settings.spike_cron.strip().lower() not in ("", "off"):
        from helpline.services.emergency import SpikeRule, check_spikes

        spike_rule = SpikeRule.from_settings(settings)  # a bad threshold stops the start, naming the setting
        try:
            scheduler.add(JobSpec("call_spike", settings.spike_cron, lambda: check_spikes(platform, spike_rule),
                                  "alert the supervisors when one region's calls spike over their usual level"))
        except SchedulerError as exc:
            raise SchedulerError(f"HELPLINE_SPIKE_CRON: {exc} ('off': no call-spike alert)") from exc
    if settings.backup_cron.strip().lower() not in ("", "off"):
        try:
            scheduler.add(JobSpec("backup", settings.backup_cron, scheduled_backup(settings),
                                  "back the database up with its manifest; keep the daily and weekly backups"))
        except SchedulerError as exc:
            raise SchedulerError(f"HELPLINE_BACKUP_CRON: {exc} ('off': no scheduled backup)") from exc
    from helpline.metadata.kinds import Job

    functions = registry().job_functions(platform)
    owned = {j.run.extension for j in platform.metadata.objects.get("job", {}).values() if isinstance(j, Job)}
    for job in registry().scheduled_jobs():
        if job.name in owned:  # a metadata job runs it (its schedule, retries and notice): not twice
            continue
        try:
            scheduler.add(JobSpec(job.name, job.cron, functions[job.name], job.description))
        except SchedulerError as exc:  # one extension's bad job never stops the others
            logging.getLogger("helpline.extensions").error("extension '%s': job %s not scheduled: %s",
                                                           job.extension, job.name, exc)
    from helpline.services.imports.jobs import metadata_jobs

    specs, problems = metadata_jobs(platform, functions)
    for problem in problems:
        logging.getLogger("helpline.jobs").error("%s", problem)
    for spec in specs:  # metadata jobs (metadata/jobs/): imports and extension jobs with retries and a notice
        scheduler.add(spec)
    return scheduler.start()


def scheduled_backup(settings: Settings) -> Any:
    """The scheduled backup job of ``settings`` (``HELPLINE_BACKUP_*``): its result is the new backup's folder,
    size and tables; a refusal (target full, not writable) fails the run with the message."""
    from pathlib import Path

    from helpline.services.backup import backup

    def run() -> dict[str, Any]:
        done = backup(settings.db, Path(settings.backup_dir), with_files=settings.backup_with_files,
                      keep_daily=settings.backup_keep_daily, keep_weekly=settings.backup_keep_weekly,
                      reserve_bytes=settings.backup_reserve_mb * 1024 * 1024)
        return {"path": str(done.path), "bytes": done.manifest["bytes"], "tables": len(done.manifest["tables"]),
                "seconds": round(done.seconds, 2), "deleted": len(done.deleted)}

    return run
