"""darl's math verdicts against Math-Verify's own regression cases, side by side with plain Math-Verify.

Math-Verify (the grader the paper names) keeps its regression cases as pytest parameters, `(gold, pred, expected)`
plus the extraction settings each test function uses. This script collects them from a Math-Verify checkout's
`tests/` folder, grades each pair three ways and prints the agreement and every case where darl differs:

- `expected`: the verdict Math-Verify's test asserts;
- `math_verify`: plain Math-Verify, called as its tests call it (`compare_strings` with the test's settings, or
  `verify(parse(gold), parse(pred))` where a test calls that);
- `darl`: `MathVerifier.verify_answers([gold], [pred])`, i.e. the gold as a reference answer and the prediction
  as a model's response, boxed when the case gives it without a box (`as_response`: darl reads only the last
  `\\boxed{}`, the paper's rule, so the cases measure the comparison, not Math-Verify's free-text extraction).

    git clone https://github.com/huggingface/Math-Verify /tmp/mv   # any checkout; only tests/ is read
    .venv/bin/python bench/math_verify_cases.py /tmp/mv/tests [--json OUT.json]

Every difference is meant to be deliberate; docs/verifiers-math.md lists them with the reason.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SETTINGS = ("match_types", "precision", "strict", "allow_set_relation_comp")


def as_response(pred: str) -> str:
    """A prediction as a response darl grades. Math-Verify's cases test equivalence and its own free-text
    extraction; darl reads only the last `\\boxed{}` (the paper's rule), so a prediction without a box is boxed
    here (its `$`, `$$`, `\\(`/`\\)` or `\\[`/`\\]` delimiters removed): the comparison is what is measured."""
    if "\\boxed" in pred:
        return pred
    text = pred.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right) - 1:
            text = text[len(left):len(text) - len(right)].strip()
            break
    return "\\boxed{" + text + "}"


def _call_settings(function: ast.FunctionDef) -> dict[str, object]:
    """The constant keyword arguments of the `compare_strings(...)` call in a test function's body."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "compare_strings":
            settings = {}
            for keyword in node.keywords:
                try:
                    settings[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    settings[keyword.arg] = ("param", keyword.value.id)  # type: ignore[attr-defined]
            return settings
    return {}


def collect_cases(tests_dir: Path) -> list[dict[str, object]]:
    """(file, test, gold, pred, expected, settings) for every parametrized compare_strings case."""
    cases = []
    sys.path.insert(0, str(tests_dir.parent))
    for path in sorted(tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        module = importlib.import_module(f"tests.{path.stem}")
        for function in [n for n in tree.body if isinstance(n, ast.FunctionDef)]:
            settings = _call_settings(function)
            source = ast.unparse(function)
            if "verify(parse(gold), parse(pred))" in source:
                settings = {"direct": True}  # Math-Verify's defaults, without compare_strings
            elif not settings and "compare_strings" not in source:
                continue
            marks = getattr(getattr(module, function.name), "pytestmark", [])
            for mark in marks:
                if mark.name != "parametrize":
                    continue
                names = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else list(mark.args[0])
                if not {"gold", "pred"} <= set(names):
                    continue
                for values in mark.args[1]:
                    row = dict(zip(names, values))
                    resolved = {k: (row[v[1]] if isinstance(v, tuple) and v and v[0] == "param" else v)
                                for k, v in settings.items()}
                    expected = row.get("expected", row.get("result"))
                    cases.append({"file": path.name, "test": function.name, "gold": row["gold"], "pred": row["pred"],
                                  "expected": bool(expected), "settings": resolved})
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tests_dir", type=Path, help="the tests/ folder of a Math-Verify checkout")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cases = collect_cases(args.tests_dir.resolve())
    compare_strings = importlib.import_module("tests.test_all").compare_strings

    from darl.verifiers.math import MathVerifier

    for case in cases:
        settings = {k: v for k, v in case["settings"].items() if k in SETTINGS}  # type: ignore[union-attr]
        try:
            if case["settings"].get("direct"):  # type: ignore[union-attr]
                from math_verify import parse, verify

                case["math_verify"] = bool(verify(parse(case["gold"]), parse(case["pred"])))
            else:
                case["math_verify"] = bool(compare_strings(case["gold"], case["pred"], **settings))
        except Exception as exc:  # noqa: BLE001 - a crash of plain Math-Verify is a result to report
            case["math_verify"] = f"error: {type(exc).__name__}"
    with MathVerifier(workers=2) as verifier:
        verdicts = verifier.verify_answers([str(c["gold"]) for c in cases], [as_response(str(c["pred"])) for c in cases])
    for case, verdict in zip(cases, verdicts):
        case["darl"] = bool(verdict.passed)
        case["darl_error"] = verdict.error

    n = len(cases)
    agree_expected = sum(c["darl"] == c["expected"] for c in cases)
    agree_mv = sum(c["darl"] == c["math_verify"] for c in cases)
    mv_expected = sum(c["math_verify"] == c["expected"] for c in cases)
    print(f"Math-Verify regression cases: {n} (from {args.tests_dir})")
    print(f"  darl == Math-Verify's expected label : {agree_expected}/{n} ({100 * agree_expected / n:.1f}%)")
    print(f"  darl == plain Math-Verify            : {agree_mv}/{n} ({100 * agree_mv / n:.1f}%)")
    print(f"  plain Math-Verify == expected label  : {mv_expected}/{n} ({100 * mv_expected / n:.1f}%)")
    print("\nEvery case where darl differs from the expected label or from plain Math-Verify:")
    for c in cases:
        if c["darl"] != c["expected"] or c["darl"] != c["math_verify"]:
            print(f"- {c['file']}::{c['test']} gold={c['gold']!r} pred={c['pred']!r} expected={int(c['expected'])} "
                  f"math_verify={c['math_verify'] if isinstance(c['math_verify'], str) else int(c['math_verify'])} "
                  f"darl={int(c['darl'])} ({c['darl_error'] or 'wrong answer' if not c['darl'] else 'pass'}) "
                  f"settings={c['settings']}")
    if args.json:
        args.json.write_text(json.dumps(cases, indent=1, default=str))


if __name__ == "__main__":
    main()
