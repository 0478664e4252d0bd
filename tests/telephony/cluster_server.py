"""A ``run.py serve`` process for tests/telephony/test_two_instances.py (test-only, never shipped).

It runs exactly what ``run.py serve`` runs (``helpline.cli.serve_cmd.run``: platform, demo data, router,
election, scheduler, FastAGI, web UI) with two additions a test needs and the shipped server must not have:

* ``--agents 5101,5102``: agent users ``test5101`` … (role ``agent``, every city in their row scope) with
  profiles (``PJSIP/5101``, skill ``general``, ``wrap_up_s`` 0.3 s so one agent takes several calls), made
  right after the demo agents, before the router loads the profiles (idempotent: every instance may ask);
* ``GET /_test/login?user=NAME`` (signs the requesting browser session in as the login form does:
  ``begin_sign_in`` then ``/login/complete``) and ``GET /_test/ready?user=NAME`` (the agent signs in to the
  telephony and goes ready through the desk service, as the desktop's buttons do).

``python tests/telephony/cluster_server.py --agents 5101,5102 serve --port P --agi-port A ...``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "Cluster-test-1"
WRAP_UP_S = 0.3


def make_agents(platform: Any, numbers: list[str]) -> None:
    """Users and agent profiles of the test agents (those not there yet)."""
    from helpline.data.database import session, write_transaction
    from helpline.data.system import User, UserRole
    from helpline.security.actor import Actor
    from helpline.security.passwords import hash_password
    from helpline.services.agents import save_profile

    region = platform.models["region"]
    with session():
        cities = [r[0] for r in region.select(region._meta.fields["code"])
                  .where(region._meta.fields["level"] == "city").tuples()]
    with session(), write_transaction():
        existing = {u.username for u in User.select(User.username)}
        digest = hash_password(PASSWORD)
        for number in numbers:
            if f"test{number}" not in existing:
                User.create(username=f"test{number}", password_hash=digest, regions=cities,
                            display_name=f"Test agent {number}", language="en")
                UserRole.create(username=f"test{number}", role="agent")
    admin = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    for number in numbers:
        save_profile(admin, number, username=f"test{number}", name=f"Test {number}", endpoint=f"PJSIP/{number}",
                     skills={"general": 1}, auto_answer=False, wrap_up_s=WRAP_UP_S, active=True)


def register_endpoints(platform: Any) -> None:
    from fastapi.responses import JSONResponse, RedirectResponse, Response
    from nicegui import app

    from helpline.services.auth import actor_for, find_user
    from helpline.ui import session as web_session

    web_session.OPEN_PATHS = (*web_session.OPEN_PATHS, "/_test/")  # type: ignore[assignment]

    @app.get("/_test/login")
    def login(user: str) -> Response:
        found = find_user(user)
        if found is None:
            return JSONResponse({"ok": False}, status_code=404)
        return RedirectResponse(web_session.begin_sign_in(found, "/_test/signed"), status_code=303)

    @app.get("/_test/signed")
    def signed() -> dict[str, Any]:
        return {"user": app.storage.user.get("username")}

    @app.get("/_test/ready")
    def ready(user: str) -> dict[str, Any]:
        found = find_user(user)
        if found is None:
            return {"ok": False}
        actor = actor_for(found, platform.metadata)
        ref = platform.desk.sign_in(actor)
        platform.desk.ready(actor)
        return {"ok": True, "agent": ref.number}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agents", default="", help="agent numbers to create, comma-separated")
    args, rest = p.parse_known_args(argv)
    numbers = [n for n in args.agents.split(",") if n]

    import helpline.services.agents as agents_module
    import helpline.ui.app as app_module

    demo_agents, serve = agents_module.ensure_demo_agents, app_module.serve
    platforms: list[Any] = []

    def start_platform_hook(*a: Any, **kw: Any) -> Any:
        platform = start_platform(*a, **kw)
        platforms.append(platform)
        return platform

    def with_test_agents() -> list[str]:
        created = demo_agents()
        make_agents(platforms[-1], numbers)
        return created

    def serve_with_endpoints(settings: Any, platform: Any) -> None:
        register_endpoints(platform)
        serve(settings, platform)

    from helpline.cli import serve_cmd

    start_platform = serve_cmd.start_platform
    serve_cmd.start_platform = start_platform_hook  # type: ignore[assignment]
    agents_module.ensure_demo_agents = with_test_agents  # type: ignore[assignment]
    app_module.serve = serve_with_endpoints  # type: ignore[assignment]
    from helpline.cli import main as cli_main

    return cli_main(rest)


if __name__ in {"__main__", "__mp_main__"}:
    sys.exit(main())
