"""The embedded family: standard checkpoints per role, cached and reused, one build under concurrency, and a
crash never leaves a half-written role that a later run takes as complete."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from darl.embedded.bootstrap import ROLE_INFO, bootstrap
from darl.embedded.family import ROLES, FamilyConfig, ModelSize, RoleSpec

TINY = ModelSize(hidden=32, layers=1, heads=2, kv_heads=1)


def tiny_config(name: str = "tiny") -> FamilyConfig:
    return FamilyConfig(preset=name, suite="quick", vocab_size=400, warm_start_per_domain=40, batch_size=4,
                        roles=(RoleSpec("small", TINY, 2), RoleSpec("medium", TINY, 2),
                               RoleSpec("large", TINY, 1, init_from="medium"),
                               RoleSpec("filter", TINY, 1, init_from="large")))


def test_family_loads_as_standard_checkpoints(embedded_family):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert list(embedded_family.roles) == list(ROLES)
    assert set(dict(embedded_family)) == set(ROLES)
    steps = [embedded_family.roles[r].steps for r in ROLES]  # each role trains longer than the one before
    assert steps == sorted(steps) and len(set(steps)) == len(ROLES)
    for role in ROLES:
        model = AutoModelForCausalLM.from_pretrained(embedded_family.path(role))
        tok = AutoTokenizer.from_pretrained(embedded_family.path(role))
        assert type(model).__name__ == "Qwen2ForCausalLM"
        assert model.config.eos_token_id == tok.eos_token_id
        assert tok.apply_chat_template([{"role": "user", "content": "Compute 1+2."}], tokenize=False,
                                       add_generation_prompt=True).endswith("assistant\n")


def test_cached_build_is_reused(tmp_path):
    cfg = tiny_config()
    first = bootstrap(config=cfg, cache_dir=tmp_path, show_progress=False)
    assert first.build_seconds > 0
    stamp = (first.path("small") / "model.safetensors").stat().st_mtime_ns
    again = bootstrap(config=cfg, cache_dir=tmp_path, show_progress=False)
    assert again.build_seconds == 0 and again.root == first.root
    assert (again.path("small") / "model.safetensors").stat().st_mtime_ns == stamp


def test_crash_resumes_at_the_missing_role(tmp_path):
    cfg = tiny_config()
    family = bootstrap(config=cfg, cache_dir=tmp_path, show_progress=False)
    stamps = {r: (family.path(r) / "model.safetensors").stat().st_mtime_ns for r in ROLES}
    # Simulate a crash during 'large': its folder never got renamed into place (a temp folder is left behind)
    # and the manifest was never written.
    (family.root / "manifest.json").unlink()
    family.path("large").rename(family.root / "roles" / ".tmp-large-crashed")
    (family.root / "roles" / ".tmp-large-crashed" / ROLE_INFO).unlink()
    import shutil

    shutil.rmtree(family.path("filter"))
    rebuilt = bootstrap(config=cfg, cache_dir=tmp_path, show_progress=False)
    assert (rebuilt.path("small") / "model.safetensors").stat().st_mtime_ns == stamps["small"]
    assert (rebuilt.path("medium") / "model.safetensors").stat().st_mtime_ns == stamps["medium"]
    assert (rebuilt.path("large") / ROLE_INFO).exists() and (rebuilt.path("filter") / ROLE_INFO).exists()
    assert json.loads((rebuilt.root / "manifest.json").read_text())["roles"]["large"]["steps"] == 3


def _build_in_child(cache_dir: str, out: multiprocessing.Queue) -> None:
    family = bootstrap(config=tiny_config("locked"), cache_dir=cache_dir, show_progress=False)
    out.put(family.build_seconds)


@pytest.mark.slow
def test_parallel_processes_build_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_build_in_child, args=(str(tmp_path), out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sorted(r > 0 for r in results) == [False, True]  # one built, the other waited and loaded


def test_unknown_preset_and_bad_config():
    with pytest.raises(ValueError, match="unknown embedded preset"):
        bootstrap("huge")
    with pytest.raises(ValueError, match="init_from"):
        FamilyConfig(preset="x", suite="quick", roles=(RoleSpec("small", TINY, 1),
                                                      RoleSpec("medium", TINY, 1, init_from="large"),
                                                      RoleSpec("large", TINY, 1), RoleSpec("filter", TINY, 1)))


def _digest(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_package_ships_a_build_of_the_default_preset():
    """Fails when the default preset's config or CODE_VERSION changed without `python scripts/ship_family.py`:
    a user's demo would then silently train a family that no documented number was measured on."""
    from darl.embedded.bootstrap import MANIFEST, shipped_build
    from darl.embedded.family import preset_config

    cfg = preset_config("default")
    shipped = shipped_build(cfg)
    assert shipped is not None, "no shipped build of the default preset: run `python scripts/ship_family.py`"
    manifest = json.loads((shipped / MANIFEST).read_text())
    assert manifest["origin"] == "shipped"
    assert manifest["config"] == json.loads(json.dumps(cfg.to_dict(), default=str))
    assert all((shipped / manifest["roles"][role]["path"] / "model.safetensors").exists() for role in ROLES)


