"""Evaluation the paper's way (method.md section 6): n samples per problem, Pass@1 as mean correctness with its
standard error, unbiased pass@k, breakdowns, and comparison against a baseline evaluation."""

from darl.evaluation.passk import MeanWithError, mean_correctness, mean_pass_at_k, pass_at_k

__all__ = ["MeanWithError", "mean_correctness", "mean_pass_at_k", "pass_at_k"]
