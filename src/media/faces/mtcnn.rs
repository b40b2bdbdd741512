//! MTCNN face detection (Zhang et al. 2016) driven from Rust, matching facenet-pytorch.
//!
//! The three networks (P-, R-, O-net) are TorchScript exports of facenet-pytorch 2.6.0's
//! real weights; everything around them is here: the image pyramid, candidate boxes from
//! the P-net map, non-maximum suppression, box regression, squaring and padding, and the
//! O-net's five landmarks. Each step follows facenet-pytorch's `detect_face` exactly
//! (area resampling, `+1` pixel conventions, the "Min" overlap of the last NMS) so that
//! boxes agree with the Python detector within a pixel or two.

use anyhow::Result;
use image::RgbImage;
use tch::{Device, Kind, Tensor};

use crate::manifest::ModelStore;
use crate::torchscript::TorchScript;

/// One detected face in image pixel coordinates.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Face {
    /// `[x1, y1, x2, y2]`.
    pub bbox: [f32; 4],
    pub prob: f32,
    /// Left eye, right eye, nose, left mouth corner, right mouth corner: `[x, y]`.
    pub landmarks: [[f32; 2]; 5],
}

impl Face {
    pub fn area(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]).max(0.0) * (self.bbox[3] - self.bbox[1]).max(0.0)
    }
}

/// Detector settings (`Default`: facenet-pytorch's; [`MtcnnConfig::pipeline`]: the video
/// pipeline's).
#[derive(Debug, Clone)]
pub struct MtcnnConfig {
    /// Sets the image pyramid: its first level scales a face of this side to the P-net's 12 px.
    pub min_face_size: f32,
    /// Pyramid levels whose faces are all smaller than this are not run (0: every level).
    /// The other levels are the ones `min_face_size` makes, so faces of this size and more
    /// come out as without the bound.
    pub skip_faces_below: f32,
    pub thresholds: [f32; 3],
    pub factor: f32,
}

impl Default for MtcnnConfig {
    fn default() -> Self {
        Self {
            min_face_size: 20.0,
            skip_faces_below: 0.0,
            thresholds: [0.6, 0.7, 0.7],
            factor: 0.709,
        }
    }
}

pub struct Mtcnn {
    pnet: TorchScript,
    rnet: TorchScript,
    onet: TorchScript,
    pub config: MtcnnConfig,
}

impl MtcnnConfig {
    /// The video pipeline's detector: facenet-pytorch's pyramid without the levels that only
    /// find faces smaller than the smallest face worth reading. The expression encoder reads
    /// 48×48 crops (FER+); a face under 40 px carries little expression once upscaled, and
    /// those levels are the largest images of the pyramid: about half of MTCNN's time on a
    /// 640×360 keyframe (P-net on them and the R-net on their many candidates). The levels
    /// kept are facenet-pytorch's own, so faces of 40 px and more come out within a pixel of
    /// the full pyramid's (tested on the golden photos; moving the pyramid's start instead
    /// moves every level and the boxes by up to 14 px).
    pub fn pipeline() -> Self {
        Self {
            skip_faces_below: MIN_FACE_WORTH_READING,
            ..Self::default()
        }
    }

    /// The pyramid's scales for an image whose shorter side is `side` pixels, largest first:
    /// facenet-pytorch's (from 12/`min_face_size` down by `factor` while the scaled side is
    /// at least the P-net's 12 px), without the levels under `skip_faces_below`. A level at
    /// `scale` is there for faces of 12/scale px (the P-net's cell) up to the next level's
    /// 12/(scale·factor): all of them are too small when the latter is.
    pub fn pyramid(&self, side: i64) -> Vec<f64> {
        let (m, factor) = (12.0 / self.min_face_size as f64, self.factor as f64);
        let largest = if self.skip_faces_below > 0.0 {
            12.0 / (self.skip_faces_below * self.factor) as f64
        } else {
            f64::INFINITY
        };
        // (scale, scaled shorter side), stepped together as facenet-pytorch does.
        std::iter::successors(Some((m, side as f64 * m)), |(s, l)| Some((s * factor, l * factor)))
            .take_while(|(_, l)| *l >= 12.0)
            .map(|(s, _)| s)
            .filter(|&s| s <= largest)
            .collect()
    }
}