def test_a_cache_miss_copies_the_shipped_build_whole(tmp_path):
    from darl.embedded.bootstrap import shipped_build
    from darl.embedded.family import preset_config

    shipped = shipped_build(preset_config("default"))
    # The debris of an interrupted from-source build of the same config is replaced, not mixed in.
    partial = tmp_path / shipped.name / "roles" / "small"
    partial.mkdir(parents=True)
    (partial / "model.safetensors").write_bytes(b"half-written")
    family = bootstrap("default", cache_dir=tmp_path, show_progress=False)
    assert family.origin == "shipped" and family.build_seconds == 0 and family.root == tmp_path / shipped.name
    for role in ROLES:
        assert _digest(family.path(role) / "model.safetensors") == _digest(shipped / "roles" / role /
                                                                          "model.safetensors")
    assert bootstrap("default", cache_dir=tmp_path, show_progress=False).origin == "shipped"  # then a cache hit


def test_from_source_never_hands_back_the_shipped_copy(tmp_path):
    from darl.errors import InputError

    bootstrap("default", cache_dir=tmp_path, show_progress=False)
    with pytest.raises(InputError, match="shipped with darl") as caught:
        bootstrap("default", cache_dir=tmp_path, show_progress=False, from_source=True)
    assert "--cache-dir" in str(caught.value)


def test_from_source_trains_and_a_config_without_a_shipped_build_trains(tmp_path):
    family = bootstrap(config=tiny_config("source"), cache_dir=tmp_path, show_progress=False, from_source=True)
    assert family.origin == "built" and family.build_seconds > 0
    assert bootstrap(config=tiny_config("source"), cache_dir=tmp_path, show_progress=False,
                     from_source=True).root == family.root  # its own build is a cache hit


def test_a_premature_answer_share_is_the_roles_own(tmp_path, monkeypatch):
    """The habit belongs to the role that sets it: the policy warm-starts on the cut solutions and the roles that
    continue it on complete ones (checked on the examples each role's warm start really received)."""
    import dataclasses

    import darl.embedded.warm_start as warm_start_module

    seen: list[list] = []
    real = warm_start_module.warm_start

    def recording(model, examples, *args, **kwargs):
        seen.append(examples)
        return real(model, examples, *args, **kwargs)

    monkeypatch.setattr(warm_start_module, "warm_start", recording)
    base = tiny_config("habit")
    cfg = dataclasses.replace(base, roles=(dataclasses.replace(base.roles[0], premature_answer_share=1.0),
                                           *base.roles[1:]))
    family = bootstrap(config=cfg, cache_dir=tmp_path, show_progress=False, from_source=True)
    small, medium, large, filter_ = seen
    assert medium == large == filter_ and small != medium
    tokens = [sum(len(response) for _, response in ex) for ex in (small, medium)]
    assert tokens[0] < tokens[1]  # every multi-step math solution of the policy's stream was cut short
    info = json.loads((family.path("small") / ROLE_INFO).read_text())
    assert info["premature_answer_share"] == 1.0
    assert cfg.cache_key() != base.cache_key()
    with pytest.raises(ValueError, match="premature_answer_share"):
        RoleSpec("small", TINY, 2, premature_answer_share=1.5)
