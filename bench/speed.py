"""Every bench/ speed ratio in one run, with each run's peak memory and how scoring and a trainer step scale with K,
G and response length: the speed section of docs/benchmarks.md.

    .venv/bin/python bench/speed.py --out /work/runs/speed            # all of it (tens of minutes on 2 cores)
    .venv/bin/python bench/speed.py --out DIR --only scoring,trainer  # names below; --write-only re-renders

Each benchmark is its own script (its docstring says what it compares and why); this runs them one after the other
with small settings, keeps each one's full output in DIR/<name>.txt, reads the lines that state a ratio, and measures
the peak resident memory of the largest process each benchmark started (`ru_maxrss` of a wrapper's children). The
ratios inside one script are measured side by side in one run (alternating rounds), so they hold on a loaded machine
where the absolute times do not; the scaling rows come from separate runs and carry the machine's load with them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable

# name -> (what it compares, its arguments); every ratio line of its output is kept
RUNS: dict[str, tuple[str, list[str]]] = {
    "math_verify": ("darl's math verifier vs plain Math-Verify (checks/s)",
                    ["bench/bench_math_verify.py", "--n", "200"]),
    "sandbox": ("code sandbox vs bare subprocess (HumanEval programs/s)",
                ["bench/bench_sandbox.py", "--rounds", "2", "--limit", "82"]),
    "scoring": ("darl score vs raw generation of the same responses (K = 4, 96 tokens)",
                ["bench/bench_scoring.py", "--embedded", "--problems", "32", "-k", "4"]),
    "trainer": ("darl's GRPO step vs plain TRL GRPOTrainer (8 prompts x 8 rollouts x 32 tokens)",
                ["bench/bench_trainer.py", "--rounds", "2", "--steps", "4", "--warmup", "1"]),
    "seeded_sampling": ("per-problem seeded sampling vs one global RNG",
                        ["bench/bench_seeded_sampling.py", "--reps", "2"]),
    "dedup": ("near-duplicate index: darl's bands vs datasketch MinHashLSH",
              ["bench/bench_dedup.py", "--limit", "1500", "--rounds", "1"]),
    "deadline_pool": ("verifier deadline pool vs pebble and ProcessPoolExecutor",
                      ["bench/bench_deadline_pool.py", "--rounds", "2"]),
    "stats": ("darl.stats (scipy) vs the hand-written statistics it replaced", ["bench/bench_stats.py"]),
}
# scaling: the same benchmark at other sizes (the base size is the run above)
SCALING: dict[str, list[tuple[str, list[str]]]] = {
    "scoring": [("K = 2", ["-k", "2"]), ("K = 8", ["-k", "8"]), ("K = 4, 192 tokens", ["--max-new-tokens", "192"])],
    "trainer": [("G = 4", ["--generations", "4"]), ("G = 16", ["--generations", "16"]),
                ("G = 8, 64 tokens", ["--length", "64"])],
}
RATIO_LINE = re.compile(r"(ratio|speed-up|[0-9.]+x\b|agree|target)", re.IGNORECASE)
WRAPPER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
           "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
           "sys.exit(code)")


def run_one(name: str, args: list[str], out: Path) -> dict:
    """Run one benchmark through the memory wrapper; its output goes to out/<name>.txt."""
    started = time.monotonic()
    env = {**os.environ, "COLUMNS": "200"}  # rich tables one row per line in the captured output
    proc = subprocess.run([PY, "-c", WRAPPER, PY, *args], cwd=REPO, capture_output=True, text=True, env=env)
    seconds = time.monotonic() - started
    peak = re.search(r"PEAK_RSS_KB (\d+)", proc.stderr)
    text = proc.stdout + ("\n--- stderr ---\n" + proc.stderr if proc.returncode else "")
    (out / f"{name}.txt").write_text(text)
    lines = [_clip(ln.strip()) for ln in proc.stdout.splitlines() if RATIO_LINE.search(ln) and "│" not in ln
             and not ln.strip().startswith(("┃", "┏", "┗", "━", "{"))]  # "{": a trainer's logged metrics dict
    return {"name": name, "file": f"{name}.txt", "args": args, "rc": proc.returncode, "seconds": round(seconds, 1),
            "peak_rss_mb": round(int(peak.group(1)) / 1024) if peak else None, "ratio_lines": lines[-4:]}


def _clip(line: str, width: int = 160) -> str:
    return line if len(line) <= width else line[:width - 3] + "..."


def table_rows(text: str) -> list[str]:
    """The rows of a rich table in a benchmark's output (lines with │), as plain ' | '-joined cells."""
    rows = []
    for line in text.splitlines():
        if "│" in line:
            cells = [c.strip() for c in line.strip().strip("│").split("│")]
            rows.append(" | ".join(cells))
    return rows


def _cells(out: Path, run: dict) -> dict[str, list[str]]:
    """A benchmark's table rows keyed by their first cell (empty when it failed or printed no table)."""
    path = out / run["file"]
    if run["rc"] != 0 or not path.exists():
        return {}
    return {row.split(" | ")[0]: row.split(" | ") for row in table_rows(path.read_text())}