/// Side in pixels of the smallest face the pipeline looks for ([`MtcnnConfig::pipeline`]).
pub const MIN_FACE_WORTH_READING: f32 = 40.0;

/// A candidate box: coordinates, score, and (stage 1) the regression offsets.
#[derive(Debug, Clone, Copy)]
struct Cand {
    b: [f32; 4],
    score: f32,
    reg: [f32; 4],
}

impl Mtcnn {
    pub fn load(store: &ModelStore, device: Device) -> Result<Self> {
        Ok(Self {
            pnet: TorchScript::load(store, "mtcnn_pnet", device)?,
            rnet: TorchScript::load(store, "mtcnn_rnet", device)?,
            onet: TorchScript::load(store, "mtcnn_onet", device)?,
            config: MtcnnConfig::default(),
        })
    }

    /// The same networks with other settings.
    pub fn with_config(self, config: MtcnnConfig) -> Self {
        Self { config, ..self }
    }

    /// Detect every face, largest first (facenet-pytorch's `select_largest` order).
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Face>> {
        Ok(self.detect_many(&[image])?.pop().unwrap_or_default())
    }

    /// [`Self::detect`] for several images at once (an utterance's keyframes): images of one
    /// size go through each P-net scale as one batch, and every image's candidates through
    /// the R-net and the O-net as one batch, as facenet-pytorch's batched `detect` does. Each
    /// image's faces are what it would get alone (candidates never mix across images).
    pub fn detect_many(&self, images: &[&RgbImage]) -> Result<Vec<Vec<Face>>> {
        let mut out: Vec<Vec<Face>> = vec![Vec::new(); images.len()];
        let mut sizes: Vec<(u32, u32)> = images.iter().map(|i| i.dimensions()).collect();
        sizes.sort();
        sizes.dedup();
        for size in sizes {
            let group: Vec<usize> = (0..images.len()).filter(|&i| images[i].dimensions() == size).collect();
            let refs: Vec<&RgbImage> = group.iter().map(|&i| images[i]).collect();
            for (i, faces) in group.into_iter().zip(self.detect_same_size(&refs)?) {
                out[i] = faces;
            }
        }
        Ok(out)
    }

