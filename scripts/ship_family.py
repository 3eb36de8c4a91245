"""Put a finished build of the embedded family into the package (`darl/embedded/prebuilt/`), so that `bootstrap`
copies it instead of training it on a cache miss (darl/embedded/bootstrap.py says why).

    python scripts/ship_family.py                                   # train the default preset here, then ship it
    python scripts/ship_family.py --build ~/.cache/darl/embedded/default-<key> --note "..."   # ship that build

Run it after any change that changes the family's cache key (the config in darl/embedded/family.py or its
CODE_VERSION): tests/test_embedded_family.py fails while the shipped build's key is not the preset's. Older shipped
builds of the same preset are removed (only the current one is reachable). The copy's manifest gains
`"origin": "shipped"` and a `shipped` record (date, torch version and threads, the note).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--build", type=Path, default=None,
                        help="a finished build folder (<cache>/<preset>-<key>) to ship; default: train one here")
    parser.add_argument("--note", default="", help="how the build was made (machine, load), kept in the manifest")
    args = parser.parse_args()

    import torch

    from darl.embedded.bootstrap import MANIFEST, PREBUILT, bootstrap
    from darl.embedded.family import preset_config

    cfg = preset_config(args.preset)
    name = f"{cfg.preset}-{cfg.cache_key()}"
    scratch = None
    if args.build is None:
        scratch = Path(tempfile.mkdtemp(prefix="darl-ship-"))
        build = bootstrap(args.preset, cache_dir=scratch, from_source=True).root
    else:
        build = args.build
    manifest = json.loads((build / MANIFEST).read_text())
    if build.name != name or manifest["config"] != json.loads(json.dumps(cfg.to_dict(), default=str)):
        sys.exit(f"{build} is not a build of the current {args.preset!r} preset (expected a folder named {name})")
    target = PREBUILT / name
    for old in PREBUILT.glob(f"{cfg.preset}-*"):
        shutil.rmtree(old)
    shutil.copytree(build, target, ignore=shutil.ignore_patterns("*.lock"))
    manifest["origin"] = "shipped"
    manifest["shipped"] = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "torch": torch.__version__, "note": args.note or "trained by scripts/ship_family.py"}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    if scratch is not None:
        shutil.rmtree(scratch)
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    print(f"shipped {build} as {target} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
