//! The Rust MTCNN matches facenet-pytorch's detector on real photos, and the face/back
//! frames of a real detection exclude/include exactly the face pixels.

use crate::common;

use amuse::media::faces::mtcnn::Mtcnn;
use amuse::media::faces::split;
use serde::Deserialize;
use tch::Device;

#[derive(Deserialize)]
struct Reference {
    images: Vec<RefImage>,
}

#[derive(Deserialize)]
struct RefImage {
    image: String,
    boxes: Vec<[f32; 4]>,
    probs: Vec<f32>,
    landmarks: Vec<[[f32; 2]; 5]>,
}

#[test]
fn boxes_landmarks_and_probabilities_match_facenet_pytorch() {
    let store = common::store();
    let mtcnn = Mtcnn::load(&store, Device::Cpu).unwrap();
    let golden = store.root().join("golden");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(golden.join("mtcnn_reference.json")).unwrap()).unwrap();
    assert!(
        reference.images.iter().any(|i| i.boxes.len() >= 3),
        "a multi-face image is covered"
    );
    for r in &reference.images {
        let img = image::open(golden.join(&r.image)).unwrap().to_rgb8();
        let faces = mtcnn.detect(&img).unwrap();
        assert_eq!(faces.len(), r.boxes.len(), "{}: number of faces", r.image);
        // Both sides list the largest face first.
        for (i, f) in faces.iter().enumerate() {
            let worst = f
                .bbox
                .iter()
                .zip(&r.boxes[i])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 2.0,
                "{} face {i}: box {:?} vs python {:?}",
                r.image,
                f.bbox,
                r.boxes[i]
            );
            let lm = f
                .landmarks
                .iter()
                .flatten()
                .zip(r.landmarks[i].iter().flatten())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(lm <= 2.0, "{} face {i}: landmarks off by {lm}", r.image);
            assert!(
                (f.prob - r.probs[i]).abs() < 1e-3,
                "{} face {i}: prob {} vs {}",
                r.image,
                f.prob,
                r.probs[i]
            );
            eprintln!(
                "{} face {i}: max box diff {worst:.3}px, landmark diff {lm:.3}px",
                r.image
            );
        }
    }
}

#[test]
fn no_faces_in_a_faceless_image() {
    let store = common::store();
    let mtcnn = Mtcnn::load(&store, Device::Cpu).unwrap();
    let sky = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([100 + (x / 4) as u8, 150, 200 - (y / 4) as u8])
    });
    assert!(mtcnn.detect(&sky).unwrap().is_empty());
    assert!(
        mtcnn.detect(&image::RgbImage::new(8, 8)).unwrap().is_empty(),
        "tiny images are fine"
    );
}

