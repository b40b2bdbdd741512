//! SLIC superpixels (Achanta et al., "SLIC Superpixels Compared to State-of-the-art
//! Superpixel Methods", TPAMI 2012): k-means in CIELAB + (y, x) with distance
//! `D² = d_lab² + (d_xy / S)² · m²`, grid step `S = √(pixels / n_segments)`, search window
//! 2S × 2S, seeds moved to the lowest gradient in their 3 × 3 neighbourhood, then
//! connectivity enforced. Defaults follow scikit-image's `slic` (100 segments, compactness
//! m = 10, 10 iterations, components under ½·S² merged). Used for LIME's image features
//! (see [`super::image`] for why SLIC rather than the reference's quickshift).

use image::{Rgb, RgbImage};

use super::engine::LimeError;

/// SLIC parameters; the defaults are scikit-image's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlicParams {
    /// Approximate number of superpixels wanted.
    pub n_segments: usize,
    /// m: weight of spatial distance against CIELAB colour distance; higher = more compact.
    pub compactness: f64,
    /// k-means iterations.
    pub iterations: usize,
    /// Connected pieces smaller than this fraction of S² are merged into a neighbour.
    pub min_size_factor: f64,
}

impl Default for SlicParams {
    fn default() -> Self {
        Self {
            n_segments: 100,
            compactness: 10.0,
            iterations: 10,
            min_size_factor: 0.5,
        }
    }
}

/// A superpixel label map: `labels[y * width + x]` is in `0..count`; labels are the LIME
/// feature indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segments {
    pub width: u32,
    pub height: u32,
    pub labels: Vec<usize>,
    pub count: usize,
}

impl Segments {
    /// Wraps a label map from elsewhere; `count` becomes the largest label + 1.
    pub fn from_labels(width: u32, height: u32, labels: Vec<usize>) -> Result<Self, LimeError> {
        if labels.len() != width as usize * height as usize {
            return Err(LimeError::Invalid(format!(
                "{} labels for a {width}×{height} image",
                labels.len()
            )));
        }
        let count = labels.iter().max().map_or(0, |m| m + 1);
        Ok(Self {
            width,
            height,
            labels,
            count,
        })
    }

    pub fn label(&self, x: u32, y: u32) -> usize {
        self.labels[(y * self.width + x) as usize]
    }

    pub(crate) fn check(&self, image: &RgbImage) -> Result<(), LimeError> {
        match image.dimensions() == (self.width, self.height)
            && self.labels.len() == (self.width * self.height) as usize
        {
            true => Ok(()),
            false => Err(LimeError::Invalid("segments do not match the image size".into())),
        }
    }
}

