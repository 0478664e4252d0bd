"""What the extensions in ``extensions/`` plug in, declared in one place per extension (like Frappe's hooks.py).

An extension is a package ``extensions/<name>/__init__.py``. It declares what it adds with module-level
names, each optional:

| name | type | used by |
|---|---|---|
| ``IVR_HOOKS`` | ``{function: callable(HookCall) -> node or None}`` | IVR ``hook`` nodes (``<extension>.<function>``) |
| ``RECORD_EVENTS`` | ``{entity or "*": {event: callable(RecordEvent)}}`` (events below) | the record service |
| ``SCHEDULED_JOBS`` | ``[{"name", "cron", "run": callable([platform]) -> result, "description"}]`` | the scheduler |
| ``NOTIFICATION_SENDERS`` | ``{channel: callable(recipient, subject, body)}`` | notices (e-mail, SMS, ...) |
| ``IMPORT_SOURCES`` | ``{kind: callable(settings) -> iterable of rows}`` | data imports |
| ``POP_LOOKUPS`` | ``{name: callable(PopLookup) -> PopFound or None}`` | the pop of a caller no customer matches |
| ``CHECKS`` | ``[callable(MetadataSet) -> list of (message, hint)]`` | ``run.py check`` (id HL-W901) |
| ``DEMO_SERVICES`` | ``{name: callable(platform) -> DemoService or None}`` | the embedded demo (stand-ins started) |
| ``TIME_LIMIT_S`` | ``float`` (default 2.0) | every call into the extension but scheduled jobs |

Record events: ``before_save``, ``after_save``, ``after_delete``, ``on_transition``.

:class:`ExtensionRegistry` imports the extensions once and keeps their declarations. :meth:`ExtensionRegistry.call`
runs an extension's function with its time limit on a worker thread: a function that raises or runs over
is logged with the extension's name and its fallback is returned, so an extension can never drop a call or
a save. The only exception that passes through is :class:`Refuse`, which a ``before_save`` event raises to
refuse a save with a message for the user. (A function over its time limit cannot be stopped — Python has
no way to kill a thread — so it finishes in the background and its result is dropped.)
"""

from __future__ import annotations

import concurrent.futures
import functools
import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpline.config import ROOT

log = logging.getLogger("helpline.extensions")

EXTENSIONS_DIR = ROOT / "extensions"
"""Where extension packages live (a folder per extension)."""

DEFAULT_TIME_LIMIT_S = 2.0
RECORD_EVENTS = ("before_save", "after_save", "after_delete", "on_transition")
DECLARED = ("IVR_HOOKS", "RECORD_EVENTS", "SCHEDULED_JOBS", "NOTIFICATION_SENDERS", "IMPORT_SOURCES", "POP_LOOKUPS",
            "CHECKS", "DEMO_SERVICES", "TIME_LIMIT_S")

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="extension")


class Refuse(Exception):
    """Raised by a ``before_save`` record event to refuse the save; the message is shown to the user."""


class ExtensionError(Exception):
    """An extension declares something malformed; the message names the extension and what is wrong."""


@dataclass
class RecordEvent:
    """What a record event sees: the entity, the event, the record's values (``before_save`` may change
    ``values``), the values before (updates), the user, and for ``on_transition`` the states."""

    entity: str
    event: str
    values: dict[str, Any]
    before: Mapping[str, Any] | None = None
    username: str = ""
    record_id: Any = None
    transition: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PopLookup:
    """What a pop lookup is asked: the caller's number of call ``call_id``, for which no local customer matched;
    ``platform`` to write the customer through (its record service)."""

    platform: Any
    caller_number: str
    call_id: int


