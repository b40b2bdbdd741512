//! Facial regions as LIME features, placed where the paper's action units act.
//!
//! The paper explains faces by JAA-Net action units; no AU detector ships in a package
//! reachable offline, so the face crop is divided into the regions those AUs move, placed
//! from MTCNN's five landmarks (eyes, nose tip, mouth corners) and scaled by the distance
//! between the eyes. They are **regions, not detected AUs**: a green "mouth" says that the
//! mouth area supports the prediction, not that AU12 fired.
//!
//! Regions (first match wins, in this order): mouth, nose, eyes, brows, cheeks, rest of the
//! face. The geometry follows average face proportions (the brows sit about half an
//! eye-distance above the eyes, the mouth corners span about one eye-distance).

use super::image::Segments;

/// A region's name and the action units that act in it.
pub const REGIONS: [(&str, &str); 6] = [
    ("mouth", "AU12 AU14 AU15 AU16 AU20 AU23 AU24 (lip corners, lips)"),
    ("nose", "AU9 (nose wrinkler)"),
    ("eyes", "AU5 AU7 (lids)"),
    ("brows", "AU1 AU2 AU4 (brow raiser, lowerer)"),
    ("cheeks", "AU6 (cheek raiser)"),
    ("rest of the face", "forehead, chin, outline"),
];

/// Landmark order of MTCNN: left eye, right eye, nose, left mouth corner, right mouth corner.
pub type Landmarks = [[f32; 2]; 5];

/// The region label map of a `width × height` face crop whose landmarks (in crop pixels)
/// are `lm`. Every pixel gets one of the [`REGIONS`] indices.
pub fn segments(width: u32, height: u32, lm: &Landmarks) -> Segments {
    let [le, re, nose, ml, mr] = *lm;
    let d = ((re[0] - le[0]).powi(2) + (re[1] - le[1]).powi(2)).sqrt().max(2.0);
    let eye_y = (le[1] + re[1]) / 2.0;
    let mouth_y = (ml[1] + mr[1]) / 2.0;
    let (left, right) = (le[0].min(re[0]), le[0].max(re[0]));
    let region = |x: f32, y: f32| -> usize {
        let near_eye = |e: [f32; 2]| ((x - e[0]) / (0.38 * d)).powi(2) + ((y - e[1]) / (0.22 * d)).powi(2) <= 1.0;
        let mouth = x >= ml[0].min(mr[0]) - 0.2 * d
            && x <= ml[0].max(mr[0]) + 0.2 * d
            && y >= mouth_y - 0.28 * d
            && y <= mouth_y + 0.32 * d;
        let nose_r = (x - nose[0]).abs() <= 0.28 * d && y >= eye_y + 0.2 * d && y <= nose[1] + 0.18 * d;
        let brows = x >= left - 0.45 * d && x <= right + 0.45 * d && y >= eye_y - 0.75 * d && y < eye_y - 0.22 * d;
        let cheeks = x >= left - 0.5 * d && x <= right + 0.5 * d && y > eye_y + 0.22 * d && y < mouth_y - 0.1 * d;
        [mouth, nose_r, near_eye(le) || near_eye(re), brows, cheeks]
            .iter()
            .position(|&hit| hit)
            .unwrap_or(5)
    };
    let labels = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| region(x as f32 + 0.5, y as f32 + 0.5))
        .collect();
    // Every label 0..6 is a feature even if a region falls outside a tight crop: LIME then
    // sees a feature that changes nothing and gives it a zero weight.
    Segments {
        width,
        height,
        labels,
        count: REGIONS.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frontal face in a 100×120 crop.
    const LM: Landmarks = [[30.0, 45.0], [70.0, 45.0], [50.0, 68.0], [34.0, 88.0], [66.0, 88.0]];

    #[test]
    fn regions_sit_where_the_landmarks_say() {
        let s = segments(100, 120, &LM);
        let at = |x: u32, y: u32| REGIONS[s.label(x, y)].0;
        assert_eq!(at(30, 45), "eyes");
        assert_eq!(at(70, 45), "eyes");
        assert_eq!(at(50, 68), "nose");
        assert_eq!(at(50, 88), "mouth");
        assert_eq!(at(34, 88), "mouth");
        assert_eq!(at(30, 30), "brows");
        assert_eq!(at(22, 62), "cheeks");
        assert_eq!(at(50, 5), "rest of the face");
        assert_eq!(at(50, 115), "rest of the face");
        assert_eq!(s.labels.len(), 100 * 120);
        assert!(s.labels.iter().all(|&l| l < REGIONS.len()));
    }

    #[test]
    fn regions_scale_with_the_face() {
        let twice: Landmarks = LM.map(|p| [p[0] * 2.0, p[1] * 2.0]);
        let (a, b) = (segments(100, 120, &LM), segments(200, 240, &twice));
        let mut same = 0;
        for y in 0..120 {
            for x in 0..100 {
                same += usize::from(a.label(x, y) == b.label(2 * x, 2 * y));
            }
        }
        assert!(same as f64 > 0.97 * 12_000.0, "{same}");
    }
}
