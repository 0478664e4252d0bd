"""``run.py agi``: a telephony-only node: the platform and its FastAGI server, no web UI.

Asterisk reaches it with ``AGI(agi://HOST:4573/ivr)`` (the dialled number picks the flow) or
``AGI(agi://HOST:4573/ivr/<flow>)``. At start, call records an ended process left open are closed as
``interrupted`` (telephony/ivr/recovery.py). On SIGTERM or SIGINT (Ctrl-C) it stops accepting calls, lets
the calls in progress run for up to ``HELPLINE_SHUTDOWN_GRACE`` seconds (30), then ends the rest with
``HELPLINE_RESULT=error`` (the dialplan's fallback) and their records closed as ``interrupted``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import threading
from typing import Any

from helpline.cli import add_ami_options, add_settings_options
from helpline.config import Settings

from .common import settings_from, start_platform, start_router, stop_router


def add_parser(sub: Any) -> None:
    defaults = Settings.from_env()
    p: argparse.ArgumentParser = sub.add_parser(
        "agi", help="run the FastAGI server (IVR flows) without the web UI",
        description="Sync the metadata, migrate, and serve Asterisk's FastAGI calls: each call runs the IVR flow "
                    "of its script path (ivr/<flow>) or of its dialled number. On Ctrl-C or SIGTERM it stops "
                    "accepting calls and lets those in progress finish (HELPLINE_SHUTDOWN_GRACE seconds, 30).")
    add_settings_options(p)
    add_ami_options(p)
    p.add_argument("--agi-host", default=defaults.agi_host,
                   help="FastAGI host (env HELPLINE_AGI_HOST; default %(default)s)")
    p.add_argument("--agi-port", type=int, default=defaults.agi_port,
                   help="FastAGI port (env HELPLINE_AGI_PORT; default %(default)s)")
    p.add_argument("--read-timeout", type=float, default=30.0,
                   help="seconds to wait for Asterisk's reply before giving up a call (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C, SIGTERM or ``stop`` is set; returns the exit code."""
    settings = settings_from(args)
    platform = start_platform(settings)
    if platform is None:
        return 1
    from telephony.ivr.agi_handler import start_agi_server

    router = start_router(platform, settings)
    if router is None:
        return 1
    close_records_left_open(platform)
    try:
        server = start_agi_server(platform, settings.agi_host, settings.agi_port, router=router,
                                  read_timeout=args.read_timeout, max_sessions=settings.agi_max_sessions)
    except OSError as exc:
        stop_router(platform)
        print(f"helpline: cannot listen on {settings.agi_host}:{settings.agi_port}: {exc}")
        return 1
    done = stop or threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, lambda *_: done.set())
    settle_heap()
    print(f"Helpline FastAGI on {settings.agi_host}:{server.port} (flows: "
          f"{', '.join(server_flows(platform)) or 'none'})", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print(f"Helpline FastAGI stopping: no new calls; calls in progress may run {settings.shutdown_grace:g} s",
              flush=True)
        ended = server.shutdown(settings.shutdown_grace)
        stop_router(platform)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print(f"Helpline FastAGI stopped ({ended} call(s) ended at the end of the grace period)", flush=True)
    return 0


def close_records_left_open(platform: Any) -> None:
    """Close the call records an ended process left open (``interrupted``), asking the call control whether
    their channels still live; a failure is printed and the start goes on."""
    from telephony.ivr.recovery import close_interrupted

    try:
        report = close_interrupted(platform.desk.control)
    except Exception as exc:  # recovery must never stop the start
        logging.getLogger("helpline.calls").exception("closing the call records left open failed")
        print(f"helpline: could not close the call records left open: {exc}", flush=True)
        return
    if report.closed:
        print(f"closed {len(report.closed)} call record(s) left open by an earlier process as interrupted", flush=True)


def settle_heap() -> None:
    """Collect once and freeze what start-up built (metadata, compiled flows, models): the collector's full
    passes then skip it, which keeps their pauses short while calls run (bench/bench_ivr.py)."""
    gc.collect()
    gc.freeze()


def server_flows(platform: Any) -> list[str]:
    from helpline.metadata.ivr_checks import ivrs_of

    return sorted(ivrs_of(platform.metadata))
