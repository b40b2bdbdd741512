#!/usr/bin/env python3
"""Re-check an export directory written by ``tools/export_models.py``.

Usage: ``<venv>/bin/python tools/check_exports.py --dir models``

Why: re-exporting takes about a minute and needs the weight packages; this
only needs torch. It verifies that every file listed in ``manifest.json`` has
the recorded size and sha256, loads each TorchScript module with
``torch.jit.load`` (what tch's ``CModule::load`` does), feeds it the golden
inputs and compares with the golden outputs (max abs diff <= 1e-5: same
library, same inputs), i.e. it is the Python twin of the Rust golden tests.
Exit status is non-zero on any mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--tol", type=float, default=1e-5)
    args = ap.parse_args(argv)

    import torch
    from safetensors.torch import load_file

    torch.set_num_threads(1)
    root = args.dir
    manifest = json.loads((root / "manifest.json").read_text())
    bad = 0
    for section in ("models", "tokenizers"):
        for name, e in manifest[section].items():
            path = root / e["file"]
            data = path.read_bytes()
            if len(data) != e["bytes"] or hashlib.sha256(data).hexdigest() != e["sha256"]:
                print(f"[check] {name}: size/sha256 mismatch")
                bad += 1
    for name, e in manifest["models"].items():
        module = torch.jit.load(str(root / e["file"]), map_location="cpu").eval()
        g = load_file(str(root / e["golden"]))
        ins = [g[f"input_{i}"] for i in range(sum(k.startswith("input_") for k in g))]
        want = [g[f"output_{i}"] for i in range(sum(k.startswith("output_") for k in g))]
        with torch.no_grad():
            got = module(*ins)
        got = [got] if isinstance(got, torch.Tensor) else list(got)
        diff = max((a.double() - b.double()).abs().max().item() for a, b in zip(got, want))
        ok = len(got) == len(want) and all(a.shape == b.shape for a, b in zip(got, want)) and diff <= args.tol
        bad += not ok
        shapes = " ".join(str(tuple(t.shape)) for t in ins)
        print(f"[check] {name:<24} {'ok ' if ok else 'BAD'} max|diff| {diff:.1e}  inputs {shapes}")
    print(f"[check] {'all ok' if not bad else f'{bad} problem(s)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