    fn detect_same_size(&self, images: &[&RgbImage]) -> Result<Vec<Vec<Face>>> {
        let n = images.len();
        let (w, h) = (images[0].width() as i64, images[0].height() as i64);
        if w < 12 || h < 12 {
            return Ok(vec![Vec::new(); n]);
        }
        let imgs: Vec<Tensor> = images
            .iter()
            .map(|im| Tensor::from_slice(im.as_raw()).view([h, w, 3]).permute([2, 0, 1]))
            .collect();
        let batch = Tensor::stack(&imgs, 0).to_kind(Kind::Float);
        let c = &self.config;

        // Stage 1: P-net over an image pyramid, all images of a scale in one batch.
        let mut cands: Vec<Vec<Cand>> = vec![Vec::new(); n];
        for scale in c.pyramid(h.min(w)) {
            let size = [(h as f64 * scale + 1.0) as i64, (w as f64 * scale + 1.0) as i64];
            let data = crate::profile::time("MTCNN pyramid", || normalise(&batch.adaptive_avg_pool2d(size)));
            let out = crate::profile::time("MTCNN P-net", || self.pnet.forward(&[data]))?;
            for (k, found) in cands.iter_mut().enumerate() {
                let k = k as i64;
                let at_scale = generate_boxes(
                    &out[0].narrow(0, k, 1),
                    &out[1].narrow(0, k, 1),
                    scale as f32,
                    c.thresholds[0],
                );
                let keep = nms(&at_scale, 0.5, Overlap::Union);
                found.extend(keep.into_iter().map(|i| at_scale[i]));
            }
        }
        let mut boxes: Vec<Vec<Cand>> = cands
            .iter()
            .map(|cands| {
                nms(cands, 0.7, Overlap::Union)
                    .into_iter()
                    .map(|i| {
                        let k = cands[i];
                        let (rw, rh) = (k.b[2] - k.b[0], k.b[3] - k.b[1]);
                        let b = [
                            k.b[0] + k.reg[0] * rw,
                            k.b[1] + k.reg[1] * rh,
                            k.b[2] + k.reg[2] * rw,
                            k.b[3] + k.reg[3] * rh,
                        ];
                        Cand {
                            b: rerec(b),
                            score: k.score,
                            reg: [0.0; 4],
                        }
                    })
                    .collect()
            })
            .collect();

        // Stage 2: R-net refines 24x24 crops of every image's candidates in one batch.
        let (outs, kept) = crate::profile::time("MTCNN R-net", || refine(&self.rnet, &batch, &boxes, w, h, 24))?;
        boxes = kept
            .into_iter()
            .zip(outs)
            .map(|(kept, out)| {
                if kept.is_empty() {
                    return Vec::new();
                }
                let (reg, prob) = (&out[0], &out[1]);
                let passed: Vec<Cand> = kept
                    .iter()
                    .zip(reg.iter().zip(prob))
                    .filter(|(_, (_, p))| p[1] > c.thresholds[1])
                    .map(|(b, (r, p))| Cand {
                        b: b.b,
                        score: p[1],
                        reg: [r[0], r[1], r[2], r[3]],
                    })
                    .collect();
                nms(&passed, 0.7, Overlap::Union)
                    .into_iter()
                    .map(|i| passed[i])
                    .map(|k| Cand {
                        b: rerec(bbreg(k.b, k.reg)),
                        ..k
                    })
                    .collect()
            })
            .collect();

        // Stage 3: O-net on 48x48 crops gives final boxes, scores and landmarks.
        let (outs, kept) = crate::profile::time("MTCNN O-net", || refine(&self.onet, &batch, &boxes, w, h, 48))?;
        Ok(kept
            .into_iter()
            .zip(outs)
            .map(|(boxes, out)| {
                if boxes.is_empty() {
                    return Vec::new();
                }
                let (reg, marks, prob) = (&out[0], &out[1], &out[2]);
                let mut passed = Vec::new();
                let mut points = Vec::new();
                for (i, b) in boxes.iter().enumerate() {
                    if prob[i][1] <= c.thresholds[2] {
                        continue;
                    }
                    let (bw, bh) = (b.b[2] - b.b[0] + 1.0, b.b[3] - b.b[1] + 1.0);
                    let mut lm = [[0f32; 2]; 5];
                    for (j, p) in lm.iter_mut().enumerate() {
                        *p = [bw * marks[i][j] + b.b[0] - 1.0, bh * marks[i][j + 5] + b.b[1] - 1.0];
                    }
                    let r = &reg[i];
                    passed.push(Cand {
                        b: bbreg(b.b, [r[0], r[1], r[2], r[3]]),
                        score: prob[i][1],
                        reg: [0.0; 4],
                    });
                    points.push(lm);
                }
                let mut faces: Vec<Face> = nms(&passed, 0.7, Overlap::Min)
                    .into_iter()
                    .map(|i| Face {
                        bbox: passed[i].b,
                        prob: passed[i].score,
                        landmarks: points[i],
                    })
                    .collect();
                faces.sort_by(|a, b| b.area().total_cmp(&a.area()));
                faces
            })
            .collect())
    }
}

