"""Shared helpers for the TorchScript export scripts.

Why this module exists: every exporter has to do the same four chores the same
way, or the Rust side would get inconsistent artefacts:

* find weight files *inside installed packages* (never a hub, never a
  hard-coded venv path) via ``importlib.metadata``;
* save a TorchScript module, re-load it with ``torch.jit.load`` and check it
  against the original Python model (max abs diff <= 1e-4) on two inputs of
  different size — the reloaded file is what tch's ``CModule::load`` sees, so
  the check is done on it and not on the in-memory object;
* write golden ``safetensors`` files whose tensors are named ``input_i`` /
  ``output_i`` (the Rust tests iterate over those names);
* collect per-artefact metadata (sha256, size, source package and licence)
  for ``manifest.json``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import os
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence, Tuple, Union

import torch
from safetensors.torch import save_file

TOL = 1e-4

Tensors = Union[torch.Tensor, Sequence[torch.Tensor]]


class ExportError(RuntimeError):
    """Raised when an export fails one of its correctness checks."""


# ---------------------------------------------------------------- packages

def package_file(dist_name: str, suffix: str) -> Path:
    """Path of the single file of installed distribution ``dist_name`` whose
    RECORD path ends with ``suffix``.

    Going through the distribution's RECORD (instead of importing the package)
    matters because several of these packages execute heavy or broken imports
    in ``__init__`` (cv2, webrtcvad, essentia ...).
    """
    dist = md.distribution(dist_name)
    hits = [f for f in (dist.files or []) if str(f).endswith(suffix)]
    if len(hits) != 1:
        raise ExportError(f"{dist_name}: expected one file ending in {suffix!r}, found {hits}")
    path = Path(dist.locate_file(hits[0])).resolve()
    if not path.is_file():
        raise ExportError(f"{dist_name}: {path} is listed in RECORD but missing")
    return path


def package_version(dist_name: str) -> str:
    return md.version(dist_name)


def load_module_from_file(name: str, path: Path):
    """Import one ``.py`` file as a standalone module (bypassing its package's
    ``__init__``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, str(path))
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------- checking

def as_tuple(x: Tensors) -> Tuple[torch.Tensor, ...]:
    if isinstance(x, torch.Tensor):
        return (x,)
    return tuple(x)


def max_abs_diff(a: Tensors, b: Tensors) -> float:
    a, b = as_tuple(a), as_tuple(b)
    if len(a) != len(b):
        raise ExportError(f"output arity differs: {len(a)} vs {len(b)}")
    worst = 0.0
    for x, y in zip(a, b):
        if x.shape != y.shape:
            raise ExportError(f"output shape differs: {tuple(x.shape)} vs {tuple(y.shape)}")
        if x.dtype != y.dtype:
            raise ExportError(f"output dtype differs: {x.dtype} vs {y.dtype}")
        if x.numel():
            worst = max(worst, (x.double() - y.double()).abs().max().item())
    return worst


def check_close(label: str, got: Tensors, want: Tensors, tol: float = TOL) -> float:
    d = max_abs_diff(got, want)
    if not d <= tol:  # also catches NaN
        raise ExportError(f"{label}: max abs diff {d:.3g} > {tol:g}")
    return d


def save_and_reload(module: torch.jit.ScriptModule, path: Path) -> torch.jit.ScriptModule:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.jit.save(module, str(tmp))
    os.replace(tmp, path)
    loaded = torch.jit.load(str(path), map_location="cpu")
    loaded.eval()
    return loaded


def save_golden(path: Path, inputs: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor]) -> None:
    tensors: Dict[str, torch.Tensor] = {}
    for i, t in enumerate(inputs):
        tensors[f"input_{i}"] = t.detach().contiguous().cpu()
    for i, t in enumerate(outputs):
        tensors[f"output_{i}"] = t.detach().contiguous().cpu()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    os.chmod(path, 0o644)


def verify_export(
    name: str,
    exported: torch.jit.ScriptModule,
    reference: Callable[..., Tensors],
    cases: Sequence[Sequence[torch.Tensor]],
    tol: float = TOL,
) -> List[float]:
    """Run the reloaded TorchScript module and the Python reference on every
    case; return the max abs diff per case (raises if any exceeds ``tol``)."""
    diffs = []
    with torch.no_grad():
        for i, case in enumerate(cases):
            got = exported(*case)
            want = reference(*case)
            diffs.append(check_close(f"{name} case {i}", got, want, tol))
    return diffs


# ---------------------------------------------------------------- metadata

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(path: Path, out_dir: Path, **fields) -> dict:
    entry = {
        "file": str(path.relative_to(out_dir)),
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
    }
    entry.update(fields)
    return entry


class Timer:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def report(name: str, seconds: float, diffs: Iterable[float], extra: str = "") -> None:
    ds = ", ".join(f"{d:.2e}" for d in diffs)
    line = f"[export] {name:<26} {seconds:6.1f}s  max|diff| [{ds}]"
    if extra:
        line += f"  {extra}"
    print(line, flush=True)


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
