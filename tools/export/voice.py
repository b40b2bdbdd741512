"""Resemblyzer 0.1.4 speaker encoder -> ``voice_resemblyzer.pt`` (scripted).

Why the stub: ``resemblyzer/__init__`` imports ``resemblyzer.audio``, which
imports ``webrtcvad`` (a C extension that is not installed). The VAD is only
used by ``preprocess_wav``'s silence trimming, not by the model or the mel
front end, so an empty ``webrtcvad`` module is registered before the import;
calling the VAD would fail loudly, never silently.

The exported module is one *partial utterance* of ``VoiceEncoder``: 1.6 s of
16 kHz audio, ``f32[B,25440]`` (= 159 hops of 160 samples -> exactly the 160
frames of ``partials_n_frames``), mel front end inside, as
``resemblyzer.audio.wav_to_mel_spectrogram``: ``librosa.feature.melspectrogram``
with n_fft 400 (25 ms), hop 160 (10 ms), 40 Slaney mels, power 2, centred STFT
with librosa's current default zero ("constant") padding; no log. Then the
3-layer LSTM, ReLU(Linear(last hidden)), L2 normalisation -> ``f32[B,256]``.

Caller's side (not in the module): resemblyzer's ``preprocess_wav`` (volume
normalisation to -30 dBFS, VAD silence trimming) and ``embed_utterance``'s
windowing (windows every ~0.77 s, averaged then L2-normalised again).

Padding note: with the librosa of 2019 (< 0.9, when resemblyzer's model was
trained) centring used reflect padding; only the first and last 2 frames of a
window differ. The export follows resemblyzer-as-installed (constant), which
is what the reference check below compares against; the effect of reflect
padding on the embedding is printed for information.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Dict

import numpy as np
import torch
from torch import nn

from . import audio
from .common import (ExportError, Timer, file_entry, package_version, report, save_and_reload,
                     save_golden, verify_export)

DIST = "Resemblyzer"
SR = 16000
N_FFT, HOP, N_MELS = 400, 160, 40
WINDOW = 25440


def import_resemblyzer():
    if "webrtcvad" not in sys.modules:
        try:
            import webrtcvad  # noqa: F401
        except ImportError:
            stub = types.ModuleType("webrtcvad")
            stub.__doc__ = "stub registered by tools/export/voice.py; the VAD is not needed here"
            sys.modules["webrtcvad"] = stub
    import resemblyzer

    return resemblyzer


class VoiceTS(nn.Module):
    def __init__(self, encoder: nn.Module, filters: np.ndarray, pad_mode: str = "constant"):
        super().__init__()
        self.lstm = encoder.lstm
        self.linear = encoder.linear
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True))
        self.register_buffer("filters", torch.from_numpy(filters))
        self.n_fft = N_FFT
        self.hop = HOP
        self.pad_mode = pad_mode

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(wav, self.n_fft, self.hop, self.n_fft, self.window, center=True,
                          pad_mode=self.pad_mode, normalized=False, onesided=True, return_complex=True)
        mels = torch.matmul(self.filters, spec.abs() ** 2).transpose(1, 2)  # [B, frames, 40]
        _, (hidden, _) = self.lstm(mels)
        embeds = torch.relu(self.linear(hidden[-1]))
        return embeds / torch.norm(embeds, dim=1, keepdim=True)


def windows(wav: np.ndarray, starts) -> torch.Tensor:
    w = np.pad(wav, (0, max(0, max(starts) + WINDOW - len(wav))))
    return torch.from_numpy(np.stack([w[s:s + WINDOW] for s in starts]).astype(np.float32))


def export(out_dir: Path, golden_dir: Path) -> Dict:
    t = Timer()
    rz = import_resemblyzer()
    from resemblyzer import audio as rz_audio

    enc = rz.VoiceEncoder(device="cpu", verbose=False).eval()
    filters = audio.mel_filters(sr=SR, n_fft=N_FFT, n_mels=N_MELS)
    lib = audio.check_against_librosa(sr=SR, n_fft=N_FFT, n_mels=N_MELS)
    if lib is None:
        raise ExportError("librosa is required for the resemblyzer reference check (tools/requirements.txt)")
    module = VoiceTS(enc, filters).eval()
    loaded = save_and_reload(torch.jit.script(module), out_dir / "voice_resemblyzer.pt")

    def ref(x: torch.Tensor) -> torch.Tensor:
        mels = np.stack([rz_audio.wav_to_mel_spectrogram(w) for w in x.numpy()])
        if mels.shape[1:] != (160, N_MELS):
            raise ExportError(f"resemblyzer mel shape {mels.shape}")
        with torch.no_grad():
            return enc(torch.from_numpy(mels))

    # Real speech, volume-normalised as resemblyzer's preprocess_wav does.
    def say(text, voice, speed=160):
        return rz_audio.normalize_volume(audio.speech(text, SR, voice=voice, speed=speed), -30,
                                         increase_only=True).astype(np.float32)

    text_a = "My voice is my passport, verify me please. I would like to check my account balance."
    text_b = "The weather today is cloudy with a chance of rain, and tomorrow will be sunny and warm."
    us_a, us_b, f2_b = say(text_a, "en-us"), say(text_b, "en-us"), say(text_b, "en-us+f2")
    a = torch.cat([windows(us_a, [0]), windows(f2_b, [0])])
    b = torch.cat([windows(us_b, [0, 12320, 24640]), windows(f2_b, [12320])])
    diffs = verify_export("voice_resemblyzer", loaded, ref, [(a,), (b,)])

    def utterance(wav):  # embed_utterance: windows every 77 frames, mean, re-normalise
        starts = list(range(0, max(1, len(wav) - WINDOW + 12320), 12320))
        with torch.no_grad():
            e = loaded(windows(wav, starts)).mean(0)
        return e / e.norm()

    with torch.no_grad():
        out = loaded(a)
        reflect = VoiceTS(enc, filters, "reflect").eval()(a)
    ua, ub, uf = utterance(us_a), utterance(us_b), utterance(f2_b)
    same, other = float(ua @ ub), float(ua @ uf)
    if not same > other + 0.05:
        raise ExportError(f"resemblyzer sanity failed: same voice {same:.3f} vs other voice {other:.3f}")
    pad_effect = float((reflect - out).abs().max())
    save_golden(golden_dir / "voice_resemblyzer.safetensors", [a], [out])
    report("voice_resemblyzer", t.elapsed(), diffs,
           f"cos same voice {same:.3f}, other voice {other:.3f}; reflect-vs-constant padding "
           f"{pad_effect:.1e}")

    version = package_version(DIST)
    entry = file_entry(
        out_dir / "voice_resemblyzer.pt", out_dir,
        source_package=f"{DIST}=={version}", source_version=version,
        licence="Apache-2.0 (package classifier; metadata License field says UNKNOWN)",
        input=["16 kHz mono f32[B,25440] (1.6 s partial window; preprocess_wav's -30 dBFS volume "
               "normalisation is the caller's job)"],
        output=["f32[B,256] L2-normalised (non-negative) partial embedding; average windows and "
                "re-normalise for an utterance"],
        golden="golden/voice_resemblyzer.safetensors",
        notes="torch.jit.script; mel front end inside (n_fft 400, hop 160, 40 slaney mels, power 2, "
              "zero-padded centred STFT as librosa>=0.9)")
    return {"models": {"voice_resemblyzer": entry}}
