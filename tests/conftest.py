"""Shared fixtures: databases (SQLite always, PostgreSQL when HELPLINE_TEST_PG names a server), a started
platform on the demo metadata, and small metadata directories written per test.

``HELPLINE_TEST_PG`` is a server URL such as ``postgresql://postgres@127.0.0.1:5433/postgres``; each test
gets a fresh database on it. Under ``CI=true`` a missing server is an error, not a skip.

Markers: ``postgres`` on every PostgreSQL case of ``db_url``; ``browser`` on the real-Chromium tests (their
modules); ``slow`` on the tests of ``tests/slow_tests.txt`` (measured, written by ``tests/slow_list.py``) and
on modules that say so. The fast loop is ``python -m pytest -m "not slow and not browser"``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from helpline.data.database import db
from helpline.services.platform import Platform

ROOT = Path(__file__).resolve().parent.parent
DEMO_METADATA = ROOT / "metadata"
PG_SERVER = os.environ.get("HELPLINE_TEST_PG", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
_counter = itertools.count()
SLOW_TESTS = ROOT / "tests" / "slow_tests.txt"


def _pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_SERVER)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _fresh_pg_url() -> Iterator[str]:
    name = f"hl_test_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    parsed = urlparse(PG_SERVER)
    try:
        yield urlunparse(parsed._replace(path="/" + name))
    finally:
        if not db.is_closed():
            db.close()
        if db.obj is not None and hasattr(db.obj, "close_all"):
            db.obj.close_all()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_addoption(parser: pytest.Parser) -> None:
    # NiceGUI's plugin declares it, but registers only when tests/ui is collected (tests/ui/conftest.py)
    parser.addini("main_file", "the NiceGUI app file the UI tests run", default="main.py")


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the measured slow tests (``tests/slow_tests.txt``) ``slow``, and put the real-browser tests in one
    pytest-xdist group: with ``-n auto --dist loadgroup`` they run one after another on one worker (two
    Chromiums and two app servers at once on 2 cores made their waits flaky), the rest spread over the workers."""
    lines = SLOW_TESTS.read_text(encoding="utf-8").splitlines() if SLOW_TESTS.exists() else []
    slow = {line.split("#", 1)[0].strip() for line in lines} - {""}
    for item in items:
        if item.nodeid.split("[", 1)[0] in slow:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))


def backends() -> list[str]:
    return ["sqlite", "postgres"]


@pytest.fixture(params=[pytest.param(b, marks=pytest.mark.postgres) if b == "postgres" else b for b in backends()])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/helpline.db"
        if not db.is_closed():
            db.close()
        return
    if not PG_SERVER:
        if IN_CI:
            pytest.fail("CI=true but HELPLINE_TEST_PG is not set: PostgreSQL tests must run in CI")
        pytest.skip("PostgreSQL tests need HELPLINE_TEST_PG=postgresql://user@host:port/postgres")
    yield from _fresh_pg_url()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, opened as this process's database, for tests that need PostgreSQL alone
    (cluster mode, the leader election): skipped without ``HELPLINE_TEST_PG``, an error under ``CI=true``."""
    from helpline.data.database import open_database

    if not PG_SERVER:
        if IN_CI:
            pytest.fail("CI=true but HELPLINE_TEST_PG is not set: PostgreSQL tests must run in CI")
        pytest.skip("PostgreSQL tests need HELPLINE_TEST_PG=postgresql://user@host:port/postgres")
    for url in _fresh_pg_url():
        open_database(url)  # the drop at the end closes this process's pool
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path}/helpline.db"
    if not db.is_closed():
        db.close()


@pytest.fixture
def demo_metadata(tmp_path: Path) -> Path:
    """A private copy of the shipped demo metadata (tests may change it)."""
    target = tmp_path / "metadata"
    shutil.copytree(DEMO_METADATA, target)
    return target


@pytest.fixture
def platform(db_url: str, demo_metadata: Path) -> Platform:
    """A platform started on the demo metadata, with the demo regions loaded, on each backend."""
    from helpline.demo.generator import DemoGenerator

    p = Platform()
    p.start(db_url, str(demo_metadata))
    DemoGenerator(p).seed_regions()
    return p


@pytest.fixture
def utc_centre(monkeypatch: pytest.MonkeyPatch) -> None:
    """The contact centre at UTC (``HELPLINE_TIME_ZONE``): for tests whose stored times read as the centre's
    (a call at 10:00 counted at 10:00); tests/services/test_reports_centre_day.py checks a centre east of UTC."""
    monkeypatch.setenv("HELPLINE_TIME_ZONE", "UTC")


@pytest.fixture
def write_metadata(tmp_path: Path) -> Callable[..., Path]:
    """``write_metadata({"entities/x.yaml": "...yaml..."}, base=None)`` → a metadata directory."""
    counter = itertools.count()

    def write(files: dict[str, str], base: Path | None = None) -> Path:
        root = tmp_path / f"md{next(counter)}"
        if base is not None:
            shutil.copytree(base, root)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return root

    return write
