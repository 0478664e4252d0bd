"""Campaign dialling and the call-back queue on the leader only (``helpline.services.leader``): two instances on
one PostgreSQL database (two routers and desks in this process, an election each). The standby's dialler does not
run and refuses a joining agent naming the leader; its router holds no call-back task. When the leader's
connection dies the standby leads: its dialler starts, closing the attempt the old leader left open, an agent
works the campaign there; its router takes the open call-back task and the old leader's router lets it go."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dialler_helpers import MONDAY_10, agent, campaign_metadata, close_desk, make_desk, number_row, start_campaign

from helpline.data.campaigns import CampaignAttempt
from helpline.data.database import db, open_database, session
from helpline.data.jobs import Instance
from helpline.services import callbacks as callback_service
from helpline.services.campaigns import CampaignError
from helpline.services.leader import LeaderElection
from helpline.services.platform import Platform
from telephony.callbacks import CallbackQueue
from telephony.desk.service import DeskService
from telephony.outbound.dialler import Dialler
from telephony.router.callbacks import is_callback
from tests.conftest import IN_CI, PG_SERVER, _fresh_pg_url

ROOT = Path(__file__).resolve().parents[3]
RENEW_S = 0.05
pytestmark = pytest.mark.postgres


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[Platform, list[DeskService], list[LeaderElection]]]:
    """A platform on a fresh PostgreSQL database with the test campaign, two desks (the two instances' routers)
    and two elections, the first started (it leads), the second not yet."""
    if not PG_SERVER:
        if IN_CI:
            pytest.fail("CI=true but HELPLINE_TEST_PG is not set: PostgreSQL tests must run in CI")
        pytest.skip("PostgreSQL tests need HELPLINE_TEST_PG=postgresql://user@host:port/postgres")
    for url in _fresh_pg_url():
        metadata = tmp_path / "metadata"
        shutil.copytree(ROOT / "metadata", metadata)
        campaign_metadata(metadata, "progressive")
        platform = Platform()
        platform.start(url, str(metadata))
        open_database(url)
        desks = [make_desk(platform), make_desk(platform)]
        elections = [LeaderElection(url, renew_s=RENEW_S, instance=f"test-{i}") for i in range(2)]
        elections[0].start()
        try:
            yield platform, desks, elections
        finally:
            for election in elections:
                election.stop()
            for desk in desks:
                close_desk(desk)
            if not db.is_closed():
                db.close()


def _wait(condition: Callable[[], Any], limit_s: float = 5.0) -> Any:
    deadline = time.monotonic() + limit_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {limit_s} s")
        time.sleep(0.01)
    return value


def _kill_connection(url: str, instance: str) -> None:
    """The leader's election connection ends (as when its process dies)."""
    import psycopg2

    with session():
        backend = Instance.get_by_id(instance).backend_pid
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (backend,))
    conn.close()


def test_the_campaign_dialler_runs_on_the_leader_and_moves_with_it(two_instances, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    platform, (desk0, desk1), (first, second) = two_instances
    clock = lambda: MONDAY_10  # noqa: E731
    service, run_id = start_campaign(platform, clock, tmp_path, ["13800000801", "13800000802"])
    lead = Dialler(platform, desk0, service, now=clock).follow(first)
    second.start()
    standby = Dialler(platform, desk1, service, now=clock).follow(second)
    assert lead.running and not standby.running
    agent1 = agent(platform, desk1, "agent1")
    with pytest.raises(CampaignError, match=r"\(test-1\) is a standby: campaigns are dialled on test-0 "):
        standby.join(agent1, run_id)
    standby.tick()  # a tick reaching a standby dials nothing
    # the leader claimed a number and its process died before the outcome: the attempt is left open
    left = service.claim(run_id, 1, now=clock())[0]
    assert number_row(left.phone).status == "dialling"
    _kill_connection(first.url, "test-0")
    _wait(lambda: standby.running and not lead.running)
    with session():
        assert CampaignAttempt.get_by_id(left.attempt_id).outcome == "interrupted"
    assert number_row(left.phone).status == "ready" and number_row(left.phone).attempts == 0
    with pytest.raises(CampaignError, match="campaigns are dialled on test-1 "):
        lead.join(agent(platform, desk0, "agent2"), run_id)
    # the new leader dials: agent1 joins there and the other number is dialled for it
    standby.join(agent1, run_id)
    call = _wait(lambda: (found := standby.current("agent1")) is not None and found.call_id is not None and found)
    assert call.claim.phone == "13800000802" and call.state in ("dialling", "talking", "ended")
    assert number_row("13800000802").attempts == 1


def test_the_call_back_queue_is_held_by_the_leader_router_only(two_instances) -> None:  # type: ignore[no-untyped-def]
    platform, (desk0, desk1), (first, second) = two_instances
    queues = [CallbackQueue(platform, desk0.router).follow(first)]
    second.start()
    queues.append(CallbackQueue(platform, desk1.router).follow(second))
    policy = queues[0].policy()
    task = callback_service.create(number="13800000901", queue="general", tier="ordinary", source="ivr",
                                   policy=policy)

    def held(desk: DeskService) -> set[int]:
        return desk.router.do(lambda r: {i for i in (*r.deferred, *r.waiting, *r.active) if is_callback(i)})

    assert queues[1].sync() == {"queued": 0, "held": 0, "withdrawn": 0}  # the standby leaves its router alone
    assert sum(queues[0].sync().values()) == 1
    assert held(desk0) == {-task["id"]} and held(desk1) == set()
    # the standby's IVR takes a request: the task is written, the leader's next sync hands it over
    late = queues[1].from_call(call_id=0, number="13800000902", queue="general", tier="ordinary", recording=None,
                               customer_id=None, customer_name=None, region=None, city=None)
    assert late is not None and held(desk1) == set()
    _kill_connection(first.url, "test-0")
    _wait(lambda: not first.is_leader and second.is_leader)
    # an election's flag turns first, then its callbacks run (a sync reads the flag): wait for them
    _wait(lambda: held(desk1) == {-task["id"], -late["id"]})  # synced when elected
    _wait(lambda: held(desk0) == set())  # the old leader let its tasks go
