//! Memory kept per utterance is the features' own size, not the encoders' buffers.
//!
//! A long video keeps every utterance's features for the dialogue model. Two things made a
//! 30-minute video peak at 2.7 GB instead of ~1.3 GB (issue #7): a 2.5 s utterance's Whisper
//! frames (≈ 190 kB) were a view that kept the 30 s window's 2.3 MB output alive, and the
//! small kept pieces fragmented glibc's heap between the encoders' freed megabyte buffers
//! (`amuse::heap`). The pipeline copies features out (`features::owned`) and releases free
//! pages after each utterance; this test retains many encodings the same way and checks the
//! process's resident memory, which is what a user sees. Without either measure the growth
//! was 1.6–2.3 MB per call; the features themselves are 77 kB per call.
//!
//! Resident memory is the whole process's, and every integration test shares one binary
//! (`tests/it/`) whose other tests allocate in parallel threads: the measurement runs in a
//! child process of this binary that runs this test alone.

use crate::common;

use amuse::features::audio::SpeechEncoder;
use tch::Device;

fn rss_mb() -> f64 {
    amuse::heap::resident_bytes().expect("Linux /proc") as f64 / 1e6
}

/// Set in the child process that measures.
const CHILD_ENV: &str = "AMUSE_MEMORY_TEST_CHILD";

#[test]
fn kept_speech_features_cost_their_own_size() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "memory::kept_speech_features_cost_their_own_size",
                "--exact",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the measuring child failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The child ran exactly this test (a filter that matched nothing would pass vacuously).
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
        return;
    }
    let store = common::store();
    let speech = SpeechEncoder::load(&store, Device::Cpu).unwrap();
    // One second of a tone: 50 Whisper frames of 384 floats.
    let tone: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
    for _ in 0..3 {
        drop(speech.encode(&tone).unwrap()); // LibTorch's one-time buffers
        amuse::heap::release_free_memory();
    }
    let calls = 40;
    let before = rss_mb();
    let kept: Vec<_> = (0..calls)
        .map(|_| {
            let f = speech.encode(&tone).unwrap();
            amuse::heap::release_free_memory(); // as `features::extract` does per utterance
            f
        })
        .collect();
    let grown = rss_mb() - before;
    assert_eq!(kept[0].size(), vec![50, 384]);
    // 40 × 77 kB = 3 MB of features; a leak of the window (2.3 MB) or fragmentation
    // (1.6 MB per call, measured) would be 64–92 MB.
    assert!(
        grown < 30.0,
        "keeping {calls} one-second encodings grew memory by {grown:.1} MB"
    );
}
