"""The files the pipeline steps hand each other, one module per kind: each module is the one writer and the one
reader of its files, so a step never parses another step's output by hand and every write is atomic
(`darl.atomic`).

| kind        | files                                      | module      | written by  | read by                          |
|-------------|--------------------------------------------|-------------|-------------|----------------------------------|
| problems    | problems.parquet                           | problems    | darl data   | score, levels, eval, compare     |
| scores      | shard-*/ (manifest, parts), scores.parquet | scores      | darl score  | levels, report, compare          |
| levels      | levels.parquet, levels.dropped.csv         | levels      | darl levels | train, compare, report           |
| evaluations | eval.json, samples.jsonl                   | evaluations | darl eval   | eval --baseline, export, report  |

This package sits at the bottom of the layers (docs/architecture.md): it imports only records, errors, atomic and
jsonl, so `levels` reads scores and `training` reads levels without importing the step that wrote them.
"""