/// Run `net` on `size`×`size` crops of every image's `boxes` in one batch; per image, the
/// boxes kept (those that clip to something) and the net's outputs as rows, in the same order.
#[allow(clippy::type_complexity)]
fn refine(
    net: &TorchScript,
    batch: &Tensor,
    boxes: &[Vec<Cand>],
    w: i64,
    h: i64,
    size: i64,
) -> Result<(Vec<Vec<Vec<Vec<f32>>>>, Vec<Vec<Cand>>)> {
    let mut all = Vec::new();
    let mut kept = Vec::with_capacity(boxes.len());
    for (k, b) in boxes.iter().enumerate() {
        let (crops, ok) = crate::profile::time("MTCNN crops", || crops(&batch.narrow(0, k as i64, 1), b, w, h, size));
        all.push(crops);
        kept.push(ok);
    }
    let total: usize = kept.iter().map(Vec::len).sum();
    if total == 0 {
        return Ok((kept.iter().map(|_| Vec::new()).collect(), kept));
    }
    let outputs = net.forward(&[normalise(&Tensor::cat(&all, 0))])?;
    let rows: Vec<Vec<Vec<f32>>> = outputs.iter().map(to_rows).collect();
    let mut at = 0;
    let per_image = kept
        .iter()
        .map(|k| {
            let out: Vec<Vec<Vec<f32>>> = rows.iter().map(|r| r[at..at + k.len()].to_vec()).collect();
            at += k.len();
            out
        })
        .collect();
    Ok((per_image, kept))
}

fn normalise(t: &Tensor) -> Tensor {
    (t - 127.5) * 0.0078125
}

/// A `[N, K]` float tensor as rows.
fn to_rows(t: &Tensor) -> Vec<Vec<f32>> {
    let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
    let (n, k) = (t.size()[0] as usize, t.size()[1] as usize);
    let flat: Vec<f32> = t.view([-1]).try_into().unwrap_or_default();
    (0..n).map(|i| flat[i * k..(i + 1) * k].to_vec()).collect()
}

