"""Real, permissively licensed test images that ship inside installed packages.

* scikit-image ``data.astronaut()`` (NASA, public domain), ``data.camera()``
  (CC0), ``data.coffee()`` and ``data.chelsea()`` (CC0, Stefan van der Walt);
* matplotlib ``mpl-data/sample_data/grace_hopper.jpg`` (public domain).

Everything is returned as ``uint8 HxWx3`` RGB numpy arrays so that the PNGs we
write into ``golden/`` are pixel-exact copies of what the Python reference saw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[..., :3])


def camera_rgb() -> np.ndarray:
    from skimage import data

    g = data.camera()
    return np.ascontiguousarray(np.stack([g, g, g], axis=-1))


def coffee() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.coffee()[..., :3])


def chelsea() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.chelsea()[..., :3])


def grace_hopper() -> np.ndarray:
    import matplotlib
    from PIL import Image

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    with Image.open(path) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB")))


def composite(images) -> np.ndarray:
    """Paste images side by side on black, top-aligned."""
    h = max(i.shape[0] for i in images)
    w = sum(i.shape[1] for i in images)
    canvas = np.zeros((h, w, 3), dtype=np.uint8)
    x = 0
    for im in images:
        canvas[: im.shape[0], x : x + im.shape[1]] = im
        x += im.shape[1]
    return canvas


def save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    # optimize=False + fixed compress_level keep the bytes reproducible.
    Image.fromarray(arr).save(path, format="PNG", compress_level=6)


def resize_center_crop(arr: np.ndarray, size: int) -> np.ndarray:
    """Shorter side -> size (bicubic, as timm's eval transform) then centre crop."""
    from PIL import Image

    im = Image.fromarray(arr)
    w, h = im.size
    s = size / min(w, h)
    im = im.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BICUBIC)
    w, h = im.size
    left, top = (w - size) // 2, (h - size) // 2
    return np.asarray(im.crop((left, top, left + size, top + size)))
