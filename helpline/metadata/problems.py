"""The catalogue of metadata problem ids: each has a title and a hint, like Django's system checks.

Ids are stable: tests, docs and the designers refer to them. ``HL-E0xx`` are file-level problems,
``HL-E1xx`` schema problems inside one object, ``HL-E2xx`` cross-references between objects, ``HL-E3xx``
IVR flows and routing; ``HL-W...`` are warnings (``run.py check`` still exits 0). Problems in rule texts
embedded in metadata keep the rule language's own ids (``HL-R...``).
"""

from __future__ import annotations

from dataclasses import dataclass

from helpline.diagnostics import Problem


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    hint: str


CATALOGUE: dict[str, Check] = {c.id: c for c in [
    Check("HL-E001", "YAML syntax error", "Fix the YAML syntax at the position shown (indentation, quotes, colons)."),
    Check("HL-E002", "file does not hold one mapping",
          "A metadata file holds one object: a mapping with 'kind' and 'name' at the top level."),
    Check("HL-E003", "duplicate key", "A key appears twice in the same mapping; YAML would silently keep the last."),
    Check("HL-E004", "file cannot be read", "Save the file as UTF-8 text."),
    Check("HL-E005", "YAML aliases expand too far",
          "Write the values out instead of repeating them with aliases (*name); aliases may add at most 10,000 "
          "values to a file and may not refer to a value that contains them."),
    Check("HL-E010", "unknown kind", "Use one of the kinds listed in the message."),
    Check("HL-E011", "kind does not match its folder",
          "Move the file to the folder of its kind, or correct 'kind'."),
    Check("HL-E012", "name does not match the file name",
          "Name the file after the object: metadata/<folder>/<name>.yaml."),
    Check("HL-E101", "missing property", "Add the property; it is required for this kind."),
    Check("HL-E102", "unknown property", "Remove it or correct its spelling; see the kind's documented properties."),
    Check("HL-E103", "wrong type of value", "Give a value of the type the message names."),
    Check("HL-E104", "invalid name",
          "Names and codes are lower-case ASCII letters, digits and '_', starting with a letter."),
    Check("HL-E105", "value not among the allowed choices", "Use one of the values the message lists."),
    Check("HL-E106", "invalid value", "Correct the value as the message explains."),
    Check("HL-E201", "duplicate name", "Two objects of the same kind share a name; rename one."),
    Check("HL-E202", "unknown entity", "Refer to an entity defined under metadata/entities/."),
    Check("HL-E203", "unknown field", "Refer to a field the entity defines (retired fields cannot be placed)."),
    Check("HL-E204", "unknown category tree", "Refer to a tree defined under metadata/categories/."),
    Check("HL-E205", "unknown screen", "Refer to a screen defined under metadata/screens/."),
    Check("HL-E206", "unknown query", "Refer to a query defined under metadata/queries/."),
    Check("HL-E207", "unknown menu or menu item", "Refer to 'menu' or 'menu.item' as defined under metadata/menus/."),
    Check("HL-E208", "unknown role", "Refer to a role defined under metadata/roles/."),
    Check("HL-E209", "unknown permission", "Use a permission from the catalogue (see docs/metadata.md)."),
    Check("HL-E210", "cycle in a category tree", "A node cannot be its own ancestor; correct the 'parent' chain."),
    Check("HL-E211", "cycle in a menu", "A menu item cannot be its own ancestor; correct the 'parent' chain."),
    Check("HL-E212", "duplicate field, code or item", "Names inside one object must be unique."),
    Check("HL-E213", "unknown parent", "The parent must be a code or item of the same tree or menu."),
    Check("HL-E214", "field of the wrong type here", "The message names the types this place accepts."),
    Check("HL-E215", "invalid default value", "The default must be a valid value of the field (type, choices)."),
    Check("HL-E216", "regular expression does not compile", "Correct the pattern (Python 're' syntax)."),
    Check("HL-E217", "unknown page", "Use one of the built-in pages listed in the message."),
    Check("HL-E218", "screen of the wrong view here", "A list needs a form screen to open, and so on."),
    Check("HL-E219", "unknown category code", "Use a code of the field's category tree."),
    Check("HL-E220", "invalid numbering series",
          "A series is text with date parts such as {yyyyMMdd} and one {seq:N} (N digits, 1-12), e.g. "
          "WO{yyyyMMdd}{seq:5}, on a text field long enough for its values and without a default."),
    Check("HL-E221", "unknown level",
          "A link's 'level' is a code of the linked entity's 'level' category field (region: province, city, "
          "county)."),
    Check("HL-E301", "unknown IVR node", "Refer to a node defined under 'nodes' of the same flow."),
    Check("HL-E302", "unknown prompt", "Refer to a prompt defined under 'prompts' of the same flow."),
    Check("HL-E303", "unknown queue", "Refer to a queue defined in a routing under metadata/routings/."),
    Check("HL-E304", "unknown IVR flow", "Refer to a flow defined under metadata/ivrs/."),
    Check("HL-E305", "unknown extension hook",
          "Name a function '<extension>.<function>' listed in IVR_HOOKS of extensions/<extension>/."),
    Check("HL-E306", "access number used twice",
          "Each access number (dialled number) selects one flow; remove it from all but one."),
    Check("HL-E307", "unreachable IVR node",
          "No path from 'start' (or a jump from another flow) reaches this node; link it or remove it."),
    Check("HL-E308", "queue defined twice", "Queue names are unique across all routings; rename one."),
    Check("HL-E309", "value cannot be said that way",
          "say: number needs a number (var.amount), say: date a date (var.due_date, today.date); a text or a call "
          "variable is checked when the call runs."),
    Check("HL-E401", "unknown workflow state",
          "Refer to a state listed under 'states' of the same workflow."),
    Check("HL-E402", "unreachable workflow state",
          "No transition leads from the initial state to this one; add a transition to it or remove it."),
    Check("HL-E403", "open workflow state with no way out",
          "Records in this state would stay there for ever: add a transition from it, or make it 'kind: closed'."),
    Check("HL-E404", "workflow state field cannot hold the states",
          "Use a text or category field of the entity; with a category field, each state must be a code of its tree."),
    Check("HL-E405", "two workflows govern the same records",
          "Give all but one of the entity's workflows an 'applies' rule saying which records it governs."),
    Check("HL-E410", "calendar without working hours",
          "Give at least one weekday working hours under 'hours' (e.g. mon: [\"08:30-17:30\"]); a deadline on a "
          "calendar that never works would never come."),
    Check("HL-E411", "unknown workflow", "Refer to a workflow defined under metadata/workflows/."),
    Check("HL-E412", "unknown calendar", "Refer to a calendar defined under metadata/calendars/."),
    Check("HL-E413", "unknown workflow state in a service-level policy",
          "Name a state listed under 'states' of the policy's workflow."),
    Check("HL-E414", "unknown workflow transition",
          "Name a transition listed under 'transitions' of the policy's workflow."),
    Check("HL-E415", "warning threshold out of range",
          "Give the warning as a per cent of the target: more than 0 and less than 100 (e.g. 80)."),
    Check("HL-E420", "import key is not a unique mapped field",
          "Give as 'key' a unique field of the entity (customer_no) that a column fills."),
    Check("HL-E421", "unknown code table", "Name a table defined under 'code_tables' of the same definition."),
    Check("HL-E422", "header alias of two columns",
          "Each header (compared without case and spaces) may belong to one column only; remove it from one."),
    Check("HL-E423", "unknown import definition", "Refer to an import defined under metadata/imports/."),
    Check("HL-E440", "unknown report measure",
          "Use a measure of the report's source (docs/reports.md lists those of calls and agents)."),
    Check("HL-E441", "unknown report dimension",
          "Group and filter by a dimension of the report's source (docs/reports.md lists them)."),
    Check("HL-E442", "report without a period",
          "Add an input '{name: period, dimension: day, op: between, required: true}'."),
    Check("HL-E443", "chart measure not in the report", "Draw one of the report's measures, or add it."),
    Check("HL-E444", "measure or dimension not kept by category",
          "A calls report grouped or filtered by category reads the category facts (per day): use the measures "
          "calls, answered, talk_s, aht_s and the dimensions day, week, month, category, category_type, queue, tier, "
          "region, city, flow; or make a second report for the others."),
    Check("HL-E430", "scorecard weights do not add up to 100",
          "Give the sections weights that add up to 100 (per cent of the scorecard), and the items of each "
          "section weights that add up to 100 (per cent of the section)."),
    Check("HL-E460", "unknown campaign list source",
          "Name an import definition (metadata/imports/) or a query screen (metadata/queries/) that exists."),
    Check("HL-E461", "unknown field or input of a campaign list",
          "Name a field the list's rows have (a column of the import, a field of the query's entity) and only "
          "inputs the query screen declares."),
    Check("HL-E462", "a question branches on a later or unknown question",
          "A question's 'when' may read only answers to questions asked before it; move the question or "
          "correct the name."),
    Check("HL-W201", "a role reads records linked to a scoped entity without any scope",
          "Give the role a scope on this entity, or a (scoped) read grant on the linked entity: records linked to "
          "it then take its scope."),
    Check("HL-E901", "an extension cannot be loaded",
          "Fix the extension named in the message: it must import, and declare IVR_HOOKS, RECORD_EVENTS, "
          "SCHEDULED_JOBS, NOTIFICATION_SENDERS, IMPORT_SOURCES and CHECKS as docs/extensions.md describes."),
    Check("HL-W901", "an extension's check reports a problem", "The extension's own hint says what to change."),
]}


def problem(check_id: str, message: str, *, hint: str | None = None, file: str | None = None,
            line: int | None = None, column: int | None = None, excerpt: str = "") -> Problem:
    """A :class:`Problem` for a catalogued id; the hint defaults to the catalogue's."""
    check = CATALOGUE[check_id]
    return Problem(id=check_id, message=message, hint=check.hint if hint is None else hint,
                   file=file, line=line, column=column, excerpt=excerpt)
