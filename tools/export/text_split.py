"""all-mpnet-base-v2 cut in two for fine-tuning the top layers with low-rank adapters.

Why: the text encoder is frozen everywhere else, and a frozen sentence-similarity model
carries the words' emotion only weakly (MELD dev w-F1 0.538 with a logistic regression on
the sentence vector). Fine-tuning all of MPNet costs ~45 min of CPU per MELD epoch here;
fine-tuning only layers ``FIRST..11`` costs about half of that once the states entering
them are cached (measured on MELD dev, utterance level: adapting layers 9-11 reached w-F1
0.5819, layers 6-11 0.5910, all twelve 0.5824 while overfitting sooner), and low-rank
adapters (LoRA: ``W + s·B·A``) keep what is trained small enough to commit (~2.6 MB) — the
438 MB base stays the registry's.

* ``text_mpnet_lower.pt`` (traced): ``(input_ids i64[B,L], attention_mask i64[B,L])`` ->
  ``hidden f32[B,L,768]``, the states entering layer ``FIRST`` (embeddings + layers
  ``0..FIRST-1``). Used only by ``amuse adapt-text`` to cache those states once.
* ``text_mpnet_upper.pt`` (traced): ``(hidden f32[B,L,768], attention_mask i64[B,L])`` ->
  ``(token_states f32[B,L,768], pooled f32[B,768])``, layers ``FIRST..11`` with an adapter
  on each of q, k, v, o, intermediate.dense and output.dense: parameters ``*.lora_a``
  ``[r, in]`` (random, seeded) and ``*.lora_b`` ``[out, r]`` (zero, so the module starts
  equal to the base model). ``amuse adapt-text`` trains only those.

At inference the adapter is merged into ``text_mpnet.pt``'s weights (``W += s·B·A``, with
``s = ALPHA / RANK``); the check below proves on random adapters that the upper module
equals the full model with merged weights, which is the contract the Rust merge relies on.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from .common import ExportError, check_close, file_entry, save_and_reload

FIRST = 6
RANK = 8
ALPHA = 16.0
TARGETS = ["attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o",
           "intermediate.dense", "output.dense"]


class LoRALinear(torch.nn.Module):
    """``base(x) + s · x Aᵀ Bᵀ``."""

    def __init__(self, base: torch.nn.Linear, rank: int, alpha: float, gen: torch.Generator):
        super().__init__()
        self.base = base
        a = torch.empty(rank, base.in_features)
        bound = 1.0 / math.sqrt(base.in_features)
        a.uniform_(-bound, bound, generator=gen)
        self.lora_a = torch.nn.Parameter(a)
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_a), self.lora_b) * self.scale


def _replace(root: torch.nn.Module, dotted: str, new: torch.nn.Module):
    parent_path, _, leaf = dotted.rpartition(".")
    parent = root.get_submodule(parent_path) if parent_path else root
    setattr(parent, leaf, new)


class Lower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = copy.deepcopy(model)
        self.model.encoder.layer = self.model.encoder.layer[:FIRST]

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)[0]


class Upper(torch.nn.Module):
    def __init__(self, model, gen: torch.Generator):
        super().__init__()
        self.encoder = copy.deepcopy(model.encoder)
        self.encoder.layer = self.encoder.layer[FIRST:]
        for layer in self.encoder.layer:
            for t in TARGETS:
                _replace(layer, t, LoRALinear(layer.get_submodule(t), RANK, ALPHA, gen))
        for name, p in self.named_parameters():
            p.requires_grad_("lora_" in name)

    def forward(self, hidden, attention_mask):
        ext = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        heads = [None] * len(self.encoder.layer)
        states = self.encoder(hidden, ext, heads, return_dict=False)[0]
        m = attention_mask.unsqueeze(-1).to(states.dtype)
        pooled = F.normalize((states * m).sum(1) / m.sum(1).clamp(min=1e-9), p=2.0, dim=1, eps=1e-12)
        return states, pooled


def merged_full(model, upper: Upper):
    """The full model with ``upper``'s adapters merged into its weights (the Rust merge)."""
    full = copy.deepcopy(model)
    with torch.no_grad():
        for i, layer in enumerate(upper.encoder.layer):
            for t in TARGETS:
                lora = layer.get_submodule(t)
                w = full.encoder.layer[FIRST + i].get_submodule(t).weight
                w += lora.scale * lora.lora_b @ lora.lora_a
    return full


