//! Whisper tiny.en through LibTorch: the exported encoder and decoder, greedy decoding
//! (temperature 0) with OpenAI's logit rules, and the tokenizer to turn ids into text.
//!
//! The decoder export has no KV cache, so every step re-runs the whole prefix; rows of a
//! batch (independent 30 s windows) step together and leave the batch when they emit
//! `<|endoftext|>`. The rules are the reference implementation's: non-speech symbols are
//! suppressed, a blank or end-of-text cannot come first, and in timestamp mode timestamps
//! come in pairs that never decrease, the first within 1 s of the window start, and a
//! timestamp is forced when their total probability beats every text token.

use anyhow::{anyhow, Context, Result};
use tch::{Device, Kind, Tensor};
use tokenizers::Tokenizer;

use crate::features::audio::WHISPER_SAMPLES;
use crate::manifest::ModelStore;
use crate::progress::CancelToken;
use crate::torchscript::TorchScript;

pub const EOT: i64 = 50256;
pub const SOT: i64 = 50257;
/// First of the task/language/LM/previous/no-speech specials (50357..=50361).
const SPECIALS: std::ops::RangeInclusive<i64> = 50357..=50361;
pub const NO_TIMESTAMPS: i64 = 50362;
/// `<|0.00|>`; timestamp `k` is `TIMESTAMP_BEGIN + k`, `k · 0.02 s` into the window.
pub const TIMESTAMP_BEGIN: i64 = 50363;
pub const VOCAB: usize = 51864;
/// Seconds per timestamp step.
pub const TIME_STEP: f64 = 0.02;
/// The decoder's context (tokens).
pub const MAX_CONTEXT: usize = 448;
/// Tokens sampled per window at most (the reference's `n_text_ctx // 2`).
pub const MAX_SAMPLED: usize = 224;
/// The first timestamp may be at most `<|1.00|>`.
const MAX_INITIAL_TIMESTAMP: i64 = 50;
/// A blank and end-of-text are not allowed as the first sampled token.
pub const SUPPRESS_BEGIN: [i64; 2] = [220, EOT];
/// OpenAI's non-speech symbols for the English tokenizer (CTranslate2's `suppress_ids`
/// in the package's config.json; `tests/it/transcribe.rs` checks them against the
/// export's golden file).
pub const SUPPRESS: [i64; 90] = [
    1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63, 90, 91, 92, 93, 357, 366, 438, 532, 685,
    705, 796, 930, 1058, 1220, 1267, 1279, 1303, 1343, 1377, 1391, 1635, 1782, 1875, 2162, 2361, 2488, 3467, 4008,
    4211, 4600, 4808, 5299, 5855, 6329, 7203, 9609, 9959, 10563, 10786, 11420, 11709, 11907, 13163, 13697, 13700,
    14808, 15306, 16410, 16791, 17992, 19203, 19510, 20724, 22305, 22935, 27007, 30109, 30420, 33409, 34949, 40283,
    40493, 40549, 47282, 49146, 50257, 50357, 50358, 50359, 50360, 50361,
];

/// Decoding mode: with timestamps (segments) or plain text (`<|notimestamps|>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Timestamps,
    Text,
}

impl Mode {
    /// The prompt that starts every window.
    pub fn prefix(self) -> Vec<i64> {
        match self {
            Mode::Timestamps => vec![SOT],
            Mode::Text => vec![SOT, NO_TIMESTAMPS],
        }
    }
}

