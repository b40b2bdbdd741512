//! Decoding with FFmpeg in-process (ffmpeg-next): probing, audio spans, frames at times.
//!
//! In-process decoding is ~10x faster than spawning the ffmpeg CLI per frame and gives
//! accurate seeking. Audio is converted by libswresample to f32 at the target rate with the
//! source's own channel layout, then averaged to mono here: FFmpeg's own stereo→mono
//! downmix is (L+R)/√2, which would change loudness-sensitive features.
//! FFmpeg's console logging is silenced; every failure becomes a [`MediaError`] that says
//! what is wrong with the file.

use std::path::{Path, PathBuf};
use std::sync::Once;

use ff::format::{context::Input, Pixel, Sample};
use ff::media::Type;
use ff::software::scaling::{context::Context as Scaler, flag::Flags};
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

fn open(path: &Path) -> Result<Input, MediaError> {
    init();
    if !path.exists() {
        return Err(MediaError::NotFound(path.to_path_buf()));
    }
    ff::format::input(&path).map_err(|e| MediaError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn seconds(ts: i64, tb: ff::Rational) -> f64 {
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

/// libswresample converting one source format to packed f32 at the same rate (channels
/// kept; they are averaged to mono by [`push_mono`]).
struct ToF32 {
    ctx: ff::software::resampling::Context,
    channels: usize,
    layout: ff::ChannelLayout,
}

impl ToF32 {
    fn new(frame: &ff::frame::Audio) -> Result<Self, ff::Error> {
        let channels = usize::from(frame.channels().max(1));
        let mut layout = frame.channel_layout();
        if layout.channels() <= 0 {
            layout = ff::ChannelLayout::default(channels as i32);
        }
        let ctx = ff::software::resampling::Context::get(
            frame.format(),
            layout,
            frame.rate(),
            F32_PACKED,
            layout,
            frame.rate(),
        )?;
        Ok(Self { ctx, channels, layout })
    }

    fn push(&mut self, frame: &mut ff::frame::Audio, out: &mut Vec<f32>) -> Result<(), ff::Error> {
        // Some decoders (PCM in WAV) leave the layout unset; libswresample then sees an
        // "Input changed" against the layout it was built with.
        if frame.channel_layout().channels() <= 0 {
            frame.set_channel_layout(self.layout);
        }
        let mut converted = ff::frame::Audio::new(F32_PACKED, frame.samples() + 64, self.ctx.output().channel_layout);
        self.ctx.run(frame, &mut converted)?;
        push_mono(&converted, self.channels, out);
        Ok(())
    }
}

const F32_PACKED: Sample = Sample::F32(ff::format::sample::Type::Packed);

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Resample mono f32 from `src` to `dst` Hz with libswresample.
fn resample_mono(x: &[f32], src: u32, dst: u32) -> Result<Vec<f32>, ff::Error> {
    if src == dst || x.is_empty() {
        return Ok(x.to_vec());
    }
    let mono = ff::ChannelLayout::MONO;
    let mut ctx = ff::software::resampling::Context::get(F32_PACKED, mono, src, F32_PACKED, mono, dst)?;
    let mut out = Vec::with_capacity(x.len() * dst as usize / src as usize + 64);
    for chunk in x.chunks(8192) {
        let mut input = ff::frame::Audio::new(F32_PACKED, chunk.len(), mono);
        input.set_rate(src);
        input.plane_mut::<f32>(0)[..chunk.len()].copy_from_slice(chunk);
        let mut converted = ff::frame::Audio::new(F32_PACKED, chunk.len() * dst as usize / src as usize + 256, mono);
        ctx.run(&input, &mut converted)?;
        push_mono(&converted, 1, &mut out);
    }
    loop {
        let mut converted = ff::frame::Audio::new(F32_PACKED, 4096, mono);
        match ctx.flush(&mut converted) {
            Ok(_) if converted.samples() > 0 => push_mono(&converted, 1, &mut out),
            _ => break,
        }
    }
    Ok(out)
}

/// Mono audio of `[start, end)` seconds at `rate` Hz (the mean of the channels).
/// `end = f64::INFINITY` reads to the end of the stream. Damaged packets are skipped.
///
/// Only the span (plus half a second before it) is decoded. Resampling starts on a sample
/// that lies on both the source and the target grid, so a span decoded after a seek has
/// exactly the samples of the same span in a decode of the whole file.
pub fn audio(path: &Path, start: f64, end: f64, rate: u32) -> Result<Vec<f32>, MediaError> {
    let mut ictx = open(path)?;
    let stream = ictx
        .streams()
        .best(Type::Audio)
        .ok_or_else(|| MediaError::NoAudio(path.to_path_buf()))?;
    let (index, tb) = (stream.index(), stream.time_base());
    let fail = |at: f64, e: ff::Error| MediaError::Decode {
        path: path.to_path_buf(),
        at,
        reason: e.to_string(),
    };
    let ctx = ff::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| fail(0.0, e))?;
    let mut decoder = ctx.decoder().audio().map_err(|e| fail(0.0, e))?;
    if start > 1.0 {
        let ts = ((start - 1.0) * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
        let _ = ictx.seek(ts, ..ts);
    }
    // Native-rate mono samples and the global index (at the native rate) of the first one.
    let mut native: Vec<f32> = Vec::new();
    let mut first: Option<(i64, u32)> = None;
    let mut conv: Option<ToF32> = None;
    let mut eof = false;
    loop {
        let mut frame = ff::frame::Audio::empty();
        if decoder.receive_frame(&mut frame).is_ok() {
            let sr = frame.rate().max(1);
            let t = frame.pts().map(|p| seconds(p, tb));
            let (n0, sr0) = *first.get_or_insert(((t.unwrap_or(0.0) * f64::from(sr)).round() as i64, sr));
            let now = (n0 + native.len() as i64) as f64 / f64::from(sr0);
            if now > end + 0.1 {
                break;
            }
            if conv.is_none() {
                conv = Some(ToF32::new(&frame).map_err(|e| fail(now, e))?);
            }
            conv.as_mut()
                .expect("set above")
                .push(&mut frame, &mut native)
                .map_err(|e| fail(now, e))?;
            continue;
        }
        if eof {
            break;
        }
        match ictx.packets().find(|(s, _)| s.index() == index) {
            Some((_, packet)) => {
                let _ = decoder.send_packet(&packet);
            }
            None => {
                let _ = decoder.send_eof();
                eof = true;
            }
        }
    }
    let Some((n0, sr)) = first else { return Ok(Vec::new()) };
    // Start resampling on a common grid point at or after n0 and before the span.
    let period = i64::from(sr) / gcd(u64::from(sr), u64::from(rate)) as i64;
    let want = ((start - 0.05) * f64::from(sr)).floor() as i64;
    let mut b = want.div_euclid(period) * period;
    if b < n0 {
        b = n0.div_euclid(period) * period + if n0.rem_euclid(period) == 0 { 0 } else { period };
    }
    let offset = (b - n0).clamp(0, native.len() as i64) as usize;
    let resampled = resample_mono(&native[offset..], sr, rate).map_err(|e| fail(start, e))?;
    // Output sample j is at global time (b / sr) + j / rate.
    let out_start = (b as f64 / f64::from(sr) * f64::from(rate)).round() as i64;
    let j_start = (start * f64::from(rate)).round() as i64;
    let skip = (j_start - out_start).clamp(0, resampled.len() as i64) as usize;
    let mut samples = resampled[skip..].to_vec();
    if end.is_finite() {
        samples.truncate(((end - start) * f64::from(rate)).round().max(0.0) as usize);
    }
    Ok(samples)
}

fn push_mono(frame: &ff::frame::Audio, channels: usize, out: &mut Vec<f32>) {
    let n = frame.samples();
    let data: &[f32] = bytemuck_f32(frame.data(0));
    let scale = 1.0 / channels as f32;
    out.reserve(n);
    for i in 0..n.min(data.len() / channels) {
        out.push(data[i * channels..(i + 1) * channels].iter().sum::<f32>() * scale);
    }
}

fn bytemuck_f32(bytes: &[u8]) -> &[f32] {
    // SAFETY: FFmpeg frame buffers are at least 16-byte aligned and hold packed f32 here.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), bytes.len() / 4) }
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

/// Sequential video decoding with seeking: one frame at a time, with its time.
struct VideoReader {
    ictx: Input,
    index: usize,
    tb: ff::Rational,
    decoder: ff::decoder::Video,
    eof: bool,
    path: PathBuf,
    /// Clockwise quarter turns that make frames upright.
    turns: u8,
}

impl VideoReader {
    fn open(path: &Path) -> Result<Self, MediaError> {
        let ictx = open(path)?;
        let stream = ictx
            .streams()
            .best(Type::Video)
            .ok_or_else(|| MediaError::NoVideo(path.to_path_buf()))?;
        let (index, tb) = (stream.index(), stream.time_base());
        let turns = super::rotation::quarter_turns(&stream);
        let unreadable = |e: ff::Error| MediaError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let ctx = ff::codec::context::Context::from_parameters(stream.parameters()).map_err(unreadable)?;
        let decoder = ctx.decoder().video().map_err(unreadable)?;
        if decoder.width() == 0 || decoder.height() == 0 {
            return Err(MediaError::Unreadable {
                path: path.to_path_buf(),
                reason: "video stream has no frame size".into(),
            });
        }
        Ok(Self {
            ictx,
            index,
            tb,
            decoder,
            eof: false,
            path: path.to_path_buf(),
            turns,
        })
    }

    /// Seek to the key frame at or before `t` seconds.
    fn seek(&mut self, t: f64) {
        let ts = (t.max(0.0) * f64::from(ff::ffi::AV_TIME_BASE)) as i64;
        if self.ictx.seek(ts, ..ts).is_ok() {
            self.decoder.flush();
            self.eof = false;
        }
    }

    /// The next decoded frame and its presentation time; `None` at the end of the stream.
    /// Damaged packets are skipped, as players do.
    fn next(&mut self) -> Option<(f64, ff::frame::Video)> {
        loop {
            let mut frame = ff::frame::Video::empty();
            if self.decoder.receive_frame(&mut frame).is_ok() {
                let t = frame
                    .timestamp()
                    .or(frame.pts())
                    .map(|p| seconds(p, self.tb))
                    .unwrap_or(0.0);
                return Some((t, frame));
            }
            if self.eof {
                return None;
            }
            let index = self.index;
            match self.ictx.packets().find(|(s, _)| s.index() == index) {
                Some((_, packet)) => {
                    let _ = self.decoder.send_packet(&packet);
                }
                None => {
                    let _ = self.decoder.send_eof();
                    self.eof = true;
                }
            }
        }
    }
}

/// Converts decoded frames to RGB images of a fixed output size.
struct ToRgb {
    scaler: Option<(Scaler, (Pixel, u32, u32))>,
    max_side: u32,
}

impl ToRgb {
    fn convert(&mut self, frame: &ff::frame::Video) -> Result<RgbImage, ff::Error> {
        let key = (frame.format(), frame.width(), frame.height());
        if self.scaler.as_ref().is_none_or(|(_, k)| *k != key) {
            let (ow, oh) = fit(key.1, key.2, self.max_side);
            self.scaler = Some((
                Scaler::get(key.0, key.1, key.2, Pixel::RGB24, ow, oh, Flags::BILINEAR)?,
                key,
            ));
        }
        let mut rgb = ff::frame::Video::empty();
        self.scaler.as_mut().expect("set above").0.run(frame, &mut rgb)?;
        Ok(frame_to_image(&rgb))
    }
}

/// Decode the frames shown at each of `times` (seconds, any order), scaled so that the
/// longer side is at most `max_side` pixels (0 = original size); returned in the order of
/// `times`. The frame shown at `t` is the last one whose time is ≤ `t`; a time past the
/// end gets the last frame. Seeks when the next time is far ahead.
pub fn frames_at(path: &Path, times: &[f64], max_side: u32) -> Result<Vec<Frame>, MediaError> {
    let mut reader = VideoReader::open(path)?;
    let mut rgb = ToRgb { scaler: None, max_side };
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
    let mut result: Vec<Option<Frame>> = vec![None; times.len()];
    let mut shown: Option<(f64, ff::frame::Video)> = None;
    let mut ahead: Option<(f64, ff::frame::Video)> = None;
    let mut last: Option<Frame> = None;
    let mut position = f64::NEG_INFINITY;
    for i in order {
        let target = times[i];
        if target < position - 1e-6 || target - position > 3.0 {
            reader.seek(target);
            shown = None;
            ahead = None;
        }
        loop {
            if ahead.is_none() {
                ahead = reader.next();
                if ahead.is_none() {
                    break;
                }
            }
            if ahead.as_ref().is_some_and(|(t, _)| *t <= target + 1e-3) {
                shown = ahead.take();
            } else {
                break;
            }
        }
        let Some((t, frame)) = shown.as_ref().or(ahead.as_ref()) else {
            result[i] = last.clone();
            continue;
        };
        position = *t;
        let image = rgb.convert(frame).map_err(|e| MediaError::Decode {
            path: reader.path.clone(),
            at: *t,
            reason: e.to_string(),
        })?;
        let image = super::rotation::apply(image, reader.turns);
        let f = Frame { time: *t, image };
        last = Some(f.clone());
        result[i] = Some(f);
    }
    let fallback = last.clone();
    result
        .into_iter()
        .map(|f| f.or_else(|| fallback.clone()))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| MediaError::Decode {
            path: path.to_path_buf(),
            at: 0.0,
            reason: "no video frame could be decoded".into(),
        })
}

/// Output size with the longer side at most `max_side` (even dimensions, at least 2).
fn fit(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    if max_side == 0 || w.max(h) <= max_side {
        return (w, h);
    }
    let s = f64::from(max_side) / f64::from(w.max(h));
    let even = |x: f64| ((x.round() as u32) / 2 * 2).max(2);
    (even(f64::from(w) * s), even(f64::from(h) * s))
}

fn frame_to_image(rgb: &ff::frame::Video) -> RgbImage {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let stride = rgb.stride(0);
    let data = rgb.data(0);
    let mut buf = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        buf.extend_from_slice(&data[y * stride..y * stride + w * 3]);
    }
    RgbImage::from_raw(w as u32, h as u32, buf).expect("buffer sized to w*h*3")
}
