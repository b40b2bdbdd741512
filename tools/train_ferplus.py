"""Train a face-expression CNN on FER+ and export it as ``face_expression.pt``.

What it does
------------
* Reads FER+ (``FER2013Train/`` and ``FER2013Valid/``, 48x48 grey PNGs, each
  ``label.csv`` row = file, box, and the votes of ten annotators over
  neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
  unknown, NF; the files have no header row). All PNGs are pre-loaded into one
  uint8 tensor (cached as .npz under ``--cache``).
* Trains on SOFT targets: the vote distribution over the seven MELD/FER2013
  classes (contempt/unknown/NF votes dropped; images with no vote in the seven
  classes skipped). FER+'s own paper found the vote distribution (its
  "probabilistic" / cross-entropy scheme) better than majority labels, and it
  carries the annotators' ambiguity. Disgust and fear are rare (175 / 651
  majority images in train), so their target mass is up-weighted moderately
  (per-sample weight = sum_c target_c * w_c, default disgust 2.0, fear 1.5) -
  more would trade away overall accuracy, which is the metric.
* Evaluates on FER+ Valid with MAJORITY labels: the unique argmax of all ten
  vote columns; ties and contempt/unknown/NF majorities are excluded
  (3,370 valid images). Reports accuracy, weighted F1, per-class F1 and the
  confusion matrix.
* Augmentation (done batch-wise with one affine ``grid_sample``, cheap on CPU):
  random scale 0.8-1.0 of the side (a "random resized crop"), +-5% aspect,
  +-8% shift, +-10 deg rotation, horizontal flip, brightness/contrast jitter.
  At inference the crop comes from an MTCNN box, framed roughly like FER+
  (eyes in the upper third, chin at the bottom edge) but not exactly, so the
  net must tolerate moderate framing changes; ``--baseline``/``--eval-only``
  also print accuracy on 10%/20% looser and tighter centred crops.
* Architectures: ``vgg`` = compact VGG-style CNN from scratch (two 3x3 conv +
  BN + ReLU per stage, channels 32-64-128-256, max-pool, dropout, flatten
  256x3x3 -> Linear 256 (feature) -> Linear 7); ``pyemotion`` = PyEmotion
  1.0.0's NetworkV2 warm-started from its FER2013 weights (same faces).
  Optimiser AdamW with a OneCycle schedule (short CPU budget: reaches a good
  optimum in few epochs). The epoch with the best Valid accuracy is exported.

Output contract (the Rust side depends on it): TorchScript module,
``forward(x: f32[B,1,48,48] grey in [0,1]) -> (feat f32[B,256], probs f32[B,7])``,
probs = softmax in FER2013 order 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad,
5 surprise, 6 neutral. Normalisation is inside the module.

Examples::

    python tools/train_ferplus.py --data /work/shared/data/ferplus --baseline
    python tools/train_ferplus.py --data /work/shared/data/ferplus --out models/face_expression \\
        --arch vgg --epochs 12 --seed 0 --threads 1
    python tools/train_ferplus.py --data /work/shared/data/ferplus --eval-only models/face_expression/face_expression.pt
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export.common import sha256_file as sha256  # noqa: E402

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]  # FER2013 order
VOTE_COLUMNS = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                "contempt", "unknown", "NF"]
# For each output class (FER2013 order), its column in the FER+ vote vector.
CLASS_COLUMN = [4, 5, 6, 1, 3, 2, 0]


# ----------------------------------------------------------------------------- data

def load_split(data_dir: Path, split: str, cache_dir: Optional[Path]) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Return (images uint8 [N,48,48], votes int [N,10], file names)."""
    folder = data_dir / f"FER2013{split}"
    cache = cache_dir / f"ferplus_{split}.npz" if cache_dir else None
    if cache and cache.exists():
        z = np.load(cache)
        return z["images"], z["votes"], list(z["files"])
    from PIL import Image

    files, votes, images = [], [], []
    with open(folder / "label.csv", newline="") as f:
        for row in csv.reader(f):
            if not row or not row[0].endswith(".png"):
                continue  # tolerate a header row, should one ever appear
            assert len(row) == 12, row
            im = np.asarray(Image.open(folder / row[0]).convert("L"))
            assert im.shape == (48, 48), (row[0], im.shape)
            files.append(row[0])
            votes.append([int(v) for v in row[2:12]])
            images.append(im)
    out = np.stack(images), np.asarray(votes, dtype=np.int64), files
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, images=out[0], votes=out[1], files=np.asarray(files))
    return out