/// Mask `logits` (one row, the next token's) in place given the tokens sampled so far.
pub fn apply_rules(logits: &mut [f32], sampled: &[i64], mode: Mode) {
    let ninf = f32::NEG_INFINITY;
    let mut mask = |range: std::ops::Range<usize>| logits[range].iter_mut().for_each(|v| *v = ninf);
    if sampled.is_empty() {
        for t in SUPPRESS_BEGIN {
            mask(t as usize..t as usize + 1);
        }
    }
    for t in SUPPRESS {
        mask(t as usize..t as usize + 1);
    }
    mask(*SPECIALS.start() as usize..*SPECIALS.end() as usize + 1);
    let tb = TIMESTAMP_BEGIN as usize;
    let eot = EOT as usize;
    match mode {
        // Text only: nothing special after end-of-text may be sampled.
        Mode::Text => mask(SOT as usize..VOCAB),
        Mode::Timestamps => {
            mask(NO_TIMESTAMPS as usize..tb);
            let is_ts = |t: &i64| *t >= TIMESTAMP_BEGIN;
            let n = sampled.len();
            let last_ts = n >= 1 && is_ts(&sampled[n - 1]);
            let penultimate_ts = n < 2 || is_ts(&sampled[n - 2]);
            if last_ts {
                if penultimate_ts {
                    mask(tb..VOCAB); // a pair just closed: text (or the end) comes next
                } else {
                    mask(0..eot); // a segment's end timestamp must follow its start
                }
            }
            if let Some(&last) = sampled.iter().rev().find(|t| is_ts(t)) {
                // Timestamps never decrease; a new segment starts after the last one ended.
                let floor = if last_ts && !penultimate_ts { last } else { last + 1 };
                mask(tb..(floor as usize).min(VOCAB));
            }
            if sampled.is_empty() {
                mask(0..tb);
                mask((TIMESTAMP_BEGIN + MAX_INITIAL_TIMESTAMP + 1) as usize..VOCAB);
            }
            // Force a timestamp when they are jointly likelier than any text token.
            let max_text = logits[..tb].iter().copied().fold(ninf, f32::max);
            let ts = &logits[tb..];
            let m = ts.iter().copied().fold(ninf, f32::max);
            if m > ninf {
                let lse = m + ts.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
                if lse > max_text {
                    logits[..tb].iter_mut().for_each(|v| *v = ninf);
                }
            }
        }
    }
}

/// Index of the largest value (the first on ties, as `torch.argmax`).
fn argmax(row: &[f32]) -> i64 {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best as i64
}

/// The exported Whisper tiny.en and its tokenizer.
pub struct Whisper {
    encoder: TorchScript,
    decoder: TorchScript,
    tokenizer: Tokenizer,
}

