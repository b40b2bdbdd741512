"""aisfx 0.1.2 sound-effects CNN (X-Sequential-CE) -> ``sound_aisfx.pt`` (scripted).

The exported module is aisfx's whole inference path for one clip:

1. peak normalisation ``y / max|y|`` (aisfx's librosa front end does it; it is
   idempotent, so callers that already peak-normalise lose nothing);
2. mel spectrogram as ``aisfx/spectrogram/spectrogram_librosa.py``:
   ``librosa.feature.melspectrogram(sr=44100, n_fft=2048, win_length=2048,
   hop_length=1024, n_mels=96, fmin=0, fmax=22050, htk=True, norm=1.0,
   power=2.0)`` — centred STFT with zero ("constant") padding, which is the
   default of the librosa 0.9.2 that aisfx pins — then ``log10(1e4 * S + 1)``;
3. ``spectrogram_normalize(spec, 'original')``: (S - 0) / 9.457798957824707;
4. ``blocking(block_size=100, hop_size=50, drop_partial_block=True)``: blocks of
   100 frames (~2.3 s) every 50 frames; a clip shorter than one block gives
   one zero-padded block;
5. ``CrossNet.get_embedding`` = the 9-layer CNN's ``EmbeddingNet`` -> 512-d.

Contract: ``44.1 kHz mono f32[N]`` -> ``f32[nblocks,512]`` with
``nblocks = max(1, (1 + N // 1024 - 100) // 50 + 1)``.

Deviation from aisfx, on purpose: aisfx's librosa path returns the
spectrogram mel-major ([96, T]) and blocks it along the *mel* axis — a bug (its
default Essentia path, used in the ISMIR paper, returns time-major [T, 96]).
We block along time, as the Essentia path and the model's docstring
("Input: (batch_size, times_steps, freq_bins)") require. The reference the
export is checked against is aisfx's own code (``compute_spectrogram`` on a WAV
file, ``spectrogram_normalize``, ``model_get_embedding``) with that transpose
added. Essentia itself (AGPL, not installed) differs slightly from librosa's
mel bands, so embeddings are close to but not identical with the paper's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import audio
from .common import (ExportError, Timer, file_entry, package_file, package_version, report,
                     save_and_reload, save_golden, verify_export)

DIST = "aisfx"
SR = 44100
N_FFT, HOP, N_MELS = 2048, 1024, 96
BLOCK, BLOCK_HOP = 100, 50
SPEC_MAX = 9.457798957824707


class ConvBlockTS(nn.Module):
    """aisfx ``ConvBlock`` with its (un-annotated, string-typed) pooling
    arguments fixed, so TorchScript can compile it; same layers, same order."""

    def __init__(self, block: nn.Module, pool: int):
        super().__init__()
        self.conv1, self.bn1 = block.conv1, block.bn1
        self.conv2, self.bn2 = block.conv2, block.bn2
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.max_pool2d(x, kernel_size=[self.pool, self.pool])


class EmbeddingNetTS(nn.Module):
    """aisfx ``EmbeddingNet.forward``: 4 conv blocks (max-pool 2,2,2,1),
    mean over frequency, max over time."""

    def __init__(self, net: nn.Module):
        super().__init__()
        if net.pool_type != "max":
            raise ExportError(f"aisfx: unexpected pool_type {net.pool_type}")
        self.b1 = ConvBlockTS(net.conv_block1, 2)
        self.b2 = ConvBlockTS(net.conv_block2, 2)
        self.b3 = ConvBlockTS(net.conv_block3, 2)
        self.b4 = ConvBlockTS(net.conv_block4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.b4(self.b3(self.b2(self.b1(x.unsqueeze(1)))))
        return torch.mean(x, dim=3).max(dim=2).values


class AisfxTS(nn.Module):
    def __init__(self, embedding_net: nn.Module, filters: np.ndarray):
        super().__init__()
        self.net = EmbeddingNetTS(embedding_net)
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True))
        self.register_buffer("filters", torch.from_numpy(filters))
        self.n_fft = N_FFT
        self.hop = HOP
        self.block = BLOCK
        self.block_hop = BLOCK_HOP
        self.spec_max = SPEC_MAX

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        peak = audio.abs().max()
        peak = torch.where(peak == 0, torch.ones_like(peak), peak)
        y = audio / peak
        spec = torch.stft(y, self.n_fft, self.hop, self.n_fft, self.window, center=True,
                          pad_mode="constant", normalized=False, onesided=True, return_complex=True)
        mel = torch.matmul(self.filters, spec.abs() ** 2)
        s = torch.log10(mel * 10000.0 + 1.0).t() / self.spec_max  # [T, 96]
        frames = s.shape[0]
        n = max(1, (frames - self.block) // self.block_hop + 1)
        s = torch.cat([s, torch.zeros(self.block, s.shape[1], dtype=s.dtype, device=s.device)], 0)
        blocks = s.unfold(0, self.block, self.block_hop)[:n].transpose(1, 2)  # [n, 100, 96]
        return self.net(blocks.contiguous())


def load_model():
    from aisfx.inference import load_bestModel

    # aisfx.load_weights() calls torch.load without weights_only=False, which
    # torch>=2.6 refuses for this pickle (it holds numpy scalars). The file
    # ships inside the package, so loading it in full is as trusted as
    # importing the package.
    weights, ds_dict = torch.load(package_file(DIST, "aisfx/models/checkpoint.pth"), map_location="cpu",
                                  weights_only=False)
    return load_bestModel(weights, ds_dict, "cpu")


def reference(model):
    """aisfx's own Python path, via a float WAV so that its
    ``compute_spectrogram(filename, ...)`` runs unmodified."""
    import soundfile as sf
    from aisfx import inference as inf
    from aisfx.preprocessing import spectrogram_normalize
    from aisfx.spectrogram.spectrogram_librosa import compute_spectrogram

    def run(x: torch.Tensor) -> torch.Tensor:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "clip.wav"
            sf.write(str(path), x.numpy(), SR, subtype="FLOAT")
            spec = compute_spectrogram(filename=str(path), sr=inf.SAMPLE_RATE,
                                       block_size=inf.SPEC_BLOCK_LENGTH, hop_size=inf.SPEC_HOP_LENGTH,
                                       n_mels=inf.MEL_BINS, f_min=inf.F_MIN, f_max=inf.F_MAX)
        spec = spectrogram_normalize(spec.T, spec_norm="original")  # .T: see module docstring
        return inf.model_get_embedding(spec, 0.5, True, model, "cpu")

    return run


def test_clip(seconds: float, seed: int) -> np.ndarray:
    """Real espeak speech (resampled to 44.1 kHz) followed by a few seeded
    synthetic sound events (a knock-like noise burst, a chirp), peak-normalised."""
    rng = np.random.default_rng(seed)
    speech = audio.speech("Somebody is knocking at the door. Can you hear the bell?", SR, voice="en-us")
    n = int(seconds * SR)
    out = np.zeros(n, dtype=np.float32)
    out[: min(n, len(speech))] = speech[:n]
    t = np.arange(int(0.3 * SR)) / SR
    for k in range(3):
        at = int((0.25 + 0.2 * k) * n)
        burst = (rng.standard_normal(len(t)) * np.exp(-t * 30)).astype(np.float32) * 0.6
        out[at:at + len(t)] += burst[: max(0, n - at)]
    chirp = (0.4 * np.sin(2 * np.pi * (400 + 3000 * t) * t)).astype(np.float32)
    at = int(0.8 * n)
    out[at:at + len(t)] += chirp[: max(0, n - at)]
    return (out / np.abs(out).max()).astype(np.float32)


def n_blocks(n: int) -> int:
    return max(1, (1 + n // HOP - BLOCK) // BLOCK_HOP + 1)


def export(out_dir: Path, golden_dir: Path) -> Dict:
    t = Timer()
    model = load_model()
    filters = audio.mel_filters(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=22050.0, htk=True, norm=1.0)
    lib = audio.check_against_librosa(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=22050.0,
                                      htk=True, norm=1.0)
    if lib is None:
        raise ExportError("librosa is required for the aisfx reference check (tools/requirements.txt)")
    module = AisfxTS(model.embedding_net, filters).eval()
    loaded = save_and_reload(torch.jit.script(module), out_dir / "sound_aisfx.pt")

    a = torch.from_numpy(test_clip(3.6, 1))   # 156 frames -> 2 blocks
    b = torch.from_numpy(test_clip(7.3, 2))   # 315 frames -> 5 blocks
    c = torch.from_numpy(test_clip(1.5, 3))   # 65 frames  -> 1 zero-padded block
    cases = [(a,), (b,), (c,)]
    diffs = verify_export("sound_aisfx", loaded, reference(model), cases)
    shapes = []
    with torch.no_grad():
        for (x,) in cases:
            y = loaded(x)
            if y.shape != (n_blocks(len(x)), 512):
                raise ExportError(f"aisfx: {len(x)} samples gave {tuple(y.shape)}")
            shapes.append(f"{len(x)}->{tuple(y.shape)}")
        out = loaded(a)
    save_golden(golden_dir / "sound_aisfx.safetensors", [a], [out])
    report("sound_aisfx", t.elapsed(), diffs, f"filters vs librosa {lib:.1e}; " + ", ".join(shapes))

    version = package_version(DIST)
    entry = file_entry(
        out_dir / "sound_aisfx.pt", out_dir,
        source_package=f"{DIST}=={version}", source_version=version, licence="MIT",
        input=["44.1 kHz mono f32[N] (peak-normalised; normalisation is re-applied inside, idempotent)"],
        output=["f32[nblocks,512], nblocks = max(1, (1 + N//1024 - 100)//50 + 1); block i covers "
                "frames [50i, 50i+100) of 1024-sample hops"],
        golden="golden/sound_aisfx.safetensors",
        notes="torch.jit.script; librosa-style mel front end inside (aisfx pins librosa 0.9.2: zero-padded "
              "centred STFT); blocks along time (aisfx's librosa path forgets the transpose)")
    return {"models": {"sound_aisfx": entry}}
