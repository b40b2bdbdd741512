//! Automatic transcription (issue #8): the Rust greedy decoder reproduces the export's
//! Python golden exactly, espeak-ng speech is transcribed with a low word error rate, and
//! a two-voice dialogue is split at the turns with the two speakers told apart.
use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use amuse::media::transcript::Dialogue;
use amuse::progress::{CancelToken, Progress, Stage};
use amuse::transcribe::wer::wer;
use amuse::transcribe::whisper::{self, Mode, Whisper};
use amuse::transcribe::{write_srt, Transcriber};
use tch::{Device, Tensor};

const RATE: usize = 16_000;

/// Run a command that makes a fixture.
fn run(cmd: &mut std::process::Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (espeak-ng and ffmpeg are installed by scripts/bootstrap.sh)"));
    assert!(status.success(), "{cmd:?} failed");
}

/// 16 kHz speech of `text` by espeak-ng `voice`, resampled by the ffmpeg CLI (made once
/// per build). (espeak's WAV has no channel layout, which `decode::audio` rejects.)
fn speech(voice: &str, text: &str) -> Vec<f32> {
    let name = format!("tts-{}-{:x}", voice.replace('+', "_"), fxhash(text));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let raw = dir.join(format!("{name}.f32"));
    if !raw.exists() {
        let wav = dir.join(format!("{name}.{}.wav", std::process::id()));
        run(std::process::Command::new("espeak-ng")
            .args(["-v", voice, "-s", "150", "-w"])
            .arg(&wav)
            .arg(text));
        let tmp = dir.join(format!("{name}.{}.f32", std::process::id()));
        run(std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(&wav)
            .args(["-ar", "16000", "-ac", "1", "-f", "f32le"])
            .arg(&tmp));
        std::fs::rename(&tmp, &raw).unwrap();
        let _ = std::fs::remove_file(&wav);
    }
    std::fs::read(&raw)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Write 16 kHz mono audio as FLAC (lossless: the known turn times stay exact).
fn write_flac(path: &Path, samples: &[f32]) {
    let raw = path.with_extension("f32");
    std::fs::write(&raw, samples.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    run(std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "f32le", "-ar", "16000", "-ac", "1", "-i"])
        .arg(&raw)
        .arg(path));
}

/// Print the voice similarities of the utterances (diagnostics for a failing test).
fn print_similarities(audio: &[f32], d: &Dialogue) {
    let voice = amuse::features::voice::VoiceEncoder::load(&common::store(), Device::Cpu).unwrap();
    let emb: Vec<Vec<f32>> = d
        .utterances
        .iter()
        .map(|u| {
            let (a, b) = ((u.start * 16e3) as usize, ((u.end * 16e3) as usize).min(audio.len()));
            voice.encode(&audio[a..b]).unwrap().try_into().unwrap()
        })
        .collect();
    for (i, x) in emb.iter().enumerate() {
        let row: Vec<String> = emb
            .iter()
            .map(|y| format!("{:.2}", amuse::features::speakers::cosine(x, y)))
            .collect();
        println!("{i}: {}", row.join(" "));
    }
}

