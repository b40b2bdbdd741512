//! Decoding with FFmpeg in-process (ffmpeg-next): probing, audio spans, frames at times.
//!
//! In-process decoding is ~10x faster than spawning the ffmpeg CLI per frame and gives
//! accurate seeking. Audio is converted by libswresample to f32 at the target rate with the
//! source's own channel layout, then averaged to mono here: FFmpeg's own stereo→mono
//! downmix is (L+R)/√2, which would change loudness-sensitive features.
//! FFmpeg's console logging is silenced; every failure becomes a [`MediaError`] that says
//! what is wrong with the file.

mod audio;
pub mod audio_track;
mod video;

use std::path::{Path, PathBuf};
use std::sync::Once;

pub use audio::{audio, resample_mono};
pub use video::{frames_at, FrameStream};

use ff::format::context::Input;
use ff::media::Type;
use ffmpeg_next as ff;
use image::RgbImage;

/// What is wrong with a media file, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{0}: no such file")]
    NotFound(PathBuf),
    #[error("{path}: not a readable video or audio file ({reason}); is it complete, and in a format FFmpeg knows (mp4, mkv, avi, flv, webm)?")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{0}: has no video stream (audio-only file); the face and background cues will be missing")]
    NoVideo(PathBuf),
    #[error("{0}: has no audio stream; the voice cues will be missing")]
    NoAudio(PathBuf),
    #[error("{path}: decoding failed at {at:.2}s ({reason}); the file may be truncated or corrupt")]
    Decode { path: PathBuf, at: f64, reason: String },
}

/// Stream facts of a media file.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    pub path: PathBuf,
    /// Seconds (container duration, else the longest stream).
    pub duration: f64,
    pub video: Option<VideoInfo>,
    pub audio: Option<AudioInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Display size: after the rotation of phone videos (see [`super::rotation`]).
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub codec: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: u16,
    pub codec: String,
}

/// A decoded video frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Presentation time in seconds.
    pub time: f64,
    pub image: RgbImage,
}

/// Initialise FFmpeg once and silence its logging.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Quiet);
    });
}

pub(super) fn open(path: &Path) -> Result<Input, MediaError> {
    init();
    if let Err(e) = std::fs::metadata(path) {
        // ELOOP: `a -> b -> a` is not "no such file".
        if e.raw_os_error() == Some(libc::ELOOP) {
            return Err(MediaError::Unreadable {
                path: path.to_path_buf(),
                reason: "symbolic link loop: the link points back at itself; link the real file instead".into(),
            });
        }
        return Err(MediaError::NotFound(path.to_path_buf()));
    }
    ff::format::input(&path).map_err(|e| MediaError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

pub(super) fn seconds(ts: i64, tb: ff::Rational) -> f64 {
    ts as f64 * f64::from(tb.numerator()) / f64::from(tb.denominator().max(1))
}

/// Probe a file's streams and duration without decoding.
pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    let ictx = open(path)?;
    let mut duration = if ictx.duration() > 0 {
        ictx.duration() as f64 / f64::from(ff::ffi::AV_TIME_BASE)
    } else {
        0.0
    };
    let codec_name = |p: ff::codec::Parameters| {
        ff::codec::decoder::find(p.id())
            .map(|c| c.name().to_owned())
            .unwrap_or_else(|| format!("{:?}", p.id()))
    };
    let video = ictx.streams().best(Type::Video).and_then(|s| {
        let ctx = ff::codec::context::Context::from_parameters(s.parameters()).ok()?;
        let dec = ctx.decoder().video().ok()?;
        let rate = s.avg_frame_rate();
        let fps = if rate.denominator() > 0 {
            f64::from(rate.numerator()) / f64::from(rate.denominator())
        } else {
            0.0
        };
        if s.duration() > 0 {
            duration = duration.max(seconds(s.duration(), s.time_base()));
        }
        let (width, height) = match super::rotation::quarter_turns(&s) % 2 {
            0 => (dec.width(), dec.height()),
            _ => (dec.height(), dec.width()),
        };
        Some(VideoInfo {
            width,
            height,
            fps,
            codec: codec_name(s.parameters()),
        })
    });
    let audio = ictx.streams().best(Type::Audio).and_then(|s| {
        let ctx = ff::codec::context::Context::from_parameters(s.parameters()).ok()?;
        let dec = ctx.decoder().audio().ok()?;
        if s.duration() > 0 {
            duration = duration.max(seconds(s.duration(), s.time_base()));
        }
        Some(AudioInfo {
            sample_rate: dec.rate(),
            channels: dec.channels(),
            codec: codec_name(s.parameters()),
        })
    });
    if video.is_none() && audio.is_none() {
        return Err(MediaError::Unreadable {
            path: path.to_path_buf(),
            reason: "no decodable audio or video stream".into(),
        });
    }
    Ok(MediaInfo {
        path: path.to_path_buf(),
        duration,
        video,
        audio,
    })
}

/// Presentation times of the video stream's key (I-)frames, read from packet flags
/// without decoding.
pub fn keyframe_times(path: &Path) -> Result<Vec<f64>, MediaError> {
    let mut ictx = open(path)?;
    let stream = ictx
        .streams()
        .best(Type::Video)
        .ok_or_else(|| MediaError::NoVideo(path.to_path_buf()))?;
    let (index, tb) = (stream.index(), stream.time_base());
    let mut times: Vec<f64> = ictx
        .packets()
        .filter(|(s, p)| s.index() == index && p.is_key())
        .filter_map(|(_, p)| p.pts().or(p.dts()).map(|ts| seconds(ts, tb)))
        .collect();
    times.sort_by(f64::total_cmp);
    Ok(times)
}
