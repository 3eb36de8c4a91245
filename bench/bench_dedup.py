"""Near-duplicate candidates: darl's fixed bands (32 x 4) against datasketch's MinHashLSH (bands chosen from the
threshold: 9 x 13 at 0.8), both followed by darl's exact checks, on the shared real data.

Data: MATH train (7,474), MATH levels 3-5 train (8,523, largely the same problems again with other formatting),
AIME 1983-2023 (975) and MATH-500 (500), from /work/shared/data, loaded with darl's own loaders, the first `--limit`
problems of their concatenation (shuffled with a fixed seed so every source is present). Ground truth: the same
dedup with every earlier kept problem as a candidate (`index="exhaustive"`, quadratic), so recall = near duplicates
an index finds / near duplicates that exist. Precision of the removals is 1 for every index by construction (each
candidate passes the exact Jaccard, number and answer checks), so the rows differ in recall, candidate pairs
checked and time. Rounds alternate between the rows; the table reports each row's median time.

    .venv/bin/python bench/bench_dedup.py --limit 3000 --rounds 2      (needs datasketch: the dev extra)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path("/work/shared/data")
SOURCES = ["math_train/deepscaler_train_math.json", "math_train/simplerl_math_level3to5_train.parquet",
           "math_train/deepscaler_train_aime_1983_2023.json", "math500/test.jsonl"]


def load(limit: int, seed: int):
    from darl.data.loaders import load_problems

    problems = []
    for rel in SOURCES:
        problems += load_problems(DATA / rel, skip_invalid=True)
    random.Random(seed).shuffle(problems)
    return problems[:limit]


def with_variants(problems, count: int, seed: int):
    """The problems plus `count` edited copies (one word dropped, one duplicated, or punctuation changed), as
    re-hosted copies of a problem look; the copies keep the answer, so they are near duplicates when similar enough."""
    from dataclasses import replace

    rng = random.Random(seed)
    out = list(problems)
    for k, p in enumerate(rng.sample(problems, count)):
        words = p.prompt.split()
        i = rng.randrange(len(words))
        edit = k % 3
        if edit == 0 and len(words) > 4:
            words = words[:i] + words[i + 1:]
        elif edit == 1:
            words = words[:i + 1] + [words[i]] + words[i + 1:]
        else:
            words = [w.rstrip(".,") for w in words]
        out.insert(rng.randrange(len(out) + 1), replace(p, id=f"{p.id}#variant{k}", prompt=" ".join(words)))
    return out


class DatasketchIndex:
    """datasketch's MinHash and MinHashLSH behind darl.data.dedup's index interface (keys / query / insert)."""

    def __init__(self, num_perm: int = 128, threshold: float = 0.8) -> None:
        from datasketch import MinHashLSH

        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)

    def keys(self, shingle_set):
        from datasketch import MinHash

        minhash = MinHash(num_perm=self.num_perm)
        minhash.update_batch([s.encode() for s in shingle_set])
        return minhash

    def query(self, keys) -> set[int]:
        return set(self.lsh.query(keys))

    def insert(self, index: int, keys) -> None:
        self.lsh.insert(index, keys)


def make_index(name: str, threshold: float = 0.8):
    return "bands" if name == "bands" else DatasketchIndex(threshold=threshold)


def candidate_recall(problems, index_name: str, threshold: float) -> tuple[float, int, int, float]:
    """(share of pairs with shingle Jaccard >= threshold that the index proposes, pairs proposed, true pairs,
    seconds) over the problems in order, each against all earlier ones, without darl's other checks."""
    from darl.data.dedup import BandIndex, jaccard, shingles
    from darl.data.text import normalize

    sets = [shingles(normalize(p.prompt)) for p in problems]
    truth = {(i, j) for j in range(len(sets)) for i in range(j) if jaccard(sets[i], sets[j]) >= threshold}
    index = BandIndex() if index_name == "bands" else DatasketchIndex(threshold=threshold)
    proposed, t0 = set(), time.perf_counter()
    for j, s in enumerate(sets):
        keys = index.keys(s)
        proposed |= {(i, j) for i in index.query(keys)}
        index.insert(j, keys)
    seconds = time.perf_counter() - t0
    return (len(proposed & truth) / len(truth) if truth else 1.0), len(proposed), len(truth), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--variants", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from darl.data.dedup import deduplicate

    problems = with_variants(load(args.limit, args.seed), args.variants, args.seed)
    stats: dict[str, int] = {}
    t0 = time.perf_counter()
    truth = deduplicate(problems, index="exhaustive", stats=stats)
    truth_time = time.perf_counter() - t0
    true_near = {r.removed_id for r in truth.removed if r.kind == "near"}
    rows = {"bands": [], "datasketch": []}
    found: dict[str, set[str]] = {}
    pairs: dict[str, int] = {}
    for _ in range(args.rounds):
        for name in rows:
            stats = {}
            t0 = time.perf_counter()
            result = deduplicate(problems, index=make_index(name), stats=stats)
            rows[name].append(time.perf_counter() - t0)
            found[name] = {r.removed_id for r in result.removed if r.kind == "near"}
            pairs[name] = stats["candidate_pairs"]
    table = Table(title=f"darl dedup on {len(problems)} problems ({args.variants} edited copies; {len(true_near)} "
                        f"near duplicates by the exhaustive check, {truth_time:.1f} s)")
    for col in ("index", "recall", "precision", "candidate pairs", "median s", "vs bands"):
        table.add_column(col, justify="right")
    base = statistics.median(rows["bands"])
    for name, times in rows.items():
        hit = found[name] & true_near
        recall = len(hit) / len(true_near) if true_near else 1.0
        precision = len(hit) / len(found[name]) if found[name] else 1.0
        med = statistics.median(times)
        table.add_row(name, f"{recall:.4f}", f"{precision:.4f}", f"{pairs[name]:,}", f"{med:.2f}", f"{med / base:.2f}x")
    Console().print(table)
    sub = problems[: min(len(problems), 2500)]
    table = Table(title=f"candidate recall on the first {len(sub)} of them: pairs with shingle Jaccard >= t that "
                        "each index proposes (before darl's checks)")
    for col in ("t", "index", "true pairs", "recall", "proposed pairs", "s"):
        table.add_column(col, justify="right")
    for t in (0.7, 0.8, 0.9):
        for name in ("bands", "datasketch"):
            recall, proposed, true_pairs, seconds = candidate_recall(sub, name, t)
            table.add_row(f"{t}", name, f"{true_pairs}", f"{recall:.4f}", f"{proposed:,}", f"{seconds:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
