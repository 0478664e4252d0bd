"""Writes ``tests/slow_tests.txt`` from a run's ``--durations`` report: every test whose setup, call and
teardown together took more than the threshold (both database variants of a test count as one).

```bash
python -m pytest -q -p no:cacheprovider --durations=0 -vv > /tmp/durations.txt   # the whole suite
python tests/slow_list.py /tmp/durations.txt --over 3 --load "4-7"                # rewrites the list
python tests/slow_list.py /tmp/part.txt --over 3 --load "6-7" --keep               # adds to it
```

``tests/conftest.py`` marks the listed tests ``slow``, so ``-m "not slow"`` leaves them out. Note the load
average of the measuring machine in ``--load``: on a loaded machine the same test takes longer.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

LIST = Path(__file__).with_name("slow_tests.txt")
LINE = re.compile(r"^([0-9.]+)s (?:setup|call|teardown)\s+(\S+)")


def slow_tests(report: str, over: float) -> dict[str, float]:
    """Test (node id without parameters) → its slowest variant's seconds, for those over ``over``."""
    per_id: defaultdict[str, float] = defaultdict(float)
    for line in report.splitlines():
        found = LINE.match(line)
        if found:
            per_id[found.group(2)] += float(found.group(1))
    slowest: dict[str, float] = {}
    for node, seconds in per_id.items():
        test = node.split("[", 1)[0]
        slowest[test] = max(slowest.get(test, 0.0), seconds)
    return {test: seconds for test, seconds in sorted(slowest.items()) if seconds > over}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="pytest output with --durations=0 -vv")
    parser.add_argument("--over", type=float, default=3.0, help="seconds (default 3)")
    parser.add_argument("--load", default="?", help="the load average while measuring, for the record")
    parser.add_argument("--keep", action="store_true", help="keep the listed tests (a partial report)")
    args = parser.parse_args()
    found = slow_tests(args.report.read_text(encoding="utf-8", errors="replace"), args.over)
    if args.keep and LIST.exists():
        for line in LIST.read_text(encoding="utf-8").splitlines():
            test, _, note = line.partition("#")
            if test.strip() and test.strip() not in found:
                found[test.strip()] = float(note.strip().split()[0]) if note.strip() else args.over
        found = dict(sorted(found.items()))
    header = (f"# Tests over {args.over:g} s (setup + call + teardown) in a --durations run at load average "
              f"{args.load} on 2 cores;\n# written by tests/slow_list.py, read by tests/conftest.py (marker slow).\n")
    LIST.write_text(header + "".join(f"{test}  # {seconds:.1f} s\n" for test, seconds in found.items()),
                    encoding="utf-8")
    print(f"{len(found)} slow tests written to {LIST}")


if __name__ == "__main__":
    main()
