//! Energy-based voice activity: where in the audio someone speaks.
//!
//! Whisper hallucinates on long silences and its timestamps drift by a few hundred
//! milliseconds; a plain energy detector is enough to cut the silences out before
//! decoding and to snap segment boundaries onto speech onsets and offsets. Frames of
//! 20 ms are speech when their RMS level exceeds a threshold set from the recording's own
//! noise floor and loudness; a hangover keeps word endings, and speech or pauses shorter
//! than the minimum durations are absorbed by their neighbours.

/// Parameters of the detector (times in seconds).
#[derive(Debug, Clone, Copy)]
pub struct VadOptions {
    pub frame: f64,
    /// Speech continues this long after the last loud frame.
    pub hangover: f64,
    /// Bursts with less loud time are noise.
    pub min_speech: f64,
    /// Shorter pauses do not end a region.
    pub min_silence: f64,
}

impl Default for VadOptions {
    fn default() -> Self {
        Self {
            frame: 0.02,
            hangover: 0.1,
            min_speech: 0.1,
            min_silence: 0.25,
        }
    }
}

/// A stretch of speech, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub start: f64,
    pub end: f64,
}

/// Frame levels in dBFS.
fn levels(samples: &[f32], frame: usize) -> Vec<f32> {
    samples
        .chunks(frame)
        .map(|c| {
            let power = c.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>() / c.len().max(1) as f64;
            (10.0 * power.max(1e-10).log10()) as f32
        })
        .collect()
}

/// The speech threshold in dBFS: well above the noise floor (10th percentile) and at most
/// 45 dB below the loud frames (95th percentile), never below -70 dBFS.
pub fn threshold(levels: &[f32]) -> f32 {
    if levels.is_empty() {
        return 0.0;
    }
    let mut sorted = levels.to_vec();
    sorted.sort_by(f32::total_cmp);
    let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let (floor, loud) = (pct(0.10), pct(0.95));
    let above_floor = floor + (0.35 * (loud - floor)).max(6.0);
    above_floor.max(loud - 45.0).max(-70.0)
}

/// Speech regions of 16 kHz (or `rate`) mono audio.
pub fn detect(samples: &[f32], rate: u32, o: &VadOptions) -> Vec<Region> {
    let frame = ((o.frame * f64::from(rate)).round() as usize).max(1);
    let lv = levels(samples, frame);
    let th = threshold(&lv);
    let frames = |secs: f64| (secs / o.frame).round() as usize;
    // Loud frames, extended by the hangover.
    let loud: Vec<bool> = lv.iter().map(|l| *l > th).collect();
    let mut speech = vec![false; lv.len()];
    let mut hold = 0;
    for (i, &l) in loud.iter().enumerate() {
        if l {
            hold = frames(o.hangover) + 1;
        }
        if hold > 0 {
            speech[i] = true;
            hold -= 1;
        }
    }
    let mut runs = runs(&speech);
    // Close short pauses, then drop short bursts.
    runs.dedup_by(|next, prev| {
        if next.0 - prev.1 < frames(o.min_silence) {
            prev.1 = next.1;
            true
        } else {
            false
        }
    });
    let dur = o.frame;
    let end_of_audio = samples.len() as f64 / f64::from(rate);
    runs.into_iter()
        .filter(|&(a, b)| loud[a..b].iter().filter(|l| **l).count() >= frames(o.min_speech).max(1))
        .map(|(a, b)| Region {
            start: a as f64 * dur,
            end: (b as f64 * dur).min(end_of_audio),
        })
        .collect()
}