impl Whisper {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        let path = store.require("whisper_tokenizer")?;
        let tokenizer = Tokenizer::from_file(&path)
            .map_err(|e| anyhow!("cannot read tokenizer {}: {e}; re-run `make setup`", path.display()))?;
        Ok(Self {
            encoder: TorchScript::load(store, "speech_whisper_encoder", device)?,
            decoder: TorchScript::load(store, "speech_whisper_decoder", device)?,
            tokenizer,
        })
    }

    /// Encoder features `[B,1500,384]` of up to 30 s windows of 16 kHz audio (zero-padded).
    pub fn encode(&self, windows: &[&[f32]]) -> Result<Tensor> {
        let mut flat = vec![0f32; windows.len() * WHISPER_SAMPLES];
        for (row, w) in flat.chunks_mut(WHISPER_SAMPLES).zip(windows) {
            let n = w.len().min(WHISPER_SAMPLES);
            row[..n].copy_from_slice(&w[..n]);
        }
        let x = Tensor::from_slice(&flat).view([windows.len() as i64, WHISPER_SAMPLES as i64]);
        let out = self.encoder.forward(&[x])?;
        out.into_iter().next().context("the Whisper encoder returned nothing")
    }

    /// Greedy decoding of every row of `features` (`[B,1500,384]`): the sampled tokens
    /// after the prompt, without `<|endoftext|>`, at most `max_sampled` per row.
    pub fn greedy(
        &self,
        features: &Tensor,
        mode: Mode,
        max_sampled: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<Vec<i64>>> {
        let prefix = mode.prefix();
        let rows = features.size()[0] as usize;
        let max_sampled = max_sampled.min(MAX_CONTEXT - prefix.len());
        let mut sampled: Vec<Vec<i64>> = vec![Vec::new(); rows];
        let mut active: Vec<usize> = (0..rows).collect();
        for _ in 0..max_sampled {
            if active.is_empty() {
                break;
            }
            cancel.check()?;
            let len = prefix.len() + sampled[active[0]].len();
            let ids: Vec<i64> = active
                .iter()
                .flat_map(|&r| prefix.iter().chain(&sampled[r]).copied())
                .collect();
            let tokens = Tensor::from_slice(&ids).view([active.len() as i64, len as i64]);
            let index = Tensor::from_slice(&active.iter().map(|&r| r as i64).collect::<Vec<_>>());
            let feats = if active.len() == rows {
                features.shallow_clone()
            } else {
                features.index_select(0, &index.to_device(features.device()))
            };
            let out = self.decoder.forward(&[tokens, feats])?;
            let last = out[0]
                .narrow(1, len as i64 - 1, 1)
                .to_device(Device::Cpu)
                .to_kind(Kind::Float)
                .contiguous();
            let flat: Vec<f32> = last.view([-1]).try_into()?;
            let mut still = Vec::with_capacity(active.len());
            for (&r, row) in active.iter().zip(flat.chunks(VOCAB)) {
                let mut row = row.to_vec();
                apply_rules(&mut row, &sampled[r], mode);
                let next = argmax(&row);
                if next == EOT {
                    continue;
                }
                sampled[r].push(next);
                still.push(r);
            }
            active = still;
        }
        Ok(sampled)
    }

    /// The text of `tokens` (specials and timestamps skipped), trimmed.
    pub fn text(&self, tokens: &[i64]) -> Result<String> {
        let ids: Vec<u32> = tokens
            .iter()
            .filter(|&&t| (0..EOT).contains(&t))
            .map(|&t| t as u32)
            .collect();
        let text = self
            .tokenizer
            .decode(&ids, true)
            .map_err(|e| anyhow!("decoding Whisper tokens: {e}"))?;
        Ok(text.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Vec<f32> {
        vec![0.0; VOCAB]
    }

    #[test]
    fn first_token_is_a_timestamp_within_one_second() {
        let mut l = row();
        l[100] = 10.0;
        l[(TIMESTAMP_BEGIN + 80) as usize] = 5.0;
        l[(TIMESTAMP_BEGIN + 3) as usize] = 1.0;
        apply_rules(&mut l, &[], Mode::Timestamps);
        assert_eq!(argmax(&l), TIMESTAMP_BEGIN + 3);
    }

    #[test]
    fn timestamps_pair_up_and_never_decrease() {
        let t = |k: i64| TIMESTAMP_BEGIN + k;
        // After a start timestamp and text, the end must come later than the start.
        let mut l = row();
        l[t(5) as usize] = 9.0;
        l[t(40) as usize] = 8.0;
        l[300] = 8.5;
        apply_rules(&mut l, &[t(10), 300], Mode::Timestamps);
        assert!(l[t(5) as usize].is_infinite() && l[t(10) as usize].is_infinite());
        assert!(l[t(11) as usize].is_finite());
        // A lone end timestamp must be followed by another timestamp, not text.
        let mut l = row();
        l[300] = 20.0;
        l[t(60) as usize] = 1.0;
        apply_rules(&mut l, &[t(10), 300, t(50)], Mode::Timestamps);
        assert_eq!(argmax(&l), t(60));
        assert!(l[300].is_infinite() && l[t(49) as usize].is_infinite() && l[t(50) as usize].is_finite());
        // A closed pair is followed by text or the end, never a third timestamp.
        let mut l = row();
        l[t(70) as usize] = 20.0;
        apply_rules(&mut l, &[t(10), 300, t(50), t(50)], Mode::Timestamps);
        assert!(l[t(70) as usize].is_infinite());
        assert!(l[EOT as usize].is_finite());
    }

    #[test]
    fn text_mode_suppresses_specials_and_blank_start() {
        let mut l = row();
        l[220] = 5.0;
        l[EOT as usize] = 4.0;
        l[(TIMESTAMP_BEGIN + 1) as usize] = 9.0;
        l[1] = 9.0;
        l[42] = 1.0;
        apply_rules(&mut l, &[], Mode::Text);
        assert_eq!(argmax(&l), 42);
        let mut l = row();
        l[EOT as usize] = 4.0;
        apply_rules(&mut l, &[42], Mode::Text);
        assert_eq!(argmax(&l), EOT);
    }
}
