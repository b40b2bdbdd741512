//! AF learning (Section III-E2, Eq. 6): the Adaptive Fusion coefficients α set from the
//! Central heads' loss gradients instead of by back-propagation (`FusionMode::Guided`).
//!
//! Between epochs, on a *validation pool* held aside from the training split (never the dev
//! or test split, which are for selection and scoring):
//!
//! 1. a random sample of the pool's utterances is encoded (unimodal encoders + MAN);
//! 2. the *informative* ones are kept — those whose fused prediction changes when every α
//!    moves by ±δ ("system prediction indeed changes by a slight change in the
//!    interpolation parameters");
//! 3. for each fused block `m3` (Eq. 2's block of modality `m3`) and utterance:
//!    * one peripheral `m1` present: α'^{m3}_{m1} by Eq. 6 from `∇_{f^{m3}} L(Q_{m3})`;
//!    * two peripherals `m1, m2`: the pairwise chain of the paper — α'_1 between `m1` and
//!      `m2` (gradient of `Q_{m2}` at `f^{m2}`), `u'_1 = α'_1 f^{m1} + (1 − α'_1) f^{m2}`,
//!      α'_2 between `u'_1` and `f^{m3}` (gradient of `Q_{m3}` at `f^{m3}`), and the weights
//!      `α'_1 α'_2, α'_2 (1 − α'_1), 1 − α'_2` turned into Eq. 2's per-pair α;
//! 4. the per-pair estimates, averaged over the informative utterances, are blended into α
//!    (`AdaptiveFusion::guided_update`), which stays in [0, 1].

use rand::seq::SliceRandom;
use rand::Rng;
use tch::{Device, Kind, Tensor};

use super::data::Corpus;
use crate::model::amuse::Amuse;
use crate::model::batch::{Batch, UtteranceInput};
use crate::model::fusion::{chain_weights, eq6_rows, fuse, pair_alphas_from_chain};

/// Settings of the Eq. 6 update.
#[derive(Debug, Clone)]
pub struct AfOptions {
    /// ε of Eq. 6.
    pub epsilon: f64,
    /// How much of the new estimate replaces α each update (1 = replace).
    pub rate: f64,
    /// The ±δ shift of α that decides whether a sample is informative.
    pub delta: f64,
    /// Pool dialogues examined per update.
    pub samples: usize,
}

impl Default for AfOptions {
    fn default() -> Self {
        Self {
            epsilon: 1.0,
            rate: 0.5,
            delta: 0.1,
            samples: 256,
        }
    }
}

/// What one update did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AfStep {
    pub examined: usize,
    pub informative: usize,
    /// α after the update, `[m][m_i]` (text, audio, visual).
    pub alpha: Vec<Vec<f64>>,
}

/// Per-pair sums of estimates and their counts.
#[derive(Default)]
struct Accum {
    sum: [[f64; 3]; 3],
    count: [[f64; 3]; 3],
}

impl Accum {
    fn add(&mut self, m: usize, mi: usize, values: &Tensor) {
        self.sum[m][mi] += values.sum(Kind::Double).double_value(&[]);
        self.count[m][mi] += values.numel() as f64;
    }
}

/// ∇ of the Central head `Q_m`'s loss at `f [N, d]` for labels `y [N]`, one row per sample.
pub fn head_gradient(model: &Amuse, m: usize, f: &Tensor, y: &Tensor) -> Tensor {
    let f = f.detach().set_requires_grad(true);
    let loss = model
        .central_logits(m, &f)
        .cross_entropy_loss::<Tensor>(y, None, tch::Reduction::Sum, -100, 0.0);
    // The summed loss's gradient at row i is sample i's own gradient.
    Tensor::run_backward(&[loss], &[&f], false, false).remove(0)
}

/// Informative utterances of a batch: labelled, and their fused prediction changes when
/// every α moves by `+δ` or `−δ`.
fn informative(model: &Amuse, b: &Batch, f_ca: &Tensor, present: &Tensor, delta: f64) -> Tensor {
    let f = f_ca.transpose(0, 1);
    let alpha = model.fusion.alpha.detach().clamp(0.0, 1.0);
    let predict = |a: &Tensor| {
        model
            .classify(&fuse(&f, present, a), &b.dialogues, &b.speakers)
            .argmax(-1, false)
    };
    let base = predict(&alpha);
    let up = predict(&(&alpha + delta).clamp(0.0, 1.0));
    let down = predict(&(&alpha - delta).clamp(0.0, 1.0));
    base.ne_tensor(&up)
        .logical_or(&base.ne_tensor(&down))
        .logical_and(&b.labels.ge(0))
}