/// `[start, end)` frame runs of `true`.
fn runs(flags: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &f) in flags.iter().chain(std::iter::once(&false)).enumerate() {
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Stretches to decode independently: regions joined across pauses shorter than `gap`,
/// padded by `pad` on both sides (within `[0, duration]`), in seconds.
pub fn stretches(regions: &[Region], gap: f64, pad: f64, duration: f64) -> Vec<Region> {
    let mut out: Vec<Region> = Vec::new();
    for r in regions {
        match out.last_mut() {
            Some(last) if r.start - last.end < gap => last.end = r.end,
            _ => out.push(*r),
        }
    }
    for r in &mut out {
        r.start = (r.start - pad).max(0.0);
        r.end = (r.end + pad).min(duration);
    }
    out
}

/// Move a segment's boundaries onto speech. A start in silence, or in the last `snap`
/// seconds of a region (the tail of the previous sentence), moves to the next onset; a
/// start within `snap` of its region's onset moves onto it. Ends mirror this. Returns
/// `None` when no speech is left inside.
pub fn refine(start: f64, end: f64, regions: &[Region], snap: f64) -> Option<(f64, f64)> {
    let bounds = |tails: bool| {
        let i = regions.iter().position(|r| r.end > start)?;
        let r = regions[i];
        let s = if r.start >= start || start - r.start <= snap {
            r.start
        } else if tails && r.end - start <= snap {
            regions.get(i + 1).map_or(start, |n| n.start)
        } else {
            start
        };
        let j = regions.iter().rposition(|r| r.start < end)?;
        let r = regions[j];
        let e = if r.end <= end || r.end - end <= snap {
            r.end
        } else if tails && end - r.start <= snap && j > 0 {
            regions[j - 1].end
        } else {
            end
        };
        (e > s).then_some((s, e))
    };
    // Tails can contradict each other on a short segment; then snap only.
    bounds(true).or_else(|| bounds(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tone bursts at `[(start, end)]` seconds over faint noise, 16 kHz.
    fn bursts(spans: &[(f64, f64)], total: f64) -> Vec<f32> {
        let n = (total * 16_000.0) as usize;
        let mut seed = 1u32;
        (0..n)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.002;
                let on = spans.iter().any(|(a, b)| t >= *a && t < *b);
                noise
                    + if on {
                        0.3 * (t * 2.0 * std::f64::consts::PI * 220.0).sin() as f32
                    } else {
                        0.0
                    }
            })
            .collect()
    }

    #[test]
    fn finds_bursts_merges_short_pauses_and_drops_clicks() {
        let audio = bursts(&[(0.5, 1.5), (1.6, 2.0), (3.0, 3.03), (4.0, 5.0)], 6.0);
        let r = detect(&audio, 16_000, &VadOptions::default());
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(
            (r[0].start - 0.5).abs() < 0.03 && (r[0].end - 2.1).abs() < 0.05,
            "{r:?}"
        );
        assert!(
            (r[1].start - 4.0).abs() < 0.03 && (r[1].end - 5.1).abs() < 0.05,
            "{r:?}"
        );
    }

    #[test]
    fn silence_has_no_speech() {
        assert!(detect(&vec![0.0; 32_000], 16_000, &VadOptions::default()).is_empty());
        assert!(detect(&[], 16_000, &VadOptions::default()).is_empty());
    }

    #[test]
    fn stretches_join_short_gaps_and_refine_snaps_to_speech() {
        let r = |a, b| Region { start: a, end: b };
        let regions = [r(1.0, 2.0), r(2.5, 3.0), r(6.0, 7.0)];
        let s = stretches(&regions, 1.0, 0.2, 7.1);
        assert_eq!(s, vec![r(0.8, 3.2), r(5.8, 7.1)]);
        assert_eq!(refine(0.7, 2.2, &regions, 0.3), Some((1.0, 2.0)));
        assert_eq!(refine(2.3, 2.9, &regions, 0.3), Some((2.5, 3.0)));
        assert_eq!(refine(3.5, 5.5, &regions, 0.3), None);
        // A start on the tail of the previous region moves to the next onset; an end
        // just after the next onset moves back to the previous offset.
        assert_eq!(refine(1.85, 3.1, &regions, 0.3), Some((2.5, 3.0)));
        assert_eq!(refine(0.9, 2.6, &regions, 0.3), Some((1.0, 2.0)));
        assert_eq!(refine(1.5, 2.8, &regions, 0.3), Some((1.5, 3.0)));
    }
}
