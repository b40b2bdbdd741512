//! Which audio track to read when a file has several.
//!
//! FFmpeg's "best" audio stream is the default-flagged one, and files exist whose default
//! track is silent while the speech is on another (a muted default track before the real
//! one, a commentary-free dub): every prediction then heard silence, without a word said.
//! So when a file has more than one audio track, the first [`SCAN_SECONDS`] of each are
//! decoded, and the default one is kept unless it is near silent while another is not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ff::media::Type;
use ffmpeg_next as ff;

use super::audio::ToF32;
use super::{open, seconds, MediaError};

/// How much of each track is listened to.
pub const SCAN_SECONDS: f64 = 20.0;
/// Mean square below which a track counts as silent (−60 dBFS).
const SILENT: f64 = 1e-6;

/// The chosen track: its stream index, and a note when it is not FFmpeg's default.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub index: usize,
    pub note: Option<String>,
}

/// A file by path, size and modification time.
type FileId = (PathBuf, u64, u128);

/// Choices already made, by file (decoding asks per utterance).
static CHOSEN: Mutex<Option<HashMap<FileId, Option<Choice>>>> = Mutex::new(None);

/// The audio stream to read from `path` (`None`: it has no audio).
pub fn choose(path: &Path) -> Result<Option<Choice>, MediaError> {
    let id = std::fs::metadata(path).ok().map(|m| {
        let t = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        (path.to_path_buf(), m.len(), t.map_or(0, |d| d.as_nanos()))
    });
    if let Some(id) = &id {
        if let Some(c) = CHOSEN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashMap::new)
            .get(id)
        {
            return Ok(c.clone());
        }
    }
    let choice = scan(path)?;
    if let Some(id) = id {
        CHOSEN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashMap::new)
            .insert(id, choice.clone());
    }
    Ok(choice)
}

fn scan(path: &Path) -> Result<Option<Choice>, MediaError> {
    let mut ictx = open(path)?;
    let Some(best) = ictx.streams().best(Type::Audio).map(|s| s.index()) else {
        return Ok(None);
    };
    let tracks: Vec<(usize, ff::Rational)> = ictx
        .streams()
        .filter(|s| s.parameters().medium() == Type::Audio)
        .map(|s| (s.index(), s.time_base()))
        .collect();
    if tracks.len() < 2 {
        return Ok(Some(Choice {
            index: best,
            note: None,
        }));
    }
    let mut decoders = HashMap::new();
    for s in ictx.streams().filter(|s| s.parameters().medium() == Type::Audio) {
        if let Ok(d) = ff::codec::context::Context::from_parameters(s.parameters()).and_then(|c| c.decoder().audio()) {
            decoders.insert(s.index(), (d, None::<ToF32>, 0.0f64, 0usize));
        }
    }
    for (stream, packet) in ictx.packets() {
        let index = stream.index();
        let tb = stream.time_base();
        if packet.pts().is_some_and(|p| seconds(p, tb) > SCAN_SECONDS) {
            if decoders.values().all(|d| d.3 > 0) {
                break;
            }
            continue;
        }
        let Some((dec, conv, energy, n)) = decoders.get_mut(&index) else {
            continue;
        };
        if dec.send_packet(&packet).is_err() {
            continue;
        }
        let mut frame = ff::frame::Audio::empty();
        while dec.receive_frame(&mut frame).is_ok() {
            if conv.is_none() {
                *conv = ToF32::new(&frame).ok();
            }
            let mut mono = Vec::new();
            if let Some(c) = conv.as_mut() {
                let _ = c.push(&mut frame, &mut mono);
            }
            *energy += mono.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
            *n += mono.len();
        }
    }
    let loudness = |i: usize| decoders.get(&i).map_or(0.0, |d| d.2 / d.3.max(1) as f64);
    let loudest = tracks
        .iter()
        .map(|&(i, _)| i)
        .max_by(|&a, &b| loudness(a).total_cmp(&loudness(b)))
        .unwrap_or(best);
    let number = |i: usize| tracks.iter().position(|&(j, _)| j == i).map_or(0, |p| p + 1);
    if loudness(best) < SILENT && loudness(loudest) >= SILENT {
        return Ok(Some(Choice {
            index: loudest,
            note: Some(format!(
                "{} audio tracks: the default track {} is silent, so track {} (the one with sound) is used",
                tracks.len(),
                number(best),
                number(loudest)
            )),
        }));
    }
    Ok(Some(Choice {
        index: best,
        note: None,
    }))
}