def export(model, out_dir, batch, texts, common: dict) -> dict:
    """Export both halves, verify them against ``model``; return manifest entries."""
    gen = torch.Generator().manual_seed(0)
    ids, mask = batch(texts[:3])
    other_ids, other_mask = batch(texts[3:7])
    with torch.no_grad():
        lower = torch.jit.trace(Lower(model).eval(), (ids, mask), check_trace=False, strict=True)
    lower = save_and_reload(lower, out_dir / "text_mpnet_lower.pt")
    upper_py = Upper(model, gen).eval()
    with torch.no_grad():
        hidden = lower(ids, mask)
        upper = torch.jit.trace(upper_py, (hidden, mask), check_trace=False, strict=True)
    upper = save_and_reload(upper, out_dir / "text_mpnet_upper.pt")

    diffs = []
    with torch.no_grad():
        for i, (a, b) in enumerate([(ids, mask), (other_ids, other_mask)]):
            ref = model(input_ids=a, attention_mask=b, output_hidden_states=True, return_dict=True)
            diffs.append(check_close(f"lower case {i}", lower(a, b), ref.hidden_states[FIRST]))
            got = upper(lower(a, b), b)[0] * b.unsqueeze(-1)
            diffs.append(check_close(f"upper case {i}", got, ref.last_hidden_state * b.unsqueeze(-1)))
        # Random adapters: the traced upper must equal the full model with merged weights.
        for name, p in upper_py.named_parameters():
            if name.endswith("lora_b"):
                p.normal_(0.0, 0.02, generator=gen)
        full = merged_full(model, upper_py)
        want = full(input_ids=other_ids, attention_mask=other_mask, return_dict=True).last_hidden_state
        got = upper_py(lower(other_ids, other_mask), other_mask)[0]
        m = other_mask.unsqueeze(-1)
        diffs.append(check_close("merged adapter", got * m, want * m, tol=1e-3))
    names = [n for n, _ in upper.named_parameters()]
    if sum("lora_" in n for n in names) != 2 * len(TARGETS) * (12 - FIRST):
        raise ExportError(f"unexpected adapter parameters in the upper module: {names}")
    adapter = {"first_layer": FIRST, "rank": RANK, "alpha": ALPHA, "targets": TARGETS}
    lower_entry = file_entry(
        out_dir / "text_mpnet_lower.pt", out_dir, **common,
        input=["input_ids i64[B,L]", "attention_mask i64[B,L]"],
        output=[f"hidden f32[B,L,768]: the states entering layer {FIRST}"],
        notes=f"embeddings + layers 0..{FIRST - 1} of text_mpnet; max |diff| {max(diffs[0::2][:2]):.2e}")
    upper_entry = file_entry(
        out_dir / "text_mpnet_upper.pt", out_dir, **common,
        input=["hidden f32[B,L,768] from text_mpnet_lower", "attention_mask i64[B,L]"],
        output=["token_states f32[B,L,768]", "pooled f32[B,768]"],
        adapter=adapter,
        notes=f"layers {FIRST}..11 with LoRA (rank {RANK}, alpha {ALPHA}) on {', '.join(TARGETS)}; "
              "parameter encoder.layer.<i>.<target>.lora_a/lora_b adapts text_mpnet's "
              "model.encoder.layer.<FIRST+i>.<target>.weight")
    print(f"  text_mpnet split: max |diff| {max(diffs):.2e} over {len(diffs)} checks")
    return {"text_mpnet_lower": lower_entry, "text_mpnet_upper": upper_entry}
