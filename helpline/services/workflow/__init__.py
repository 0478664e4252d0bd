"""Processes on the one workflow engine: the engine (transitions), the directory (departments and people), departments
(members, heads, regions) and the inboxes."""

from .departments import Department, DepartmentError, DepartmentService
from .directory import Directory
from .engine import ActionState, TransitionEvent, TransitionRefused, WorkflowService
from .inbox import BOXES, InboxPage, InboxService, inboxes

__all__ = [
           "BOXES",
           "ActionState",
           "Department",
           "DepartmentError",
           "DepartmentService",
           "Directory",
           "InboxPage",
           "InboxService",
           "TransitionEvent",
           "TransitionRefused",
           "WorkflowService",
           "inboxes",
]
