#!/usr/bin/env bash
# CI: DeepSpeed's own config class checks the DeepSpeed config darl builds (tests/test_training_gpu_config.py).
# DeepSpeed imports without a GPU (DS_BUILD_OPS=0: no kernels are compiled) but it is kept out of the main
# environment, where its mere presence would change accelerate's code paths for every other test: it goes into
# .venv-deepspeed, layered on the main environment like scripts/test_trl_lower.sh does, at the version TRL's own
# `deepspeed` extra asks for. About 80 s here.
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN=${DARL_VENV:-.venv}
DS=${DARL_DEEPSPEED_VENV:-.venv-deepspeed}
[ -x "$DS/bin/python" ] || "$MAIN/bin/python" -m venv --without-pip "$DS"
main_site=$(cd "$("$MAIN/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" && pwd)
ds_site=$("$DS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "import site; site.addsitedir('$main_site')" > "$ds_site/zz_darl_main_venv.pth"
trl_version=$("$MAIN/bin/python" -c 'import trl; print(trl.__version__)')
DS_BUILD_OPS=0 "$DS/bin/python" -m pip --disable-pip-version-check install -q "trl[deepspeed]==$trl_version"
"$DS/bin/python" -c 'import deepspeed; print("deepspeed", deepspeed.__version__)'
"$DS/bin/python" -m pytest -p no:cacheprovider -n 0 tests/test_training_gpu_config.py -k deepspeed -rs
