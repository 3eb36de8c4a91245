"""Staged GRPO training on TRL: recipes, the level/domain sampler, rewards on the project's verifiers, plateau
detection, online difficulty, metrics and the stage loop (see docs/training.md).

Import the parts you need (`from darl.training.stages import run_recipe`); nothing heavy is imported here.
"""
