//! Face frames and back frames (Section III-A2), and the speaker's face crop.
//!
//! A *face frame* keeps only the pixels inside detected face boxes (black elsewhere); a
//! *back frame* is the keyframe with every face box filled with the mean colour of the
//! rest of the frame, so the scene encoder sees the environment and the audience but no
//! face. Boxes are clipped to the image; faces cut by the frame edge are handled.

use image::{imageops, GrayImage, Rgb, RgbImage};

use super::mtcnn::Face;

/// Integer pixel rectangle `[x0, y0, x1, y1)` of a face box, clipped to the image.
pub fn pixel_rect(face: &Face, width: u32, height: u32) -> Option<[u32; 4]> {
    let clamp = |v: f32, max: u32| v.round().clamp(0.0, max as f32) as u32;
    let r = [
        clamp(face.bbox[0], width),
        clamp(face.bbox[1], height),
        clamp(face.bbox[2], width),
        clamp(face.bbox[3], height),
    ];
    (r[2] > r[0] && r[3] > r[1]).then_some(r)
}

fn inside(r: &[u32; 4], x: u32, y: u32) -> bool {
    x >= r[0] && x < r[2] && y >= r[1] && y < r[3]
}

/// Only the face regions; everything else black.
pub fn face_frame(image: &RgbImage, faces: &[Face]) -> RgbImage {
    let rects: Vec<[u32; 4]> = faces
        .iter()
        .filter_map(|f| pixel_rect(f, image.width(), image.height()))
        .collect();
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        if rects.iter().any(|r| inside(r, x, y)) {
            *image.get_pixel(x, y)
        } else {
            Rgb([0, 0, 0])
        }
    })
}

/// The frame with every face removed (filled with the mean colour of the non-face pixels).
pub fn back_frame(image: &RgbImage, faces: &[Face]) -> RgbImage {
    let rects: Vec<[u32; 4]> = faces
        .iter()
        .filter_map(|f| pixel_rect(f, image.width(), image.height()))
        .collect();
    let mut sum = [0u64; 3];
    let mut count = 0u64;
    for (x, y, p) in image.enumerate_pixels() {
        if !rects.iter().any(|r| inside(r, x, y)) {
            for c in 0..3 {
                sum[c] += u64::from(p[c]);
            }
            count += 1;
        }
    }
    let mean = Rgb(sum.map(|c| c.checked_div(count).unwrap_or(0) as u8));
    let mut out = image.clone();
    for r in &rects {
        for y in r[1]..r[3] {
            for x in r[0]..r[2] {
                out.put_pixel(x, y, mean);
            }
        }
    }
    out
}

