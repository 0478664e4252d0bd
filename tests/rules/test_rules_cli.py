"""The ``rules`` CLI: check and eval, exit codes and output format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from helpline.cli.rules_cmd import add_parser, main


def test_check_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "main.rules"
    f.write_text("when caller.known then block\nwhen caller.numbr == '1' then block\n", encoding="utf-8")
    assert main(["rules", "check", str(f), "--use", "ivr"]) == 1
    out = capsys.readouterr().out
    assert f"{f}:2:6: HL-R201 unknown name `caller.numbr`" in out
    assert "     ^^^^^^^^^^^^" in out


def test_check_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "scope.rules"
    f.write_text("record.region in user.regions\n", encoding="utf-8")
    assert main(["rules", "check", str(f), "--use", "scope", "--declare", "record.region=text"]) == 0
    assert capsys.readouterr().out.startswith("ok:")


def test_eval_expression_rules_and_tier(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "eval", "value > 3", "--use", "validation", "--context", '{"value": 5}']) == 0
    assert json.loads(capsys.readouterr().out) == {"value": True}
    text = "when customer.tier == gold then transfer vip\notherwise goto menu"
    assert main(["rules", "eval", text, "--context", '{"customer": {"tier": "gold"}}']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["matches"][0]["actions"] == [{"name": "transfer", "args": ["vip"]}]
    tier = "tier vip: target 90% within 20s, priority 30, open level 2 after 5s"
    assert (
        main(["rules", "eval", tier, "--use", "tier", "--tier", "vip", "--context", '{"call": {"wait": 6}}'])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["decision"]["max_level"] == 2


def test_eval_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "eval", "a = 1", "--use", "query"]) == 1
    assert "HL-R103" in capsys.readouterr().err
    assert main(["rules", "eval", "value / 0 > 1", "--use", "validation", "--context", '{"value": 1}']) == 1
    assert "HL-R401" in capsys.readouterr().err
    assert main(["rules", "eval", "true", "--use", "query", "--context", "[1]"]) == 2


def test_add_parser_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="run.py")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["rules", "eval", "true", "--use", "query"])
    assert args.func(args) == 0
    for argv in (["rules", "--help"], ["rules", "check", "--help"], ["rules", "eval", "--help"]):
        with pytest.raises(SystemExit) as exc:
            parser.parse_args(argv)
        assert exc.value.code == 0
    assert "--use" in capsys.readouterr().out


def test_eval_bare_expression_prints_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "eval", "1 + 2 * 3"]) == 0  # the default place (ivr) reads rule lists
    assert json.loads(capsys.readouterr().out) == {"value": 7}
    assert main(["rules", "eval", "upper(\"ab\") + \"c\"", "--use", "tier"]) == 0
    assert json.loads(capsys.readouterr().out) == {"value": "ABc"}
    assert main(["rules", "eval", "value * 2", "--use", "validation", "--context", '{"value": 4}']) == 0
    assert json.loads(capsys.readouterr().out) == {"value": 8}
    assert main(["rules", "eval", "when 1 + 2 then block"]) == 1  # a rule list is still checked as one
    assert "HL-R212" in capsys.readouterr().err


@pytest.mark.parametrize("use", ["ivr", "tier", "query", "guard", "scope", "validation"])
def test_eval_declares_the_names_of_the_context(use: str, capsys: pytest.CaptureFixture[str]) -> None:
    context = '{"customer": {"tier": "gold"}}'
    assert main(["rules", "eval", 'customer.tier == "gold"', "--use", use, "--context", context]) == 0
    assert json.loads(capsys.readouterr().out) == {"value": True}
    assert main(["rules", "eval", 'customer.tier == "silver"', "--use", use, "--context", context]) == 0
    assert json.loads(capsys.readouterr().out) == {"value": False}


def test_eval_infers_types_from_json(capsys: pytest.CaptureFixture[str]) -> None:
    context = json.dumps({"n": 2, "vip": True, "tags": ["a", "b"], "who": {"name": "Li", "note": None}})
    assert main(["rules", "eval", 'n * 3 > 5 and vip and "a" in tags and len(who.name) == 2',
                 "--use", "query", "--context", context]) == 0
    assert json.loads(capsys.readouterr().out) == {"value": True}
    assert main(["rules", "eval", 'n > "x"', "--use", "query", "--context", context]) == 1
    assert "HL-R202" in capsys.readouterr().err  # n is a number: the inferred type is checked
    assert main(["rules", "eval", "who.note is empty", "--use", "query", "--context", context]) == 0
    assert json.loads(capsys.readouterr().out) == {"value": True}
    # a name the place declares keeps its type: customer.tier is a category of the ivr, so a code is fine
    ivr = "when customer.tier == gold then block"
    assert main(["rules", "eval", ivr, "--context", '{"customer": {"tier": "gold"}}']) == 0
    assert json.loads(capsys.readouterr().out)["matches"][0]["actions"] == [{"name": "block", "args": []}]
    assert main(["rules", "eval", "nobody > 1", "--use", "query", "--context", context]) == 1
    assert "HL-R201 unknown name `nobody`" in capsys.readouterr().err
