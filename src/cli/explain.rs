//! `amuse explain`: the words (table and HTML) or the facial regions (table and PNG) that
//! push one utterance's prediction.

use std::path::Path;

use anyhow::{bail, Result};

use super::features::{jobs, DialogueJob};
use crate::analysis::explain_face::Target;
use crate::analysis::explain_words::Timing;
use crate::analysis::fit::Fit;
use crate::analysis::Analyzer;
use crate::media::transcript::Utterance;
use crate::progress::CancelToken;

/// The dialogue of `video`, checked to have utterance `utterance` (1-based).
fn job_with(video: &Path, utterance: usize) -> Result<DialogueJob> {
    let job = jobs(video, None)?.remove(0);
    let n = job.dialogue.utterances.len();
    if utterance == 0 || utterance > n {
        bail!("--utterance must be between 1 and {n}");
    }
    Ok(job)
}

pub fn run(
    analyzer: &Analyzer,
    video: &Path,
    utterance: usize,
    samples: usize,
    seed: u64,
    html: Option<&Path>,
) -> Result<()> {
    let job = job_with(video, utterance)?;
    let (features, _) = analyzer.features(
        job.video.as_deref(),
        &job.dialogue,
        &mut |_| {},
        &CancelToken::default(),
    )?;
    let e = analyzer.explain_words(
        &job.dialogue,
        &features,
        utterance - 1,
        None,
        samples,
        seed,
        &CancelToken::default(),
    )?;
    print_fit(
        &job.dialogue.utterances[utterance - 1],
        utterance,
        &e.fit,
        "transcripts",
        None,
    );
    println!("{:<16} {:>9}", "word", "weight");
    for (w, v) in &e.top {
        println!("{w:<16} {v:>+9.4}  {}", if *v >= 0.0 { "supports" } else { "against" });
    }
    if let Some(path) = html {
        let max = e.top.iter().map(|(_, w)| w.abs()).fold(1e-9, f64::max);
        let mut body = String::new();
        for (piece, w) in &e.pieces {
            let esc = piece.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            match w {
                Some(w) => {
                    let a = (w.abs() / max).clamp(0.0, 1.0) * 0.8;
                    let rgb = if *w >= 0.0 { "40,180,70" } else { "220,50,50" };
                    body.push_str(&format!(
                        "<span title=\"{w:+.4}\" style=\"background: rgba({rgb},{a:.2})\">{esc}</span>"
                    ));
                }
                None => body.push_str(&esc),
            }
        }
        let page = format!(
            "<!doctype html><meta charset=utf-8><title>amuse explain</title><body style=\"font: 20px sans-serif\"><p>why <b>{}</b>:</p><p>{body}</p></body>\n",
            e.fit.label
        );
        crate::fsutil::write_atomic(path, page.as_bytes())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// What `amuse explain` perturbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Evidence {
    /// Words of the transcript, through MPNet and the full model.
    Text,
    /// Facial regions (where the paper's AUs act) of the speaker's face, through the
    /// expression encoder and the full model (or the encoder alone: --target expression).
    Face,
    /// Superpixels of the back frame (the picture with the faces removed), through the
    /// scene CNN and the full model (checkpoints whose visual branch reads back frames).
    Back,
    /// 0.5 s time segments of the utterance's audio, silenced, re-encoded by the audio
    /// encoder and pushed through the full model.
    Audio,
}

impl Evidence {
    /// The viewer's sample count for this modality (`--samples` overrides it).
    pub fn default_samples(self) -> usize {
        match self {
            Self::Text => crate::analysis::explain_words::INTERACTIVE_SAMPLES,
            Self::Face => crate::analysis::explain_face::FACE_SAMPLES,
            Self::Back => crate::analysis::explain_visual::BACK_SAMPLES,
            Self::Audio => crate::analysis::explain_audio::AUDIO_SAMPLES,
        }
    }
}

/// `amuse explain --modality face`: the facial regions behind the prediction, in the speaker's
/// face of every keyframe (when the checkpoint reads faces), or behind the expression
/// encoder's reading of the middle keyframe's face (`--target expression`, or a checkpoint
/// without faces).
pub fn face(
    analyzer: &Analyzer,
    video: &Path,
    utterance: usize,
    target: Option<Target>,
    samples: usize,
    seed: u64,
    png: Option<&Path>,
) -> Result<()> {
    let job = job_with(video, utterance)?;
    let u = &job.dialogue.utterances[utterance - 1];
    let target = target.unwrap_or(if analyzer.model.info.reads_stream("face") {
        Target::Fused
    } else {
        Target::Expression
    });
    let (frame, e) = if target == Target::Expression {
        // The keyframes the pipeline uses: I-frames when the video has enough of them.
        let iframes = crate::media::decode::keyframe_times(video).unwrap_or_default();
        let times = crate::media::keyframes::choose(u.start, u.end, &iframes, analyzer.options.keyframes);
        analyzer.explain_face_in(video, &times, samples, seed)?
    } else {
        let (features, _) = analyzer.features(
            job.video.as_deref(),
            &job.dialogue,
            &mut |_| {},
            &CancelToken::default(),
        )?;
        analyzer.explain_face_fused(
            video,
            &job.dialogue,
            &features,
            utterance - 1,
            target,
            samples,
            seed,
            &CancelToken::default(),
        )?
    };
    println!(
        "#{utterance} {}: face at {:.2} s",
        u.speaker.as_deref().unwrap_or("?"),
        e.time
    );
    println!(
        "explains {}: {} (p = {:.3}); weighted R² {:.3}; {} samples, {} distinct, {:.2} s",
        e.explains.describe(),
        e.label,
        e.probability,
        e.score,
        e.samples,
        e.evaluated,
        e.seconds
    );
    println!("regions are placed where the paper's action units act; they are not detected AUs");
    println!("{:<18} {:>9}", "region", "weight");
    for r in &e.regions {
        let side = if r.weight >= 0.0 { "supports" } else { "against" };
        println!("{:<18} {:>+9.4}  {side}  {}", r.name, r.weight, r.action_units);
    }
    if let (Some(path), Some(overlay)) = (png, e.overlay(&frame)) {
        crate::fsutil::write_atomic_with(path, |tmp| overlay.save(tmp).map_err(std::io::Error::other))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `amuse explain --modality audio`: the time segments of the utterance's audio that push
/// the model's prediction (silenced segments, re-encoded, through the full model).
pub fn audio(analyzer: &Analyzer, video: &Path, utterance: usize, samples: usize, seed: u64) -> Result<()> {
    let job = job_with(video, utterance)?;
    let (features, _) = analyzer.features(
        job.video.as_deref(),
        &job.dialogue,
        &mut |_| {},
        &CancelToken::default(),
    )?;
    let cancel = CancelToken::default();
    let (e, t) = analyzer.explain_audio(
        video,
        &job.dialogue,
        &features,
        utterance - 1,
        None,
        samples,
        seed,
        &cancel,
    )?;
    print_fit(
        &job.dialogue.utterances[utterance - 1],
        utterance,
        &e.fit,
        "silencing patterns",
        Some(("audio encoder", &t)),
    );
    println!("{:<17} {:>9}", "segment (s)", "weight");
    for s in &e.segments {
        let span = format!("{:.2}–{:.2}", s.start, s.end);
        match s.weight {
            Some(w) => println!(
                "{span:<17} {w:>+9.4}  {}",
                if w >= 0.0 { "supports" } else { "against" }
            ),
            None => println!("{span:<17} {:>9}", "—"),
        }
    }
    Ok(())
}

/// The utterance, the local model's fit and its cost: the first lines of every model-level
/// explanation printed (`perturbations` names what was evaluated; `timing` splits the time
/// between the named encoder and the model when it was measured).
fn print_fit(u: &Utterance, utterance: usize, fit: &Fit, perturbations: &str, timing: Option<(&str, &Timing)>) {
    println!("#{utterance} {}: “{}”", u.speaker.as_deref().unwrap_or("?"), u.text);
    println!(
        "explaining: {} (intercept {:.4}, local prediction {:.4}, weighted R² {:.3})",
        fit.label, fit.intercept, fit.local_pred, fit.score
    );
    let split = timing.map_or(String::new(), |(encoder, t)| {
        format!(" ({encoder} {:.2} s, model {:.2} s)", t.encode, t.model)
    });
    println!(
        "{} samples, {} distinct {perturbations}, {:.2} s{split}",
        fit.samples, fit.evaluated, fit.seconds
    );
}

/// `amuse explain --modality back`: the superpixels of the middle keyframe's back frame behind
/// the prediction.
pub fn back(
    analyzer: &Analyzer,
    video: &Path,
    utterance: usize,
    target: Option<Target>,
    samples: usize,
    seed: u64,
    png: Option<&Path>,
) -> Result<()> {
    let job = job_with(video, utterance)?;
    let (features, _) = analyzer.features(
        job.video.as_deref(),
        &job.dialogue,
        &mut |_| {},
        &CancelToken::default(),
    )?;
    let target = target.unwrap_or(Target::Fused);
    let (back, e) = analyzer.explain_back(
        video,
        &job.dialogue,
        &features,
        utterance - 1,
        target,
        samples,
        seed,
        &CancelToken::default(),
    )?;
    println!(
        "#{utterance}: back frame at {:.2} s explains {}: {} (p = {:.3}); weighted R² {:.3}; {} samples, {} distinct, {:.2} s",
        e.time,
        e.explains.describe(),
        e.label,
        e.probability,
        e.score,
        e.samples,
        e.evaluated,
        e.seconds
    );
    println!("{:<12} {:>9}", "superpixel", "weight");
    for (k, w) in e.weights.iter().take(10) {
        println!("{k:<12} {w:>+9.4}  {}", if *w >= 0.0 { "supports" } else { "against" });
    }
    if let Some(path) = png {
        let overlay = e
            .overlay(&back)
            .ok_or_else(|| anyhow::anyhow!("could not draw the superpixels"))?;
        crate::fsutil::write_atomic_with(path, |tmp| {
            overlay
                .save_with_format(tmp, image::ImageFormat::Png)
                .map_err(std::io::Error::other)
        })?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
