"""Jobs from metadata: an import on its own source (sql here) on the scheduler, retried with back-off, and a
notice when it still fails; a job naming an extension job nobody declares is reported, not scheduled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from helpline.data.database import db, session
from helpline.data.imports import ImportRun
from helpline.data.notices import Notice
from helpline.extension_registry import registry
from helpline.services.imports.jobs import metadata_jobs
from helpline.services.imports.words import failure_text
from helpline.services.notices.texts import render
from helpline.services.platform import Platform
from helpline.services.scheduler import Scheduler

SQL_IMPORT = """\
# Customers from a billing database table.
kind: import
name: boss_table
entity: customer
key: customer_no
source: {{type: sql, url: 'sqlite:///{db}', query: 'select cust_no, cust_name, tier from customers'}}
columns:
  - {{field: customer_no, headers: [cust_no], required: true}}
  - {{field: name, headers: [cust_name]}}
  - {{field: value_tier, headers: [tier]}}
"""
JOB = """\
# Nightly copy of the billing table.
kind: job
name: nightly_boss
label: {{en: Nightly BOSS table, zh_CN: 夜间BOSS表}}
cron: '30 1 * * *'
timezone: Asia/Shanghai
run: {{import: boss_table}}
retries: 2
retry_delay: 10s
notify: ['user:{user}']
"""


@pytest.fixture
def started(sqlite_url: str, demo_metadata: Path, tmp_path: Path) -> tuple[Platform, Path]:
    boss = tmp_path / "boss.db"
    (demo_metadata / "imports" / "boss_table.yaml").write_text(SQL_IMPORT.format(db=boss), encoding="utf-8")
    (demo_metadata / "jobs").mkdir(exist_ok=True)
    (demo_metadata / "jobs" / "nightly_boss.yaml").write_text(JOB.format(user="admin"), encoding="utf-8")
    (demo_metadata / "jobs" / "orphan.yaml").write_text(
        "# An extension job nobody declares.\nkind: job\nname: orphan\ncron: '0 3 * * *'\n"
        "run: {extension: nobody.sync}\n", encoding="utf-8")
    platform = Platform()
    platform.start(sqlite_url, str(demo_metadata))
    return platform, boss


def test_an_import_job_runs_retries_and_tells_on_failure(started: tuple[Platform, Path]) -> None:
    platform, boss = started
    slept: list[float] = []
    specs, problems = metadata_jobs(platform, registry().job_functions(platform), sleep=slept.append)
    assert problems == ["job 'orphan': no extension job 'nobody.sync' (SCHEDULED_JOBS of extensions/nobody/)"]
    specs = [s for s in specs if s.name == "job.nightly_boss"]
    assert [(s.name, s.cron, s.timezone) for s in specs] == [("job.nightly_boss", "30 1 * * *", "Asia/Shanghai")]
    scheduler = Scheduler("UTC")
    scheduler.add(specs[0])
    info = scheduler.jobs()[0]
    assert info.next_run is not None and (info.next_run.hour, info.next_run.minute) == (17, 30), "01:30 Shanghai"

    failed = scheduler.run("job.nightly_boss")  # the billing table is not there yet
    assert failed.status == "failed" and "no such table: customers" in failed.error
    assert slept == [10, 20], "two retries with back-off"
    with session():
        notice = Notice.get(Notice.kind == "job_failed")
    assert (notice.username, notice.params["job"], notice.params["attempts"]) == ("admin", "nightly_boss", 3)
    where = f"source.url sqlite:///{boss}"
    assert render(notice.body_key, notice.params, "zh_CN") == (
        f"已尝试 3 次：{where}：查询失败：no such table: customers"
        f"（技术细节：OperationalError: no such table: customers）")
    assert render(notice.body_key, notice.params, "en") == (
        f"After 3 attempt(s): {where}: the query failed: no such table: customers (technical detail: "
        f"OperationalError: no such table: customers)")

    conn = sqlite3.connect(boss)
    conn.execute("create table customers (cust_no text, cust_name text, tier text)")
    conn.executemany("insert into customers values (?, ?, ?)", [("N1", "甲", "gold"), ("N2", "乙", "silver")])
    conn.commit()
    conn.close()
    ok = scheduler.run("job.nightly_boss")
    assert ok.status == "ok" and ok.result["inserted"] == 2


def test_a_run_that_fails_part_way_tells_in_each_readers_language(started: tuple[Platform, Path]) -> None:
    platform, boss = started
    conn = sqlite3.connect(boss)
    conn.execute("create table customers (cust_no text, cust_name text, tier text)")
    conn.execute("insert into customers values ('N1', '甲', 'gold')")
    conn.commit()
    conn.close()
    with session():  # the database fails under the run: its target table is gone
        db.execute_sql("alter table customer rename to customer_away")
    specs, _ = metadata_jobs(platform, {}, sleep=lambda s: None)
    scheduler = Scheduler("UTC")
    scheduler.add(next(s for s in specs if s.name == "job.nightly_boss"))
    failed = scheduler.run("job.nightly_boss")
    with session():
        db.execute_sql("alter table customer_away rename to customer")
        run = ImportRun.select().order_by(ImportRun.id.desc()).get()
        notice = Notice.get(Notice.kind == "job_failed")
    detail = "OperationalError: no such table: customer"
    assert run.status == "failed" and failure_text(run.error, "zh_CN") == (
        f"写入数据时数据库出错；此前已提交的批次保留，数据库恢复后请继续该次导入（技术细节：{detail}）")
    english = (f"import boss_table (run {run.id}) failed: the database failed while the rows were written; the "
               f"batches committed before stay: resume the run once the database answers again (technical detail: "
               f"{detail})")
    assert failed.status == "failed" and failed.error == f"JobFailed: {english}", "the jobs page's log: English"
    assert render(notice.body_key, notice.params, "en") == f"After 3 attempt(s): {english}"
    assert render(notice.body_key, notice.params, "zh_CN") == (
        f"已尝试 3 次：导入 boss_table（批次 {run.id}）失败：写入数据时数据库出错；此前已提交的批次保留，"
        f"数据库恢复后请继续该次导入（技术细节：{detail}）")
