//! FER+ faces (Barsoum et al. 2016: Microsoft's ten-annotator relabelling of the FER2013
//! faces): `<dir>/FER2013<Split>/label.csv` beside its 48×48 grey PNGs, the layout of FER+'s
//! own code. Each row is `file,"(x, y, w, h)",` and ten annotators' votes for
//! `neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF`.
//!
//! An image's label is the unique majority of its ten vote columns when that is one of MELD's
//! seven classes (happiness → joy); ties, contempt, unknown and not-a-face are counted and
//! left out, as FER+'s majority protocol does. The test split is held out of this project.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use image::GrayImage;

use crate::emotion::Emotion;
use crate::features::expression::{meld_label, ExpressionEncoder};
use crate::media::faces::mtcnn::Mtcnn;
use crate::media::faces::split as face_split;
use crate::metrics::{self, Report};

/// The vote columns, in `label.csv` order.
pub const COLUMNS: [&str; 10] = [
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
    "unknown",
    "NF",
];

/// MELD's class of each vote column (`None`: not one of MELD's classes).
const COLUMN_CLASS: [Option<Emotion>; 10] = [
    Some(Emotion::Neutral),
    Some(Emotion::Joy),
    Some(Emotion::Surprise),
    Some(Emotion::Sadness),
    Some(Emotion::Anger),
    Some(Emotion::Disgust),
    Some(Emotion::Fear),
    None,
    None,
    None,
];

/// Largest `label.csv` read (FER+'s train file is 1.2 MB).
const MAX_LABEL_BYTES: u64 = 64 << 20;

/// One labelled face.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    pub file: PathBuf,
    pub votes: [u32; 10],
    pub label: Emotion,
}

/// A split's faces with a MELD-class majority, and what was left out.
#[derive(Debug, Default)]
pub struct Split {
    pub dir: PathBuf,
    pub faces: Vec<Face>,
    /// Rows whose top vote is tied.
    pub ties: usize,
    /// Rows whose majority is contempt, unknown or not a face.
    pub other: usize,
}

/// The majority class of ten vote counts: the unique top column, if it is a MELD class.
/// `Err(true)` for a tie, `Err(false)` for a top column outside MELD's classes.
pub fn majority(votes: &[u32; 10]) -> Result<Emotion, bool> {
    let top = *votes.iter().max().unwrap_or(&0);
    if top == 0 || votes.iter().filter(|&&v| v == top).count() > 1 {
        return Err(true);
    }
    let column = votes.iter().position(|&v| v == top).unwrap_or(0);
    COLUMN_CLASS[column].ok_or(false)
}

/// The folder of a split: `<data>/ferplus/FER2013<Split>` (split `train`/`valid`), or `data`
/// itself when it already is such a folder (holds `label.csv`).
pub fn split_dir(data: &Path, split: &str) -> Result<PathBuf> {
    if data.join("label.csv").is_file() {
        return Ok(data.to_path_buf());
    }
    let name = match split {
        "train" => "FER2013Train",
        "valid" | "dev" => "FER2013Valid",
        "test" => bail!("the FER+ test split is held out for independent evaluation: use train or valid"),
        other => bail!("FER+ splits are train and valid, not {other}"),
    };
    for dir in [data.join("ferplus").join(name), data.join(name)] {
        if dir.is_dir() {
            return Ok(dir);
        }
    }
    bail!(
        "no FER+ {name} folder under {}: expected {}/label.csv and its PNGs",
        data.display(),
        data.join("ferplus").join(name).display()
    )
}

/// Parse one `label.csv` row: `file,"(x, y, w, h)",v0,…,v9`.
fn parse_row(line: &str) -> Result<(String, [u32; 10])> {
    let (file, rest) = line.split_once(',').context("no comma")?;
    let rest = rest.trim_start();
    let rest = match rest.strip_prefix('"') {
        Some(quoted) => {
            let end = quoted.find('"').context("unterminated quoted face box")?;
            quoted[end + 1..]
                .strip_prefix(',')
                .context("no votes after the face box")?
        }
        None => rest.split_once(',').context("no votes after the face box")?.1,
    };
    let fields: Vec<&str> = rest.split(',').map(str::trim).collect();
    if fields.len() != 10 {
        bail!("{} vote columns instead of 10", fields.len());
    }
    let mut votes = [0u32; 10];
    for (v, f) in votes.iter_mut().zip(&fields) {
        *v = f.parse().with_context(|| format!("vote `{f}` is not a count"))?;
    }
    let file = file.trim();
    if file.is_empty() || file.contains('/') || file.contains('\\') {
        bail!("file name `{file}` is not a plain name");
    }
    Ok((file.to_owned(), votes))
}

