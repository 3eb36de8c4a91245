#!/usr/bin/env bash
# CI: darl's training tests against the LOWEST TRL and transformers pyproject.toml allows (the newest are what
# `make test` installs). A second virtual environment, .venv-trl-lower, sees the main one's packages (torch and the
# rest are not installed twice) but holds its own trl, transformers and what those two pin (huggingface_hub,
# tokenizers, datasets), which shadow the main ones. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN=${DARL_VENV:-.venv}
LOWER=${DARL_LOWER_VENV:-.venv-trl-lower}
read -r trl_min tf_min < <("$MAIN/bin/python" - <<'PY'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
floor = lambda name: next(re.search(r">=([0-9.]+)", d).group(1) for d in deps if re.match(name + r"\b", d))
print(floor("trl"), floor("transformers"))
PY
)
[ -x "$LOWER/bin/python" ] || "$MAIN/bin/python" -m venv --without-pip "$LOWER"
main_site=$(cd "$("$MAIN/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" && pwd)
lower_site=$("$LOWER/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# the main environment's packages come after this one's own (and its .pth files, e.g. darl's editable install, run)
echo "import site; site.addsitedir('$main_site')" > "$lower_site/zz_darl_main_venv.pth"
"$LOWER/bin/python" -m pip --disable-pip-version-check install -q "trl==$trl_min" "transformers==$tf_min"
"$LOWER/bin/python" -c 'import trl, transformers; print(f"lower bounds: trl {trl.__version__}, transformers {transformers.__version__}")'
"$LOWER/bin/python" -m pytest -p no:cacheprovider -n 0 --timeout 900 -m "not slow" \
  tests/test_trl_support.py tests/test_training_gpu_config.py tests/test_training_run.py \
  tests/test_training_rewards.py tests/test_training_recipe.py tests/test_training_validation.py
