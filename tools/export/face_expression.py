"""PyEmotion 1.0.0 FER2013 expression CNN -> ``face_expression.pt`` (scripted).

Why a re-wrap: PyEmotion's package ``__init__`` imports cv2, ``art`` and
``termcolor`` (not installed, not needed), so ``PyEmotion/networks.py`` is
loaded as a standalone file and ``NetworkV2(in_c=1, nl=32, out_f=7)`` is built
exactly as ``PyEmotion.main.DetectFace`` does, with ``main_model.pkl``'s
``'network'`` state dict.

PyEmotion feeds the net a gray crop resized to 48x48, ``ToTensor`` (-> [0,1])
and ``Normalize(0.5, 0.5)``; that normalisation is moved INSIDE the exported
module so the caller passes ``f32[B,1,48,48]`` in [0,1]. The module returns the
256-d penultimate activation (after Linear(9216,256)+ReLU) as a feature and
the net's own final Sigmoid scores. Note: they are seven independent sigmoid
scores (the net ends in ``nn.Sigmoid``), NOT a softmax; PyEmotion itself takes
``argmax(exp(output))``, i.e. the argmax of these scores.

Class order (``PyEmotion/main.py``, ``self.emotions``): 0 Angry, 1 Disgust,
2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral (the FER2013 label order).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
from torch import nn

from .common import (ExportError, Timer, file_entry, load_module_from_file, package_file,
                     package_version, report, save_and_reload, save_golden, verify_export)

DIST = "PyEmotion"
EMOTIONS = ["Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"]


class FaceExpression(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.conv_1 = net.conv_1
        self.conv_2 = net.conv_2
        self.conv_3 = net.conv_3
        self.conv_4 = net.conv_4
        self.fc1 = net.linear[0]
        self.fc2 = net.linear[2]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = (x - 0.5) / 0.5
        x = self.conv_4(self.conv_3(self.conv_2(self.conv_1(x))))
        x = x.reshape(x.shape[0], -1)
        feat = torch.relu(self.fc1(x))
        probs = torch.sigmoid(self.fc2(feat))
        return feat, probs


def load_network() -> nn.Module:
    networks = load_module_from_file("pyemotion_networks", package_file(DIST, "PyEmotion/networks.py"))
    main_src = package_file(DIST, "PyEmotion/main.py").read_text()
    order = "{0: 'Angry', 1: 'Disgust', 2: 'Fear', 3: 'Happy', 4: 'Sad', 5: 'Surprise', 6: 'Neutral'}"
    if order not in main_src:
        raise ExportError("PyEmotion's emotion order is not the expected FER2013 order")
    net = networks.NetworkV2(in_c=1, nl=32, out_f=7)
    ckpt = torch.load(package_file(DIST, "PyEmotion/model/main_model.pkl"), map_location="cpu")
    net.load_state_dict(ckpt["network"], strict=True)
    return net.eval()


def reference(net: nn.Module):
    """Original forward on PyEmotion's own normalisation; the feature is read
    with a forward hook on the ReLU after the first Linear."""
    feats: List[torch.Tensor] = []

    def hook(_m, _i, out):
        feats.append(out.clone())

    def run(x):
        feats.clear()
        h = net.linear[1].register_forward_hook(hook)
        try:
            with torch.no_grad():
                probs = net((x - 0.5) / 0.5)
        finally:
            h.remove()
        return feats[0], probs

    return run


def face_crop(rgb: np.ndarray, box) -> torch.Tensor:
    """Gray crop -> 48x48 as PyEmotion does: luma gray (PyEmotion uses
    OpenCV's BGR2GRAY, PIL's "L" uses the same ITU-R 601 weights, rounding may
    differ by 1), crop at the rounded box, PIL bilinear resize (what
    torchvision's Resize does on a PIL image), ToTensor scaling to [0,1]."""
    from PIL import Image

    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    x1, y1, x2, y2 = (int(round(v)) for v in box[:4])
    crop = Image.fromarray(gray[max(0, y1):y2, max(0, x1):x2]).resize((48, 48), Image.BILINEAR)
    return torch.from_numpy(np.asarray(crop, dtype=np.float32) / 255.0)[None]


def export(out_dir: Path, golden_dir: Path, detections: Dict) -> Dict:
    t = Timer()
    net = load_network()
    module = FaceExpression(net).eval()
    loaded = save_and_reload(torch.jit.script(module), out_dir / "face_expression.pt")

    arrays, ref = detections["arrays"], detections["ref"]["images"]
    astro, grace, comp = (arrays[k] for k in ("mtcnn_astronaut.png", "mtcnn_grace_hopper.png",
                                               "mtcnn_composite.png"))
    a = torch.stack([face_crop(astro, ref[0]["boxes"][0]), face_crop(grace, ref[1]["boxes"][0])])
    b = torch.stack([face_crop(comp, bx) for bx in ref[2]["boxes"]])
    diffs = verify_export("face_expression", loaded, reference(net), [(a,), (b,)])
    with torch.no_grad():
        feat, probs = loaded(a)
    save_golden(golden_dir / "face_expression.safetensors", [a], [feat, probs])
    top = [EMOTIONS[i] for i in probs.argmax(1).tolist()]
    report("face_expression", t.elapsed(), diffs, f"astronaut/grace: {top}")

    version = package_version(DIST)
    entry = file_entry(
        out_dir / "face_expression.pt", out_dir,
        source_package=f"{DIST}=={version}", source_version=version, licence="MIT",
        input=["gray face crop f32[B,1,48,48] in [0,1] (PIL 'L' luma, bilinear resize); "
               "(x-0.5)/0.5 is applied inside"],
        output=["feat f32[B,256] (ReLU(Linear(9216,256)))",
                "probs f32[B,7] independent sigmoid scores (the net's final nn.Sigmoid; not softmax)"],
        classes=EMOTIONS,
        golden="golden/face_expression.safetensors",
        notes="torch.jit.script; class order verified against PyEmotion/main.py self.emotions")
    return {"models": {"face_expression": entry}}
