//! Keyframes of an utterance (Section III-A2): `n` frames per utterance span.
//!
//! The paper takes FFmpeg's keyframes. Encoders place I-frames every few seconds, so a
//! short utterance often holds fewer than `n`; then the `n` frames are spread evenly over
//! the span instead (centres of `n` equal slices), which always yields `n` distinct times.

/// Default keyframes per utterance.
pub const DEFAULT_PER_UTTERANCE: usize = 4;

/// Choose `n` frame times in `[start, end]` given the stream's I-frame times (sorted).
pub fn choose(start: f64, end: f64, iframes: &[f64], n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let (start, end) = if end >= start { (start, end) } else { (end, start) };
    let inside: Vec<f64> = iframes.iter().copied().filter(|&t| t >= start && t <= end).collect();
    if inside.len() >= n {
        // n of them, evenly spaced through the list.
        return (0..n)
            .map(|k| inside[(k * inside.len() + inside.len() / 2) / n])
            .collect();
    }
    let span = end - start;
    (0..n).map(|k| start + span * (k as f64 + 0.5) / n as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spread_when_too_few_iframes() {
        assert_eq!(choose(0.0, 4.0, &[0.0, 10.0], 4), vec![0.5, 1.5, 2.5, 3.5]);
        assert_eq!(choose(4.0, 0.0, &[], 2), vec![1.0, 3.0]);
        assert!(choose(0.0, 1.0, &[], 0).is_empty());
    }

    #[test]
    fn uses_iframes_when_there_are_enough() {
        let iframes: Vec<f64> = (0..20).map(f64::from).collect();
        let t = choose(2.0, 9.0, &iframes, 4);
        assert_eq!(t.len(), 4);
        assert!(t.iter().all(|x| iframes.contains(x) && (2.0..=9.0).contains(x)));
        assert!(t.windows(2).all(|w| w[0] < w[1]));
    }
}