/// Candidate boxes where the P-net face probability passes `thresh` (stride 2, cell 12).
fn generate_boxes(reg: &Tensor, prob: &Tensor, scale: f32, thresh: f32) -> Vec<Cand> {
    let prob = prob.to_device(Device::Cpu).get(0).get(1).contiguous();
    let reg = reg.to_device(Device::Cpu).get(0).contiguous();
    let (hh, ww) = (prob.size()[0] as usize, prob.size()[1] as usize);
    let p: Vec<f32> = prob.view([-1]).try_into().unwrap_or_default();
    let r: Vec<f32> = reg.view([-1]).try_into().unwrap_or_default();
    let plane = hh * ww;
    let mut out = Vec::new();
    for y in 0..hh {
        for x in 0..ww {
            let i = y * ww + x;
            if p[i] >= thresh {
                let q1 = [
                    ((2.0 * x as f32 + 1.0) / scale).floor(),
                    ((2.0 * y as f32 + 1.0) / scale).floor(),
                ];
                let q2 = [
                    ((2.0 * x as f32 + 12.0) / scale).floor(),
                    ((2.0 * y as f32 + 12.0) / scale).floor(),
                ];
                out.push(Cand {
                    b: [q1[0], q1[1], q2[0], q2[1]],
                    score: p[i],
                    reg: [r[i], r[plane + i], r[2 * plane + i], r[3 * plane + i]],
                });
            }
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Overlap {
    /// Intersection over union, torchvision's convention (no `+1`).
    Union,
    /// Intersection over the smaller box, facenet-pytorch's numpy convention (`+1`).
    Min,
}

/// Greedy non-maximum suppression; indices kept, best score first.
fn nms(c: &[Cand], threshold: f32, how: Overlap) -> Vec<usize> {
    let mut order: Vec<usize> = (0..c.len()).collect();
    order.sort_by(|&a, &b| c[b].score.total_cmp(&c[a].score));
    let one = if how == Overlap::Min { 1.0 } else { 0.0 };
    let area = |b: &[f32; 4]| (b[2] - b[0] + one) * (b[3] - b[1] + one);
    let mut keep = Vec::new();
    let mut removed = vec![false; c.len()];
    for (pos, &i) in order.iter().enumerate() {
        if removed[i] {
            continue;
        }
        keep.push(i);
        for &j in &order[pos + 1..] {
            if removed[j] {
                continue;
            }
            let (a, b) = (&c[i].b, &c[j].b);
            let iw = (a[2].min(b[2]) - a[0].max(b[0]) + one).max(0.0);
            let ih = (a[3].min(b[3]) - a[1].max(b[1]) + one).max(0.0);
            let inter = iw * ih;
            let o = match how {
                Overlap::Union => inter / (area(a) + area(b) - inter),
                Overlap::Min => inter / area(a).min(area(b)),
            };
            if o > threshold {
                removed[j] = true;
            }
        }
    }
    keep
}

/// Make a box square around its centre (facenet-pytorch `rerec`).
fn rerec(b: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    let l = w.max(h);
    let x1 = b[0] + w * 0.5 - l * 0.5;
    let y1 = b[1] + h * 0.5 - l * 0.5;
    [x1, y1, x1 + l, y1 + l]
}

/// Apply regression offsets (facenet-pytorch `bbreg`, `+1` widths).
fn bbreg(b: [f32; 4], r: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
    [b[0] + r[0] * w, b[1] + r[1] * h, b[2] + r[2] * w, b[3] + r[3] * h]
}

/// Crop each box (clipped to the image, 1-based like facenet-pytorch's `pad`) and resample
/// it to `size`x`size` with area interpolation. Boxes that clip to nothing are dropped.
fn crops(img: &Tensor, boxes: &[Cand], w: i64, h: i64, size: i64) -> (Tensor, Vec<Cand>) {
    let mut out = Vec::new();
    let mut kept = Vec::new();
    for b in boxes {
        let x = (b.b[0].trunc() as i64).max(1);
        let y = (b.b[1].trunc() as i64).max(1);
        let ex = (b.b[2].trunc() as i64).min(w);
        let ey = (b.b[3].trunc() as i64).min(h);
        if ey > y - 1 && ex > x - 1 {
            let crop = img.narrow(2, y - 1, ey - y + 1).narrow(3, x - 1, ex - x + 1);
            out.push(crop.adaptive_avg_pool2d([size, size]));
            kept.push(*b);
        }
    }
    if out.is_empty() {
        return (Tensor::zeros([0, 3, size, size], (Kind::Float, img.device())), kept);
    }
    (Tensor::cat(&out, 0), kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(b: [f32; 4], score: f32) -> Cand {
        Cand {
            b,
            score,
            reg: [0.0; 4],
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let c = [
            cand([0.0, 0.0, 10.0, 10.0], 0.9),
            cand([1.0, 1.0, 11.0, 11.0], 0.95),
            cand([50.0, 50.0, 60.0, 60.0], 0.5),
        ];
        assert_eq!(nms(&c, 0.5, Overlap::Union), vec![1, 2]);
        // A small box inside a big one: IoU is low, but overlap of the smaller is 1.
        let c = [cand([0.0, 0.0, 100.0, 100.0], 0.9), cand([10.0, 10.0, 20.0, 20.0], 0.8)];
        assert_eq!(nms(&c, 0.7, Overlap::Union), vec![0, 1]);
        assert_eq!(nms(&c, 0.7, Overlap::Min), vec![0]);
    }

    #[test]
    fn the_pipelines_pyramid_is_facenets_without_its_largest_levels() {
        let full = MtcnnConfig::default().pyramid(360);
        // facenet-pytorch on a 360-pixel side: 0.6 · 0.709^k while 360 · scale ≥ 12.
        assert_eq!(full.len(), 9);
        assert!((full[0] - 0.6).abs() < 1e-12 && (full[8] - 0.6 * (0.709f32 as f64).powi(8)).abs() < 1e-9);
        let bounded = MtcnnConfig::pipeline().pyramid(360);
        // The 20 px and 28 px levels go; the 40 px level (12 / 0.3016) stays.
        assert_eq!(bounded[..], full[2..]);
        assert!(MtcnnConfig::default().pyramid(11).is_empty());
    }

    #[test]
    fn rerec_squares_around_the_centre() {
        assert_eq!(rerec([10.0, 20.0, 30.0, 60.0]), [0.0, 20.0, 40.0, 60.0]);
    }
}
