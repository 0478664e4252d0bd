"""The extension registry: declarations read and checked, calls bounded in time, failures logged with the
extension's name and never raised (but a ``Refuse``), broken extensions reported by ``run.py check``."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from helpline.extension_registry import ExtensionRegistry, RecordEvent, Refuse
from helpline.metadata.loader import load_directory

ROOT = Path(__file__).resolve().parent.parent


def _registry(tmp_path: Path, extensions: dict[str, str]) -> ExtensionRegistry:
    package = f"plugs_{uuid.uuid4().hex[:8]}"
    base = tmp_path / package
    base.mkdir()
    (base / "__init__.py").write_text("")
    for name, source in extensions.items():
        (base / name).mkdir()
        (base / name / "__init__.py").write_text(textwrap.dedent(source))
    sys.path.insert(0, str(tmp_path))
    try:
        return ExtensionRegistry.load(base, package=package)
    finally:
        sys.path.remove(str(tmp_path))


GOOD = """
    import time
    from helpline.extension_registry import Refuse

    seen = []

    def stamp(event):
        event.values["note"] = "checked by good"
        if event.values.get("name") == "refuse me":
            raise Refuse("names like that are not allowed")

    def broken(event):
        raise RuntimeError("boom")

    def slow_hook(call):
        time.sleep(5)
        return None

    def quick_hook(call):
        return "next_node"

    def nightly():
        return {"synced": 3}

    def finds(metadata):
        return [("something to fix", "do this"), "plain text finding"]

    IVR_HOOKS = {"slow": slow_hook, "quick": quick_hook}
    RECORD_EVENTS = {"customer": {"before_save": stamp}, "*": {"after_save": broken}}
    SCHEDULED_JOBS = [{"name": "nightly", "cron": "0 2 * * *", "run": nightly, "description": "sync"}]
    NOTIFICATION_SENDERS = {"sms": lambda to, subject, body: None}
    CHECKS = [finds]
    TIME_LIMIT_S = 0.3
"""


def test_declarations_are_read(tmp_path: Path) -> None:
    reg = _registry(tmp_path, {"good": GOOD})
    assert reg.problems == []
    ext = reg.extensions["good"]
    assert set(ext.ivr_hooks) == {"slow", "quick"} and ext.time_limit_s == 0.3
    assert [(j.name, j.cron) for j in reg.scheduled_jobs()] == [("good.nightly", "0 2 * * *")]
    assert reg.sender("sms") is not None and reg.sender("email") is None
    assert reg.import_source("boss") is None


def test_record_events_run_in_order_and_failures_never_stop_the_save(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    reg = _registry(tmp_path, {"good": GOOD})
    event = RecordEvent("customer", "before_save", {"name": "Zhang San"})
    reg.fire("customer", "before_save", event)
    assert event.values["note"] == "checked by good"
    with pytest.raises(Refuse, match="not allowed"):
        reg.fire("customer", "before_save", RecordEvent("customer", "before_save", {"name": "refuse me"}))
    with caplog.at_level(logging.ERROR, logger="helpline.extensions"):
        reg.fire("work_order", "after_save", RecordEvent("work_order", "after_save", {}))  # raises inside
    assert "extension 'good': after_save of work_order failed" in caplog.text


def test_ivr_hooks_run_within_the_time_limit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reg = _registry(tmp_path, {"good": GOOD})
    quick = reg.ivr_hook("good.quick")
    assert not isinstance(quick, str) and quick(object()) == "next_node"
    slow = reg.ivr_hook("good.slow")
    assert not isinstance(slow, str)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="helpline.extensions"), pytest.raises(TimeoutError):
        slow(object())
    assert time.monotonic() - started < 3  # left at its 0.3 s limit, not the 5 s
    assert "extension 'good': IVR hook good.slow took longer than its 0.3 s limit" in caplog.text
    assert reg.ivr_hook("good.none") == "extension 'good' has no IVR hook 'none' (it has: quick, slow)"
    assert reg.ivr_hook("other.x") == "there is no extension 'other' (extensions/other/__init__.py)"


def test_broken_extensions_are_reported_not_raised(tmp_path: Path) -> None:
    reg = _registry(tmp_path, {
        "good": GOOD,
        "noimport": "import not_a_module_anywhere\n",
        "badevent": "RECORD_EVENTS = {'customer': {'before_lunch': print}}\n",
        "badjob": "SCHEDULED_JOBS = [{'name': 'x'}]\n",
        "badlimit": "TIME_LIMIT_S = -1\n",
    })
    assert set(reg.extensions) == {"good"}
    text = "\n".join(reg.problems)
    assert "extension 'noimport' does not import" in text
    assert "unknown record event 'before_lunch'" in text
    assert "each of SCHEDULED_JOBS needs 'name', 'cron' and a callable 'run'" in text
    assert "TIME_LIMIT_S must be a positive number" in text


def test_check_functions_give_findings(tmp_path: Path) -> None:
    reg = _registry(tmp_path, {"good": GOOD})
    metadata = load_directory(ROOT / "metadata").metadata
    assert reg.run_checks(metadata) == [("good", "something to fix", "do this"), ("good", "plain text finding", "")]


def test_run_check_reports_the_shipped_example_as_a_warning(tmp_path: Path) -> None:
    """HL-W901 (a finding of billing_demo's check) on a flow whose balance node lost ``no_customer``."""
    import shutil

    target = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", target)
    flow = target / "ivrs" / "main.yaml"
    text = flow.read_text(encoding="utf-8")
    assert "no_customer" in text
    flow.write_text(text.replace("no_customer: ", "no_customer_was: "), encoding="utf-8")
    done = subprocess.run([sys.executable, "run.py", "check", "--metadata", str(target)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    # the renamed parameter is also an unknown parameter for the flow check, if the flow checks params
    assert "HL-W901" in done.stdout, done.stdout + done.stderr
    assert "extension 'billing_demo'" in done.stdout
