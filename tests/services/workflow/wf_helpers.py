"""Shared helpers of the workflow tests (a module of its own: every test folder has a ``conftest`` module, so
importing from ``conftest`` picks whichever folder's came first)."""

from __future__ import annotations

from helpline.security.actor import Actor
from helpline.services.platform import Platform

COMPLAINT = """\
# A small complaint loop for the engine's tests.
kind: workflow
name: complaint_test
label: {en: Complaint, zh_CN: 投诉}
entity: work_order
state_field: status
applies: 'record.type == complaint'
initial: new
states:
  - {name: new, label: {en: New, zh_CN: 新建}}
  - {name: dispatched, label: {en: Dispatched, zh_CN: 已派单}, edit: {qa: ["*"], agent: [description]}}
  - {name: replied, label: {en: Replied, zh_CN: 已回复}}
  - {name: closed, label: {en: Closed, zh_CN: 已闭环}, kind: closed}
transitions:
  - name: forward
    label: {en: Forward, zh_CN: 转派}
    from: [new]
    to: dispatched
    roles: [qa, agent]
    require: [department]
    assign: {to: department, field: department}
    effects: [{notify: [department, creator]}]
  - name: reply
    label: {en: Reply, zh_CN: 回复}
    from: [dispatched]
    to: replied
    roles: [agent]
    require: [reply]
    guard: 'record.priority != urgent'
    guard_message: {en: Urgent orders are answered by phone, zh_CN: 紧急工单须电话回复}
    effects: [{set: {replied_at: now}}]
  - name: escalate
    label: {en: Escalate, zh_CN: 升级}
    from: [dispatched]
    to: dispatched
    roles: [agent]
    guard: '100 / (record.id - record.id) > 1'
  - name: close
    label: {en: Close, zh_CN: 闭环}
    from: [replied]
    to: closed
    roles: [agent]
    comment: required
    effects: [{set: {closed_at: now}}]
  - name: reopen
    label: {en: Reopen, zh_CN: 重新处理}
    from: [replied]
    to: dispatched
    roles: [agent, qa]
"""


def actor(p: Platform, name: str, role: str, regions: tuple[str, ...] = ("changsha",)) -> Actor:
    return Actor(name, roles=(role,), regions=regions, language="en").bind(p.metadata)
