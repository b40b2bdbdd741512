#!/usr/bin/env python3
"""Generate the licence-clean demo dialogue video in ``assets/``.

The demo is a short (~40 s) "TV" conversation between three characters whose
faces come from public-domain / CC0 photos that ship inside Python packages,
and whose voices are synthesised with espeak-ng (prosody varied per emotion).

Outputs (all in ``assets/`` unless ``--out`` is given):

* ``demo_dialogue.mp4``  H.264 (yuv420p, 25 fps, 854x480) + AAC (48 kHz mono)
* ``demo_dialogue.srt``  one cue per utterance, ``Name: text``; cue times are
  exactly the sample span of that utterance's speech in the audio track
* ``demo_dialogue.csv``  MELD-style annotation (intended emotion/sentiment)
* ``group_faces.png``    the three faces side by side (multi-face test image)

Requirements: Python 3 with numpy, scipy, scikit-image, matplotlib, pillow
(``tools/requirements.txt``), and the ``espeak-ng`` and ``ffmpeg`` command-line
programs on PATH.

The output is deterministic: SRT/CSV/PNG are byte-identical between runs, and
the MP4 is byte-identical for the same espeak-ng / ffmpeg / x264 builds
(bitexact flags, no metadata, single-threaded encoding, no randomness).

Usage::

    python tools/make_demo.py            # writes into <repo>/assets
    python tools/make_demo.py --out DIR  # writes somewhere else
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw, ImageFont
from scipy.signal import resample_poly

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------

WIDTH, HEIGHT = 854, 480  # 16:9 SD frame (both even, as yuv420p requires)
FPS = 25
SAMPLE_RATE = 48_000  # 48 samples per millisecond: every cue time is exact
ESPEAK_RATE = 22_050  # espeak-ng's native output rate

LEAD_IN = 1.60  # seconds of silent group shot before the first line
TAIL = 1.60  # seconds of silent group shot after the last line
SILENCE_THRESHOLD = 0.01  # |sample| above this counts as speech when trimming
TRIM_PAD = 0.010  # seconds kept around the detected speech when trimming
ESPEAK_GAIN = 0.5  # espeak-ng clips above roughly -a 140, so synthesise at half
# amplitude and apply the rest of the emotion's loudness in floating point
PEAK = 0.89  # -1 dBFS: final peak level, headroom for the AAC encoder
ZOOM = 0.07  # slow push-in: the shot ends 7 % tighter than it starts

BACKGROUND_TOP = (58, 64, 74)  # neutral slate gradient
BACKGROUND_BOTTOM = (28, 31, 37)


# --------------------------------------------------------------------------
# Cast, voices and script
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Character:
    name: str
    voice: str  # espeak-ng voice+variant
    pitch_offset: int  # added to the emotion's -p value
    source: str  # key into load_photos()
    shot: tuple[int, int, int, int]  # close-up crop (x0, y0, x1, y1) in the photo
    face: tuple[int, int]  # face centre in the photo (zoom target)
    group: tuple[int, int]  # rows (top, bottom) shown in group shots / group_faces.png


CAST = {
    "Eileen": Character(
        name="Eileen",
        voice="en-us+f3",
        pitch_offset=0,
        source="astronaut",
        shot=(20, 0, 430, 400),
        face=(225, 115),
        group=(0, 420),
    ),
    "Grace": Character(
        name="Grace",
        voice="en-gb+f4",
        pitch_offset=-6,
        source="grace_hopper",
        shot=(30, 10, 500, 490),
        face=(262, 235),
        group=(0, 492),
    ),
    "Cam": Character(
        name="Cam",
        voice="en-us+m3",
        pitch_offset=0,
        source="camera",
        shot=(20, 20, 420, 340),
        face=(212, 150),
        group=(20, 380),
    ),
}

# Prosody per emotion: espeak-ng -p pitch (0-99), -s speed (wpm),
# -a amplitude (0-200), -g extra gap between words (units of 10 ms).
PROSODY = {
    "neutral": dict(p=50, s=160, a=100, g=0),
    "joy": dict(p=72, s=180, a=135, g=0),
    "surprise": dict(p=85, s=185, a=145, g=0),
    "anger": dict(p=35, s=190, a=175, g=0),
    "sadness": dict(p=25, s=115, a=70, g=6),
    "fear": dict(p=70, s=210, a=85, g=1),
    "disgust": dict(p=30, s=130, a=115, g=3),
}

SENTIMENT = {
    "neutral": "neutral",
    "joy": "positive",
    "surprise": "positive",  # every surprise line here is a pleasant one
    "anger": "negative",
    "sadness": "negative",
    "fear": "negative",
    "disgust": "negative",
}

# (speaker, emotion, text, pause in seconds *before* the line)
SCRIPT = [
    ("Eileen", "joy", "Guess what? I got the job! I start on Monday!", 0.0),
    ("Grace", "surprise", "No way! Really? That's amazing!", 0.45),
    ("Cam", "neutral", "Congratulations. Which office will you be working in?", 0.60),
    ("Eileen", "neutral", "The one downtown, on the fourth floor.", 0.40),
    ("Cam", "disgust", "Ugh, that building? The cafeteria there smells like old socks.", 0.70),
    ("Grace", "anger", "Cam, stop it! Why do you always have to ruin everything?", 0.35),
    ("Cam", "sadness", "I'm sorry. I just... I'm going to miss having you around.", 0.80),
    ("Eileen", "fear", "Honestly, I'm scared. What if I'm not good enough?", 0.55),
    ("Grace", "joy", "You'll be wonderful. We're all so proud of you!", 0.50),
    ("Cam", "surprise", "Wait, is that a cake? You brought a cake?", 0.65),
    ("Grace", "neutral", "I'll go and get some plates from the kitchen.", 0.40),
    ("Eileen", "joy", "Of course I did! Let's celebrate!", 0.50),
]


@dataclass
class Utterance:
    index: int
    speaker: str
    emotion: str
    text: str
    start: int  # sample index in the SAMPLE_RATE timeline (multiple of 48)
    end: int  # exclusive

    @property
    def start_ms(self) -> int:
        return self.start * 1000 // SAMPLE_RATE

    @property
    def end_ms(self) -> int:
        return self.end * 1000 // SAMPLE_RATE


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        sys.exit(f"make_demo: '{program}' not found on PATH")
    return path


def load_photos() -> dict[str, Image.Image]:
    import matplotlib
    from skimage import data

    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return {
        "astronaut": Image.fromarray(data.astronaut()).convert("RGB"),
        "camera": Image.fromarray(data.camera()).convert("RGB"),
        "grace_hopper": Image.open(hopper).convert("RGB"),
    }


def load_font(size: int) -> ImageFont.ImageFont:
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return ImageFont.truetype(str(ttf), size)


def background() -> Image.Image:
    t = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    top = np.array(BACKGROUND_TOP, dtype=np.float64)[None, None, :]
    bottom = np.array(BACKGROUND_BOTTOM, dtype=np.float64)[None, None, :]
    rows = top * (1.0 - t) + bottom * t
    img = np.broadcast_to(rows, (HEIGHT, WIDTH, 3))
    return Image.fromarray(np.round(img).astype(np.uint8), "RGB")


def ms_to_stamp(ms: int) -> str:
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


# --------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------


def synthesise(espeak: str, who: Character, emotion: str, text: str, tmp: Path) -> np.ndarray:
    """Speak one line; return trimmed float32 mono audio at SAMPLE_RATE."""
    pr = PROSODY[emotion]
    pitch = max(0, min(99, pr["p"] + who.pitch_offset))
    wav = tmp / "line.wav"
    cmd = [
        espeak, "-v", who.voice,
        "-p", str(pitch), "-s", str(pr["s"]), "-a", str(round(pr["a"] * ESPEAK_GAIN)),
        "-g", str(pr["g"]),
        "-w", str(wav), text,
    ]
    subprocess.run(cmd, check=True)
    audio, rate = sf.read(wav, dtype="float64", always_2d=False)
    if rate != ESPEAK_RATE:
        sys.exit(f"make_demo: unexpected espeak-ng sample rate {rate}")
    audio = audio / ESPEAK_GAIN
    # 22050 -> 48000 Hz (ratio 320/147), deterministic polyphase filter.
    audio = resample_poly(audio, 320, 147)
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size == 0:
        sys.exit(f"make_demo: espeak-ng produced silence for {text!r}")
    pad = int(TRIM_PAD * SAMPLE_RATE)
    lo = max(0, loud[0] - pad)
    hi = min(audio.size, loud[-1] + 1 + pad)
    audio = audio[lo:hi]
    # Pad to a whole number of milliseconds so cue ends are exact.
    per_ms = SAMPLE_RATE // 1000
    audio = np.pad(audio, (0, (-audio.size) % per_ms))
    # Short fades so trimming never leaves a click.
    fade = min(int(0.005 * SAMPLE_RATE), audio.size // 2)
    ramp = np.linspace(0.0, 1.0, fade)
    audio[:fade] *= ramp
    audio[audio.size - fade:] *= ramp[::-1]
    return audio


def build_audio(espeak: str, tmp: Path) -> tuple[np.ndarray, list[Utterance]]:
    per_ms = SAMPLE_RATE // 1000
    clips: list[np.ndarray] = []
    utts: list[Utterance] = []
    cursor = round(LEAD_IN * 1000) * per_ms
    for i, (speaker, emotion, text, pause) in enumerate(SCRIPT):
        clip = synthesise(espeak, CAST[speaker], emotion, text, tmp)
        cursor += round(pause * 1000) * per_ms
        utts.append(Utterance(i, speaker, emotion, text, cursor, cursor + clip.size))
        clips.append(clip)
        cursor += clip.size
    total_seconds = cursor / SAMPLE_RATE + TAIL
    n_frames = math.ceil(total_seconds * FPS)
    n_samples = n_frames * SAMPLE_RATE // FPS
    track = np.zeros(n_samples, dtype=np.float64)
    for u, clip in zip(utts, clips):
        track[u.start:u.end] += clip
    # One global gain only, so the loud/quiet contrast between emotions stays.
    track *= PEAK / float(np.max(np.abs(track)))
    return track, utts


# --------------------------------------------------------------------------
# Video
# --------------------------------------------------------------------------


class Renderer:
    def __init__(self) -> None:
        self.photos = load_photos()
        self.bg = background()
        self.font = load_font(26)
        self.group_frame = self._group_shot()

    # -- close-up of one speaker, zoom progress t in [0, 1] --
    def closeup(self, who: Character, t: float) -> Image.Image:
        photo = self.photos[who.source]
        x0, y0, x1, y1 = who.shot
        fx, fy = who.face
        # Ease-in-out push-in towards the face, the crop shrinking uniformly.
        e = 0.5 - 0.5 * math.cos(math.pi * min(max(t, 0.0), 1.0))
        k = 1.0 - ZOOM * e
        box = (
            fx + (x0 - fx) * k,
            fy + (y0 - fy) * k,
            fx + (x1 - fx) * k,
            fy + (y1 - fy) * k,
        )
        out_h = HEIGHT
        out_w = round((x1 - x0) * out_h / (y1 - y0))
        out_w = min(out_w, WIDTH)
        shot = photo.resize((out_w, out_h), Image.Resampling.BICUBIC, box=box)
        frame = self.bg.copy()
        left = (WIDTH - out_w) // 2
        frame.paste(shot, (left, 0))
        self._name_tag(frame, who.name, left)
        return frame

    def _name_tag(self, frame: Image.Image, name: str, left: int) -> None:
        draw = ImageDraw.Draw(frame, "RGBA")
        x, y = left + 18, HEIGHT - 66
        text_w = draw.textlength(name, font=self.font)
        draw.rectangle((x, y, x + text_w + 28, y + 42), fill=(16, 18, 24, 200))
        draw.rectangle((x, y, x + 5, y + 42), fill=(230, 170, 40, 255))
        draw.text((x + 16, y + 7), name, font=self.font, fill=(245, 245, 245, 255))

    def _panels(self, panel_w: int, panel_h: int) -> list[Image.Image]:
        panels = []
        for who in CAST.values():
            y0, y1 = who.group
            # Crop to the panel aspect ratio, horizontally centred on the face.
            w = (y1 - y0) * panel_w / panel_h
            cx = who.face[0]
            photo = self.photos[who.source]
            left = min(max(cx - w / 2, 0.0), photo.width - w)
            box = (left, float(y0), left + w, float(y1))
            panels.append(photo.resize((panel_w, panel_h), Image.Resampling.BICUBIC, box=box))
        return panels

    def _group_shot(self) -> Image.Image:
        gap = 10
        panel_w = (WIDTH - 4 * gap) // 3
        panel_h = HEIGHT - 2 * gap
        frame = self.bg.copy()
        x = (WIDTH - 3 * panel_w - 2 * gap) // 2
        for panel in self._panels(panel_w, panel_h):
            frame.paste(panel, (x, gap))
            x += panel_w + gap
        return frame

    def group_faces_png(self) -> Image.Image:
        gap, panel_w, panel_h = 20, 400, 480
        width = 3 * panel_w + 4 * gap  # 1280
        img = Image.new("RGB", (width, panel_h + 2 * gap), BACKGROUND_BOTTOM)
        x = gap
        for panel in self._panels(panel_w, panel_h):
            img.paste(panel, (x, gap))
            x += panel_w + gap
        return img


def shot_list(utts: list[Utterance], n_frames: int) -> list[tuple[int, int, str | None]]:
    """[(first_frame, end_frame, speaker or None for the group shot)]."""

    def frame_at(sample: float) -> int:
        return round(sample * FPS / SAMPLE_RATE)

    cuts = []
    for prev, cur in zip([None] + utts[:-1], utts):
        if prev is None:
            cut = cur.start - int(0.30 * SAMPLE_RATE)
        else:
            cut = (prev.end + cur.start) // 2  # cut in the middle of the pause
        cuts.append(frame_at(cut))
    last_cut = frame_at(utts[-1].end + int(0.40 * SAMPLE_RATE))
    shots: list[tuple[int, int, str | None]] = [(0, cuts[0], None)]
    for i, u in enumerate(utts):
        end = cuts[i + 1] if i + 1 < len(utts) else last_cut
        shots.append((cuts[i], end, u.speaker))
    shots.append((last_cut, n_frames, None))
    return shots


# --------------------------------------------------------------------------
# Text outputs
# --------------------------------------------------------------------------


def write_srt(path: Path, utts: list[Utterance]) -> None:
    lines = []
    for n, u in enumerate(utts, 1):
        lines += [
            str(n),
            f"{ms_to_stamp(u.start_ms)} --> {ms_to_stamp(u.end_ms)}",
            f"{u.speaker}: {u.text}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8", newline="\n")


def write_csv(path: Path, utts: list[Utterance]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([
        "Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID",
        "Utterance_ID", "Season", "Episode", "StartTime", "EndTime",
    ])
    for n, u in enumerate(utts, 1):
        w.writerow([
            n, u.text, u.speaker, u.emotion, SENTIMENT[u.emotion], 0, u.index, 0, 0,
            ms_to_stamp(u.start_ms), ms_to_stamp(u.end_ms),
        ])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def encode(ffmpeg: str, wav: Path, out: Path, frames) -> None:
    cmd = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-threads", "1", "-filter_threads", "1",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}",
        "-framerate", str(FPS), "-i", "pipe:0",
        "-i", str(wav),
        "-map", "0:v:0", "-map", "1:a:0",
        "-c:v", "libx264", "-preset", "medium", "-crf", "24",
        "-pix_fmt", "yuv420p", "-profile:v", "high", "-g", "50",
        "-threads", "1",
        "-c:a", "aac", "-b:a", "64k", "-ar", str(SAMPLE_RATE), "-ac", "1",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+faststart",
        "-shortest",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in frames:
            proc.stdin.write(frame)
    finally:
        proc.stdin.close()
    if proc.wait() != 0:
        sys.exit("make_demo: ffmpeg failed")


def main() -> None:
    repo = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=repo / "assets", help="output directory")
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    espeak = need("espeak-ng")
    ffmpeg = need("ffmpeg")
    covered = {e for _, e, _, _ in SCRIPT}
    missing = set(PROSODY) - covered
    assert not missing, f"emotions not covered by the script: {missing}"

    renderer = Renderer()
    renderer.group_faces_png().save(out / "group_faces.png", optimize=True)

    with tempfile.TemporaryDirectory(prefix="amuse-demo-") as tmpdir:
        tmp = Path(tmpdir)
        track, utts = build_audio(espeak, tmp)
        n_frames = track.size * FPS // SAMPLE_RATE
        wav = tmp / "dialogue.wav"
        pcm = np.round(np.clip(track, -1.0, 1.0) * 32767.0).astype(np.int16)
        sf.write(wav, pcm, SAMPLE_RATE, subtype="PCM_16")

        shots = shot_list(utts, n_frames)

        def frames():
            for first, end, speaker in shots:
                if speaker is None:
                    data = renderer.group_frame.tobytes()
                    for _ in range(first, end):
                        yield data
                    continue
                who = CAST[speaker]
                length = max(end - first - 1, 1)
                for f in range(first, end):
                    yield renderer.closeup(who, (f - first) / length).tobytes()

        encode(ffmpeg, wav, out / "demo_dialogue.mp4", frames())

    write_srt(out / "demo_dialogue.srt", utts)
    write_csv(out / "demo_dialogue.csv", utts)

    print(f"wrote {out}/demo_dialogue.mp4 ({n_frames} frames, {n_frames / FPS:.2f} s)")
    for u in utts:
        print(
            f"  {ms_to_stamp(u.start_ms)} - {ms_to_stamp(u.end_ms)}  "
            f"{u.speaker:<6} {u.emotion:<8} {u.text}"
        )


if __name__ == "__main__":
    main()
