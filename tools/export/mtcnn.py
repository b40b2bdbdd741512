"""MTCNN P/R/O-nets from facenet-pytorch 2.6.0 -> ``mtcnn_{pnet,rnet,onet}.pt``
(+ ``golden/mtcnn_reference.json`` and the images it refers to).

Why only the three CNNs: the detector around them (image pyramid, NMS, box
regression, square padding; ``facenet_pytorch/models/utils/detect_face.py``) is
data-dependent control flow that the Rust side implements itself. To let it be
tested end to end, this module also records what facenet-pytorch's own
``MTCNN(keep_all=True).detect(img, landmarks=True)`` returns on three real
images (default thresholds [0.6, 0.7, 0.7], factor 0.709, min face 20).

The nets are ``torch.jit.script``-ed (not traced) so that P-net accepts any
H, W. Inputs are RGB NCHW float already scaled ``(x - 127.5) * 0.0078125``,
outputs exactly as facenet-pytorch returns them:
P-net ``(reg[B,4,h,w], prob[B,2,h,w])``, R-net (24x24) ``(reg[B,4], prob[B,2])``,
O-net (48x48) ``(reg[B,4], landmarks[B,10], prob[B,2])``; landmarks are
``x1..x5, y1..y5`` relative to the box, as facenet-pytorch uses them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from . import images
from .common import (ExportError, Timer, file_entry, package_version, report, save_and_reload,
                     save_golden, verify_export, write_json)

DIST = "facenet-pytorch"


def _scale(x: torch.Tensor) -> torch.Tensor:
    return (x - 127.5) * 0.0078125


def _nchw(arr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(arr, copy=True)).permute(2, 0, 1).unsqueeze(0).float()


def crops(arr: np.ndarray, boxes: List[List[float]], size: int) -> torch.Tensor:
    """Crop boxes (x1,y1,x2,y2, clipped) and resize with facenet's own
    ``imresample`` (area interpolation) — the same preprocessing R/O-net see."""
    from facenet_pytorch.models.utils.detect_face import imresample

    img = _nchw(arr)
    h, w = arr.shape[:2]
    out = []
    for b in boxes:
        x1, y1 = max(0, int(b[0])), max(0, int(b[1]))
        x2, y2 = min(w, int(b[2])), min(h, int(b[3]))
        out.append(imresample(img[:, :, y1:y2, x1:x2], (size, size)))
    return _scale(torch.cat(out, 0))


def detect_reference(golden_dir: Path) -> Dict:
    from facenet_pytorch.models.mtcnn import MTCNN
    from PIL import Image

    astro = images.astronaut()
    grace = images.grace_hopper()
    camera = images.camera_rgb()
    comp = images.composite([astro, grace, camera])
    named = [("mtcnn_astronaut.png", astro, "skimage data.astronaut() (public domain)"),
             ("mtcnn_grace_hopper.png", grace, "matplotlib sample_data/grace_hopper.jpg (public domain)"),
             ("mtcnn_composite.png", comp,
              "astronaut | grace_hopper | camera (gray->RGB) pasted side by side, top-aligned on black")]
    mtcnn = MTCNN(keep_all=True, device="cpu")
    mtcnn.eval()
    recs = []
    arrays = {}
    for fname, arr, what in named:
        images.save_png(arr, golden_dir / fname)
        with torch.no_grad():
            boxes, probs, points = mtcnn.detect(Image.fromarray(arr), landmarks=True)
        if boxes is None:
            boxes, probs, points = np.zeros((0, 4)), np.zeros((0,)), np.zeros((0, 5, 2))
        recs.append({
            "image": fname, "source": what, "height": int(arr.shape[0]), "width": int(arr.shape[1]),
            "boxes": [[float(v) for v in b] for b in boxes],
            "probs": [float(p) for p in probs],
            "landmarks": [[[float(v) for v in pt] for pt in lm] for lm in points],
        })
        arrays[fname] = arr
    ref = {
        "generator": "facenet_pytorch.MTCNN(keep_all=True, device='cpu').detect(PIL image, landmarks=True)",
        "facenet_pytorch": package_version(DIST),
        "params": {"min_face_size": mtcnn.min_face_size, "thresholds": list(mtcnn.thresholds),
                   "factor": mtcnn.factor, "nms": {"pnet_per_scale": 0.5, "pnet_all": 0.7,
                                                   "rnet": 0.7, "onet": 0.7, "onet_mode": "Min"}},
        "format": {"boxes": "x1,y1,x2,y2 in pixels", "landmarks": "5 x (x,y): left eye, right eye, "
                   "nose, left mouth corner, right mouth corner"},
        "images": recs,
    }
    write_json(golden_dir / "mtcnn_reference.json", ref)
    return {"ref": ref, "arrays": arrays}


def export(out_dir: Path, golden_dir: Path) -> Dict:
    from facenet_pytorch.models.mtcnn import ONet, PNet, RNet
    from facenet_pytorch.models.utils.detect_face import imresample

    t = Timer()
    det = detect_reference(golden_dir)
    astro_rec = det["ref"]["images"][0]
    if not astro_rec["probs"] or max(astro_rec["probs"]) < 0.99:
        raise ExportError(f"facenet MTCNN did not find the astronaut's face: {astro_rec}")
    for r in det["ref"]["images"]:
        print(f"[export]   mtcnn reference {r['image']}: {len(r['boxes'])} face(s), probs "
              + ", ".join(f"{p:.5f}" for p in r["probs"]))
    report("mtcnn_reference", t.elapsed(), [])

    astro = det["arrays"]["mtcnn_astronaut.png"]
    grace = det["arrays"]["mtcnn_grace_hopper.png"]
    face = astro_rec["boxes"][0]
    g_face = det["ref"]["images"][1]["boxes"][0] if det["ref"]["images"][1]["boxes"] else [150, 80, 380, 330]
    # A few boxes around/away from the faces so R/O-net see both classes.
    other = [[0, 0, 120, 120], [300, 300, 480, 480], [face[0] - 20, face[1] - 10, face[2] + 20, face[3] + 30]]

    entries = {}
    version = package_version(DIST)
    common = dict(source_package=f"{DIST}=={version}", source_version=version,
                  licence="MIT (facenet-pytorch; weights converted from the original MTCNN by Zhang et al.)")

    # --- P-net: real pyramid levels, two different sizes (also non-square).
    t = Timer()
    ref = PNet(pretrained=True).eval()
    scripted = torch.jit.script(ref)
    loaded = save_and_reload(scripted, out_dir / "mtcnn_pnet.pt")
    a = _scale(imresample(_nchw(astro), (int(512 * 0.25 + 1), int(512 * 0.25 + 1))))
    b = _scale(imresample(_nchw(grace), (int(600 * 0.177 + 1), int(512 * 0.177 + 1))))
    c = torch.cat([_scale(imresample(_nchw(astro), (61, 47))), _scale(imresample(_nchw(grace), (61, 47)))])
    diffs = verify_export("mtcnn_pnet", loaded, ref, [(a,), (b,), (c,)])
    with torch.no_grad():
        outs = loaded(a)
    save_golden(golden_dir / "mtcnn_pnet.safetensors", [a], list(outs))
    report("mtcnn_pnet", t.elapsed(), diffs, f"inputs {tuple(a.shape)},{tuple(b.shape)},{tuple(c.shape)}")
    entries["mtcnn_pnet"] = file_entry(
        out_dir / "mtcnn_pnet.pt", out_dir, **common,
        input=["RGB f32[B,3,H,W] scaled (x-127.5)*0.0078125, any H,W >= 12"],
        output=["reg f32[B,4,h,w]", "prob f32[B,2,h,w] (softmax over dim 1; [:,1] = face)"],
        golden="golden/mtcnn_pnet.safetensors", notes="torch.jit.script")

    # --- R-net
    t = Timer()
    ref = RNet(pretrained=True).eval()
    loaded = save_and_reload(torch.jit.script(ref), out_dir / "mtcnn_rnet.pt")
    a = crops(astro, [face] + other, 24)
    b = torch.cat([crops(grace, [g_face, [0, 0, 200, 200]], 24), crops(astro, other + [face, face], 24)])
    diffs = verify_export("mtcnn_rnet", loaded, ref, [(a,), (b,)])
    with torch.no_grad():
        outs = loaded(a)
    if not outs[1][0, 1] > 0.7:
        raise ExportError(f"R-net does not accept the astronaut face crop: {outs[1][0]}")
    save_golden(golden_dir / "mtcnn_rnet.safetensors", [a], list(outs))
    report("mtcnn_rnet", t.elapsed(), diffs, f"face prob {outs[1][0, 1]:.4f}")
    entries["mtcnn_rnet"] = file_entry(
        out_dir / "mtcnn_rnet.pt", out_dir, **common,
        input=["RGB f32[B,3,24,24] scaled (x-127.5)*0.0078125"],
        output=["reg f32[B,4]", "prob f32[B,2]"],
        golden="golden/mtcnn_rnet.safetensors", notes="torch.jit.script")

    # --- O-net
    t = Timer()
    ref = ONet(pretrained=True).eval()
    loaded = save_and_reload(torch.jit.script(ref), out_dir / "mtcnn_onet.pt")
    a = crops(astro, [face] + other, 48)
    b = torch.cat([crops(grace, [g_face, [0, 0, 200, 200]], 48), crops(astro, other + [face, face], 48)])
    diffs = verify_export("mtcnn_onet", loaded, ref, [(a,), (b,)])
    with torch.no_grad():
        outs = loaded(a)
    if not outs[2][0, 1] > 0.7:
        raise ExportError(f"O-net does not accept the astronaut face crop: {outs[2][0]}")
    save_golden(golden_dir / "mtcnn_onet.safetensors", [a], list(outs))
    report("mtcnn_onet", t.elapsed(), diffs, f"face prob {outs[2][0, 1]:.4f}")
    entries["mtcnn_onet"] = file_entry(
        out_dir / "mtcnn_onet.pt", out_dir, **common,
        input=["RGB f32[B,3,48,48] scaled (x-127.5)*0.0078125"],
        output=["reg f32[B,4]", "landmarks f32[B,10] (x1..x5 then y1..y5, relative to box)",
                "prob f32[B,2]"],
        golden="golden/mtcnn_onet.safetensors", notes="torch.jit.script")
    return {"models": entries, "detections": det}
