//! From Whisper segments to utterances with speakers: boundaries snapped onto the voice
//! activity, a segment that holds a change of voice split there, and speakers found by
//! clustering voice embeddings ("Speaker 1", "Speaker 2", … in order of appearance).
//!
//! Whisper cuts at sentences, not at speakers: two people answering each other within
//! half a second often land in one segment. Inside a long segment, 1.6 s voice windows
//! left and right of every candidate point are compared; where they are least alike (and
//! below the same-speaker threshold) the segment is split, at the nearest pause.

use anyhow::Result;

use super::vad::Region;
use crate::features::speakers;
use crate::features::voice::{VoiceEncoder, WINDOW};
use crate::media::transcript::Utterance;

/// Samples per second of the audio handled here.
const RATE: f64 = 16_000.0;
/// Step between candidate change points, seconds.
const STEP: f64 = 0.2;
/// Window length in seconds (the voice encoder's).
const WIN: f64 = WINDOW as f64 / RATE;
/// Boundaries move at most this far to reach speech.
pub const SNAP: f64 = 0.3;
/// A change point moves to a pause at most this far away.
const PAUSE_REACH: f64 = 0.6;
/// Less speech than this (seconds) gives no usable voice vector.
const MIN_SPEECH: f64 = 0.3;
/// Two sides of a change point must be this much less alike than the speaker threshold
/// (1.6 s windows vary more than whole utterances).
const CHANGE_MARGIN: f32 = 0.1;

/// A stretch of text with its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

fn slice(audio: &[f32], start: f64, end: f64) -> &[f32] {
    let a = ((start * RATE) as usize).min(audio.len());
    let b = ((end * RATE) as usize).clamp(a, audio.len());
    &audio[a..b]
}

/// Resemblyzer's preprocessing of `[start, end)`: only the speech (VAD regions inside),
/// at -30 dBFS, repeated to fill one window when shorter (zero padding would make short
/// utterances sound alike). `None` with less than [`MIN_SPEECH`] of speech.
fn voice_input(audio: &[f32], start: f64, end: f64, regions: &[Region]) -> Option<Vec<f32>> {
    let mut x: Vec<f32> = Vec::new();
    for r in regions.iter().filter(|r| r.end > start && r.start < end) {
        x.extend_from_slice(slice(audio, r.start.max(start), r.end.min(end)));
    }
    if (x.len() as f64) < MIN_SPEECH * RATE {
        return None;
    }
    let rms = (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let gain = (10f64.powf(-30.0 / 20.0) / rms.max(1e-6)) as f32;
    x.iter_mut().for_each(|v| *v *= gain);
    let n = x.len();
    if n < WINDOW {
        x = x.iter().copied().cycle().take(WINDOW).collect();
    }
    Some(x)
}

/// The voice vector of `[start, end)`, if it holds enough speech.
fn embed(voice: &VoiceEncoder, audio: &[f32], start: f64, end: f64, regions: &[Region]) -> Result<Option<Vec<f32>>> {
    match voice_input(audio, start, end, regions) {
        Some(x) => Ok(Some(voice.encode(&x)?.try_into()?)),
        None => Ok(None),
    }
}

fn mean(vs: &[&Vec<f32>]) -> Vec<f32> {
    let mut m = vec![0f32; vs.first().map_or(0, |v| v.len())];
    for v in vs {
        m.iter_mut().zip(v.iter()).for_each(|(a, b)| *a += b);
    }
    m
}

/// Snap pieces onto speech; pieces with no speech inside are dropped.
pub fn refine(pieces: Vec<Piece>, regions: &[Region]) -> Vec<Piece> {
    pieces
        .into_iter()
        .filter_map(|p| {
            let (start, end) = super::vad::refine(p.start, p.end, regions, SNAP)?;
            Some(Piece { start, end, ..p })
        })
        .collect()
}

/// The most likely change of voice inside `piece` (seconds), if the two sides are less
/// alike than `threshold`.
pub fn change_point(
    voice: &VoiceEncoder,
    audio: &[f32],
    piece: &Piece,
    regions: &[Region],
    threshold: f32,
) -> Result<Option<f64>> {
    if piece.end - piece.start < 2.0 * WIN {
        return Ok(None);
    }
    let mut windows = Vec::new();
    let mut t = piece.start;
    while t + WIN <= piece.end + 1e-9 {
        if let Some(e) = embed(voice, audio, t, t + WIN, regions)? {
            windows.push((t, e));
        }
        t += STEP;
    }
    let mut best: Option<(f32, f64)> = None;
    let mut c = piece.start + WIN;
    while c <= piece.end - WIN + 1e-9 {
        let left: Vec<&Vec<f32>> = windows
            .iter()
            .filter(|(s, _)| s + WIN <= c + 1e-9)
            .map(|(_, e)| e)
            .collect();
        let right: Vec<&Vec<f32>> = windows.iter().filter(|(s, _)| *s >= c - 1e-9).map(|(_, e)| e).collect();
        if left.is_empty() || right.is_empty() {
            c += STEP;
            continue;
        }
        let sim = speakers::cosine(&mean(&left), &mean(&right));
        if best.is_none_or(|(b, _)| sim < b) {
            best = Some((sim, c));
        }
        c += STEP;
    }
    Ok(best.filter(|(s, _)| *s < threshold - CHANGE_MARGIN).map(|(_, c)| c))
}

/// The middle of the pause nearest `t` (within reach), else `t`.
fn at_pause(t: f64, regions: &[Region]) -> f64 {
    regions
        .windows(2)
        .map(|w| (w[0].end + w[1].start) / 2.0)
        .filter(|m| (m - t).abs() <= PAUSE_REACH)
        .min_by(|a, b| (a - t).abs().total_cmp(&(b - t).abs()))
        .unwrap_or(t)
}

/// Split `text` at the word boundary matching fraction `f` of its length, preferring a
/// sentence end within a few words.
pub fn split_text(text: &str, f: f64) -> (String, String) {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() < 2 {
        return (text.to_owned(), String::new());
    }
    let total: usize = words.iter().map(|w| w.len() + 1).sum();
    let goal = f * total as f64;
    let pos = |i: usize| words[..i].iter().map(|w| w.len() + 1).sum::<usize>() as f64;
    let target = (1..words.len())
        .min_by(|&a, &b| (pos(a) - goal).abs().total_cmp(&(pos(b) - goal).abs()))
        .unwrap_or(1);
    let sentence_end = |i: usize| words[i - 1].ends_with(['.', '?', '!']);
    let cut = (1..words.len())
        .filter(|&i| sentence_end(i) && i.abs_diff(target) <= 3)
        .min_by_key(|i| i.abs_diff(target))
        .unwrap_or(target);
    (words[..cut].join(" "), words[cut..].join(" "))
}

/// Split pieces where the voice changes (recursively, a few levels deep).
pub fn split_turns(
    voice: &VoiceEncoder,
    audio: &[f32],
    pieces: Vec<Piece>,
    regions: &[Region],
    threshold: f32,
) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut todo: Vec<(Piece, u8)> = pieces.into_iter().rev().map(|p| (p, 0)).collect();
    while let Some((p, depth)) = todo.pop() {
        let cut = match depth < 3 {
            true => change_point(voice, audio, &p, regions, threshold)?,
            false => None,
        };
        let Some(c) = cut.map(|c| at_pause(c, regions)).filter(|c| *c > p.start && *c < p.end) else {
            out.push(p);
            continue;
        };
        let (a, b) = split_text(&p.text, (c - p.start) / (p.end - p.start));
        if b.is_empty() {
            out.push(p);
            continue;
        }
        // Snap onto speech, but never across the cut.
        let mut left = refine(
            vec![Piece {
                start: p.start,
                end: c,
                text: a,
            }],
            regions,
        );
        let mut right = refine(
            vec![Piece {
                start: c,
                end: p.end,
                text: b,
            }],
            regions,
        );
        left.iter_mut().for_each(|q| q.end = q.end.min(c));
        right.iter_mut().for_each(|q| q.start = q.start.max(c));
        for piece in right.into_iter().chain(left).map(|q| (q, depth + 1)) {
            todo.push(piece);
        }
    }
    Ok(out)
}

