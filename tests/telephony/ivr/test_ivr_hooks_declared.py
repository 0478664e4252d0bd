"""Hooks are checked from the extension's source, without running it."""

from __future__ import annotations

from pathlib import Path

from helpline.metadata.ivr_checks import declared_hook


def test_hooks_are_read_from_the_source_without_importing(tmp_path: Path) -> None:
    ext = tmp_path / "noisy"
    ext.mkdir()
    (ext / "__init__.py").write_text(
        "raise RuntimeError('importing me would fail')\nIVR_HOOKS = {'balance': None, 'card': None}\n",
        encoding="utf-8")
    assert declared_hook("noisy.balance", tmp_path) is None
    assert "has no IVR hook 'topup'" in (declared_hook("noisy.topup", tmp_path) or "")
    assert "there is no extension 'missing'" in (declared_hook("missing.x", tmp_path) or "")
    (ext / "__init__.py").write_text("IVR_HOOKS = {", encoding="utf-8")
    assert "cannot be read" in (declared_hook("noisy.balance", tmp_path) or "")
