"""``run.py agi``: a telephony-only node: the platform and its FastAGI server, no web UI.

Asterisk reaches it with ``AGI(agi://HOST:4573/ivr)`` (the dialled number picks the flow) or
``AGI(agi://HOST:4573/ivr/<flow>)``. Stops on Ctrl-C or SIGTERM, letting calls in progress wind up.
"""

from __future__ import annotations

import argparse
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
                    "of its script path (ivr/<flow>) or of its dialled number. Stops on Ctrl-C or SIGTERM.")
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
    try:
        server = start_agi_server(platform, settings.agi_host, settings.agi_port, router=router,
                                  read_timeout=args.read_timeout)
    except OSError as exc:
        stop_router(platform)
        print(f"helpline: cannot listen on {settings.agi_host}:{settings.agi_port}: {exc}")
        return 1
    done = stop or threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"Helpline FastAGI on {settings.agi_host}:{server.port} (flows: "
          f"{', '.join(server_flows(platform)) or 'none'})", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop(timeout=5.0)
        stop_router(platform)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print("Helpline FastAGI stopped", flush=True)
    return 0


def server_flows(platform: Any) -> list[str]:
    from helpline.metadata.ivr_checks import ivrs_of

    return sorted(ivrs_of(platform.metadata))
