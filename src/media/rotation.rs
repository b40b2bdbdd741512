//! Phone videos are often stored sideways with a display matrix saying how to turn them
//! (the "rotate" tag of older tools). Players apply it, so must we: a face lying on its side
//! is not found by MTCNN, and the viewer would show the keyframes sideways.
//!
//! The angle is read the way the ffmpeg CLI does (`-autorotate`, on by default): the
//! display matrix's rotation, negated and normalised, rounded to a quarter turn.

use ffmpeg_next as ff;
use image::{imageops, RgbImage};

/// Clockwise quarter turns (0–3) that make a stream's frames upright.
pub fn quarter_turns(stream: &ff::format::stream::Stream) -> u8 {
    for side in stream.side_data() {
        if side.kind() == ff::codec::packet::side_data::Type::DisplayMatrix && side.data().len() >= 36 {
            let mut m = [0i32; 9];
            for (i, v) in m.iter_mut().enumerate() {
                *v = i32::from_ne_bytes(side.data()[i * 4..i * 4 + 4].try_into().unwrap_or_default());
            }
            // SAFETY: `m` holds the nine i32 of the matrix, all the function reads.
            let degrees = unsafe { ff::ffi::av_display_rotation_get(m.as_ptr()) };
            return turns_from_degrees(-degrees);
        }
    }
    0
}

/// A clockwise angle in degrees to quarter turns (NaN, from a degenerate matrix, is 0).
fn turns_from_degrees(clockwise: f64) -> u8 {
    if !clockwise.is_finite() {
        return 0;
    }
    ((clockwise / 90.0).round() as i64).rem_euclid(4) as u8
}

/// Turn an image clockwise by `turns` quarter turns.
pub fn apply(image: RgbImage, turns: u8) -> RgbImage {
    match turns % 4 {
        1 => imageops::rotate90(&image),
        2 => imageops::rotate180(&image),
        3 => imageops::rotate270(&image),
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angles_round_to_quarter_turns() {
        assert_eq!(turns_from_degrees(90.0), 1);
        assert_eq!(turns_from_degrees(-90.0), 3);
        assert_eq!(turns_from_degrees(179.6), 2);
        assert_eq!(turns_from_degrees(-0.0), 0);
        assert_eq!(turns_from_degrees(f64::NAN), 0);
        let img = RgbImage::new(4, 2);
        assert_eq!(apply(img.clone(), 1).dimensions(), (2, 4));
        assert_eq!(apply(img, 2).dimensions(), (4, 2));
    }
}
