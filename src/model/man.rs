//! Multimodal Attention Network (Section III-B, Eq. 1).
//!
//! For each modality `m` a *Central* query network of `h` dense layers refines the
//! unimodal descriptor `f^m`. At every layer `l` its output is cross-attended by each
//! *Peripheral* modality `m_i ≠ m` through keys and values that are linear maps of
//! `f^{m_i}`; the attention outputs are averaged over the peripherals present and added
//! residually:
//!
//! `g_m^l = g_m^{l-1} + 1/|P| Σ_{m_i ∈ P} softmax(g_m^{l-1} K_{m_i}^{l-1 ᵀ} / √d) V_{m_i}^{l-1}`
//!
//! (multi-head; as in the authors' code each layer then applies `tanh(linear(·))`). The
//! Central output is mean-pooled into `f_CA^m ∈ R^d` and ends in a softmax head: the
//! per-modality prediction shown in the explanation panel (Fig. 2, Table I rows T/A/V).

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::attention::{attend, masked_mean, merge_heads, split_heads};

/// One modality's unimodal descriptors: `f [B, L, d]`, `mask [B, L]`, and `present [B]`
/// (float 0/1: whether the utterance has this modality at all).
pub struct ModalityInput<'a> {
    pub f: &'a Tensor,
    pub mask: &'a Tensor,
    pub present: &'a Tensor,
}

#[derive(Debug)]
struct Layer {
    q: nn::Linear,
    /// Key and value maps, one per peripheral.
    kv: Vec<(nn::Linear, nn::Linear)>,
    out: nn::Linear,
    dense: nn::Linear,
}

/// The Central network of one modality.
#[derive(Debug)]
pub struct Central {
    layers: Vec<Layer>,
    head: nn::Linear,
    heads: i64,
    dropout: f64,
}

/// What a Central network produces for a batch.
pub struct CentralOutput {
    /// `f_CA^m`, `[B, d]`.
    pub pooled: Tensor,
    /// The modality's own class logits, `[B, classes]`.
    pub logits: Tensor,
}

impl Central {
    pub fn new(
        vs: nn::Path,
        d: i64,
        peripherals: usize,
        layers: usize,
        heads: i64,
        classes: i64,
        dropout: f64,
    ) -> Self {
        let lin = |p: nn::Path| nn::linear(p, d, d, Default::default());
        let layers = (0..layers)
            .map(|l| {
                let p = &vs / format!("layer{l}");
                Layer {
                    q: lin(&p / "q"),
                    kv: (0..peripherals)
                        .map(|i| (lin(&p / format!("k{i}")), lin(&p / format!("v{i}"))))
                        .collect(),
                    out: lin(&p / "out"),
                    dense: lin(&p / "dense"),
                }
            })
            .collect();
        Self {
            layers,
            head: nn::linear(&vs / "head", d, classes, Default::default()),
            heads,
            dropout,
        }
    }

    /// The softmax head's logits for descriptors `f_CA^m [B, d]` (Eq. 6 differentiates the
    /// head's loss with respect to them).
    pub fn head_logits(&self, f_ca: &Tensor) -> Tensor {
        self.head.forward(f_ca)
    }

    /// `central` is this modality; `peripherals` the others, in the order given at `new`.
    pub fn forward(
        &self,
        central: &ModalityInput<'_>,
        peripherals: &[ModalityInput<'_>],
        train: bool,
    ) -> CentralOutput {
        let mut g = central.f.shallow_clone();
        // How many peripherals each utterance has (for the average of Eq. 1).
        let count = peripherals
            .iter()
            .fold(Tensor::zeros_like(central.present), |acc, p| acc + p.present)
            .clamp_min(1.0);
        for layer in &self.layers {
            let q = split_heads(&layer.q.forward(&g), self.heads);
            let mut injected = Tensor::zeros_like(&g);
            for (p, (k, v)) in peripherals.iter().zip(&layer.kv) {
                let k = split_heads(&k.forward(p.f), self.heads);
                let v = split_heads(&v.forward(p.f), self.heads);
                let a = merge_heads(&attend(&q, &k, &v, &p.mask.unsqueeze(1)));
                injected += layer.out.forward(&a) * p.present.view([-1, 1, 1]);
            }
            let x = &g + injected / count.view([-1, 1, 1]);
            g = layer.dense.forward(&x).tanh().dropout(self.dropout, train);
        }
        let pooled = masked_mean(&g, central.mask);
        CentralOutput {
            logits: self.head.forward(&pooled),
            pooled,
        }
    }
}

/// Probabilities of a Central head.
pub fn probabilities(out: &CentralOutput) -> Tensor {
    out.logits.softmax(-1, Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn modality(b: i64, l: i64, d: i64, present: &[f32]) -> (Tensor, Tensor, Tensor) {
        let f = Tensor::randn([b, l, d], (Kind::Float, Device::Cpu));
        let mask = Tensor::ones([b, l], (Kind::Bool, Device::Cpu));
        (f, mask, Tensor::from_slice(present))
    }

    #[test]
    fn a_missing_peripheral_does_not_change_the_central_output() {
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let central = Central::new(vs.root(), 8, 2, 2, 2, 7, 0.0);
        let (tf, tm, tp) = modality(1, 3, 8, &[1.0]);
        let (af, am, ap) = modality(1, 4, 8, &[1.0]);
        let (vf, vm, _) = modality(1, 5, 8, &[0.0]);
        let absent = Tensor::from_slice(&[0f32]);
        let c = ModalityInput {
            f: &tf,
            mask: &tm,
            present: &tp,
        };
        let with_junk = central.forward(
            &c,
            &[
                ModalityInput {
                    f: &af,
                    mask: &am,
                    present: &ap,
                },
                ModalityInput {
                    f: &vf,
                    mask: &vm,
                    present: &absent,
                },
            ],
            false,
        );
        let other_junk = vf.randn_like() * 100.0;
        let with_other = central.forward(
            &c,
            &[
                ModalityInput {
                    f: &af,
                    mask: &am,
                    present: &ap,
                },
                ModalityInput {
                    f: &other_junk,
                    mask: &vm,
                    present: &absent,
                },
            ],
            false,
        );
        assert!((with_junk.pooled - &with_other.pooled).abs().max().double_value(&[]) < 1e-6);
        assert_eq!(with_other.logits.size(), [1, 7]);
    }
}