@dataclass(frozen=True)
class PopFound:
    """What a pop lookup found: the local customer it created or updated for the caller (through the record
    service, so audited and indexed) and what the other system told of them, shown in the pop marked as coming
    from there."""

    customer_id: int
    account_no: str = ""
    balance: Any = None
    """Decimal yuan, or None when the system gives none."""
    products: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoService:
    """A stand-in for an outside system an extension started for the embedded demo (e.g. a simulated billing
    system): what the startup log says of it, and how to stop it at shutdown."""

    description: str
    stop: Callable[[], Any]


@dataclass(frozen=True)
class ScheduledJob:
    extension: str
    name: str
    cron: str
    run: Callable[..., Any]
    """Called with no argument, or with the platform when it takes one."""
    description: str = ""


@dataclass
class Extension:
    """The declarations of one extension."""

    name: str
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    ivr_hooks: dict[str, Callable[..., Any]] = field(default_factory=dict)
    record_events: dict[str, dict[str, Callable[[RecordEvent], Any]]] = field(default_factory=dict)
    jobs: list[ScheduledJob] = field(default_factory=list)
    senders: dict[str, Callable[..., Any]] = field(default_factory=dict)
    import_sources: dict[str, Callable[..., Any]] = field(default_factory=dict)
    pop_lookups: dict[str, Callable[..., Any]] = field(default_factory=dict)
    checks: list[Callable[..., Any]] = field(default_factory=list)
    demo_services: dict[str, Callable[..., Any]] = field(default_factory=dict)


def _mapping(module: Any, name: str, ext: str) -> dict[str, Any]:
    value = getattr(module, name, None)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ExtensionError(f"extension '{ext}': {name} must be a mapping, not {type(value).__name__}")
    for key, fn in value.items():
        if not callable(fn):
            raise ExtensionError(f"extension '{ext}': {name}['{key}'] is not callable")
    return dict(value)


def declarations(name: str, module: Any) -> Extension:
    """The declarations of the imported extension ``module``; :class:`ExtensionError` if malformed."""
    limit = getattr(module, "TIME_LIMIT_S", DEFAULT_TIME_LIMIT_S)
    if not isinstance(limit, int | float) or limit <= 0:
        raise ExtensionError(f"extension '{name}': TIME_LIMIT_S must be a positive number of seconds")
    ext = Extension(name, float(limit), ivr_hooks=_mapping(module, "IVR_HOOKS", name),
                    senders=_mapping(module, "NOTIFICATION_SENDERS", name),
                    import_sources=_mapping(module, "IMPORT_SOURCES", name),
                    pop_lookups=_mapping(module, "POP_LOOKUPS", name),
                    demo_services=_mapping(module, "DEMO_SERVICES", name))
    for entity, events in (getattr(module, "RECORD_EVENTS", None) or {}).items():
        if not isinstance(events, Mapping):
            raise ExtensionError(f"extension '{name}': RECORD_EVENTS['{entity}'] must map events to functions")
        for event, fn in events.items():
            if event not in RECORD_EVENTS:
                raise ExtensionError(f"extension '{name}': unknown record event '{event}' "
                                     f"(events: {', '.join(RECORD_EVENTS)})")
            if not callable(fn):
                raise ExtensionError(f"extension '{name}': RECORD_EVENTS['{entity}']['{event}'] is not callable")
        ext.record_events[str(entity)] = dict(events)
    for job in getattr(module, "SCHEDULED_JOBS", None) or []:
        if not isinstance(job, Mapping) or not {"name", "cron", "run"} <= set(job) or not callable(job["run"]):
            raise ExtensionError(f"extension '{name}': each of SCHEDULED_JOBS needs 'name', 'cron' and a "
                                 f"callable 'run'")
        ext.jobs.append(ScheduledJob(name, f"{name}.{job['name']}", str(job["cron"]), job["run"],
                                     str(job.get("description", ""))))
    checks = getattr(module, "CHECKS", None) or []
    if not isinstance(checks, list | tuple) or not all(callable(c) for c in checks):
        raise ExtensionError(f"extension '{name}': CHECKS must be a list of functions")
    ext.checks = list(checks)
    return ext


