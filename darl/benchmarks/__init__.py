"""Evaluation sets shipped inside the package (see `darl.benchmarks.registry` for names, files and filters)."""

from darl.benchmarks.registry import BENCHMARKS, benchmark_names, evaluation_sets, get_benchmark, load_benchmark

__all__ = ["BENCHMARKS", "benchmark_names", "evaluation_sets", "get_benchmark", "load_benchmark"]
