"""Shared fixtures.

`embedded_family`: the embedded model family (darl.embedded, the one `darl demo` uses), built once per test run and
shared by every xdist worker: the build holds a file lock, so the first worker builds and the others wait, then
load. It goes to `.darl-cache/` in the repository (git-ignored) unless `DARL_CACHE` is set, and is reused by
later runs until the family config or `darl.embedded.family.CODE_VERSION` changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Hypothesis budgets: 100 examples per property by default; `scripts/mutation.py` sets HYPOTHESIS_PROFILE=mutation,
# a fixed (derandomized) 25 examples, so every mutant meets the same inputs and a module's run stays minutes.
try:
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("default", max_examples=100, deadline=None)
    _hypothesis_settings.register_profile("mutation", max_examples=25, deadline=None, derandomize=True,
                                          database=None)
    _hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
except ImportError:  # hypothesis is a dev extra; only the property tests need it
    pass

# Every build of the embedded family in the test run (the fixture below and `darl demo` inside test_demo.py)
# goes to one cache, so the family is trained once per run, not once per caller.
os.environ.setdefault("DARL_CACHE", str(REPO / ".darl-cache"))


def embedded_cache_dir() -> Path:
    """Where tests keep built families: `$DARL_CACHE/embedded` (DARL_CACHE defaults to `.darl-cache/` here)."""
    from darl.embedded.bootstrap import default_cache_dir

    return default_cache_dir()


@pytest.fixture(scope="session")
def embedded_family():
    """The embedded family (`darl.embedded.bootstrap.EmbeddedFamily`): `.path(role)` for role in
    small / medium / large / filter is a Hugging Face checkpoint folder; `.problems(split)` its suite."""
    from darl.embedded.bootstrap import bootstrap

    return bootstrap("default", cache_dir=embedded_cache_dir(), show_progress=False)


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test, restored after: small models generate identically and without
    oversubscribing the 2 cores that pytest-xdist's workers share. Use with `pytest.mark.usefixtures`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` are skipped, with the reason shown, where no CUDA GPU is present (torch is imported only
    when such a test was collected)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items:
        return
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:
        has_gpu = False
    if not has_gpu:
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason="marked gpu: no CUDA GPU here"))