def majority_labels(votes: np.ndarray) -> np.ndarray:
    """Class index (FER2013 order) of the unique argmax of all ten columns, else -1."""
    col_to_class = {c: i for i, c in enumerate(CLASS_COLUMN)}
    top = votes.max(1, keepdims=True)
    unique = (votes == top).sum(1) == 1
    arg = votes.argmax(1)
    return np.asarray([col_to_class.get(int(a), -1) if u else -1 for a, u in zip(arg, unique)])


def soft_targets(votes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Vote distribution over the seven classes; mask of rows with >= 1 such vote."""
    v = votes[:, CLASS_COLUMN].astype(np.float32)
    s = v.sum(1)
    keep = s > 0
    return v[keep] / s[keep, None], keep


def label_counts(labels: np.ndarray) -> Dict[str, int]:
    return {c: int((labels == i).sum()) for i, c in enumerate(CLASSES)}


# ----------------------------------------------------------------------------- augmentation

def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """x f32[B,1,48,48] in [0,1] -> randomly scaled/rotated/shifted/flipped/jittered copy."""
    b = x.shape[0]

    def u(lo, hi):
        return torch.rand(b, generator=g) * (hi - lo) + lo

    side = u(0.80, 1.0)                       # crop side as a fraction of the image
    aspect = torch.exp(u(math.log(0.95), math.log(1.05)))
    sx, sy = side * aspect.sqrt(), side / aspect.sqrt()
    ang = u(-10, 10) * math.pi / 180
    # centre of the crop: anywhere it still fits, plus a little slack
    tx = (1 - sx).clamp(min=0) * u(-1, 1) + u(-0.08, 0.08)
    ty = (1 - sy).clamp(min=0) * u(-1, 1) + u(-0.08, 0.08)
    flip = torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([
        torch.stack([cos * sx * flip, -sin * sy, tx], 1),
        torch.stack([sin * sx * flip, cos * sy, ty], 1),
    ], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # brightness / contrast jitter around the image mean
    mean = y.mean((1, 2, 3), keepdim=True)
    contrast = u(0.7, 1.3).view(b, 1, 1, 1)
    bright = u(-0.12, 0.12).view(b, 1, 1, 1)
    return ((y - mean) * contrast + mean + bright).clamp(0, 1)


def rescale_crop(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Centred crop whose side is ``factor`` x the image (>1 = looser, edge pixels
    replicated), resized back to 48 bilinearly."""
    theta = torch.tensor([[factor, 0.0, 0.0], [0.0, factor, 0.0]]).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


# ----------------------------------------------------------------------------- models

def conv_bn(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class VGGish(nn.Module):
    """Four stages of (conv-BN-ReLU) x2 + max-pool: 48 -> 24 -> 12 -> 6 -> 3."""

    def __init__(self, widths: Tuple[int, ...] = (32, 64, 128, 256), drop: float = 0.4):
        super().__init__()
        layers: List[nn.Module] = []
        cin = 1
        for i, w in enumerate(widths):
            layers += [conv_bn(cin, w), conv_bn(w, w), nn.MaxPool2d(2)]
            if i >= 1:
                layers.append(nn.Dropout2d(0.1))
            cin = w
        self.features = nn.Sequential(*layers)
        self.drop1 = nn.Dropout(drop)
        self.fc1 = nn.Linear(cin * 3 * 3, 256)
        self.drop2 = nn.Dropout(drop)
        self.fc2 = nn.Linear(256, 7)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = (x - 0.5) / 0.25
        x = self.features(x).flatten(1)
        feat = torch.relu(self.fc1(self.drop1(x)))
        return feat, self.fc2(self.drop2(feat))


def pyemotion_file(rel: str) -> Path:
    return Path(importlib.metadata.distribution("PyEmotion").locate_file(f"PyEmotion/{rel}"))


def load_pyemotion() -> nn.Module:
    """NetworkV2(in_c=1, nl=32, out_f=7) + main_model.pkl, as tools/export/face_expression.py
    does (networks.py loaded standalone: the package __init__ imports cv2)."""
    spec = importlib.util.spec_from_file_location("pyemotion_networks", pyemotion_file("networks.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.NetworkV2(in_c=1, nl=32, out_f=7)
    ckpt = torch.load(pyemotion_file("model/main_model.pkl"), map_location="cpu", weights_only=False)
    net.load_state_dict(ckpt["network"], strict=True)
    return net.eval()


class PyEmotionNet(nn.Module):
    """PyEmotion's NetworkV2 layers, returning (feat, logits); dropout added for fine-tuning
    (parameter-free, so the pretrained state dict still fits)."""

    def __init__(self, net: nn.Module, drop: float = 0.4):
        super().__init__()
        self.conv_1, self.conv_2, self.conv_3, self.conv_4 = net.conv_1, net.conv_2, net.conv_3, net.conv_4
        self.fc1, self.fc2 = net.linear[0], net.linear[2]
        self.drop1, self.drop2 = nn.Dropout(drop), nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = (x - 0.5) / 0.5
        x = self.conv_4(self.conv_3(self.conv_2(self.conv_1(x))))
        feat = torch.relu(self.fc1(self.drop1(x.reshape(x.shape[0], -1))))
        return feat, self.fc2(self.drop2(feat))


class Exported(nn.Module):
    """The contract: x f32[B,1,48,48] in [0,1] -> (feat f32[B,256], softmax probs f32[B,7])."""

    def __init__(self, net: nn.Module, flip_tta: bool):
        super().__init__()
        self.net = net
        self.flip_tta = flip_tta

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        feat, logits = self.net(x)
        probs = torch.softmax(logits, dim=1)
        if self.flip_tta:
            feat_f, logits_f = self.net(torch.flip(x, [3]))
            probs = 0.5 * (probs + torch.softmax(logits_f, dim=1))
            feat = 0.5 * (feat + feat_f)
        return feat, probs


class PyEmotionBaseline(nn.Module):
    """PyEmotion's own net through the same contract, except that probs are its seven
    independent sigmoid scores (argmax is what PyEmotion reports)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = PyEmotionNet(net)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        feat, logits = self.net(x)
        return feat, torch.sigmoid(logits)


def build(arch: str) -> nn.Module:
    if arch == "vgg":
        return VGGish()
    if arch == "vgg-small":
        return VGGish(widths=(24, 48, 96, 192))
    if arch == "pyemotion":
        return PyEmotionNet(load_pyemotion())
    raise SystemExit(f"unknown --arch {arch}")


# ----------------------------------------------------------------------------- metrics

def metrics(y: np.ndarray, pred: np.ndarray) -> Dict:
    k = len(CLASSES)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    tp = np.diag(cm).astype(float)
    prec = tp / np.maximum(cm.sum(0), 1)
    rec = tp / np.maximum(cm.sum(1), 1)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    support = cm.sum(1)
    return {
        "accuracy": float(tp.sum() / cm.sum()),
        "weighted_f1": float((f1 * support).sum() / support.sum()),
        "macro_f1": float(f1.mean()),
        "per_class_f1": {c: round(float(f), 4) for c, f in zip(CLASSES, f1)},
        "confusion_matrix": cm.tolist(),  # rows = true, columns = predicted, CLASSES order
        "n": int(cm.sum()),
    }


@torch.no_grad()
def predict(model, x_u8: torch.Tensor, crop: float = 1.0, bs: int = 256) -> np.ndarray:
    out = []
    for i in range(0, len(x_u8), bs):
        x = x_u8[i:i + bs].float().div_(255).unsqueeze(1)
        if crop != 1.0:
            x = rescale_crop(x, crop)
        _, probs = model(x)
        out.append(probs)
    return torch.cat(out).numpy()


def evaluate(model, x_u8: torch.Tensor, y: np.ndarray, crops=(1.0,)) -> Dict:
    res = {}
    for c in crops:
        p = predict(model, x_u8, c)
        res[c] = metrics(y, p.argmax(1))
    return res


def fmt(m: Dict) -> str:
    pc = " ".join(f"{c}={v:.3f}" for c, v in m["per_class_f1"].items())
    return f"acc={m['accuracy']:.4f} wF1={m['weighted_f1']:.4f} macroF1={m['macro_f1']:.4f} | {pc}"


# ----------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data/ferplus"))
    ap.add_argument("--out", type=Path, default=Path("models/face_expression"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/ferplus"), help="npz cache of the PNGs")
    ap.add_argument("--arch", default="vgg", choices=["vgg", "vgg-small", "pyemotion"])
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3, help="OneCycle peak LR (AdamW)")
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--disgust-weight", type=float, default=2.0)
    ap.add_argument("--fear-weight", type=float, default=1.5)
    ap.add_argument("--flip-tta", action="store_true", help="average with the mirrored face inside the export")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-batches", type=int, default=0, help="timing only: stop an epoch after N batches")
    ap.add_argument("--eval-only", type=Path, help="evaluate a TorchScript model with the contract")
    ap.add_argument("--split", default="Valid", choices=["Valid", "Train"])
    ap.add_argument("--baseline", action="store_true", help="evaluate PyEmotion 1.0.0's FER2013 net")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    t0 = time.time()
    xv_np, vv, _ = load_split(args.data, args.split if (args.eval_only or args.baseline) else "Valid", args.cache)
    yv_all = majority_labels(vv)
    keep_v = yv_all >= 0
    xv, yv = torch.from_numpy(xv_np[keep_v]), yv_all[keep_v]
    print(f"eval split: {keep_v.sum()} majority-labelled images of {len(vv)}: {label_counts(yv)} "
          f"(load {time.time() - t0:.1f}s)", flush=True)

    if args.eval_only or args.baseline:
        if args.baseline:
            model = PyEmotionBaseline(load_pyemotion()).eval()
        else:
            model = torch.jit.load(str(args.eval_only)).eval()
        crops = (1.0, 0.8, 0.9, 1.1, 1.2)
        res = evaluate(model, xv, yv, crops)
        for c in crops:
            tag = "as is" if c == 1.0 else f"crop x{c:.1f} ({'looser' if c > 1 else 'tighter'})"
            print(f"{tag:24s} {fmt(res[c])}")
        print("confusion (rows true, cols pred, order " + ",".join(CLASSES) + "):")
        for r in res[1.0]["confusion_matrix"]:
            print("  ", r)
        print(json.dumps({"split": args.split, "results": {str(k): v for k, v in res.items()}}))
        return

    # --- training data: soft targets
    xt_np, vt, _ = load_split(args.data, "Train", args.cache)
    tgt, keep_t = soft_targets(vt)
    xt, tt = torch.from_numpy(xt_np[keep_t]), torch.from_numpy(tgt)
    train_major = majority_labels(vt)
    cw = torch.ones(7)
    cw[CLASSES.index("disgust")] = args.disgust_weight
    cw[CLASSES.index("fear")] = args.fear_weight
    sample_w = tt @ cw
    print(f"train: {len(xt)} images with >=1 vote in the 7 classes (of {len(vt)}); "
          f"majority counts {label_counts(train_major)}", flush=True)

    model = build(args.arch)
    nparams = sum(p.numel() for p in model.parameters())
    steps_per_epoch = math.ceil(len(xt) / args.batch)
    if args.max_batches:
        steps_per_epoch = min(steps_per_epoch, args.max_batches)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.2)
    g = torch.Generator().manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    pt_path = args.out / "face_expression.pt"
    print(f"arch={args.arch} params={nparams} steps/epoch={steps_per_epoch} threads={args.threads}", flush=True)

    history, best = [], {"epoch": -1, "accuracy": -1.0}
    for epoch in range(1, args.epochs + 1):
        model.train()
        te = time.time()
        perm = torch.randperm(len(xt), generator=g)
        tot, n = 0.0, 0
        for step in range(steps_per_epoch):
            idx = perm[step * args.batch:(step + 1) * args.batch]
            x = augment(xt[idx].float().div_(255).unsqueeze(1), g)
            _, logits = model(x)
            loss = (-(tt[idx] * F.log_softmax(logits, 1)).sum(1) * sample_w[idx]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
            n += len(idx)
            if step % 100 == 0:
                print(f"  epoch {epoch} step {step}/{steps_per_epoch} loss {tot / n:.4f} "
                      f"{time.time() - te:.0f}s", flush=True)
        train_s = time.time() - te
        model.eval()
        exported = Exported(model, args.flip_tta).eval()
        m = evaluate(exported, xv, yv)[1.0]
        m_noflip = evaluate(Exported(model, False).eval(), xv, yv)[1.0] if args.flip_tta else m
        row = {"epoch": epoch, "train_loss": round(tot / n, 5), "train_seconds": round(train_s, 1),
               "lr_end": sched.get_last_lr()[0], "valid_accuracy": round(m["accuracy"], 5),
               "valid_weighted_f1": round(m["weighted_f1"], 5),
               "valid_accuracy_no_flip_tta": round(m_noflip["accuracy"], 5)}
        history.append(row)
        print(f"epoch {epoch}: loss {row['train_loss']:.4f} train {train_s:.0f}s | valid {fmt(m)}"
              + (f" | no-TTA acc {m_noflip['accuracy']:.4f}" if args.flip_tta else ""), flush=True)
        if m["accuracy"] > best["accuracy"]:
            best = {"epoch": epoch, "accuracy": m["accuracy"], "metrics": m}
            scripted = torch.jit.script(exported)
            scripted.save(str(pt_path))
            torch.save(model.state_dict(), args.cache / f"best_{args.arch}_state.pt")
        write_json(args, history, best, pt_path, nparams, len(xt), len(vt), label_counts(train_major),
                   label_counts(yv), t0)
    print(f"best epoch {best['epoch']}: valid {fmt(best['metrics'])}")
    print(f"wrote {pt_path} sha256 {sha256(pt_path)} ({pt_path.stat().st_size} bytes)")


def write_json(args, history, best, pt_path, nparams, n_train, n_train_rows, train_counts, valid_counts, t0):
    info = {
        "what": "FER+ face-expression CNN; see tools/train_ferplus.py docstring",
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "classes": CLASSES,
        "contract": {"input": "x f32[B,1,48,48] grey in [0,1] (PIL 'L', bilinear resize); "
                              "normalisation inside",
                     "output": ["feat f32[B,256] ReLU(Linear(...,256))",
                                "probs f32[B,7] softmax, FER2013 order"]},
        "params": nparams,
        "data": {"train_rows": n_train_rows, "train_used_soft_targets": n_train,
                 "train_majority_counts": train_counts, "valid_majority_counts": valid_counts,
                 "valid_n": int(sum(valid_counts.values()))},
        "epochs": history,
        "best_epoch": best["epoch"],
        "valid_metrics": best.get("metrics"),
        "torch_version": torch.__version__,
        "elapsed_seconds": round(time.time() - t0, 1),
        "face_expression_pt": {"bytes": pt_path.stat().st_size, "sha256": sha256(pt_path)}
        if pt_path.exists() else None,
    }
    with open(args.out / "training.json", "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
