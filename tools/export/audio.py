"""Audio helpers: librosa-compatible mel filter banks in plain numpy, and real
test speech from espeak-ng.

Why numpy and not librosa: the filter bank is baked into the TorchScript
modules as a constant buffer, so the Rust side never needs it; computing it
here from the published formulas (Slaney's Auditory Toolbox mel scale, the HTK
mel scale, Slaney area normalisation or l_p normalisation exactly as
``librosa.filters.mel`` does) keeps the export independent of librosa's
version. librosa, when installed, is only used as an independent reference to
prove that these filters (and the front ends built on them) match.

Why espeak-ng: it is a Debian package on every machine of this project, so
"real speech" test input can be regenerated bit-for-bit without shipping audio.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Union

import numpy as np


# ------------------------------------------------------------- mel filters

def hz_to_mel(freqs, htk: bool = False):
    freqs = np.asanyarray(freqs, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + freqs / 700.0)
    f_min, f_sp = 0.0, 200.0 / 3
    mels = (freqs - f_min) / f_sp
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(
        freqs >= min_log_hz,
        min_log_mel + np.log(np.maximum(freqs, 1e-30) / min_log_hz) / logstep,
        mels,
    )


def mel_to_hz(mels, htk: bool = False):
    mels = np.asanyarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_min, f_sp = 0.0, 200.0 / 3
    freqs = f_min + f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - f_min) / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), freqs)


def mel_filters(
    sr: float,
    n_fft: int,
    n_mels: int,
    fmin: float = 0.0,
    fmax: Optional[float] = None,
    htk: bool = False,
    norm: Union[str, float, None] = "slaney",
    exact: bool = False,
) -> np.ndarray:
    """Re-implementation of ``librosa.filters.mel`` (0.9 - 0.11 semantics):
    returns float32 ``[n_mels, 1 + n_fft // 2]``.

    ``norm='slaney'`` divides each triangle by its bandwidth (area
    normalisation); a number p normalises each filter to unit l_p norm.
    ``exact=True`` does the arithmetic in float64 and rounds once at the end
    (as Hugging Face's ``mel_filter_bank`` does) instead of librosa's float32
    intermediate steps; the two differ by ~1 ulp (2e-9).
    """
    if fmax is None:
        fmax = float(sr) / 2
    n_freq = 1 + n_fft // 2
    weights = np.zeros((n_mels, n_freq), dtype=np.float64 if exact else np.float32)
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    if norm == "slaney":
        enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
        weights *= enorm[:, np.newaxis]
    elif norm is not None:
        p = float(norm)
        length = np.sum(np.abs(weights) ** p, axis=-1, keepdims=True) ** (1.0 / p)
        tiny = np.finfo(weights.dtype).tiny
        length[length < tiny] = 1.0
        weights = weights / length
    return weights.astype(np.float32)


def check_against_librosa(ours: Optional[np.ndarray] = None, **kw) -> Optional[float]:
    """Max abs diff between our filters (``ours``, default ``mel_filters(**kw)``)
    and ``librosa.filters.mel(**kw)``, or None when librosa is not importable."""
    try:
        import librosa
    except Exception:
        return None

    if ours is None:
        ours = mel_filters(**kw)
    theirs = librosa.filters.mel(**kw)
    return float(np.abs(ours - theirs).max())


# ------------------------------------------------------------- test speech

def espeak(text: str, voice: str = "en-us", speed: int = 160) -> tuple[np.ndarray, int]:
    """Synthesize ``text`` with espeak-ng; returns (float32 mono, rate)."""
    import soundfile as sf

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "x.wav"
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
        data, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.mean(axis=1, dtype=np.float32)), int(rate)


def resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Polyphase resampling (scipy), deterministic and dependency-light."""
    from math import gcd

    from scipy.signal import resample_poly

    if src == dst:
        return x.astype(np.float32)
    g = gcd(src, dst)
    return resample_poly(x.astype(np.float64), dst // g, src // g).astype(np.float32)


def speech(text: str, rate: int, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    x, r = espeak(text, voice=voice, speed=speed)
    return resample(x, r, rate)