/// Add one batch's Eq. 6 estimates to `acc`; returns the number of informative utterances.
fn estimate(model: &Amuse, b: &Batch, eps: f64, delta: f64, acc: &mut Accum) -> usize {
    let e = tch::no_grad(|| model.encode(b, false));
    let keep = tch::no_grad(|| informative(model, b, &e.f_ca, &e.present, delta));
    let rows = keep.nonzero().squeeze_dim(1);
    let n = rows.size()[0];
    if n == 0 {
        return 0;
    }
    let f: Vec<Tensor> = (0..3).map(|m| e.f_ca.get(m).index_select(0, &rows).detach()).collect();
    let present = e.present.index_select(0, &rows);
    let y = b.labels.index_select(0, &rows);
    let grads: Vec<Tensor> = (0..3).map(|m| head_gradient(model, m, &f[m], &y)).collect();
    let has = |m: usize| present.select(1, m as i64).gt(0.5);
    tch::no_grad(|| {
        for m3 in 0..3 {
            let others: Vec<usize> = (0..3).filter(|&p| p != m3).collect();
            let (m1, m2) = (others[0], others[1]);
            // One peripheral present: Eq. 6 straight between it and m3.
            for (p, q) in [(m1, m2), (m2, m1)] {
                let sel = has(m3).logical_and(&has(p)).logical_and(&has(q).logical_not());
                let idx = sel.nonzero().squeeze_dim(1);
                if idx.size()[0] > 0 {
                    let pick = |t: &Tensor| t.index_select(0, &idx);
                    acc.add(m3, p, &eq6_rows(&pick(&f[m3]), &pick(&f[p]), &pick(&grads[m3]), eps));
                }
            }
            // Both present: the pairwise chain.
            let sel = has(m3).logical_and(&has(m1)).logical_and(&has(m2));
            let idx = sel.nonzero().squeeze_dim(1);
            if idx.size()[0] == 0 {
                continue;
            }
            let pick = |t: &Tensor| t.index_select(0, &idx);
            let a1 = eq6_rows(&pick(&f[m2]), &pick(&f[m1]), &pick(&grads[m2]), eps);
            let u1 = pick(&f[m1]) * a1.unsqueeze(1) + pick(&f[m2]) * (1.0 - a1.unsqueeze(1));
            let a2 = eq6_rows(&pick(&f[m3]), &u1, &pick(&grads[m3]), eps);
            let a1: Vec<f64> = Vec::<f64>::try_from(a1.to_kind(Kind::Double)).unwrap_or_default();
            let a2: Vec<f64> = Vec::<f64>::try_from(a2.to_kind(Kind::Double)).unwrap_or_default();
            let (mut s1, mut s2) = (Vec::new(), Vec::new());
            for (x1, x2) in a1.into_iter().zip(a2) {
                let [p1, p2] = pair_alphas_from_chain(chain_weights(x1, x2));
                s1.push(p1);
                s2.push(p2);
            }
            acc.add(m3, m1, &Tensor::from_slice(&s1));
            acc.add(m3, m2, &Tensor::from_slice(&s2));
        }
    });
    n as usize
}

/// One Eq. 6 update of `model.fusion.alpha` from a random sample of `pool`.
pub fn update(model: &Amuse, pool: &[&Corpus], opts: &AfOptions, rng: &mut impl Rng, device: Device) -> AfStep {
    let mut all: Vec<&[UtteranceInput]> = pool
        .iter()
        .flat_map(|c| c.dialogues.iter().map(Vec::as_slice))
        .collect();
    all.shuffle(rng);
    all.truncate(opts.samples.max(1));
    let c = &model.config;
    let dims = [c.text_dim, c.audio_dim, c.face_dim, c.back_dim];
    let mut acc = Accum::default();
    let (mut examined, mut informative) = (0, 0);
    for chunk in all.chunks(16) {
        let b = Batch::new(chunk, dims, device);
        examined += b.utterances() as usize;
        informative += estimate(model, &b, opts.epsilon, opts.delta, &mut acc);
    }
    for m in 0..3 {
        for mi in 0..3 {
            if acc.count[m][mi] > 0.0 {
                let mean = acc.sum[m][mi] / acc.count[m][mi];
                model.fusion.guided_update(m as i64, mi as i64, mean, opts.rate);
            }
        }
    }
    let alpha = Vec::<Vec<f64>>::try_from(model.fusion.alpha.detach().to_kind(Kind::Double)).unwrap_or_default();
    AfStep {
        examined,
        informative,
        alpha,
    }
}

/// Split a training corpus into (training, validation pool): every `1/fraction`-th dialogue
/// after a seeded shuffle goes to the pool, so the pool follows the training distribution.
pub fn hold_out(corpus: Corpus, fraction: f64, seed: u64) -> (Corpus, Corpus) {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut dialogues = corpus.dialogues;
    dialogues.shuffle(&mut rng);
    let n_pool = ((dialogues.len() as f64) * fraction.clamp(0.0, 0.5)).round() as usize;
    let rest = dialogues.split_off(n_pool);
    (
        Corpus {
            name: corpus.name.clone(),
            dialogues: rest,
            copies: 0,
        },
        Corpus {
            name: format!("{} (AF pool)", corpus.name),
            dialogues,
            copies: 0,
        },
    )
}
