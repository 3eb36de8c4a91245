"""reasoning-gym tasks load as darl problems, directly and through the data loader registry."""

from __future__ import annotations

import pytest

from darl.errors import InputError

pytest.importorskip("reasoning_gym")


def test_load_reasoning_gym_is_deterministic_and_takes_knobs():
    from darl.embedded.reasoning_gym_source import load_reasoning_gym

    a = load_reasoning_gym("basic_arithmetic", 5, seed=3, min_terms=3, max_terms=3)
    b = load_reasoning_gym("basic_arithmetic", 5, seed=3, min_terms=3, max_terms=3)
    assert a == b and len(a) == 5
    assert all(p.domain == "math" and p.answer and p.metadata["num_terms"] == 3 for p in a)
    assert load_reasoning_gym("basic_arithmetic", 5, seed=4) != a


def test_registered_as_a_data_source():
    from darl.data.loaders import SourceSpec, load_problems

    spec = SourceSpec.parse("reasoning_gym:leg_counting?size=4&seed=1")
    assert spec.format == "reasoning_gym"
    problems = load_problems(spec.location, spec.format)
    assert len(problems) == 4 and problems[0].source == "reasoning_gym/leg_counting"


def test_bad_task_and_config_are_input_errors():
    from darl.embedded.reasoning_gym_source import load_reasoning_gym

    with pytest.raises(InputError, match="unknown reasoning-gym task"):
        load_reasoning_gym("no_such_task", 3)
    with pytest.raises(InputError, match="rejected the config"):
        load_reasoning_gym("basic_arithmetic", 3, min_terms=5, max_terms=2)
