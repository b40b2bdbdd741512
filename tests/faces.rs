//! The Rust MTCNN matches facenet-pytorch's detector on real photos, and the face/back
//! frames of a real detection exclude/include exactly the face pixels.

mod common;

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