def floors(out: Path, runs: list[dict]) -> list[str]:
    """Each pipeline step's bottleneck and how far it is from its floor, from the tables the benchmarks printed:
    scoring and evaluation are bound by generation (the floor: raw generation of the same responses, no checking),
    a training step by TRL (the floor: a plain GRPOTrainer step on the same model and batch), math checking by
    Math-Verify's parser, code checking by starting processes (the floor: one bare subprocess per program)."""
    rows = ["| step | bottleneck (measured) | floor | distance from the floor |", "|---|---|---|---|"]
    scoring = [(r["name"], _cells(out, r)) for r in runs if r["name"].split("@")[0] == "scoring"]
    scoring = [(n, c) for n, c in scoring if "raw generation" in c and "verification alone" in c]
    if scoring:
        times = [float(c["scoring (generate + verify)"][2]) / float(c["raw generation"][2]) for _, c in scoring]
        verify = [float(c["verification alone"][4]) for _, c in scoring]
        rows.append(f"| scoring, evaluation | generation: checking the same responses alone ran {min(verify):.0f}-"
                    f"{max(verify):.0f}x faster than generating them | raw generation of the same responses, no "
                    f"checking | {min(times):.2f}-{max(times):.2f}x its time over {len(times)} sizes (median "
                    f"{statistics.median(times):.2f}x; below 1 where the raw run met more load) |")
    trainer = [(r["name"], _cells(out, r)) for r in runs if r["name"].split("@")[0] == "trainer"]
    ratios = [float(c["darl DarlGRPOTrainer"][4].rstrip("x")) for _, c in trainer if "darl DarlGRPOTrainer" in c]
    if ratios:
        rows.append(f"| a training step | TRL's own step (generation and the backward pass; not split further "
                    "here) | a plain TRL "
                    f"GRPOTrainer step on the same model and batch | {min(ratios):.2f}-{max(ratios):.2f}x its "
                    f"median step time over {len(ratios)} sizes (G 4-16, 32-64 tokens) |")
    math = next((_cells(out, r) for r in runs if r["name"] == "math_verify"), {})
    if "darl MathVerifier" in math and "plain Math-Verify" in math:
        rows.append(f"| math checking | sympy inside Math-Verify, reached only for answers that plain numbers, letters "
                    "and constants do not decide | plain Math-Verify "
                    f"`parse` + `verify` per response | {float(math['darl MathVerifier'][2]):.0f} vs "
                    f"{float(math['plain Math-Verify'][2]):.0f} checks/s: never the bottleneck of scoring "
                    "(see the first row) |")
    sandbox = next((_cells(out, r) for r in runs if r["name"] == "sandbox"), {})
    if "bwrap, reused" in sandbox and "bare subprocess.run" in sandbox:
        darl, bare = float(sandbox["bwrap, reused"][3]), float(sandbox["bare subprocess.run"][3])
        rows.append(f"| code checking | starting a process per program | one bare `subprocess.run` per program, "
                    f"no isolation | {darl:.1f} vs {bare:.1f} programs/s ({bare / darl:.2f}x its time): bubblewrap "
                    "workers reused across programs beat the unisolated floor |")
    return rows if len(rows) > 2 else []


def render(out: Path) -> str:
    results = json.loads((out / "speed.json").read_text())
    lines = ["## Speed (every bench/ ratio in one run: `python bench/speed.py --out DIR`)", "",
             f"Measured {results['when']} on {results['machine']}; load average at the start "
             f"{results['load']}. Ratios are side by side within each script; absolute times carry the load.", "",
             "| benchmark | compares | ratio lines (as the script prints them) | run time | peak memory |",
             "|---|---|---|---|---|"]
    for r in results["runs"]:
        base, _, label = r["name"].partition("@")
        what = f"as {base} above, at {label}" if label else RUNS.get(base, ("",))[0]
        ratios = "<br>".join(_clip(x) for x in r["ratio_lines"] if not x.startswith("{")) if r["rc"] == 0 else \
            f"failed (exit {r['rc']}, see its output)"
        mem = "-" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']} MB"
        lines.append(f"| {r['name']} | {what} | {ratios} | {r['seconds']:.0f} s | {mem} |")
    bottlenecks = floors(out, results["runs"])
    if bottlenecks:
        lines += ["", "Each step's bottleneck and its distance from its floor (from the tables below):", "", *bottlenecks]
    lines += ["", "The rows of each benchmark's own table, as it printed them (its headers are in its output file):", ""]
    for r in results["runs"]:
        if r["rc"] == 0 and (out / r["file"]).exists():
            rows = table_rows((out / r["file"]).read_text())
            if rows:
                lines += [f"- **{r['name']}** (`{' '.join(r['args'])}`):", *(f"  - {row}" for row in rows)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--write-only", action="store_true", help="only render DIR/speed.md from DIR/speed.json")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.write_only:
        import platform

        names = [n for n in args.only.split(",") if n] or list(RUNS)
        results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   "machine": f"{os.cpu_count()} CPU cores, {platform.platform()}",
                   "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()), "runs": []}
        for name in names:
            todo = [(name, RUNS[name][1])]
            if not args.no_scaling:
                todo += [(f"{name}@{label}", RUNS[name][1] + extra) for label, extra in SCALING.get(name, [])]
            for run_name, run_args in todo:
                print(f"{run_name}: {' '.join(run_args)}", flush=True)
                result = run_one(re.sub(r"[^A-Za-z0-9_.@=-]+", "_", run_name), run_args, args.out)
                result["name"] = run_name
                results["runs"].append(result)
                print(f"  {result['seconds']:.0f} s, peak {result['peak_rss_mb']} MB, exit {result['rc']}: "
                      + " / ".join(result["ratio_lines"]), flush=True)
                (args.out / "speed.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "speed.md").write_text(render(args.out))
    print(f"wrote {args.out / 'speed.md'}")


if __name__ == "__main__":
    main()
