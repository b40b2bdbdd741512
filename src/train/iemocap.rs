//! IEMOCAP (`IEMOCAP_full_release`) for users who hold it: dialogues of utterances with
//! text, audio, speaker and the usual six-class label.
//!
//! Layout read (per `Session{1..5}`):
//! * `dialog/EmoEvaluation/<dialog>.txt` — lines `[start - end]\t<utt>\t<label>\t[v, a, d]`:
//!   the utterances with their times and the majority label;
//! * `dialog/transcriptions/<dialog>.txt` — lines `<utt> [start-end]: text`;
//! * `sentences/wav/<dialog>/<utt>.wav` — the utterance's audio.
//!
//! Labels: the six-class setup common in the literature (DialogueRNN, the AMuSE paper's
//! Table II) — happy, sad, neutral, angry, excited, frustrated, kept separate (happy is not
//! merged with excited). Utterances labelled otherwise (xxx, surprise, fear, disgust, other)
//! stay in their dialogue as unlabelled context: they are not scored, but the speaker and
//! dialogue context still see them. The speaker is the session plus the gender letter of
//! the utterance id's last part (`Ses01F_impro01_M003` → `Ses01M`), not the dialogue's
//! prefix (which names who wore the markers). Utterances are ordered by start time.
//!
//! Splits: Session 5 is the test split by convention; Sessions 1–4 train, with every
//! tenth dialogue (seeded choice) held out as dev.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// IEMOCAP's six classes, in the order of the annotator's IEMOCAP label set.
pub const CLASSES: [&str; 6] = ["happy", "sad", "neutral", "angry", "excited", "frustrated"];

/// One utterance as listed by the corpus files.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    pub id: String,
    pub speaker: String,
    pub start: f64,
    pub end: f64,
    /// Index into [`CLASSES`], or `None` for the labels outside the six.
    pub label: Option<usize>,
    pub text: String,
    pub wav: PathBuf,
}

/// One dialogue (`Ses01F_impro01`), utterances in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dialogue {
    pub session: u32,
    pub name: String,
    pub utterances: Vec<Utterance>,
}

/// The six-class index of an EmoEvaluation code.
pub fn label(code: &str) -> Option<usize> {
    let i = match code {
        "hap" => 0,
        "sad" => 1,
        "neu" => 2,
        "ang" => 3,
        "exc" => 4,
        "fru" => 5,
        _ => return None,
    };
    Some(i)
}

/// `Ses01F_impro01_M003` → `Ses01M`.
pub fn speaker(utt: &str) -> Option<String> {
    let session = utt.get(..5)?;
    let gender = utt.rsplit('_').next()?.chars().next()?;
    matches!(gender, 'F' | 'M').then(|| format!("{session}{gender}"))
}

/// `(utt, start, end, code)` of the lines of an EmoEvaluation file.
pub fn parse_evaluation(content: &str) -> Vec<(String, f64, f64, String)> {
    content
        .lines()
        .filter(|l| l.starts_with('['))
        .filter_map(|l| {
            let mut parts = l.split('\t');
            let times = parts.next()?.trim().trim_start_matches('[').trim_end_matches(']');
            let (s, e) = times.split_once('-')?;
            let utt = parts.next()?.trim().to_owned();
            let code = parts.next()?.trim().to_owned();
            Some((utt, s.trim().parse().ok()?, e.trim().parse().ok()?, code))
        })
        .collect()
}

/// `utt → text` of a transcription file (lines without a `[start-end]:` are skipped).
pub fn parse_transcription(content: &str) -> std::collections::HashMap<String, String> {
    content
        .lines()
        .filter_map(|l| {
            let (head, text) = l.split_once("]:")?;
            let (utt, _) = head.split_once(" [")?;
            Some((utt.trim().to_owned(), text.trim().to_owned()))
        })
        .collect()
}

