"""The catalogue of function permissions a role can grant and a menu item can require.

Entity permissions (create/read/update/delete) are granted per entity in ``role.entities``; these are the
functions outside entities. Later parts of Helpline add theirs here, so ``run.py check`` knows them.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "designer": "open the designers and publish metadata",
    "audit.read": "search the audit log",
    "users.manage": "create users, reset passwords, disable users",
    "categories.edit": "add, rename, move and retire category codes at run time",
    "export": "export lists and query results to Excel",
    "import": "import data from Excel and other sources",
    "jobs.manage": "see the scheduled jobs and run one now",
    "system.monitor": "see the system page: host, database, router, FastAGI, jobs, error log",
    "ivr.console": "try IVR flows in the browser",
    "desktop": "work on the agent desktop",
    "agent.auto_answer": "switch auto-answer on",
    "agent.transfer": "transfer calls to agents, queues, IVR flows",
    "agent.transfer_out": "transfer calls to external numbers",
    "agent.consult": "internal help, consultation and conference",
    "agent.internal_call": "call another agent",
    "agent.outbound": "place outbound calls",
    "agent.callback": "work call-back tasks: take them, call the customer back, record the outcome",
    "campaigns.manage": "start, pause, resume and stop outbound campaigns; their monitor, statistics, Excel export; "
                        "the do-not-call list",
    "agent.wrapup": "choose manual wrap-up",
    "agent.adjust": "use the adjust state",
    "supervisor": "open the supervisor console",
    "supervisor.force_state": "force ready, force not ready, force sign-out",
    "supervisor.listen": "listen to calls",
    "supervisor.whisper": "whisper to agents",
    "supervisor.barge": "barge in on calls",
    "supervisor.intercept": "intercept calls",
    "supervisor.recordings": "play call recordings",
    "supervisor.callbacks": "see the call-back queue (due and overdue tasks, attempts) and cancel tasks",
    "reports.all": "see every region in the reports, whatever the user's own regions",
    "routing.edit": "edit and publish routing rules",
    "qa.evaluate": "evaluate calls (quality assurance)",
    "departments.manage": "manage the members, the head and the regions of departments",
    "knowledge.stats": "see the knowledge base's usage statistics (views, searches, searches with no result, votes)",
    "bulletins.publish": "publish bulletins to roles, departments and regions and see who has read them",
}