/// Which face is the speaker's: the one containing `pick` (a point a user clicked), else the
/// nearest to it; without a pick, the largest face.
pub fn speaker_face(faces: &[Face], pick: Option<[f32; 2]>) -> Option<usize> {
    if faces.is_empty() {
        return None;
    }
    match pick {
        None => (0..faces.len()).max_by(|&a, &b| faces[a].area().total_cmp(&faces[b].area())),
        Some([px, py]) => {
            let dist = |f: &Face| {
                let (cx, cy) = ((f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0);
                let contains = px >= f.bbox[0] && px <= f.bbox[2] && py >= f.bbox[1] && py <= f.bbox[3];
                (!contains, (cx - px).powi(2) + (cy - py).powi(2))
            };
            (0..faces.len()).min_by(|&a, &b| {
                dist(&faces[a])
                    .partial_cmp(&dist(&faces[b]))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
        }
    }
}

/// How the speaker's face is chosen among a keyframe's faces.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Pick {
    /// The largest face.
    #[default]
    Largest,
    /// The face containing this point (pixels of the frame, a user's click), else the
    /// nearest to it ([`speaker_face`]).
    Point([f32; 2]),
    /// The largest face whose centre lies in this horizontal span of the frame (fractions
    /// of its width, `[from, to)`): a recording where each speaker has a side of the frame
    /// (IEMOCAP's two actors). No face there is no face, never the other speaker's.
    Side([f32; 2]),
}

impl Pick {
    /// From the point a user picked, if any.
    pub fn point(pick: Option<[f32; 2]>) -> Self {
        pick.map_or(Self::Largest, Self::Point)
    }

    /// Index into `faces` of the speaker's face in a frame `width` pixels wide.
    pub fn choose(self, faces: &[Face], width: u32) -> Option<usize> {
        match self {
            Self::Largest => speaker_face(faces, None),
            Self::Point(p) => speaker_face(faces, Some(p)),
            Self::Side([from, to]) => {
                let inside = |f: &Face| {
                    let centre = (f.bbox[0] + f.bbox[2]) / 2.0 / width.max(1) as f32;
                    centre >= from && centre < to
                };
                (0..faces.len())
                    .filter(|&i| inside(&faces[i]))
                    .max_by(|&a, &b| faces[a].area().total_cmp(&faces[b].area()))
            }
        }
    }
}

/// The square the expression encoder reads: centred on the face box, as wide as the box is
/// tall (or as tall as it is wide), clipped to the image.
///
/// MTCNN's boxes are narrower than they are tall (on FER+ Valid faces drawn into a frame,
/// the box spans 0.80 of the FER+ crop's width and 1.04 of its height, centred), while FER+
/// crops, which the encoder was trained on, are square: resizing the box itself to 48×48
/// stretched faces sideways by 1.25× (PyEmotion's FER+ accuracy fell from 0.56 to 0.50).
pub fn expression_rect(face: &Face, width: u32, height: u32) -> Option<[u32; 4]> {
    let [x0, y0, x1, y1] = face.bbox;
    let side = (x1 - x0).max(y1 - y0);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let square = Face {
        bbox: [cx - side / 2.0, cy - side / 2.0, cx + side / 2.0, cy + side / 2.0],
        ..face.clone()
    };
    pixel_rect(&square, width, height)
}

/// The face as a gray crop of `size`x`size` (ITU-R 601 luma, as OpenCV/PIL), the
/// expression encoder's input: the [`expression_rect`] square, resized.
pub fn gray_crop(image: &RgbImage, face: &Face, size: u32) -> Option<GrayImage> {
    let r = expression_rect(face, image.width(), image.height())?;
    let crop = imageops::crop_imm(image, r[0], r[1], r[2] - r[0], r[3] - r[1]).to_image();
    let gray = GrayImage::from_fn(crop.width(), crop.height(), |x, y| {
        let p = crop.get_pixel(x, y);
        let l = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
        image::Luma([l.round().clamp(0.0, 255.0) as u8])
    });
    Some(imageops::resize(&gray, size, size, imageops::FilterType::Triangle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(b: [f32; 4]) -> Face {
        Face {
            bbox: b,
            prob: 0.99,
            landmarks: [[0.0; 2]; 5],
        }
    }

    fn test_image() -> RgbImage {
        RgbImage::from_fn(40, 30, |x, y| Rgb([(x * 5) as u8, (y * 7) as u8, 200]))
    }

    #[test]
    fn face_frame_keeps_only_face_pixels_and_back_frame_removes_them() {
        let img = test_image();
        let faces = [face([10.0, 5.0, 20.0, 15.0]), face([35.0, 20.0, 60.0, 45.0])]; // second cut by the edge
        let ff = face_frame(&img, &faces);
        let bf = back_frame(&img, &faces);
        for (x, y, p) in img.enumerate_pixels() {
            let in_face =
                (10..20).contains(&x) && (5..15).contains(&y) || (35..40).contains(&x) && (20..30).contains(&y);
            if in_face {
                assert_eq!(ff.get_pixel(x, y), p, "face pixel kept at {x},{y}");
                assert_eq!(
                    bf.get_pixel(x, y),
                    bf.get_pixel(12, 7),
                    "face filled uniformly at {x},{y}"
                );
            } else {
                assert_eq!(ff.get_pixel(x, y), &Rgb([0, 0, 0]), "background blacked at {x},{y}");
                assert_eq!(bf.get_pixel(x, y), p, "background kept at {x},{y}");
            }
        }
        assert_ne!(bf.get_pixel(12, 7), img.get_pixel(12, 7));
    }

    #[test]
    fn speaker_is_the_largest_or_the_picked_face() {
        let faces = [face([0.0, 0.0, 10.0, 10.0]), face([20.0, 0.0, 40.0, 20.0])];
        assert_eq!(speaker_face(&faces, None), Some(1));
        assert_eq!(speaker_face(&faces, Some([5.0, 5.0])), Some(0));
        assert_eq!(speaker_face(&faces, Some([100.0, 5.0])), Some(1));
        assert_eq!(speaker_face(&[], None), None);
        assert_eq!(Pick::point(None).choose(&faces, 100), Some(1));
        assert_eq!(Pick::point(Some([5.0, 5.0])).choose(&faces, 100), Some(0));
    }

    #[test]
    fn a_side_pick_takes_the_largest_face_on_that_side_or_none() {
        // Frame 200 wide: a small face on the left, a large one on the right.
        let faces = [face([10.0, 0.0, 30.0, 20.0]), face([120.0, 0.0, 180.0, 60.0])];
        assert_eq!(Pick::Side([0.0, 0.5]).choose(&faces, 200), Some(0));
        assert_eq!(Pick::Side([0.5, 1.0]).choose(&faces, 200), Some(1));
        // Only the right-hand face: the left-hand speaker has none (not the other's).
        assert_eq!(Pick::Side([0.0, 0.5]).choose(&faces[1..], 200), None);
        assert_eq!(Pick::Side([0.0, 0.5]).choose(&[], 200), None);
    }

    #[test]
    fn the_expression_crop_is_a_square_around_the_box() {
        // A box 20 wide and 30 tall centred at (50, 40): a 30×30 square.
        assert_eq!(
            expression_rect(&face([40.0, 25.0, 60.0, 55.0]), 100, 100),
            Some([35, 25, 65, 55])
        );
        // Near the edge it is clipped, not shifted.
        assert_eq!(
            expression_rect(&face([0.0, 0.0, 10.0, 30.0]), 100, 100),
            Some([0, 0, 20, 30])
        );
    }

    #[test]
    fn gray_crop_has_the_requested_size() {
        let g = gray_crop(&test_image(), &face([-5.0, -5.0, 20.0, 20.0]), 48).unwrap();
        assert_eq!(g.dimensions(), (48, 48));
        assert!(gray_crop(&test_image(), &face([50.0, 50.0, 60.0, 60.0]), 48).is_none());
    }
}
