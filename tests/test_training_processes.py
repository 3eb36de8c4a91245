"""darl.training.processes: when darl asks accelerate for a CPU process group (several processes launched, no
accelerator), and when it leaves accelerate's own choice alone."""

from __future__ import annotations

import pytest

from darl.training import processes


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*processes.WORLD_SIZE_VARIABLES, "ACCELERATE_USE_CPU"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cpu_group_only_when_several_processes_run_without_an_accelerator(clean_env):
    clean_env.setattr(processes, "has_accelerator", lambda: False)
    assert processes.launched_world_size() == 1 and not processes.use_cpu()  # one process: accelerate decides
    clean_env.setenv("WORLD_SIZE", "2")  # torchrun / accelerate launch
    assert processes.launched_world_size() == 2 and processes.use_cpu()
    clean_env.setattr(processes, "has_accelerator", lambda: True)
    assert not processes.use_cpu()  # GPUs: unchanged


def test_mpi_world_sizes_and_a_forced_cpu(clean_env):
    clean_env.setattr(processes, "has_accelerator", lambda: False)
    clean_env.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert processes.launched_world_size() == 4 and processes.use_cpu()
    clean_env.delenv("OMPI_COMM_WORLD_SIZE")
    clean_env.setattr(processes, "has_accelerator", lambda: True)
    clean_env.setenv("ACCELERATE_USE_CPU", "true")
    assert processes.use_cpu()
