"""Settings of a Helpline process: command-line options override environment variables override defaults.

| setting | option | environment | default |
|---|---|---|---|
| host | --host | HELPLINE_HOST | 127.0.0.1 |
| port | --port | HELPLINE_PORT | 8080 |
| db | --db | HELPLINE_DB | sqlite:///var/helpline.db |
| metadata | --metadata | HELPLINE_METADATA | metadata/ |
| agi_host | --agi-host | HELPLINE_AGI_HOST | 127.0.0.1 |
| agi_port | --agi-port | HELPLINE_AGI_PORT | 4573 |
| ami_host | --ami-host | HELPLINE_AMI_HOST | (empty: no Asterisk manager, simulated call control) |
| ami_port | --ami-port | HELPLINE_AMI_PORT | 5038 |
| ami_user | --ami-user | HELPLINE_AMI_USER | helpline |
| ami_secret | (environment only) | HELPLINE_AMI_SECRET | (empty) |
| cookie_secure | (environment only) | HELPLINE_COOKIE_SECURE | off (on: the session cookie is Secure, for HTTPS) |
| language | (environment only) | HELPLINE_LANGUAGE | zh_CN (the UI language of browsers asking for none we have) |
| time_zone | (environment only) | HELPLINE_TIME_ZONE | Asia/Shanghai (the centre's day: data.base.centre_today) |
| agi_max_sessions | (environment only) | HELPLINE_AGI_MAX_SESSIONS | 300 (calls at once; more: fallback) |
| shutdown_grace | (environment only) | HELPLINE_SHUTDOWN_GRACE | 30 (s calls may run on after SIGTERM) |
| smtp_* (host, port, user, password, from, starttls) | (environment only) | HELPLINE_SMTP_* | no e-mail |
| sms_url, sms_body, sms_format | (environment only) | HELPLINE_SMS_* | no SMS |
| notice_channels, notice_max_attempts | (environment only) | HELPLINE_NOTICE_* | docs/notifications.md |
| backup_dir, backup_cron, backup_keep_*, ... | (environment only) | HELPLINE_BACKUP_* | docs/operations.md |
| error_log_size | (environment only) | HELPLINE_ERROR_LOG_SIZE | 200 (ERROR records the system page keeps) |
| spike_cron, spike_window_min, ... | (environment only) | HELPLINE_SPIKE_* | docs/operations.md (emergencies) |
| instance_id | (environment only) | HELPLINE_INSTANCE_ID | host-pid (this instance's name in the leader election) |
| leader_renew_s | (environment only) | HELPLINE_LEADER_RENEW_S | 1.0 (s between the leader election's checks) |
| cluster | (environment only) | HELPLINE_CLUSTER | off (on: the router is shared by the instances on PostgreSQL) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project directory (where run.py, metadata/ and locale/ are), or site-packages when installed."""

SHIPPED = Path(__file__).resolve().parent / "_shipped"
"""Where a wheel carries the checkout's data folders (``setup.py`` copies them there at build time)."""

SHIPPED_FROM_CHECKOUT = {"metadata": "metadata", "locale": "locale", "scenarios": "bench"}
"""A shipped folder's name → the checkout folder it is built from."""


def shipped(name: str) -> Path:
    """The data folder ``name`` (``metadata``, ``locale``, ``scenarios``): the checkout's own folder when
    running from a checkout (``run.py`` beside it), else the copy inside the installed package."""
    if (ROOT / "run.py").exists():
        return ROOT / SHIPPED_FROM_CHECKOUT[name]
    return SHIPPED / name


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = "sqlite:///var/helpline.db"
    metadata: str = "metadata"
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    ami_host: str = ""
    ami_port: int = 5038
    ami_user: str = "helpline"
    ami_secret: str = ""
    storage_secret: str = ""
    cookie_secure: bool = False
    """Mark the session cookie ``Secure`` (set ``HELPLINE_COOKIE_SECURE=1`` when browsers reach the UI over HTTPS)."""
    demo: bool = True
    demo_customers: int = 1000
    recording_purge_cron: str = "0 3 * * *"
    """When the recordings past their retention are deleted (crontab, in ``scheduler_timezone``)."""
    scheduler_timezone: str = "UTC"
    language: str = "zh_CN"
    agi_max_sessions: int = 300
    shutdown_grace: float = 30.0
    smtp_host: str = ""
    """Where e-mail notices are sent (empty: no e-mail); see ``helpline.services.notices.senders``."""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "helpline@localhost"
    smtp_starttls: bool = False
    sms_url: str = ""
    """The SMS gateway's URL (empty: no SMS); POSTed ``sms_body`` with ``{phone}`` and ``{text}`` filled in."""
    sms_body: str = '{"to": "{phone}", "text": "{text}"}'
    sms_format: str = "json"
    notice_channels: str = "sla_warning=email,sms sla_breach=email,sms escalate=email,sms *=email"
    """Which channels each kind of notice goes to besides the notice centre (``*``: every other kind)."""
    notice_max_attempts: int = 5
    backup_dir: str = "var/backups"
    """Where ``run.py backup`` and the scheduled backup write (docs/operations.md)."""
    backup_cron: str = "30 2 * * *"
    """When the scheduled backup runs (crontab, in ``scheduler_timezone``; ``off``: never)."""
    backup_keep_daily: int = 7
    backup_keep_weekly: int = 4
    backup_with_files: bool = False
    """Copy the recordings and sounds folders into each backup (else they are listed with sizes)."""
    backup_reserve_mb: int = 64
    """Free space a backup must leave on its target, beyond its own size (else it is refused)."""
    error_log_size: int = 200
    spike_cron: str = "*/5 * * * *"
    """When the call-spike check runs (``off``: never; docs/operations.md, emergencies)."""
    spike_window_min: int = 15
    """The last minutes whose calls per region are compared with the region's usual level."""
    spike_baseline_h: int = 24
    """The hours before that window that give the usual level (their calls per window-length)."""
    spike_factor: float = 3.0
    """A region spikes when its calls in the window reach this many times its usual level ..."""
    spike_min_calls: int = 20
    """... and at least this many calls (a quiet region's 1 → 3 is no emergency)."""
    instance_id: str = ""
    """This instance's name in the leader election (empty: ``host-pid``; docs/operations.md)."""
    leader_renew_s: float = 1.0
    """Seconds between the leader election's checks: a standby leads within about this long of the leader's death."""
    cluster: str = "off"
    """``on``: every instance holds a replica of the router fed by a command log (PostgreSQL only;
    ``telephony.router.cluster``, docs/operations.md "Several instances")."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"HELPLINE_{f.name.upper()}")
            if raw is None:
                continue
            if f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            elif f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def metadata_dir(self) -> Path:
        """The metadata directory: relative to the working directory, else to the project."""
        path = Path(self.metadata)
        if path.is_absolute() or path.exists():
            return path.resolve()
        if self.metadata == "metadata":
            return shipped("metadata")
        return ROOT / path