/// Read a split folder's `label.csv` (PNG files are not opened here; [`load_face`] does).
pub fn read(dir: &Path) -> Result<Split> {
    let path = dir.join("label.csv");
    let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_LABEL_BYTES {
        bail!(
            "{} is {} MB: not a FER+ label file (at most {} MB)",
            path.display(),
            meta.len() >> 20,
            MAX_LABEL_BYTES >> 20
        );
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    let mut split = Split {
        dir: dir.to_path_buf(),
        ..Split::default()
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (i == 0 && line.to_ascii_lowercase().contains("neutral")) {
            continue;
        }
        let (file, votes) = parse_row(line).with_context(|| {
            format!(
                "{} line {}: not a FER+ row (file,\"(x, y, w, h)\",10 vote counts): `{}`",
                path.display(),
                i + 1,
                line.chars().take(80).collect::<String>()
            )
        })?;
        match majority(&votes) {
            Ok(label) => split.faces.push(Face {
                file: dir.join(file),
                votes,
                label,
            }),
            Err(true) => split.ties += 1,
            Err(false) => split.other += 1,
        }
    }
    if split.faces.is_empty() {
        bail!("{} has no face with a majority label in MELD's classes", path.display());
    }
    Ok(split)
}

/// A face image as a grey crop (colour images are converted with ITU-R 601 luma, as the
/// pipeline's crops are).
pub fn load_face(path: &Path) -> Result<GrayImage> {
    let img = image::open(path).with_context(|| format!("cannot read the face image {}", path.display()))?;
    Ok(img.to_luma8())
}

/// How a face reaches the encoder in an evaluation.
pub enum Crop<'a> {
    /// The PNG as it is (FER+'s own tight crop).
    Given,
    /// The pipeline's path: the face, upscaled ×3 onto a canvas with a border (video frames
    /// show faces with surroundings), detected by MTCNN, cropped at its box and grey-converted
    /// exactly as [`crate::features::visual`] does.
    Mtcnn(&'a Mtcnn),
}

/// An expression encoder's scores on a split, and how many faces each crop path lost.
#[derive(Debug, serde::Serialize)]
pub struct ExpressionEval {
    pub report: Report,
    /// Faces in the split with a MELD-class majority.
    pub faces: usize,
    /// Of those, faces MTCNN found no face in (left out of `report`).
    pub undetected: usize,
    /// Images that could not be read (missing, not an image; left out of `report`).
    pub unreadable: Vec<String>,
}

const UPSCALE: u32 = 3;
const BORDER: u32 = 48;

/// The face as a video frame would show it: ×3, on a mid-grey canvas with a border.
fn in_a_frame(face: &GrayImage) -> image::RgbImage {
    let big = image::imageops::resize(
        face,
        face.width() * UPSCALE,
        face.height() * UPSCALE,
        image::imageops::FilterType::Triangle,
    );
    let (w, h) = (big.width() + 2 * BORDER, big.height() + 2 * BORDER);
    let mut canvas = image::RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128]));
    for (x, y, p) in big.enumerate_pixels() {
        canvas.put_pixel(x + BORDER, y + BORDER, image::Rgb([p[0]; 3]));
    }
    canvas
}

/// Evaluate `encoder` on `split`'s majority labels (accuracy, weighted F1, per class,
/// confusion matrix), reading each face through `crop`.
pub fn evaluate(encoder: &ExpressionEncoder, split: &Split, crop: &Crop) -> Result<ExpressionEval> {
    let mut pairs = Vec::with_capacity(split.faces.len());
    let (mut undetected, mut unreadable) = (0, Vec::new());
    for chunk in split.faces.chunks(256) {
        let mut crops = Vec::with_capacity(chunk.len());
        let mut truths = Vec::with_capacity(chunk.len());
        for face in chunk {
            let img = match load_face(&face.file) {
                Ok(img) => img,
                Err(e) => {
                    unreadable.push(format!("{e:#}"));
                    continue;
                }
            };
            let img = match crop {
                Crop::Given => img,
                Crop::Mtcnn(detector) => {
                    let frame = in_a_frame(&img);
                    let faces = detector.detect(&frame)?;
                    match face_split::speaker_face(&faces, None)
                        .and_then(|i| face_split::gray_crop(&frame, &faces[i], crate::features::expression::SIZE))
                    {
                        Some(c) => c,
                        None => {
                            undetected += 1;
                            continue;
                        }
                    }
                }
            };
            crops.push(img);
            truths.push(face.label.index());
        }
        for (scores, truth) in encoder.probs(&crops)?.iter().zip(truths) {
            pairs.push((truth, meld_label(scores).index()));
        }
    }
    if pairs.is_empty() {
        bail!(
            "none of the {} faces of {} could be read or detected{}",
            split.faces.len(),
            split.dir.display(),
            unreadable.first().map(|e| format!(" (first: {e})")).unwrap_or_default()
        );
    }
    Ok(ExpressionEval {
        report: metrics::evaluate(&pairs),
        faces: split.faces.len(),
        undetected,
        unreadable,
    })
}

