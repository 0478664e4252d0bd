"""Places of use: what names a rule may read, what actions it may take, and how its text is read.

A :class:`Use` declares a context schema (dotted name -> type spelling), open prefixes (``var`` -> any
``var.<name>`` is allowed, typed ``any``), actions (name -> parameter types), and a mode: a single
expression or a rule list, first match or all matches, tier declarations allowed or not. Adding a place
takes a few lines::

    REPORT = Use.expression("report", {"call.wait": "duration", "agent.skill": "set(text)"})

Dynamic schemas (query screens, row scopes) copy a standard use with extra names::

    use = SCOPE.with_context({"record.region": "text", "record.status": "category(status)"})

``codes`` (category tree -> its codes) and ``refs`` (reference kind -> names, e.g. ``queue``) are
optional callbacks; when given, unknown category codes and unknown queue/node names are reported with a
"did you mean" hint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from .types import ANY, BOOL, NUMBER, TEXT, RType, as_type, set_of

CodesFn = Callable[[str], Iterable[str] | None]
Mode = Literal["expression", "rules"]


def _types(names: Mapping[str, RType | str]) -> Mapping[str, RType]:
    return MappingProxyType({k: as_type(v) for k, v in names.items()})


def _sigs(actions: Mapping[str, Iterable[RType | str]]) -> Mapping[str, tuple[RType, ...]]:
    return MappingProxyType({k: tuple(as_type(t) for t in v) for k, v in actions.items()})


@dataclass(frozen=True, eq=False)
class Use:
    """One place of use of the rule language. Build with :meth:`expression` or :meth:`rules`.

    Instances compare and hash by identity (they hold mappings and callbacks).
    """

    name: str
    context: Mapping[str, RType]
    open_prefixes: Mapping[str, RType] = field(default_factory=lambda: MappingProxyType({}))
    actions: Mapping[str, tuple[RType, ...]] = field(default_factory=lambda: MappingProxyType({}))
    mode: Mode = "rules"
    match_all: bool = False
    tiers_allowed: bool = False
    codes: CodesFn | None = None
    refs: CodesFn | None = None
    description: str = ""
    expect_bool: bool = True

    @classmethod
    def expression(
        cls,
        name: str,
        context: Mapping[str, RType | str],
        *,
        open_prefixes: Mapping[str, RType | str] | None = None,
        codes: CodesFn | None = None,
        description: str = "",
        expect_bool: bool = True,
    ) -> Use:
        """A place whose text is a single expression (a query, guard, scope, validation).

        With ``expect_bool`` (the default) the expression must be a condition (true/false).
        """
        return cls(
            name,
            _types(context),
            _types(open_prefixes or {}),
            mode="expression",
            codes=codes,
            description=description,
            expect_bool=expect_bool,
        )

    @classmethod
    def rules(
        cls,
        name: str,
        context: Mapping[str, RType | str],
        actions: Mapping[str, Iterable[RType | str]],
        *,
        open_prefixes: Mapping[str, RType | str] | None = None,
        match_all: bool = False,
        tiers_allowed: bool = False,
        codes: CodesFn | None = None,
        refs: CodesFn | None = None,
        description: str = "",
    ) -> Use:
        """A place whose text is a rule list (``when ... then ...``, ``otherwise``, maybe ``tier``)."""
        return cls(
            name,
            _types(context),
            _types(open_prefixes or {}),
            _sigs(actions),
            "rules",
            match_all,
            tiers_allowed,
            codes,
            refs,
            description,
        )

    def with_context(
        self,
        names: Mapping[str, RType | str],
        *,
        open_prefixes: Mapping[str, RType | str] | None = None,
    ) -> Use:
        """A copy with more (or re-typed) context names and open prefixes."""
        ctx = dict(self.context)
        ctx.update(_types(names))
        pre = dict(self.open_prefixes)
        pre.update(_types(open_prefixes or {}))
        return replace(self, context=MappingProxyType(ctx), open_prefixes=MappingProxyType(pre))

    def with_actions(self, actions: Mapping[str, Iterable[RType | str]]) -> Use:
        """A copy with more actions."""
        acts = dict(self.actions)
        acts.update(_sigs(actions))
        return replace(self, actions=MappingProxyType(acts))

    def with_codes(self, codes: CodesFn | None = None, refs: CodesFn | None = None) -> Use:
        """A copy that knows the codes of category trees and/or the names of references."""
        return replace(self, codes=codes or self.codes, refs=refs or self.refs)

    def for_value(self) -> Use:
        """A copy that reads one expression of any type (a value, not only a condition) with the same names:
        what ``rules eval`` uses for a bare expression."""
        return replace(self, mode="expression", expect_bool=False)


CALLER: dict[str, RType | str] = {
    "caller.number": "text",
    "caller.known": "bool",
    "caller.blacklisted": "bool",
    "caller.region": "text",
    "caller.city": "text",
}
CUSTOMER: dict[str, RType | str] = {
    "customer.id": "any",
    "customer.name": "text",
    "customer.tier": "category(value_tier)",
    "customer.lifecycle": "category(lifecycle)",
    "customer.business_line": "category(business_line)",
}
CLOCK: dict[str, RType | str] = {"now.hour": "number", "today.weekday": "number"}

IVR = Use.rules(
    "ivr",
    {
        **CALLER,
        **CUSTOMER,
        **CLOCK,
        "call.wait": "duration",
        "call.elapsed": "duration",
        "call.digits": "text",
        "call.retries": "number",
        "call.dnid": "text",
        "now.minute": "number",
        "today.date": "date",
        "outage.active": "bool",
    },
    {
        "goto": ["ref(node)"],
        "transfer": ["ref(queue)"],
        "set": ["ref(var)", "any"],
        "block": [],
        "skip_ivr": [],
        "play": ["ref(prompt)"],
        "hangup": [],
        "tier": ["ref(tier)"],
    },
    open_prefixes={"var": "any"},
    description="IVR branch: first matching rule wins",
)

MAX_RESERVE = 99
"""The largest ``reserve N`` of a tier strategy (agent reservation; HL-R216 beyond it)."""

TIER = Use.rules(
    "tier",
    {
        **CALLER,
        **CUSTOMER,
        **CLOCK,
        "call.wait": "duration",
        "queue.waiting": "number",
        "tier.name": "text",
        "tier.service_level": "number",
        "tier.higher_lead": "number",
        "tier.target": "number",
        "tier.within": "duration",
        "tier.priority": "number",
    },
    {
        "priority": ["number"],
        "add_priority": ["number"],
        "set_priority": ["number"],
        "open_level": ["number"],
        "reserve": ["number"],
    },
    match_all=True,
    tiers_allowed=True,
    description="tier strategy: tier declarations, then rules that all apply",
)

QUERY = Use.expression(
    "query", {}, open_prefixes={"input": "any"}, description="query-screen condition logic"
)
GUARD = Use.expression(
    "guard", {}, open_prefixes={"record": "any", "user": "any"}, description="workflow guard"
)
ASSIGN = Use.rules(
    "assign",
    {"now.hour": "number", "today.weekday": "number"},
    {"department": ["category(department)"], "assignee": ["text"]},
    open_prefixes={"record": "any", "user": "any"},
    description="workflow assignment: the first matching rule names the department or the user",
)
SCOPE = Use.expression(
    "scope",
    {"user.id": "any", "user.name": "text", "user.regions": "set(text)", "user.roles": "set(text)"},
    description="row scope: record.<field> names are added per entity with with_context",
)
VALIDATION = Use.expression(
    "validation", {"value": "any"}, open_prefixes={"record": "any"}, description="field validation"
)

IMPORT = Use.expression(
    "import", {"value": "any"}, open_prefixes={"row": "any"}, expect_bool=False,
    description="import transform or cleansing: value (the column's) and row.<field> (every mapped column)",
)

CAMPAIGN = Use.expression(
    "campaign", {}, open_prefixes={"answer": "any", "contact": "any"},
    description="campaign questionnaire branching: answer.<question> (the answers so far) and contact.<field> "
                "(the list row being called)",
)

USES: Mapping[str, Use] = MappingProxyType({u.name: u for u in (IVR, TIER, QUERY, GUARD, ASSIGN, SCOPE, VALIDATION,
                                                                 IMPORT, CAMPAIGN)})


def _value_type(value: Any) -> RType:
    """The rule type of one JSON value (lists become sets of their elements' common type, else ``any``)."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    if isinstance(value, list):
        kinds = {_value_type(v) for v in value if v is not None}
        elem = kinds.pop() if len(kinds) == 1 else ANY
        return set_of(ANY if elem.kind in ("set", "record") else elem)
    return ANY


def types_of_values(values: Mapping[str, Any], prefix: str = "") -> dict[str, RType]:
    """Context names with types inferred from (JSON-like) values: nested objects become dotted names
    (``{"customer": {"tier": "gold"}}`` -> ``customer.tier: text``); true/false -> bool, numbers -> number,
    strings -> text, lists -> set(...), null or an empty object -> any."""
    names: dict[str, RType] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            names.update(types_of_values(value, dotted + "."))
        else:
            names[dotted] = _value_type(value)
    return names


def with_values(use: Use, values: Mapping[str, Any]) -> Use:
    """``use`` with every name present in ``values`` that it does not declare, typed from its value. Names
    the use declares keep their type, and a group of the use (``customer``) is not re-declared as a value."""
    groups = {".".join(k.split(".")[:i]) for k in use.context for i in range(1, k.count(".") + 1)}
    extra = {k: t for k, t in types_of_values(values).items() if k not in use.context and k not in groups}
    return use.with_context(extra) if extra else use


def query_use(inputs: Mapping[str, RType | str] | Iterable[str]) -> Use:
    """The ``query`` use for one query screen: each input is a bool name, its value ``input.<name>``."""
    if isinstance(inputs, Mapping):
        names: dict[str, RType | str] = {k: "bool" for k in inputs}
        names.update({f"input.{k}": v for k, v in inputs.items()})
        return QUERY.with_context(names)
    return QUERY.with_context({k: "bool" for k in inputs})


def scope_use(fields: Mapping[str, RType | str]) -> Use:
    """The ``scope`` use for one entity: ``record.<field>`` for each of its fields."""
    return SCOPE.with_context({f"record.{k}": v for k, v in fields.items()})
