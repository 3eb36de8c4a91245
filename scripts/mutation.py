"""Mutation testing of darl's pure core with mutmut, one module at a time, each against only its own fast tests.

Why per module: mutmut first runs the selected tests once to learn which test reaches which function, then runs,
for every mutant, the tests that reach it. Giving each module only its own test files keeps a run to minutes on two
cores and makes the score say what *those* tests catch (a mutant killed by some far-away end-to-end test is not a
property that module's tests state).

Each module runs in its own scratch copy (`.mutation/<name>/`: the `darl` package, `tests/`, and a pyproject.toml
whose [tool.mutmut] is the repository's, narrowed to that module and its tests), so runs never touch the checkout
and a module's results survive for `mutmut results` / `mutmut show` there.

    python scripts/mutation.py                 # every module in MODULES, then the score table
    python scripts/mutation.py plateau sampler # some of them
    python scripts/mutation.py --table         # only print the table of the last runs

Run it niced (`make mutation` does): it is CPU heavy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / ".mutation"

# name -> (module file, its fast test files). The sandbox harness (darl/verifiers/code/harness.py) is not here:
# it runs as a separate script inside the sandbox, where mutmut's in-process switch between mutants cannot reach;
# tests/test_code_verifier.py::test_limits_inside_the_sandbox_are_the_configured_ones reads its limits instead.
MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "assign": ("darl/levels/assign.py", ("tests/test_levels.py", "tests/test_levels_properties.py")),
    "expr": ("darl/levels/expr.py", ("tests/test_levels.py", "tests/test_levels_properties.py")),
    "passk": ("darl/evaluation/passk.py", ("tests/test_evaluation_passk.py", "tests/test_evaluation_properties.py")),
    "compare": ("darl/evaluation/compare.py", ("tests/test_evaluation_passk.py",
                                               "tests/test_evaluation_properties.py")),
    "sampler": ("darl/training/sampler.py", ("tests/test_training_sampler.py",)),
    "plateau": ("darl/training/plateau.py", ("tests/test_training_plateau.py",)),
    # math_compare runs in deadline worker processes in the verifier tests; only in-process tests can reach mutants
    "math_compare": ("darl/verifiers/math_compare.py", ("tests/test_math_compare.py",)),
}


def _toml_value(value: object) -> str:
    return json.dumps(value)  # lists of strings, numbers and booleans are the same in TOML and JSON


def prepare(name: str) -> Path:
    """A fresh scratch copy for one module, with [tool.mutmut] narrowed to it."""
    module, tests = MODULES[name]
    work = SCRATCH / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copytree(ROOT / "darl", work / "darl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    settings = dict(project["tool"]["mutmut"])
    settings["only_mutate"] = [module]
    settings["pytest_add_cli_args_test_selection"] = [t for t in tests if (ROOT / t).exists()]
    lines = ["[tool.mutmut]"] + [f"{key} = {_toml_value(value)}" for key, value in settings.items()]
    pytest_opts = project["tool"]["pytest"]["ini_options"]
    lines += ["", "[tool.pytest.ini_options]"] + [f"{key} = {_toml_value(value)}" for key, value in pytest_opts.items()]
    (work / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return work


def run(name: str) -> int:
    work = prepare(name)
    mutmut = Path(sys.executable).parent / "mutmut"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false",
           "HYPOTHESIS_PROFILE": "mutation"}  # tests/conftest.py: 25 fixed examples per property
    print(f"== {name}: {MODULES[name][0]} against {' '.join(MODULES[name][1])}", flush=True)
    with open(work / "mutmut.log", "w") as log:  # mutmut draws a progress spinner: keep it out of the terminal
        code = subprocess.run([str(mutmut), "run", "--max-children", str(os.cpu_count() or 1)], cwd=work, env=env,
                              stdout=log, stderr=subprocess.STDOUT).returncode
    if code != 0:
        print(f"   mutmut exited {code}; see {work / 'mutmut.log'}", flush=True)
    return code


def results(name: str) -> dict[str, str] | None:
    """mutant name -> status ('killed', 'survived', 'no tests', 'timeout', ...) of the last run, or None."""
    work = SCRATCH / name
    if not (work / "mutants").exists():
        return None
    out = subprocess.run([str(Path(sys.executable).parent / "mutmut"), "results", "--all", "true"], cwd=work,
                         capture_output=True, text=True)
    statuses: dict[str, str] = {}
    for line in out.stdout.splitlines():
        if ":" in line:
            mutant, status = line.strip().rsplit(":", 1)
            statuses[mutant.strip()] = status.strip()
    return statuses


def table(names: list[str]) -> None:
    print(f"{'module':<14}{'mutants':>8}{'killed':>8}{'survived':>9}{'no tests':>9}{'timeout':>8}{'score':>8}")
    for name in names:
        statuses = results(name)
        if statuses is None:
            print(f"{name:<14}  (not run)")
            continue
        count = lambda s: sum(v == s for v in statuses.values())  # noqa: E731
        killed = count("killed") + count("timeout")
        total = len(statuses)
        score = f"{killed / total:.1%}" if total else "-"
        print(f"{name:<14}{total:>8}{count('killed'):>8}{count('survived'):>9}{count('no tests'):>9}"
              f"{count('timeout'):>8}{score:>8}")
        for mutant, status in sorted(statuses.items()):
            if status not in ("killed", "timeout"):
                print(f"    {status}: {mutant}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of {list(MODULES)} (default: all)")
    parser.add_argument("--table", action="store_true", help="only print the table of the last runs")
    args = parser.parse_args()
    names = args.modules or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {list(MODULES)}")
    if not args.table:
        for name in names:
            run(name)
    table(names)


if __name__ == "__main__":
    main()