/// A split as visual-only training utterances: each face as one keyframe through the
/// expression encoder into the face row the pipeline builds (`[1, 263]`: the 256-d feature
/// and the seven probabilities, see [`crate::features::visual`]; the encoder already
/// averages each face with its mirror image);
/// no back frames, no text, no audio. Features are cached, keyed by `label.csv` and the
/// encoder; images that cannot be read are left out with a warning.
pub fn corpus(
    store: &crate::manifest::ModelStore,
    encoder: &ExpressionEncoder,
    split: &Split,
    which: &str,
) -> Result<super::data::Corpus> {
    use sha2::{Digest, Sha256};
    let mut faces = Vec::with_capacity(split.faces.len());
    let mut unreadable = 0usize;
    for f in &split.faces {
        match load_face(&f.file) {
            Ok(img) => faces.push((f, img)),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        eprintln!(
            "warning: {unreadable} FER+ images of {} could not be read: left out",
            split.dir.display()
        );
    }
    let mut h = Sha256::new();
    for (f, img) in &faces {
        h.update(
            f.file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        h.update(f.label.index().to_le_bytes());
        h.update(img.as_raw());
    }
    h.update(super::data::store_key(store, &[crate::features::expression::SHIPPED]));
    h.update(b"one row per face");
    let key = hex::encode(h.finalize());
    let rows = super::data::cached(&format!("ferplus-{which}-face"), &key, faces.len(), || {
        let pb = super::data::bar(faces.len(), "expression");
        let mut out = Vec::with_capacity(faces.len());
        for chunk in faces.chunks(256) {
            let crops: Vec<GrayImage> = chunk.iter().map(|(_, img)| img.clone()).collect();
            let e = encoder.encode(&crops)?;
            let rows = tch::Tensor::cat(&[e.features, e.probs], 1);
            for i in 0..chunk.len() as i64 {
                out.push(rows.narrow(0, i, 1).copy());
            }
            pb.inc(chunk.len() as u64);
        }
        pb.finish_and_clear();
        Ok(out)
    })?;
    let dialogues = faces
        .iter()
        .zip(rows)
        .map(|((f, _), face)| {
            vec![crate::model::batch::UtteranceInput {
                text: None,
                audio: None,
                face: Some(face),
                back: None,
                speaker: None,
                label: Some(f.label.index() as i64),
            }]
        })
        .collect();
    Ok(super::data::Corpus {
        name: format!("FER+ {which}"),
        dialogues,
        copies: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_is_the_unique_top_vote_in_meld_classes() {
        assert_eq!(majority(&[7, 0, 0, 0, 2, 0, 0, 1, 0, 0]), Ok(Emotion::Neutral));
        assert_eq!(majority(&[0, 6, 4, 0, 0, 0, 0, 0, 0, 0]), Ok(Emotion::Joy));
        assert_eq!(majority(&[1, 0, 0, 1, 0, 2, 0, 6, 0, 0]), Err(false), "contempt");
        assert_eq!(majority(&[4, 0, 0, 0, 1, 0, 0, 4, 1, 0]), Err(true), "tie");
        assert_eq!(majority(&[0; 10]), Err(true), "no votes");
    }

    #[test]
    fn rows_parse_with_and_without_the_quoted_box() {
        let (f, v) = parse_row(r#"fer0028638.png,"(0, 0, 48, 48)",4,0,0,0,1,0,0,4,1,0"#).unwrap();
        assert_eq!(f, "fer0028638.png");
        assert_eq!(v, [4, 0, 0, 0, 1, 0, 0, 4, 1, 0]);
        assert_eq!(parse_row("a.png,box,0,0,0,0,0,0,0,0,0,10").unwrap().1[9], 10);
        for bad in [
            "a.png",
            r#"a.png,"(0, 0, 48, 48),1,2"#,
            r#"a.png,"(0, 0, 48, 48)",1,2,3"#,
            r#"a.png,"(0, 0, 48, 48)",1,2,3,4,5,6,7,8,9,x"#,
            r#"../a.png,"(0, 0, 48, 48)",1,0,0,0,0,0,0,0,0,0"#,
        ] {
            assert!(parse_row(bad).is_err(), "{bad}");
        }
    }
}