fn text_of(d: &Dialogue) -> String {
    d.utterances
        .iter()
        .map(|u| u.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn greedy_decoding_matches_the_python_golden() {
    let store = common::store();
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.root().join("golden/whisper_greedy.json")).unwrap())
            .unwrap();
    let ids = |k: &str| -> Vec<i64> {
        golden[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    // The suppression lists are the export's.
    assert_eq!(whisper::SUPPRESS.to_vec(), ids("suppress_ids"));
    assert_eq!(whisper::SUPPRESS_BEGIN.to_vec(), ids("suppress_ids_begin"));
    assert_eq!(golden["suppress_all_ids_from"].as_i64(), Some(whisper::SOT));
    assert_eq!(Mode::Text.prefix(), ids("sot_sequence"));

    let inputs: BTreeMap<String, Tensor> =
        Tensor::read_safetensors(store.root().join("golden/speech_whisper_encoder.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let audio: Vec<f32> = inputs["input_0"].get(0).to_kind(tch::Kind::Float).try_into().unwrap();
    let model = Whisper::load(&store, Device::Cpu).unwrap();
    let features = model.encode(&[&audio]).unwrap();
    let sampled = model
        .greedy(&features, Mode::Text, 100, &CancelToken::default())
        .unwrap();
    let mut tokens = Mode::Text.prefix();
    tokens.extend(&sampled[0]);
    tokens.push(whisper::EOT);
    assert_eq!(tokens, ids("tokens"));
    assert_eq!(model.text(&sampled[0]).unwrap(), golden["text"].as_str().unwrap());
}

#[test]
fn espeak_sentences_are_transcribed_with_low_word_error_rate() {
    let store = common::store();
    let t = Transcriber::load(&store, Device::Cpu).unwrap();
    let sentences = [
        "It is a lovely afternoon for a walk in the park.",
        "I think we should leave before the traffic gets worse.",
        "Could you send me the report by Friday?",
    ];
    let mut audio = vec![0f32; RATE / 2];
    for s in sentences {
        audio.extend(speech("en-us", s));
        audio.extend(vec![0f32; RATE * 3 / 5]);
    }
    let mut stages = Vec::new();
    let d = t
        .transcribe(&audio, &mut |p: Progress| stages.push(p), &CancelToken::default())
        .unwrap();
    for u in &d.utterances {
        println!("{:6.2} {:6.2} {:?} {}", u.start, u.end, u.speaker, u.text);
    }
    print_similarities(&audio, &d);
    let reference = sentences.join(" ");
    let heard = text_of(&d);
    let e = wer(&reference, &heard);
    println!("heard: {heard:?} (WER {e:.3})");
    assert!(e <= 0.15, "WER {e:.3}: {heard:?}");
    assert!(d.transcribed);
    assert!(stages.iter().all(|p| p.stage == Stage::Transcribe));
    assert_eq!(stages.last().map(|p| p.done), stages.last().map(|p| p.total));
    // One voice: one speaker.
    assert_eq!(d.speakers(), ["Speaker 1"]);
}

#[test]
fn a_two_voice_dialogue_is_split_at_the_turns() {
    let store = common::store();
    let t = Transcriber::load(&store, Device::Cpu).unwrap();
    // Resemblyzer hardly tells en-us+m3 from en-gb+f2 (cosine 0.74 vs 0.79 within a voice);
    // en-us+f3 is clearly another speaker (0.52).
    let turns = [
        ("en-us+m3", "Did you finish the slides for the meeting?"),
        ("en-us+f3", "Yes, I sent them to everyone this morning."),
        ("en-us+m3", "Great, thank you."),
        ("en-us+f3", "You are welcome."),
    ];
    let mut audio = vec![0f32; RATE / 4];
    let mut truth: Vec<(f64, f64, usize)> = Vec::new();
    for (k, (voice, text)) in turns.iter().enumerate() {
        let start = audio.len() as f64 / RATE as f64;
        audio.extend(speech(voice, text));
        truth.push((start, audio.len() as f64 / RATE as f64, k % 2));
        audio.extend(vec![0f32; RATE * 2 / 5]);
    }
    let dir = tempfile::tempdir().unwrap();
    let video: PathBuf = dir.path().join("dialogue.flac");
    write_flac(&video, &audio);
    let d = t.transcribe_file(&video, &mut |_| {}, &CancelToken::default()).unwrap();
    for u in &d.utterances {
        println!("{:6.2} {:6.2} {:?} {}", u.start, u.end, u.speaker, u.text);
    }
    print_similarities(&audio, &d);
    let e = wer(&turns.map(|t| t.1).join(" "), &text_of(&d));
    assert!(e <= 0.15, "WER {e:.3}");
    // Each utterance's speaker is the true speaker of the turn it overlaps most.
    let true_speaker = |s: f64, e: f64| {
        truth
            .iter()
            .max_by(|a, b| overlap(a, s, e).total_cmp(&overlap(b, s, e)))
            .map(|t| t.2)
            .unwrap()
    };
    let mut map: BTreeMap<String, usize> = BTreeMap::new();
    for u in &d.utterances {
        let who = true_speaker(u.start, u.end);
        let name = u.speaker.clone().unwrap();
        assert_eq!(
            *map.entry(name.clone()).or_insert(who),
            who,
            "{name} speaks for both voices"
        );
    }
    assert_eq!(map.len(), 2, "two speakers: {map:?}");
    // Speaker changes fall within 0.5 s of the true turns.
    let changes: Vec<f64> = d
        .utterances
        .windows(2)
        .filter(|w| w[0].speaker != w[1].speaker)
        .map(|w| (w[0].end + w[1].start) / 2.0)
        .collect();
    assert_eq!(changes.len(), turns.len() - 1, "changes at {changes:?}");
    for (k, c) in changes.iter().enumerate() {
        let turn = (truth[k].1 + truth[k + 1].0) / 2.0;
        assert!((c - turn).abs() <= 0.5, "turn {k}: at {turn:.2}s, split at {c:.2}s");
    }
    // SRT beside the "video", not overwritten without --force.
    let srt = write_srt(&video, &d, false).unwrap();
    assert_eq!(srt, dir.path().join("dialogue.srt"));
    let back = amuse::media::transcript::load(&srt).unwrap();
    assert_eq!(back.utterances.len(), d.utterances.len());
    assert_eq!(back.speakers(), d.speakers());
    let err = write_srt(&video, &Dialogue::default(), false).unwrap_err();
    assert!(format!("{err:#}").contains("--force"), "{err:#}");
}

fn overlap(t: &(f64, f64, usize), s: f64, e: f64) -> f64 {
    (t.1.min(e) - t.0.max(s)).max(0.0)
}

#[test]
fn the_analyzer_transcribes_only_when_no_transcript_is_found() {
    common::init();
    let analyzer = amuse::analysis::Analyzer::load(Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("clip.flac");
    let mut audio = vec![0f32; RATE / 4];
    audio.extend(speech("en-us", "Thank you for coming today."));
    write_flac(&video, &audio);
    let mut stages = Vec::new();
    let d = analyzer
        .dialogue(
            &video,
            None,
            &mut |p: Progress| stages.push(p.stage),
            &CancelToken::default(),
        )
        .unwrap();
    assert!(d.transcribed && stages.contains(&Stage::Transcribe));
    assert!(
        wer("Thank you for coming today.", &text_of(&d)) <= 0.2,
        "{}",
        text_of(&d)
    );
    // With a transcript beside the file, it is used as is.
    write_srt(&video, &d, false).unwrap();
    let again = analyzer
        .dialogue(
            &video,
            None,
            &mut |_| panic!("no transcription expected"),
            &CancelToken::default(),
        )
        .unwrap();
    assert!(!again.transcribed);
    assert_eq!(again.utterances.len(), d.utterances.len());
}