/// Utterances named by voice: one embedding per piece, clustered. Pieces with too little
/// speech for a voice vector take the speaker of the nearest piece before them.
pub fn name_speakers(
    voice: &VoiceEncoder,
    audio: &[f32],
    pieces: &[Piece],
    regions: &[Region],
    threshold: f32,
) -> Result<Vec<Utterance>> {
    let mut idx = Vec::new();
    let mut embeddings = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        if let Some(e) = embed(voice, audio, p.start, p.end, regions)? {
            idx.push(i);
            embeddings.push(e);
        }
    }
    let mut labels: Vec<Option<usize>> = vec![None; pieces.len()];
    for (i, l) in idx.into_iter().zip(speakers::cluster(&embeddings, threshold)) {
        labels[i] = Some(l);
    }
    let mut last = 0;
    Ok(pieces
        .iter()
        .zip(labels)
        .map(|(p, l)| {
            last = l.unwrap_or(last);
            Utterance::new(p.start, p.end, Some(format!("Speaker {}", last + 1)), p.text.clone())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_at_a_nearby_sentence_end() {
        let (a, b) = split_text("I am here. Are you coming to the party tonight?", 0.3);
        assert_eq!(
            (a.as_str(), b.as_str()),
            ("I am here.", "Are you coming to the party tonight?")
        );
        let (a, b) = split_text("one two three four", 0.5);
        assert_eq!((a.as_str(), b.as_str()), ("one two", "three four"));
        assert_eq!(split_text("single", 0.5).1, "");
    }

    #[test]
    fn change_points_move_to_the_nearest_pause() {
        let r = |a, b| Region { start: a, end: b };
        let regions = [r(0.0, 2.0), r(2.4, 5.0)];
        assert!((at_pause(2.5, &regions) - 2.2).abs() < 1e-9);
        assert_eq!(at_pause(4.0, &regions), 4.0);
    }
}