#[test]
fn face_and_back_frames_of_a_real_detection() {
    let store = common::store();
    let mtcnn = Mtcnn::load(&store, Device::Cpu).unwrap();
    let img = image::open(store.root().join("golden/mtcnn_astronaut.png"))
        .unwrap()
        .to_rgb8();
    let faces = mtcnn.detect(&img).unwrap();
    let rect = split::pixel_rect(&faces[0], img.width(), img.height()).unwrap();
    let (cx, cy) = ((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2);
    let face = split::face_frame(&img, &faces);
    let back = split::back_frame(&img, &faces);
    assert_eq!(
        face.get_pixel(cx, cy),
        img.get_pixel(cx, cy),
        "face frame keeps the face"
    );
    assert_eq!(
        face.get_pixel(5, 5),
        &image::Rgb([0, 0, 0]),
        "face frame drops the background"
    );
    assert_eq!(
        back.get_pixel(5, 5),
        img.get_pixel(5, 5),
        "back frame keeps the background"
    );
    let face_pixels_left = (rect[1]..rect[3])
        .flat_map(|y| (rect[0]..rect[2]).map(move |x| (x, y)))
        .filter(|&(x, y)| back.get_pixel(x, y) == img.get_pixel(x, y))
        .count();
    let area = ((rect[2] - rect[0]) * (rect[3] - rect[1])) as usize;
    assert!(
        face_pixels_left * 100 < area,
        "back frame removes the face ({face_pixels_left} of {area} pixels left)"
    );
}

/// FER+ Valid, the split the shipped expression encoder was selected on (`../shared/data`).
fn ferplus_valid() -> amuse::train::ferplus::Split {
    let dir = amuse::train::ferplus::split_dir(&amuse::train::data::data_dir(), "valid").unwrap();
    amuse::train::ferplus::read(&dir).unwrap()
}

#[test]
fn the_shipped_expression_encoder_reads_ferplus_valid_and_beats_pyemotion() {
    use amuse::features::expression::{ExpressionEncoder, PYEMOTION, SHIPPED};
    use amuse::train::ferplus::{evaluate, Crop};
    let store = common::store();
    let split = ferplus_valid();
    assert_eq!(
        split.faces.len(),
        3370,
        "FER+ Valid: unique majorities in MELD's classes"
    );
    let shipped = evaluate(
        &ExpressionEncoder::load(&store, SHIPPED, Device::Cpu).unwrap(),
        &split,
        &Crop::Given,
    )
    .unwrap();
    let baseline = evaluate(
        &ExpressionEncoder::load(&store, PYEMOTION, Device::Cpu).unwrap(),
        &split,
        &Crop::Given,
    )
    .unwrap();
    eprintln!(
        "shipped:\n{}\nPyEmotion:\n{}",
        shipped.report.table(),
        baseline.report.table()
    );
    assert_eq!(shipped.report.n, 3370);
    // The model card's figure (models/MODEL_CARD.md, face expression encoder) with its floor.
    assert!(
        shipped.report.accuracy >= 0.82,
        "FER+ Valid accuracy {}",
        shipped.report.accuracy
    );
    assert!(shipped.report.accuracy > baseline.report.accuracy + 0.1);
    let joy = shipped.report.per_class_f1.iter().find(|(c, _)| c == "joy").unwrap().1;
    assert!(joy > 0.85, "joy F1 {joy}");
}

#[test]
fn the_pipelines_mtcnn_crop_reads_ferplus_faces_as_the_given_crop_does() {
    use amuse::features::expression::{ExpressionEncoder, SHIPPED};
    use amuse::train::ferplus::{evaluate, Crop, Split};
    let store = common::store();
    let all = ferplus_valid();
    // Every 10th face: 337 faces keep the test quick.
    let split = Split {
        faces: all.faces.iter().step_by(10).cloned().collect(),
        ..Split::default()
    };
    let enc = ExpressionEncoder::load(&store, SHIPPED, Device::Cpu).unwrap();
    let mtcnn = Mtcnn::load(&store, Device::Cpu).unwrap();
    let given = evaluate(&enc, &split, &Crop::Given).unwrap();
    let detected = evaluate(&enc, &split, &Crop::Mtcnn(&mtcnn)).unwrap();
    eprintln!(
        "given {:.4}, MTCNN crop {:.4} ({} of {} undetected)",
        given.report.accuracy, detected.report.accuracy, detected.undetected, detected.faces
    );
    assert!(detected.undetected * 10 < detected.faces, "MTCNN finds most FER+ faces");
    assert!(
        detected.report.accuracy > given.report.accuracy - 0.06,
        "the pipeline's crop costs little: {} vs {}",
        detected.report.accuracy,
        given.report.accuracy
    );
}

#[test]
fn the_shipped_expression_encoder_reads_the_astronauts_smile_as_joy() {
    use amuse::emotion::Emotion;
    use amuse::features::expression::{meld_label, ExpressionEncoder, SHIPPED};
    let store = common::store();
    let mtcnn = Mtcnn::load(&store, Device::Cpu).unwrap();
    let enc = ExpressionEncoder::load(&store, SHIPPED, Device::Cpu).unwrap();
    let img = image::open(store.root().join("golden/mtcnn_astronaut.png"))
        .unwrap()
        .to_rgb8();
    let faces = mtcnn.detect(&img).unwrap();
    let crop = split::gray_crop(&img, &faces[0], 48).unwrap();
    let probs = enc.probs(&[crop]).unwrap();
    eprintln!("astronaut: {:?}", probs[0]);
    assert_eq!(meld_label(&probs[0]), Emotion::Joy);
    let total: f32 = probs[0].iter().sum();
    assert!((total - 1.0).abs() < 1e-3, "softmax probabilities");
}

#[test]
fn batched_detection_finds_what_each_image_finds_alone() {
    let store = common::store();
    let mtcnn = Mtcnn::load(&store, Device::Cpu).unwrap();
    let golden = store.root().join("golden");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(golden.join("mtcnn_reference.json")).unwrap()).unwrap();
    let mut images: Vec<image::RgbImage> = Vec::new();
    for r in &reference.images {
        let img = image::open(golden.join(&r.image)).unwrap().to_rgb8();
        // Same-size neighbours in one P-net batch: the image mirrored, and a blank frame.
        images.push(image::imageops::flip_horizontal(&img));
        images.push(image::RgbImage::from_pixel(
            img.width(),
            img.height(),
            image::Rgb([90, 90, 90]),
        ));
        images.push(img);
    }
    let refs: Vec<&image::RgbImage> = images.iter().collect();
    let together = mtcnn.detect_many(&refs).unwrap();
    assert_eq!(together.len(), images.len());
    for (img, faces) in images.iter().zip(&together) {
        let alone = mtcnn.detect(img).unwrap();
        assert_eq!(faces.len(), alone.len());
        for (a, b) in faces.iter().zip(&alone) {
            let worst = a
                .bbox
                .iter()
                .zip(&b.bbox)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(worst <= 1.0, "box {:?} batched vs {:?} alone", a.bbox, b.bbox);
        }
    }
    assert!(together.iter().filter(|f| !f.is_empty()).count() >= 2 * reference.images.len());
}

#[test]
fn the_pipelines_bounded_pyramid_finds_the_same_faces_of_readable_size() {
    use amuse::media::faces::mtcnn::{MtcnnConfig, MIN_FACE_WORTH_READING};
    let store = common::store();
    let full = Mtcnn::load(&store, Device::Cpu).unwrap();
    let bounded = Mtcnn::load(&store, Device::Cpu)
        .unwrap()
        .with_config(MtcnnConfig::pipeline());
    let golden = store.root().join("golden");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(golden.join("mtcnn_reference.json")).unwrap()).unwrap();
    let mut compared = 0;
    for r in &reference.images {
        let img = image::open(golden.join(&r.image)).unwrap().to_rgb8();
        let side = |f: &amuse::media::faces::mtcnn::Face| (f.bbox[2] - f.bbox[0]).min(f.bbox[3] - f.bbox[1]);
        let readable: Vec<_> = full
            .detect(&img)
            .unwrap()
            .into_iter()
            .filter(|f| side(f) >= MIN_FACE_WORTH_READING)
            .collect();
        let found = bounded.detect(&img).unwrap();
        for f in &readable {
            let nearest = found
                .iter()
                .map(|g| {
                    f.bbox
                        .iter()
                        .zip(&g.bbox)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0f32, f32::max)
                })
                .fold(f32::INFINITY, f32::min);
            assert!(
                nearest <= 1.0,
                "{}: face {:?} found {nearest:.2} px away",
                r.image,
                f.bbox
            );
            compared += 1;
        }
    }
    assert!(
        compared >= 3,
        "the golden photos have faces of readable size ({compared})"
    );
}
