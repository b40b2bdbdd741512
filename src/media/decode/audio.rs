//! Audio spans: decoded, converted to f32 by libswresample with the source's own channel
//! layout, averaged to mono here (FFmpeg's stereo→mono downmix is (L+R)/√2, which would
//! change loudness-sensitive features), and resampled on a grid-aligned start.

use std::path::Path;

use ff::format::Sample;
use ffmpeg_next as ff;

use super::{open, seconds, MediaError};

/// libswresample converting one source format to packed f32 at the same rate (channels
/// kept; they are averaged to mono by [`push_mono`]).
pub(super) struct ToF32 {
    ctx: ff::software::resampling::Context,
    channels: usize,
    layout: ff::ChannelLayout,
}

impl ToF32 {
    pub(super) fn new(frame: &ff::frame::Audio) -> Result<Self, ff::Error> {
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

    pub(super) fn push(&mut self, frame: &mut ff::frame::Audio, out: &mut Vec<f32>) -> Result<(), ff::Error> {
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
pub fn resample_mono(x: &[f32], src: u32, dst: u32) -> Result<Vec<f32>, ff::Error> {
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
    let track = super::audio_track::choose(path)?.ok_or_else(|| MediaError::NoAudio(path.to_path_buf()))?;
    let mut ictx = open(path)?;
    let stream = ictx
        .stream(track.index)
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
