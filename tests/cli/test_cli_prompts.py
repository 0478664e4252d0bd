"""``run.py prompts check|render``: the demo flows' prompt files in a sounds folder, looked up as Asterisk 22
does, and made with espeak-ng and sox (8 kHz mono 16-bit WAV). espeak-ng and sox are required (CI installs
them), never skipped."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
import yaml

from helpline.cli import main
from helpline.services import prompts


def demo_prompts(metadata: Path) -> dict[tuple[str, str], str]:
    """(flow, prompt) → file, read straight from the demo's YAML files."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted((metadata / "ivrs").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, prompt in (data.get("prompts") or {}).items():
            found[(data["name"], name)] = prompt["file"]
    return found


def put(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


def test_check_lists_every_prompt_per_language_and_the_missing_files(tmp_path: Path, demo_metadata: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    sounds = tmp_path / "sounds"
    put(sounds / "zh_CN/helpline/welcome.wav")
    put(sounds / "en/helpline/welcome.gsm")  # any format Asterisk plays
    put(sounds / "helpline/main-menu.wav")  # no language folder: Asterisk's fallback for every language
    put(sounds / "zh/helpline/invalid.wav")  # zh_CN without its dialect
    code, out = run(["prompts", "check", "--sounds", str(sounds), "--db", f"sqlite:///{tmp_path}/h.db",
                     "--metadata", str(demo_metadata)], capsys)
    assert code == 1, out
    expected = demo_prompts(demo_metadata)
    zh, _, en = out.partition("\nen:\n")
    for (flow, name), file in expected.items():
        for section in (zh, en):
            assert f"{flow}/{name}" in section and file in section, (flow, name)
    line = {(lang, text.split()[0]): text for lang, part in (("zh_CN", zh), ("en", en))
            for text in part.splitlines() if text.startswith("  ")}
    assert line[("zh_CN", "main/welcome")].endswith("ok zh_CN/helpline/welcome.wav")
    assert line[("en", "main/welcome")].endswith("ok en/helpline/welcome.gsm")
    assert line[("en", "main/main_menu")].endswith("fallback helpline/main-menu.wav")
    assert line[("zh_CN", "main/invalid")].endswith("fallback zh/helpline/invalid.wav")
    assert line[("en", "main/invalid")].endswith("MISSING")
    assert line[("zh_CN", "main/connecting")].endswith("MISSING")
    files = set(expected.values())
    missing = 2 * len(files) - 2 - 2 - 1  # welcome (both), main-menu (both), invalid (zh_CN)
    assert f"{2 * len(expected)} prompt(s) checked, {missing} sound file(s) missing" in out


def test_render_makes_every_prompt_in_both_languages_then_check_passes(
        tmp_path: Path, demo_metadata: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sounds = tmp_path / "sounds"
    db = ["--db", f"sqlite:///{tmp_path}/h.db", "--metadata", str(demo_metadata)]
    code, out = run(["prompts", "render", "--sounds", str(sounds), *db], capsys)
    assert code == 0, out
    files = set(demo_prompts(demo_metadata).values())
    for language in ("zh_CN", "en"):
        for file in files:
            path = sounds / language / f"{file}.wav"
            with wave.open(str(path)) as sound:
                assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (8000, 1, 2), path
                assert sound.getnframes() > 8000 * 0.3, f"{path} is too short to hold speech"
    welcome = [(sounds / lang / "helpline/welcome.wav").read_bytes() for lang in ("zh_CN", "en")]
    assert welcome[0] != welcome[1], "each language speaks its own text"
    assert run(["prompts", "check", "--sounds", str(sounds), *db], capsys)[0] == 0
    (sounds / "en/helpline/goodbye.wav").unlink()
    before = (sounds / "en/helpline/welcome.wav").stat().st_mtime_ns
    code, out = run(["prompts", "render", "--missing", "--language", "en", "--sounds", str(sounds), *db], capsys)
    assert code == 0 and "1 sound file(s) written" in out, out
    assert (sounds / "en/helpline/goodbye.wav").is_file()
    assert (sounds / "en/helpline/welcome.wav").stat().st_mtime_ns == before


def test_render_prompt_refuses_bad_input(tmp_path: Path) -> None:
    for prompt, why in (({"file": "../etc/x", "text": {"en": "Hi"}}, "not a prompt file name"),
                        ({"file": "/etc/x", "text": {"en": "Hi"}}, "not a prompt file name"),
                        ({"file": "helpline/x", "text": {"en": " "}}, "no text")):
        with pytest.raises(prompts.RenderError, match=why):
            prompts.render_prompt(prompt, tmp_path)
    written = prompts.render_prompt({"file": "helpline/x", "text": {"en": "Hello."}}, tmp_path)
    assert written == [tmp_path / "en/helpline/x.wav"] and not (tmp_path / "zh_CN").exists()
