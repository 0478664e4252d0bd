"""The slow-test list: built from a ``--durations`` report (phases summed, a test's slowest variant), and
every test it names still exists (a renamed test would silently join the fast loop)."""

from __future__ import annotations

import re
from pathlib import Path

from slow_list import LIST, slow_tests

ROOT = Path(__file__).resolve().parents[1]

REPORT = """\
============================= slowest durations ==============================
2.50s call     tests/a/test_x.py::test_slow[sqlite]
1.00s setup    tests/a/test_x.py::test_slow[sqlite]
4.00s call     tests/a/test_x.py::test_slow[postgres]
2.90s call     tests/a/test_x.py::test_quick
0.20s teardown tests/a/test_x.py::test_quick
1 passed in 9.99s
"""


def test_phases_are_summed_and_the_slowest_variant_counts() -> None:
    assert slow_tests(REPORT, 3.0) == {"tests/a/test_x.py::test_slow": 4.0, "tests/a/test_x.py::test_quick": 3.1}
    assert list(slow_tests(REPORT, 3.5)) == ["tests/a/test_x.py::test_slow"]


def test_every_listed_slow_test_exists() -> None:
    listed = [line.split("#", 1)[0].strip() for line in LIST.read_text(encoding="utf-8").splitlines()]
    tests = [t for t in listed if t]
    assert tests
    for test in tests:
        path, _, name = test.partition("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"def {re.escape(name.split('::')[-1])}\(", source), f"{test} is gone: remeasure"
