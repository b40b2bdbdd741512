//! Whisper over audio of any length: 30 s windows, each one's timestamped tokens cut into
//! segments, the next window starting where the last complete segment ended (as the
//! reference `transcribe()` seeks). Independent stretches of speech (split at long
//! silences by the VAD) are decoded side by side in one batch.

use anyhow::Result;

use super::whisper::{Mode, Whisper, MAX_SAMPLED, TIMESTAMP_BEGIN};
use crate::features::audio::{WHISPER_HOP, WHISPER_SAMPLES};
use crate::progress::CancelToken;

/// Sample rate Whisper works at.
pub const RATE: usize = 16_000;
/// Samples per timestamp step (0.02 s): one encoder frame.
const SAMPLES_PER_STEP: usize = WHISPER_HOP;
/// Windows decoded together at most (the decoder's logits are `[B,T,51864]` each step).
pub const BATCH: usize = 4;
/// A window shorter than this (the tail of a stretch) is not decoded.
const MIN_WINDOW: usize = RATE / 10;

/// One transcribed segment, in seconds of the whole audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    /// Text tokens (no timestamps).
    pub tokens: Vec<i64>,
}

/// Segments of one window's sampled tokens and how many samples to advance.
///
/// `offset` is the window's start and `len` its length in samples. Pairs of consecutive
/// timestamps close segments; when the window ends on a lone timestamp (or has no pair)
/// the whole window is consumed, else the next window starts at the last pair.
pub fn split_window(tokens: &[i64], offset: usize, len: usize) -> (Vec<Segment>, usize) {
    let is_ts = |t: i64| t >= TIMESTAMP_BEGIN;
    let at = |t: i64| (offset + (t - TIMESTAMP_BEGIN) as usize * SAMPLES_PER_STEP) as f64 / RATE as f64;
    let window_end = (offset + len) as f64 / RATE as f64;
    let text = |s: &[i64]| s.iter().copied().filter(|&t| !is_ts(t)).collect::<Vec<_>>();
    let n = tokens.len();
    let single_ending = n >= 2 && !is_ts(tokens[n - 2]) && is_ts(tokens[n - 1]);
    let mut cuts: Vec<usize> = (1..n).filter(|&i| is_ts(tokens[i - 1]) && is_ts(tokens[i])).collect();
    let mut segments = Vec::new();
    if cuts.is_empty() {
        // No closed pair: one segment for the window, ending at its last timestamp if any.
        let start = tokens
            .first()
            .filter(|&&t| is_ts(t))
            .map_or(offset as f64 / RATE as f64, |&t| at(t));
        let end = match tokens.iter().rev().find(|&&t| is_ts(t)) {
            Some(&t) if at(t) > start => at(t),
            _ => window_end,
        };
        segments.push(Segment {
            start,
            end: end.min(window_end),
            tokens: text(tokens),
        });
        return (keep(segments), len);
    }
    if single_ending {
        cuts.push(n);
    }
    let mut last = 0;
    for &cut in &cuts {
        let s = &tokens[last..cut];
        let (first, end) = (s[0], s[s.len() - 1]);
        if is_ts(first) && is_ts(end) {
            segments.push(Segment {
                start: at(first),
                end: at(end).min(window_end),
                tokens: text(s),
            });
        }
        last = cut;
    }
    let advance = if single_ending {
        len
    } else {
        // Resume at the end of the last complete segment.
        let ts = tokens[last - 1];
        ((ts - TIMESTAMP_BEGIN) as usize * SAMPLES_PER_STEP).min(len)
    };
    (keep(segments), if advance == 0 { len } else { advance })
}

/// Drop segments without text or time.
fn keep(segments: Vec<Segment>) -> Vec<Segment> {
    segments
        .into_iter()
        .filter(|s| !s.tokens.is_empty() && s.end > s.start)
        .collect()
}

/// Transcribe the sample ranges `stretches` of `audio` (16 kHz mono): Whisper segments
/// in time order. `progress(done, total)` counts seconds of audio.
pub fn transcribe(
    whisper: &Whisper,
    audio: &[f32],
    stretches: &[(usize, usize)],
    progress: &mut dyn FnMut(usize, usize),
    cancel: &CancelToken,
) -> Result<Vec<Segment>> {
    let total: usize = stretches.iter().map(|(a, b)| b - a).sum();
    let secs = |n: usize| n.div_ceil(RATE);
    let mut seek: Vec<usize> = stretches.iter().map(|s| s.0).collect();
    let mut done = 0;
    let mut out = Vec::new();
    progress(0, secs(total));
    loop {
        let open: Vec<usize> = (0..stretches.len())
            .filter(|&i| seek[i] + MIN_WINDOW <= stretches[i].1)
            .take(BATCH)
            .collect();
        if open.is_empty() {
            break;
        }
        cancel.check()?;
        let windows: Vec<&[f32]> = open
            .iter()
            .map(|&i| &audio[seek[i]..stretches[i].1.min(seek[i] + WHISPER_SAMPLES)])
            .collect();
        let features = whisper.encode(&windows)?;
        let tokens = whisper.greedy(&features, Mode::Timestamps, MAX_SAMPLED, cancel)?;
        for ((&i, w), t) in open.iter().zip(&windows).zip(&tokens) {
            let (segments, advance) = split_window(t, seek[i], w.len());
            out.extend(segments);
            seek[i] += advance;
            done += advance;
        }
        // Tails too short to decode count as done.
        for i in 0..stretches.len() {
            if seek[i] < stretches[i].1 && seek[i] + MIN_WINDOW > stretches[i].1 {
                done += stretches[i].1 - seek[i];
                seek[i] = stretches[i].1;
            }
        }
        progress(secs(done.min(total)), secs(total));
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: fn(i64) -> i64 = |k| TIMESTAMP_BEGIN + k;

    #[test]
    fn pairs_close_segments_and_seek_resumes_at_the_last_complete_one() {
        // <0.00> a b <1.00><1.00> c <2.00><2.50> d   (an unfinished segment at the end)
        let toks = [T(0), 10, 11, T(50), T(50), 12, T(100), T(125), 13];
        let (segs, adv) = split_window(&toks, RATE, 20 * RATE);
        assert_eq!(segs.len(), 2);
        assert_eq!(
            (segs[0].start, segs[0].end, segs[0].tokens.clone()),
            (1.0, 2.0, vec![10, 11])
        );
        assert_eq!((segs[1].start, segs[1].end), (2.0, 3.0));
        assert_eq!(adv, 100 * SAMPLES_PER_STEP);
    }

    #[test]
    fn a_single_timestamp_ending_consumes_the_window() {
        let toks = [T(0), 10, T(50), T(60), 11, T(90)];
        let (segs, adv) = split_window(&toks, 0, 5 * RATE);
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[1].start, segs[1].end), (1.2, 1.8));
        assert_eq!(adv, 5 * RATE);
    }

    #[test]
    fn no_pair_gives_one_segment_for_the_window() {
        let (segs, adv) = split_window(&[T(10), 10, 11], 0, 3 * RATE);
        assert_eq!(segs.len(), 1);
        assert_eq!((segs[0].start, segs[0].end), (0.2, 3.0));
        assert_eq!(adv, 3 * RATE);
        let (segs, _) = split_window(&[], 0, RATE);
        assert!(segs.is_empty());
    }
}
