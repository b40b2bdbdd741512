//! Explanation overlays on the picture, as plain pixels made off the drawing code:
//!
//! * **Face regions**: the face explanation's six regions (placed where the paper's action
//!   units act, see `lime::face_regions`) tinted by their LIME weights — green supports
//!   the explained prediction, red detracts, alpha ∝ |weight| / max |weight| (the paper's Fig. 2
//!   colouring; LIME's local linear model g(z') = w·z', Eq. 1 of Ribeiro et al.).
//! * **Background superpixels**: SLIC (`lime::slic`) on the shown keyframe, the same
//!   segmentation LIME perturbs for the background, as outlines; for a checkpoint that
//!   reads back frames, the keyframe the background was explained on shows the
//!   explanation's own superpixels tinted by their weights ([`back_superpixels`]). The
//!   shipped checkpoint does not read back frames: outlines only, and the viewer says so.
//!
//! SLIC takes a noticeable moment on a 640-pixel frame, so it runs on a thread of its own
//! and the UI picks the result up when it is there.

use std::sync::mpsc::{channel, Receiver};

use crate::analysis::explain_face::FaceExplanation;
use crate::analysis::explain_visual::BackExplanation;
use crate::lime::slic::{slic, SlicParams};

/// Green for support, red against; alpha ∝ |w| / `max` (at most `peak`).
pub fn weight_colour(w: f64, max: f64, peak: f32) -> egui::Color32 {
    let a = ((w.abs() / max.max(1e-12)) as f32 * peak).clamp(0.0, 1.0);
    let (r, g, b) = if w >= 0.0 { (40, 180, 70) } else { (220, 50, 50) };
    egui::Color32::from_rgba_unmultiplied(r, g, b, (a * 255.0).round() as u8)
}

/// The face regions tinted by their weights, as an image of the crop's size (transparent
/// outside any region); draw it over `explanation.crop` in frame pixels.
pub fn face_regions(e: &FaceExplanation) -> Option<egui::ColorImage> {
    let [x1, y1, x2, y2] = e.crop;
    let (w, h) = ((x2.checked_sub(x1)?) as usize, (y2.checked_sub(y1)?) as usize);
    if w == 0 || h == 0 || e.labels.len() != w * h {
        return None;
    }
    let max = e.regions.iter().map(|r| r.weight.abs()).fold(0.0, f64::max);
    let colours: Vec<egui::Color32> = e.regions.iter().map(|r| weight_colour(r.weight, max, 0.6)).collect();
    let pixels = e
        .labels
        .iter()
        .map(|&l| {
            colours
                .get(usize::from(l))
                .copied()
                .unwrap_or(egui::Color32::TRANSPARENT)
        })
        .collect();
    Some(egui::ColorImage::new([w, h], pixels))
}

/// Superpixel outlines (white, half transparent) or, given a weight per superpixel, the
/// superpixels tinted by them; an image of the frame's size.
pub fn superpixels(labels: &[usize], width: usize, height: usize, weights: Option<&[f64]>) -> egui::ColorImage {
    let max = weights.map_or(0.0, |w| w.iter().map(|v| v.abs()).fold(0.0, f64::max));
    let outline = egui::Color32::from_rgba_unmultiplied(255, 255, 255, 150);
    let mut pixels = vec![egui::Color32::TRANSPARENT; width * height];
    for y in 0..height {
        for x in 0..width {
            let l = labels[y * width + x];
            let edge = (x + 1 < width && labels[y * width + x + 1] != l)
                || (y + 1 < height && labels[(y + 1) * width + x] != l);
            pixels[y * width + x] = match (edge, weights) {
                (true, _) => outline,
                (false, Some(w)) => weight_colour(w.get(l).copied().unwrap_or(0.0), max, 0.5),
                (false, None) => egui::Color32::TRANSPARENT,
            };
        }
    }
    egui::ColorImage::new([width, height], pixels)
}

/// A back-frame explanation's superpixels tinted by their weights and outlined, an image
/// of the back frame's size (the keyframe's).
pub fn back_superpixels(e: &BackExplanation) -> Option<egui::ColorImage> {
    let (w, h) = (e.width as usize, e.height as usize);
    if w == 0 || h == 0 || e.labels.len() != w * h {
        return None;
    }
    let labels: Vec<usize> = e.labels.iter().map(|&l| usize::from(l)).collect();
    let mut weights = vec![0.0; labels.iter().max().map_or(0, |m| m + 1)];
    for &(s, weight) in &e.weights {
        if let Some(slot) = weights.get_mut(s) {
            *slot = weight;
        }
    }
    Some(superpixels(&labels, w, h, Some(&weights)))
}

/// The superpixels of the shown keyframes, computed on a thread of their own.
#[derive(Default)]
pub struct Superpixels {
    /// `frames_generation` they belong to, and per keyframe the outline image.
    pub generation: Option<u64>,
    pub images: Vec<egui::ColorImage>,
    pub textures: Vec<egui::TextureHandle>,
    job: Option<(u64, Receiver<Vec<egui::ColorImage>>)>,
}

impl Superpixels {
    /// Make sure the superpixels of `frames` (generation `generation`) are computed or
    /// under way; pick up a finished job. `wake` repaints when one finishes.
    pub fn request(&mut self, generation: u64, frames: &[egui::ColorImage], ctx: &egui::Context) {
        if let Some((g, rx)) = &self.job {
            if let Ok(images) = rx.try_recv() {
                if *g == generation {
                    self.generation = Some(generation);
                    self.images = images;
                    self.textures.clear();
                }
                self.job = None;
            }
        }
        if self.generation == Some(generation) || self.job.as_ref().is_some_and(|(g, _)| *g == generation) {
            return;
        }
        let frames: Vec<image::RgbImage> = frames.iter().filter_map(to_rgb).collect();
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new().name("amuse-slic".into()).spawn(move || {
            let images = frames
                .iter()
                .map(|f| {
                    let s = slic(f, &SlicParams::default());
                    superpixels(&s.labels, s.width as usize, s.height as usize, None)
                })
                .collect();
            let _ = tx.send(images);
            ctx.request_repaint();
        });
        if spawned.is_ok() {
            self.job = Some((generation, rx));
        }
    }

    /// The outline texture of keyframe `k`, when computed.
    pub fn texture(&mut self, generation: u64, k: usize, ctx: &egui::Context) -> Option<&egui::TextureHandle> {
        if self.generation != Some(generation) {
            return None;
        }
        if self.textures.len() != self.images.len() {
            self.textures = self
                .images
                .iter()
                .enumerate()
                .map(|(i, im)| ctx.load_texture(format!("superpixels{i}"), im.clone(), egui::TextureOptions::NEAREST))
                .collect();
        }
        self.textures.get(k)
    }
}

fn to_rgb(im: &egui::ColorImage) -> Option<image::RgbImage> {
    let [w, h] = im.size;
    let raw = im.pixels.iter().flat_map(|c| [c.r(), c.g(), c.b()]).collect();
    image::RgbImage::from_raw(w as u32, h as u32, raw)
}
