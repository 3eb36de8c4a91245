"""`max_prompt_length` is checked against the real token count of each rendered prompt (transformers 5's
`apply_chat_template(tokenize=True)` returns a BatchEncoding by default, whose len() is 2, so the check never fired)."""

from __future__ import annotations


import pytest

from training_tiny import DigitStandIn, make_tiny_policy
from test_training_run import recipe_text, write_levels

from darl.errors import InputError
from darl.training.recipe import parse_recipe


def test_a_prompt_over_max_prompt_length_is_refused_with_its_token_count(tmp_path):
    from darl.training.stages import run_recipe

    policy, levels = make_tiny_policy(tmp_path / "policy"), write_levels(tmp_path / "levels.parquet")
    text = recipe_text(policy).replace("max_completion_length: 16,", "max_completion_length: 16, max_prompt_length: 8,")
    with pytest.raises(InputError, match=r"has a \d\d+-token prompt") as caught:
        run_recipe(parse_recipe(text), levels, tmp_path / "run", verifier=DigitStandIn())
    assert "max_prompt_length" in str(caught.value)
