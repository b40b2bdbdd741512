//! Video frames at given times: sequential decoding with seeking, scaled to RGB.

use std::path::{Path, PathBuf};

use ff::format::{context::Input, Pixel};
use ff::media::Type;
use ff::software::scaling::{context::Context as Scaler, flag::Flags};
use ffmpeg_next as ff;
use image::RgbImage;

use super::{open, seconds, Frame, MediaError};

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
        let turns = crate::media::rotation::quarter_turns(&stream);
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
        let image = crate::media::rotation::apply(image, reader.turns);
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

/// Frames in presentation order from a point on, one at a time, for playback: nothing but
/// the decoder's own buffers and one frame of look-ahead is held, so a long video plays in
/// constant memory.
pub struct FrameStream {
    reader: VideoReader,
    rgb: ToRgb,
    /// Decoded frames not yet returned (read while looking for a seek target).
    held: std::collections::VecDeque<(f64, ff::frame::Video)>,
}

impl FrameStream {
    /// Open the video stream, scaling frames so the longer side is at most `max_side`.
    pub fn open(path: &Path, max_side: u32) -> Result<Self, MediaError> {
        Ok(Self {
            reader: VideoReader::open(path)?,
            rgb: ToRgb { scaler: None, max_side },
            held: Default::default(),
        })
    }

    /// Go to `t` seconds: the next frame is the one on screen at `t` (the last at or before
    /// it; the first frame when `t` precedes it). Frames before it are decoded but not
    /// converted, so seeking costs at most one group of pictures of decoding.
    pub fn seek(&mut self, t: f64) {
        self.reader.seek(t);
        self.held.clear();
        while let Some((time, frame)) = self.reader.next() {
            if time > t + 1e-3 {
                self.held.push_back((time, frame));
                return;
            }
            // Only the last frame at or before `t` is kept.
            self.held.clear();
            self.held.push_back((time, frame));
        }
    }

    /// The next frame, upright; `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Option<Result<Frame, MediaError>> {
        let (time, frame) = self.held.pop_front().or_else(|| self.reader.next())?;
        let image = self.rgb.convert(&frame).map_err(|e| MediaError::Decode {
            path: self.reader.path.clone(),
            at: time,
            reason: e.to_string(),
        });
        Some(image.map(|image| Frame {
            time,
            image: crate::media::rotation::apply(image, self.reader.turns),
        }))
    }
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
