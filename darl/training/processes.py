"""Which processes darl runs in: one, or several under `accelerate launch` / `torchrun`, on GPUs or on CPUs.

accelerate joins a CPU-only process group (gloo) only when asked for the CPU explicitly (`PartialState(cpu=True)`,
`TrainingArguments(use_cpu=True)` or `ACCELERATE_USE_CPU`); otherwise a process started by torchrun on a machine
without an accelerator silently runs as a world of one, so every rank trains alone and writes the same run files.
darl asks for the CPU in exactly that case (several processes launched, no accelerator), so that
`accelerate launch --multi_gpu --num_processes 2 -m darl train ...` (accelerate's torchrun launcher; `--cpu` starts a
single process unless MPI is set up) gives two gloo ranks on a CPU machine and changes nothing on GPUs.
"""

from __future__ import annotations

import os
from typing import Any

WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


def local_launch_command(processes: int, program: list[str]) -> list[str]:
    """The command line that runs `program` (a script path or `-m module`, then its arguments) in `processes` ranks on
    this machine under accelerate's torchrun launcher, on a free port (two launches at once do not collide). On a
    CPU machine the ranks form a gloo group (see the module docstring); run each with OMP_NUM_THREADS=1."""
    import socket
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes),
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port",
            str(port), *program]


def launched_world_size() -> int:
    """The number of processes the launcher started (1 when run directly)."""
    for name in WORLD_SIZE_VARIABLES:
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return 1


def has_accelerator() -> bool:
    """True when torch sees an accelerator (CUDA, XPU, MPS, ...)."""
    import torch

    accelerator = getattr(torch, "accelerator", None)  # torch >= 2.6: CUDA, XPU, MPS, ... in one question
    if accelerator is not None:
        return bool(accelerator.is_available())
    return torch.cuda.is_available()


def use_cpu() -> bool:
    """True when training must run on the CPU as one rank of a gloo group (or the user forced the CPU)."""
    forced = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    return forced or (launched_world_size() > 1 and not has_accelerator())


def process_state() -> Any:
    """accelerate's PartialState, set up as the trainer will set it up (see the module docstring)."""
    from accelerate import PartialState

    return PartialState(cpu=use_cpu())
