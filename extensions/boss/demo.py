"""The embedded demo's billing system: when ``run.py serve`` runs the demo on the simulated switch (no Asterisk
manager configured) and no real BOSS is meant, a simulator (:mod:`.simulator`) is started in-process on a free
loopback port and the connector is pointed at it (:data:`extensions.boss.DEMO_URL`), so the key persons' job,
the nightly sync and the pop of unknown callers have a billing system to talk to instead of failing every
minute. Declared as ``DEMO_SERVICES["simulator"]`` (``helpline/extension_registry.py``); stopped at shutdown.

Nothing starts when ``HELPLINE_BOSS_URL`` is set, when the import definition's ``url`` is not a loopback address
(a real system is meant), or when something already listens at that address (e.g. ``python -m
extensions.boss.simulator --port 8089`` run by hand, or a BOSS tunnelled to the loopback).
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.parse
from typing import Any

from helpline.extension_registry import DemoService

from . import local
from .simulator import Simulator

log = logging.getLogger("extensions.boss")

CUSTOMERS = 2000
"""The simulated billing system's customers (a realistic size: a page or two of the change feed)."""
CHANGES_PER_MINUTE = 5
"""Random payments a minute, for the nightly sync and the key persons' job to bring in."""
CARD_PREFIX = "8739"
"""The simulated smart-card numbers' prefix: the demo's own customers have ``8731`` + 12 digits, and the card
number is unique, so BOSS's customers synced into the demo database never collide with them."""
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def start_simulator(platform: Any) -> DemoService | None:
    """The demo's simulated BOSS, started and connected to, or None when a real one is meant (module docstring)."""
    from . import set_demo_url

    if os.environ.get("HELPLINE_BOSS_URL"):
        return None
    try:
        configured = str(local.params(platform).get("url") or "")
    except Exception:  # no boss_customers definition: nothing calls BOSS
        return None
    address = urllib.parse.urlsplit(configured)
    if address.hostname not in LOOPBACK:
        return None
    if _listening(address.hostname or "127.0.0.1", address.port or 80):
        log.info("boss: something answers at %s already; the demo uses it", configured)
        return None
    sim = Simulator(CUSTOMERS, card_prefix=CARD_PREFIX, changes_per_minute=CHANGES_PER_MINUTE).start()
    set_demo_url(sim.url)

    def stop() -> None:
        set_demo_url("")
        sim.stop()

    return DemoService(f"simulated billing system (BOSS) on {sim.url}: {len(sim.data)} customers, "
                       f"{CHANGES_PER_MINUTE} payments a minute (HELPLINE_BOSS_URL for a real one)", stop)