/// sRGB (D65) → CIELAB, as scikit-image's `rgb2lab`.
fn to_lab(p: &Rgb<u8>) -> [f64; 3] {
    let lin = |v: u8| {
        let c = f64::from(v) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = p.0.map(lin);
    let x = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.95047;
    let y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
    let z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.08883;
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    [116.0 * f(y) - 16.0, 500.0 * (f(x) - f(y)), 200.0 * (f(y) - f(z))]
}

fn dist2(a: &[f64; 3], b: &[f64]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// SLIC superpixels of `image` (see the module docs for the algorithm).
pub fn slic(image: &RgbImage, params: &SlicParams) -> Segments {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let lab: Vec<[f64; 3]> = image.pixels().map(to_lab).collect();
    if lab.is_empty() {
        return Segments {
            width: image.width(),
            height: image.height(),
            labels: Vec::new(),
            count: 0,
        };
    }
    let step = ((w * h) as f64 / params.n_segments.max(1) as f64).sqrt();
    let (ny, nx) = (
        ((h as f64 / step).round() as usize).max(1),
        ((w as f64 / step).round() as usize).max(1),
    );
    let (gy, gx) = (h as f64 / ny as f64, w as f64 / nx as f64);
    let gradient = |x: usize, y: usize| {
        let at = |x: usize, y: usize| &lab[y.min(h - 1) * w + x.min(w - 1)];
        dist2(at(x + 1, y), at(x.saturating_sub(1), y)) + dist2(at(x, y + 1), at(x, y.saturating_sub(1)))
    };
    // Centres as [L, a, b, y, x], seeded on the grid and nudged off edges.
    let mut centres: Vec<[f64; 5]> = Vec::with_capacity(ny * nx);
    for i in 0..ny {
        for j in 0..nx {
            let (cy, cx) = (((i as f64 + 0.5) * gy) as usize, ((j as f64 + 0.5) * gx) as usize);
            let (mut by, mut bx) = (cy, cx);
            for y in cy.saturating_sub(1)..=(cy + 1).min(h - 1) {
                for x in cx.saturating_sub(1)..=(cx + 1).min(w - 1) {
                    if gradient(x, y) < gradient(bx, by) {
                        (by, bx) = (y, x);
                    }
                }
            }
            let [l, a, b] = lab[by * w + bx];
            centres.push([l, a, b, by as f64, bx as f64]);
        }
    }
    let radius = gy.max(gx).ceil() as isize;
    let spatial = (params.compactness / step).powi(2);
    let mut assign = vec![usize::MAX; w * h];
    let mut best = vec![f64::INFINITY; w * h];
    for _ in 0..params.iterations.max(1) {
        best.fill(f64::INFINITY);
        for (k, c) in centres.iter().enumerate() {
            let (cy, cx) = (c[3].round() as isize, c[4].round() as isize);
            let ys = (cy - radius).max(0) as usize..(cy + radius + 1).min(h as isize) as usize;
            for y in ys {
                let xs = (cx - radius).max(0) as usize..(cx + radius + 1).min(w as isize) as usize;
                for x in xs {
                    let i = y * w + x;
                    let d = dist2(&lab[i], c) + spatial * ((y as f64 - c[3]).powi(2) + (x as f64 - c[4]).powi(2));
                    if d < best[i] {
                        (best[i], assign[i]) = (d, k);
                    }
                }
            }
        }
        let mut sums = vec![[0.0; 6]; centres.len()];
        for (i, &k) in assign.iter().enumerate().filter(|(_, &k)| k != usize::MAX) {
            let s = &mut sums[k];
            let [l, a, b] = lab[i];
            for (acc, v) in s.iter_mut().zip([l, a, b, (i / w) as f64, (i % w) as f64, 1.0]) {
                *acc += v;
            }
        }
        for (c, s) in centres.iter_mut().zip(&sums).filter(|(_, s)| s[5] > 0.0) {
            *c = [s[0] / s[5], s[1] / s[5], s[2] / s[5], s[3] / s[5], s[4] / s[5]];
        }
    }
    let min_size = (params.min_size_factor * step * step) as usize;
    let (labels, count) = enforce_connectivity(&lab, &assign, w, h, min_size);
    Segments {
        width: image.width(),
        height: image.height(),
        labels,
        count,
    }
}

/// Splits every cluster into 4-connected pieces, then merges pieces smaller than `min_size`
/// (smallest first) into the adjacent piece of nearest mean colour — SLIC's original code
/// takes any adjacent label; the nearest colour keeps merged scraps from crossing edges.
pub(crate) fn enforce_connectivity(
    lab: &[[f64; 3]],
    assign: &[usize],
    w: usize,
    h: usize,
    min_size: usize,
) -> (Vec<usize>, usize) {
    let neighbours = |i: usize| {
        let (y, x) = (i / w, i % w);
        [
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
            (y > 0).then(|| i - w),
            (y + 1 < h).then(|| i + w),
        ]
        .into_iter()
        .flatten()
    };
    let mut comp = vec![usize::MAX; w * h];
    let mut pixels: Vec<Vec<usize>> = Vec::new();
    for start in 0..w * h {
        if comp[start] != usize::MAX {
            continue;
        }
        let id = pixels.len();
        comp[start] = id;
        let (mut members, mut stack) = (Vec::new(), vec![start]);
        while let Some(i) = stack.pop() {
            members.push(i);
            for j in neighbours(i) {
                if comp[j] == usize::MAX && assign[j] == assign[start] {
                    comp[j] = id;
                    stack.push(j);
                }
            }
        }
        pixels.push(members);
    }
    let mut parent: Vec<usize> = (0..pixels.len()).collect();
    let mut size: Vec<usize> = pixels.iter().map(Vec::len).collect();
    let mut sum: Vec<[f64; 3]> = pixels
        .iter()
        .map(|p| {
            p.iter()
                .fold([0.0; 3], |s, &i| [s[0] + lab[i][0], s[1] + lab[i][1], s[2] + lab[i][2]])
        })
        .collect();
    fn find(parent: &mut [usize], mut c: usize) -> usize {
        while parent[c] != c {
            parent[c] = parent[parent[c]];
            c = parent[c];
        }
        c
    }
    let mut small: Vec<usize> = (0..pixels.len()).filter(|&c| size[c] < min_size).collect();
    small.sort_by_key(|&c| size[c]);
    for c in small {
        if size[c] >= min_size {
            continue; // grew by absorbing other scraps
        }
        let mean = |r: usize, sum: &[[f64; 3]], size: &[usize]| sum[r].map(|v| v / size[r] as f64);
        let own = mean(c, &sum, &size);
        let mut target: Option<(usize, f64)> = None;
        for &i in &pixels[c] {
            for j in neighbours(i) {
                let r = find(&mut parent, comp[j]);
                let d = dist2(&own, &mean(r, &sum, &size));
                if r != c && target.is_none_or(|(_, best)| d < best) {
                    target = Some((r, d));
                }
            }
        }
        if let Some((r, _)) = target {
            parent[c] = r;
            size[r] += size[c];
            sum[r] = [sum[r][0] + sum[c][0], sum[r][1] + sum[c][1], sum[r][2] + sum[c][2]];
        }
    }
    let mut relabel = vec![usize::MAX; pixels.len()];
    let mut count = 0;
    let labels = comp
        .iter()
        .map(|&c| {
            let r = find(&mut parent, c);
            if relabel[r] == usize::MAX {
                (relabel[r], count) = (count, count + 1);
            }
            relabel[r]
        })
        .collect();
    (labels, count)
}
