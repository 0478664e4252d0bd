"""Every metadata kind, its model and the folder its files live in (``metadata/<kind>s/``)."""

from __future__ import annotations

from .calendar import Calendar
from .campaign import Campaign
from .category import Category, CategoryNode
from .common import LANGUAGES, Label, MetaObject
from .entity import Entity, EntityField, Validation
from .imports import Import
from .ivr import Ivr, Prompt
from .jobs import Job
from .menu import PAGES, Menu, MenuItem
from .performance import Performance
from .query import Pivot, Query, QueryInput
from .report import Report, ReportInput
from .role import EntityGrant, Role
from .roster import Roster
from .routing import Queue, Routing
from .scorecard import Scorecard
from .screen import Column, FieldRef, RelatedList, Screen, Section
from .sla import Sla
from .workflow import Workflow

KINDS: dict[str, type[MetaObject]] = {
    "entity": Entity,
    "category": Category,
    "screen": Screen,
    "query": Query,
    "menu": Menu,
    "role": Role,
    "ivr": Ivr,
    "routing": Routing,
    "workflow": Workflow,
    "calendar": Calendar,
    "sla": Sla,
    "job": Job,
    "import": Import,
    "scorecard": Scorecard,
    "roster": Roster,
    "performance": Performance,
    "report": Report,
    "campaign": Campaign,
}
"""Kind name to model, in dependency order (entities first)."""

FOLDERS: dict[str, str] = {
    "entity": "entities", "category": "categories", "screen": "screens", "query": "queries", "menu": "menus",
    "role": "roles", "ivr": "ivrs", "routing": "routings", "workflow": "workflows", "calendar": "calendars",
    "sla": "slas", "job": "jobs", "import": "imports",
    "report": "reports",
    "scorecard": "scorecards",
    "roster": "rosters",
    "performance": "performances",
    "campaign": "campaigns",
}
"""Kind name to its folder under the metadata directory."""

KIND_OF_FOLDER = {folder: kind for kind, folder in FOLDERS.items()}

__all__ = [
    "FOLDERS", "KINDS", "KIND_OF_FOLDER", "LANGUAGES", "PAGES", "Calendar", "Campaign", "Category", "CategoryNode",
    "Column",
    "Entity", "EntityField", "EntityGrant", "FieldRef", "Import", "Ivr", "Job", "Label", "Menu", "MenuItem",
    "MetaObject", "Performance", "Pivot", "Prompt", "Query", "QueryInput", "Queue", "RelatedList", "Report",
    "ReportInput", "Role", "Roster", "Routing", "Scorecard",
    "Screen", "Section", "Sla", "Validation", "Workflow",
]
