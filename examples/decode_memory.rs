//! Peak memory of the decode stage on long videos (issue #7, "resource limits"): decodes
//! what `features::extract` decodes for every utterance (16 kHz and 44.1 kHz audio spans,
//! four keyframes at 640 px) and either drops it after each utterance, as the extraction
//! now does, or keeps all of it (`--hold`, what the extraction did before it streamed).
//! Run under `/usr/bin/time -v` and read "Maximum resident set size":
//!
//! `cargo run --example decode_memory -- VIDEO TRANSCRIPT [--hold]`

use std::path::PathBuf;

use amuse::features::audio::SOUND_RATE;
use amuse::media::{decode, keyframes};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(video), Some(srt)) = (args.first(), args.get(1)) else {
        anyhow::bail!("usage: decode_memory VIDEO TRANSCRIPT [--hold]");
    };
    let hold = args.iter().any(|a| a == "--hold");
    let video = PathBuf::from(video);
    let dialogue = amuse::analysis::load_dialogue(&video, Some(&PathBuf::from(srt)))?;
    let iframes = decode::keyframe_times(&video)?;
    let started = std::time::Instant::now();
    let mut kept = Vec::new();
    let (mut samples, mut pixels) = (0usize, 0usize);
    for u in &dialogue.utterances {
        let a16 = decode::audio(&video, u.start, u.end, 16_000)?;
        let a44 = decode::audio(&video, u.start, u.end, SOUND_RATE)?;
        let times = keyframes::choose(u.start, u.end, &iframes, keyframes::DEFAULT_PER_UTTERANCE);
        let frames = decode::frames_at(&video, &times, 640)?;
        samples += a16.len() + a44.len();
        pixels += frames.iter().map(|f| f.image.as_raw().len()).sum::<usize>();
        if hold {
            kept.push((a16, a44, frames));
        }
    }
    println!(
        "{} utterances of {:.0} s of video decoded in {:.1} s ({} audio samples, {} MB of frames; {})",
        dialogue.utterances.len(),
        decode::probe(&video)?.duration,
        started.elapsed().as_secs_f64(),
        samples,
        pixels >> 20,
        if hold { "all kept" } else { "one utterance at a time" }
    );
    Ok(())
}
