"""run/final (darl.training.final_model): the last stage's final checkpoint as a plain model folder a user evaluates,
written atomically, without the training-only state, loadable by transformers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training_tiny import make_tiny_policy

from darl.training.final_model import FINAL_DIR, PROVENANCE, publish_final


def _checkpoint(folder: Path) -> Path:
    make_tiny_policy(folder)
    for name in ("optimizer.pt", "scheduler.pt", "rng_state_0.pth", "rng_state_1.pth", "trainer_state.json",
                 "training_args.bin", "darl_state.json"):
        (folder / name).write_text("training only")
    return folder


def test_final_is_the_model_without_training_state_and_loads(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    checkpoint = _checkpoint(tmp_path / "run" / "stage-2-x" / "checkpoint-6")
    final = publish_final(checkpoint, tmp_path / "run", {"recipe": "r", "stage": "2-x", "global_step": 10})
    assert final == tmp_path / "run" / FINAL_DIR
    names = sorted(p.name for p in final.iterdir())
    assert "model.safetensors" in names and "tokenizer.json" in names and "config.json" in names
    assert not {"optimizer.pt", "scheduler.pt", "rng_state_0.pth", "trainer_state.json", "training_args.bin",
                "darl_state.json"} & set(names)
    record = json.loads((final / PROVENANCE).read_text())
    assert record == {"checkpoint": str(checkpoint.resolve()), "recipe": "r", "stage": "2-x", "global_step": 10}
    AutoModelForCausalLM.from_pretrained(final)
    assert AutoTokenizer.from_pretrained(final).chat_template
    # hard links, not copies, where the file system allows: the weights are stored once
    assert (final / "model.safetensors").stat().st_ino == (checkpoint / "model.safetensors").stat().st_ino
    assert not list((tmp_path / "run").glob(".final*"))  # no temporary folder left


def test_publishing_again_keeps_or_replaces_and_refuses_a_folder_without_weights(tmp_path):
    run = tmp_path / "run"
    first = _checkpoint(run / "stage-1" / "checkpoint-2")
    publish_final(first, run, {})
    marker = (run / FINAL_DIR / PROVENANCE).stat().st_mtime_ns
    publish_final(first, run, {})  # a resumed run that had finished: kept as it is
    assert (run / FINAL_DIR / PROVENANCE).stat().st_mtime_ns == marker
    second = _checkpoint(run / "stage-2" / "checkpoint-4")
    publish_final(second, run, {})
    assert json.loads((run / FINAL_DIR / PROVENANCE).read_text())["checkpoint"] == str(second.resolve())
    empty = run / "stage-3" / "checkpoint-1"
    empty.mkdir(parents=True)
    (empty / "optimizer.pt").write_text("x")
    with pytest.raises(RuntimeError, match="no model weights"):
        publish_final(empty, run, {})
    assert json.loads((run / FINAL_DIR / PROVENANCE).read_text())["checkpoint"] == str(second.resolve())