/// Read the dialogues of `sessions` under `root` (the `IEMOCAP_full_release` folder).
/// Fails with a message naming the file when the layout is not IEMOCAP's or a file an
/// evaluation lists is missing.
pub fn read(root: &Path, sessions: &[u32]) -> Result<Vec<Dialogue>> {
    if !root.is_dir() {
        bail!(
            "{} is not a folder: pass the IEMOCAP_full_release folder (with Session1 … Session5) to --iemocap",
            root.display()
        );
    }
    let mut out = Vec::new();
    for &s in sessions {
        let session = root.join(format!("Session{s}"));
        if !session.is_dir() {
            // A partial copy: the sessions present are used; none at all fails below.
            continue;
        }
        let eval_dir = session.join("dialog/EmoEvaluation");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&eval_dir)
            .with_context(|| {
                format!(
                    "reading {} — is {} IEMOCAP_full_release?",
                    eval_dir.display(),
                    root.display()
                )
            })?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        files.sort();
        for eval_path in files {
            let name = eval_path
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let evaluation =
                std::fs::read_to_string(&eval_path).with_context(|| format!("reading {}", eval_path.display()))?;
            let trans_path = session.join(format!("dialog/transcriptions/{name}.txt"));
            let texts = parse_transcription(
                &std::fs::read_to_string(&trans_path)
                    .with_context(|| format!("reading {} (the transcription of {name})", trans_path.display()))?,
            );
            let mut utterances = Vec::new();
            for (utt, start, end, code) in parse_evaluation(&evaluation) {
                let text = texts
                    .get(&utt)
                    .with_context(|| {
                        format!(
                            "{utt} is in {} but not in {}",
                            eval_path.display(),
                            trans_path.display()
                        )
                    })?
                    .clone();
                let wav = session.join(format!("sentences/wav/{name}/{utt}.wav"));
                if !wav.is_file() {
                    bail!(
                        "missing audio {} (utterance {utt} of {})",
                        wav.display(),
                        eval_path.display()
                    );
                }
                let speaker =
                    speaker(&utt).with_context(|| format!("cannot read a speaker from the utterance id {utt}"))?;
                utterances.push(Utterance {
                    label: label(&code),
                    id: utt,
                    speaker,
                    start,
                    end,
                    text,
                    wav,
                });
            }
            utterances.sort_by(|a, b| a.start.total_cmp(&b.start));
            if !utterances.is_empty() {
                out.push(Dialogue {
                    session: s,
                    name,
                    utterances,
                });
            }
        }
    }
    if out.is_empty() {
        bail!(
            "no IEMOCAP dialogues found under {} (sessions {sessions:?}): expected Session<N>/dialog/EmoEvaluation/*.txt",
            root.display()
        );
    }
    Ok(out)
}

/// The dialogues of a split: `train` (Sessions 1–4 without the dev slice), `dev` (every
/// tenth dialogue of Sessions 1–4 after a seeded shuffle), `test` (Session 5).
pub fn split(root: &Path, split: &str) -> Result<Vec<Dialogue>> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    match split {
        "test" => read(root, &[5]),
        "train" | "dev" => {
            let mut all = read(root, &[1, 2, 3, 4])?;
            let mut order: Vec<usize> = (0..all.len()).collect();
            order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
            let n_dev = all.len().div_ceil(10);
            let dev: std::collections::HashSet<usize> = order[..n_dev].iter().copied().collect();
            let want_dev = split == "dev";
            let mut i = 0;
            all.retain(|_| {
                let keep = dev.contains(&i) == want_dev;
                i += 1;
                keep
            });
            Ok(all)
        }
        other => bail!("IEMOCAP splits are train and dev (Sessions 1–4) and test (Session 5), not {other}"),
    }
}

/// Split `which`'s dialogues (as [`split`] reads them) as model inputs: MPNet token states
/// of the text, the audio encoder's frames of the wav, speakers and labels (indices into
/// [`CLASSES`]). Features are cached like the other corpora's, keyed by the split's files
/// (names, sizes) and the encoders.
pub fn corpus(
    store: &crate::manifest::ModelStore,
    text: &crate::features::text::TextEncoder,
    audio: &super::data::AudioEncoderRef<'_>,
    dialogues: &[Dialogue],
    which: &str,
) -> Result<super::data::Corpus> {
    use sha2::{Digest, Sha256};
    let all: Vec<&Utterance> = dialogues.iter().flat_map(|d| &d.utterances).collect();
    let mut h = Sha256::new();
    for u in &all {
        h.update(u.id.as_bytes());
        h.update(u.text.as_bytes());
        h.update(std::fs::metadata(&u.wav).map(|m| m.len()).unwrap_or(0).to_le_bytes());
    }
    h.update(super::data::text_key(store, text));
    h.update(super::data::store_key(store, &[audio.model_name()]));
    let key = hex::encode(h.finalize());
    let texts = super::data::cached(&format!("iemocap-{which}-text"), &key, all.len(), || {
        let per_dialogue: Vec<Vec<&str>> = dialogues
            .iter()
            .map(|d| d.utterances.iter().map(|u| u.text.as_str()).collect())
            .collect();
        super::data::encode_dialogues(text, &per_dialogue)
    })?;
    let sounds = super::data::cached(
        &format!("iemocap-{which}-{}", audio.model_name()),
        &key,
        all.len(),
        || {
            let pb = super::data::bar(all.len(), audio.model_name());
            let mut out = Vec::with_capacity(all.len());
            for u in &all {
                out.push(audio.encode_file(&u.wav)?);
                pb.inc(1);
            }
            pb.finish_and_clear();
            Ok(out)
        },
    )?;
    let (mut texts, mut sounds) = (texts.into_iter(), sounds.into_iter());
    let dialogues = dialogues
        .iter()
        .map(|d| {
            d.utterances
                .iter()
                .map(|u| crate::model::batch::UtteranceInput {
                    text: texts.next(),
                    audio: sounds.next(),
                    face: None,
                    back: None,
                    speaker: Some(u.speaker.clone()),
                    label: u.label.map(|l| l as i64),
                })
                .collect()
        })
        .collect();
    Ok(super::data::Corpus {
        name: format!("IEMOCAP {which}"),
        dialogues,
        copies: 0,
    })
}
