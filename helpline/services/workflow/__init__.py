"""Processes on the one workflow engine: the engine (transitions), the directory (departments and people)."""

from .directory import Directory
from .engine import ActionState, TransitionEvent, TransitionRefused, WorkflowService

__all__ = ["ActionState", "Directory", "TransitionEvent", "TransitionRefused", "WorkflowService"]
