//! `amuse bench transcribe`: how fast Whisper transcription runs (seconds, real-time
//! factor = compute seconds per second of audio) and how well (word error rate against
//! the transcript beside the video, when there is one; speakers found vs named).

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use tch::Device;

use crate::manifest::ModelStore;
use crate::media::{decode, transcript};
use crate::progress::CancelToken;
use crate::transcribe::{seek, wer, Transcriber, MODEL_NAME};

pub fn run(video: &Path, repeats: usize, device: Device) -> Result<()> {
    let transcriber = Transcriber::load(&ModelStore::open_default()?, device)?;
    let t = Instant::now();
    let audio = decode::audio(video, 0.0, f64::INFINITY, seek::RATE as u32)?;
    let decode_s = t.elapsed().as_secs_f64();
    let duration = audio.len() as f64 / seek::RATE as f64;
    println!(
        "transcription benchmark ({MODEL_NAME}) on {} ({duration:.1} s of audio), device {device:?}",
        video.display()
    );
    let mut times = Vec::new();
    let mut dialogue = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        dialogue = Some(transcriber.transcribe(&audio, &mut |_| {}, &CancelToken::default())?);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let secs = times[times.len() / 2];
    let d = dialogue.expect("at least one run");
    println!("decode audio   {decode_s:>8.2} s");
    println!("transcribe     {secs:>8.2} s   real-time factor {:.3}", secs / duration);
    println!(
        "utterances     {:>8}   speakers {}",
        d.utterances.len(),
        d.speakers().len()
    );
    let Some(reference) = transcript::find_beside(video) else {
        println!("no transcript beside the video: word error rate not measured");
        return Ok(());
    };
    let r = transcript::load(&reference)?;
    let join = |d: &transcript::Dialogue| {
        d.utterances
            .iter()
            .map(|u| u.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let e = wer::wer(&join(&r), &join(&d));
    println!(
        "WER            {e:>8.3}   vs {} ({} utterances, {} speakers)",
        reference.display(),
        r.utterances.len(),
        r.speakers().len()
    );
    Ok(())
}