class ExtensionRegistry:
    """The extensions of a directory, imported once; broken ones are reported in :attr:`problems`."""

    def __init__(self, extensions: Iterable[Extension] = (), problems: Iterable[str] = ()) -> None:
        self.extensions: dict[str, Extension] = {e.name: e for e in extensions}
        self.problems: list[str] = list(problems)

    @classmethod
    def load(cls, directory: Path | None = None, package: str = "extensions") -> ExtensionRegistry:
        base = directory or EXTENSIONS_DIR
        found: list[Extension] = []
        problems: list[str] = []
        for folder in sorted(p for p in base.iterdir() if (p / "__init__.py").is_file()) if base.is_dir() else []:
            try:
                module = importlib.import_module(f"{package}.{folder.name}")
                found.append(declarations(folder.name, module))
            except ExtensionError as exc:
                problems.append(str(exc))
            except Exception as exc:  # an extension that does not import is reported, never raised
                problems.append(f"extension '{folder.name}' does not import: {exc!r}")
        for problem in problems:
            log.error("%s", problem)
        return cls(found, problems)

    # -- calling into extensions ------------------------------------------------------------------------
    def call(self, extension: str, what: str, fn: Callable[..., Any], *args: Any, fallback: Any = None) -> Any:
        """``fn(*args)`` with the extension's time limit; a failure or an overrun is logged with the
        extension's name and gives ``fallback``; :class:`Refuse` is raised on."""
        ext = self.extensions.get(extension)
        limit = ext.time_limit_s if ext else DEFAULT_TIME_LIMIT_S
        future = _pool.submit(fn, *args)
        try:
            return future.result(timeout=limit)
        except Refuse:
            raise
        except concurrent.futures.TimeoutError:
            log.error("extension '%s': %s took longer than its %.1f s limit; going on without it", extension,
                      what, limit)
        except Exception:
            log.exception("extension '%s': %s failed; going on without it", extension, what)
        return fallback

    def fire(self, entity: str, event: str, payload: RecordEvent) -> None:
        """Run every extension's ``event`` for ``entity`` (and for ``"*"``) in extension-name order."""
        for name, ext in sorted(self.extensions.items()):
            for key in (entity, "*"):
                fn = ext.record_events.get(key, {}).get(event)
                if fn is not None:
                    self.call(name, f"{event} of {entity}", fn, payload)

    # -- what the others read ---------------------------------------------------------------------------
    def ivr_hook(self, name: str) -> Callable[..., Any] | str:
        """The IVR hook ``<extension>.<function>`` wrapped in its time limit, or why it is not there."""
        extension, _, function = name.partition(".")
        ext = self.extensions.get(extension)
        if ext is None:
            return f"there is no extension '{extension}' (extensions/{extension}/__init__.py)"
        fn = ext.ivr_hooks.get(function)
        if fn is None:
            known = ", ".join(sorted(ext.ivr_hooks)) or "none"
            return f"extension '{extension}' has no IVR hook '{function}' (it has: {known})"
        return _LimitedHook(self, extension, name, fn)

    def scheduled_jobs(self) -> list[ScheduledJob]:
        return [job for _, ext in sorted(self.extensions.items()) for job in ext.jobs]

    def job_functions(self, platform: Any) -> dict[str, Callable[[], Any]]:
        """``<extension>.<job>`` → what the scheduler calls: the job's ``run``, given ``platform`` when it takes
        an argument."""
        out: dict[str, Callable[[], Any]] = {}
        for job in self.scheduled_jobs():
            try:
                wants = bool(inspect.signature(job.run).parameters)
            except (TypeError, ValueError):  # a builtin without a signature: called as it is
                wants = False
            out[job.name] = functools.partial(job.run, platform) if wants else job.run
        return out

    def sender(self, channel: str) -> tuple[str, Callable[..., Any]] | None:
        """The first extension (by name) that sends on ``channel``, with its function."""
        for name, ext in sorted(self.extensions.items()):
            if channel in ext.senders:
                return name, ext.senders[channel]
        return None

    def import_source(self, kind: str) -> tuple[str, Callable[..., Any]] | None:
        for name, ext in sorted(self.extensions.items()):
            if kind in ext.import_sources:
                return name, ext.import_sources[kind]
        return None

    def lookup_caller(self, lookup: PopLookup) -> PopFound | None:
        """The first :class:`PopFound` of the extensions' pop lookups (extension-name order), each run within
        its extension's time limit (an overrun or a failure is logged and counts as not found)."""
        for name, ext in sorted(self.extensions.items()):
            for key, fn in sorted(ext.pop_lookups.items()):
                found = self.call(name, f"pop lookup {key}", fn, lookup, fallback=None)
                if isinstance(found, PopFound):
                    return found
        return None

    def start_demo_services(self, platform: Any) -> list[tuple[str, DemoService]]:
        """Start every extension's demo services (extension-name order) for the embedded demo: ``(name, service)``
        of those that started; a function that returns None (it decided a real system is configured) starts
        nothing; one that fails is logged and skipped. Not bounded by ``TIME_LIMIT_S`` (a start may build data)."""
        started: list[tuple[str, DemoService]] = []
        for name, ext in sorted(self.extensions.items()):
            for key, fn in sorted(ext.demo_services.items()):
                try:
                    service = fn(platform)
                except Exception:
                    log.exception("extension '%s': demo service %s failed to start; going on without it", name, key)
                    continue
                if isinstance(service, DemoService):
                    started.append((f"{name}.{key}", service))
        return started

    @staticmethod
    def stop_demo_services(started: list[tuple[str, DemoService]]) -> None:
        """Stop what :meth:`start_demo_services` started (last first); a failure is logged, the others stop."""
        for name, service in reversed(started):
            try:
                service.stop()
            except Exception:
                log.exception("demo service %s did not stop cleanly", name)

    def run_checks(self, metadata: Any) -> list[tuple[str, str, str]]:
        """``(extension, message, hint)`` for every finding of every extension's check functions; a check
        that fails is itself a finding."""
        out: list[tuple[str, str, str]] = []
        for name, ext in sorted(self.extensions.items()):
            for check in ext.checks:
                found = self.call(name, f"check {getattr(check, '__name__', check)}", check, metadata,
                                  fallback=None)
                if found is None:
                    out.append((name, f"the check {getattr(check, '__name__', '?')} failed or ran over its "
                                      f"time limit", "see the log for its error"))
                    continue
                for item in found:
                    message, hint = (item, "") if isinstance(item, str) else (str(item[0]), str(item[1]))
                    out.append((name, message, hint))
        return out


class _LimitedHook:
    """An IVR hook that runs within its extension's time limit; a failure or an overrun raises
    :class:`TimeoutError` / the hook's error in the call's thread, so the node's ``on_error`` is taken."""

    def __init__(self, registry: ExtensionRegistry, extension: str, name: str, fn: Callable[..., Any]) -> None:
        self.registry, self.extension, self.name, self.fn = registry, extension, name, fn

    def __call__(self, call: Any) -> Any:
        ext = self.registry.extensions.get(self.extension)
        limit = ext.time_limit_s if ext else DEFAULT_TIME_LIMIT_S
        future = _pool.submit(self.fn, call)
        try:
            return future.result(timeout=limit)
        except concurrent.futures.TimeoutError:
            log.error("extension '%s': IVR hook %s took longer than its %.1f s limit", self.extension, self.name,
                      limit)
            raise TimeoutError(f"hook {self.name} took longer than {limit:g} s") from None
        except Exception:
            log.exception("extension '%s': IVR hook %s failed", self.extension, self.name)
            raise


_registry: ExtensionRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> ExtensionRegistry:
    """The process's registry of the checkout's ``extensions/`` (loaded at first use)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = ExtensionRegistry.load()
        return _registry
