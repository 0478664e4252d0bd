"""``run.py serve`` (the default): start the platform and its web UI.

At start, call records an ended process left open are closed as ``interrupted``. On SIGTERM or SIGINT the web
server stops (uvicorn's own handling), then the FastAGI server stops accepting calls and lets those in progress
run for up to ``HELPLINE_SHUTDOWN_GRACE`` seconds before ending the rest (``HELPLINE_RESULT=error``, records
closed as ``interrupted``), as ``run.py agi`` does.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from helpline.cli import add_ami_options, add_settings_options
from helpline.config import Settings

from .common import (
    settings_from,
    start_demo_services,
    start_platform,
    start_router,
    stop_demo_services,
    stop_router,
)


def add_parser(sub: Any) -> None:
    defaults = Settings.from_env()
    p: argparse.ArgumentParser = sub.add_parser(
        "serve", help="run the platform and its web UI (the default)",
        description="Sync the metadata files into the database, migrate the entity tables, fill an empty "
                    "demo database, and serve the web UI. Settings also come from HELPLINE_* variables.")
    p.add_argument("--host", default=defaults.host, help="web host (env HELPLINE_HOST; default %(default)s)")
    p.add_argument("--port", type=int, default=defaults.port, help="web port (env HELPLINE_PORT; default %(default)s)")
    add_settings_options(p)
    add_ami_options(p)
    p.add_argument("--agi-host", default=defaults.agi_host, help="FastAGI host (default %(default)s)")
    p.add_argument("--agi-port", type=int, default=defaults.agi_port, help="FastAGI port (default %(default)s)")
    p.add_argument("--no-agi", action="store_true", help="do not start the FastAGI server")
    p.add_argument("--no-demo", action="store_true", help="do not fill an empty database with demo data")
    p.add_argument("--demo-customers", type=int, default=defaults.demo_customers,
                   help="customers generated into an empty database (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    from helpline.ui.i18n import LANGUAGES

    if settings.language not in LANGUAGES:
        print(f"helpline: HELPLINE_LANGUAGE must be one of {', '.join(LANGUAGES)} (got {settings.language!r})",
              file=sys.stderr)
        return 2
    from helpline.services import error_log

    error_log.install(settings.error_log_size)  # the system page's tail of ERROR records
    platform = start_platform(settings)
    if platform is None:
        return 1
    if not args.no_demo and settings.demo:
        from helpline.demo.generator import seed_demo, service_passwords_line

        counts = seed_demo(platform, args.demo_customers)
        if "customers" in counts:
            print("demo data: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
            print(service_passwords_line(7))
    from helpline.services.auth import ensure_bootstrap_users
    from helpline.ui.app import serve

    demo = not args.no_demo and settings.demo
    for username, password in ensure_bootstrap_users(demo=demo).items():
        print(f"created user {username} with password {password}  (shown once; it must be changed at the first login)")
    if demo:
        from helpline.services.agents import ensure_demo_agents

        for number in ensure_demo_agents():
            print(f"created demo agent profile {number}")

    agi = None
    services = start_demo_services(platform, settings, demo)  # e.g. a simulated billing system; none in production
    router = start_router(platform, settings)
    if router is None:
        stop_demo_services(services)
        return 1
    from .agi_cmd import close_records_left_open

    close_records_left_open(platform)
    if not args.no_agi:
        from telephony.ivr.agi_handler import start_agi_server

        try:
            agi = start_agi_server(platform, settings.agi_host, settings.agi_port, router=router,
                                   max_sessions=settings.agi_max_sessions)
        except OSError as exc:
            stop_router(platform)
            stop_demo_services(services)
            print(f"helpline: cannot listen for FastAGI on {settings.agi_host}:{settings.agi_port}: {exc}",
                  file=sys.stderr)
            return 1
        from helpline.ui import gc_tuning

        agi.on_session = gc_tuning.busy  # arriving calls: the full collection of closed pages waits for a lull
        from telephony.monitoring import register_agi

        register_agi(agi)  # its sessions on /metrics and the system page
        print(f"FastAGI on {settings.agi_host}:{agi.port} (Asterisk: AGI(agi://{settings.agi_host}:{agi.port}/ivr))")
    print(f"Helpline on http://{settings.host}:{settings.port}/")
    # uvicorn handles SIGTERM/SIGINT while the web server runs, then restores the handlers it found and raises
    # the signal again: with Python's defaults that killed the process before the calls could finish. These
    # handlers only note it, so the shutdown below runs.
    signalled: list[int] = []
    previous = {signum: signal.signal(signum, lambda got, _frame: signalled.append(got))
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        serve(settings, platform)
    finally:
        if agi is not None:
            print(f"Helpline stopping: no new calls; calls in progress may run {settings.shutdown_grace:g} s",
                  flush=True)
            ended = agi.shutdown(settings.shutdown_grace)
            print(f"FastAGI stopped ({ended} call(s) ended at the end of the grace period)", flush=True)
        stop_router(platform)
        stop_demo_services(services)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
