"""A designer draft whose YAML aliases expand too far ("billion laughs") is refused at save with HL-E005."""

from __future__ import annotations

import time

import pytest

from helpline.data.database import session
from helpline.data.system import MetadataDraft
from helpline.diagnostics import ProblemsError
from helpline.security.actor import Actor
from helpline.services.designer.drafts import DraftService
from helpline.services.platform import Platform


def test_a_billion_laughs_draft_is_refused_at_once(platform: Platform) -> None:
    service = DraftService(platform)
    actor = Actor("admin", roles=("administrator",)).bind(platform.metadata)
    live = service.open(actor, "menu", "main")
    levels = [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 12)]
    text = live.text + "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "\n".join(levels) + "\n"
    started = time.monotonic()
    with pytest.raises(ProblemsError) as refused:
        service.save(actor, "menu", "main", text, live.base_revision)
    assert time.monotonic() - started < 10  # refused before 10^11 values are expanded
    (problem,) = refused.value.problems
    assert problem.id == "HL-E005" and problem.file == "menus/main.yaml" and "values" in problem.message
    with session():
        assert MetadataDraft.select().count() == 0  # nothing kept
    # ordinary YAML with a syntax error is still kept as a draft, and checked as before
    problems = service.save(actor, "menu", "main", live.text + "broken: [\n", live.base_revision)
    assert problems[0].id == "HL-E001" and problems[0].file == "menus/main.yaml"
