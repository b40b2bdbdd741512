//! The AMuSE model (Fig. 1): unimodal encoders → MAN → Adaptive Fusion → speaker and
//! dialogue context → emotion of every utterance.

use tch::nn;
use tch::{Kind, Tensor};

use super::batch::Batch;
use super::config::Config;
use super::context::ContextClassifier;
use super::fusion::AdaptiveFusion;
use super::loss;
use super::man::{Central, ModalityInput};
use super::unimodal::{Stream, UnimodalEncoder};

/// The three modalities, in the order used everywhere (tensors' modality axis, heads,
/// presence masks): text, audio, visual. Written lowercase in `config.json` and on the
/// command line (`--without audio`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Text,
    Audio,
    Visual,
}

impl Modality {
    pub const ALL: [Modality; 3] = [Modality::Text, Modality::Audio, Modality::Visual];

    pub fn name(self) -> &'static str {
        match self {
            Modality::Text => "text",
            Modality::Audio => "audio",
            Modality::Visual => "visual",
        }
    }

    /// Its position on the modality axis.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// `text+audio`-style names of a set of modalities, joined by `sep`.
pub fn join(modalities: &[Modality], sep: &str) -> String {
    modalities.iter().map(|m| m.name()).collect::<Vec<_>>().join(sep)
}

impl std::fmt::Display for Modality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug)]
pub struct Amuse {
    pub config: Config,
    text: UnimodalEncoder,
    audio: UnimodalEncoder,
    visual: UnimodalEncoder,
    centrals: Vec<Central>,
    pub fusion: AdaptiveFusion,
    context: ContextClassifier,
}

/// Everything a forward pass yields.
pub struct Output {
    /// Final (context) class logits `[U, classes]`.
    pub logits: Tensor,
    /// Per-modality Central head logits `[3, U, classes]` (rows of absent modalities are junk:
    /// mask with `present`).
    pub modality_logits: Tensor,
    /// Cross-attended descriptors `f_CA` `[3, U, d]`.
    pub f_ca: Tensor,
    /// The `[U, 3]` presence mask used (after modality dropout).
    pub present: Tensor,
}

/// Per-utterance descriptors before the context classifier.
pub struct Encoded {
    /// `A(u)`, `[U, 3·d]`.
    pub fused: Tensor,
    pub modality_logits: Tensor,
    pub f_ca: Tensor,
    pub present: Tensor,
}

/// Loss terms of a batch.
pub struct Losses {
    pub total: Tensor,
    pub focal: f64,
    pub nce: f64,
    pub classification: f64,
}

/// `x [B, L, d]`, `lengths [B]` → `[B, L+1, d]` with the masked mean as position 0
/// (rows of length 0 stay empty).
fn prepend_mean(x: &Tensor, lengths: &Tensor) -> (Tensor, Tensor) {
    let mask = super::bilstm::valid_mask(lengths, x.size()[1]);
    let mean = super::attention::masked_mean(x, &mask).unsqueeze(1);
    let present = lengths.gt(0).to_kind(Kind::Int64);
    (Tensor::cat(&[mean, x.shallow_clone()], 1), lengths + &present)
}

impl Amuse {
    pub fn new(vs: &nn::Path, config: Config) -> Self {
        let c = &config;
        let d = c.hidden;
        let centrals = (0..3)
            .map(|m| {
                Central::new(
                    vs / format!("man_{}", Modality::ALL[m].name()),
                    d,
                    2,
                    c.man_layers,
                    c.heads,
                    c.classes,
                    c.dropout,
                )
            })
            .collect();
        Self {
            text: UnimodalEncoder::new(vs / "text", &[c.text_dim], d, c.sa_layers, c.dropout),
            audio: UnimodalEncoder::new(vs / "audio", &[c.audio_dim], d, c.sa_layers, c.dropout),
            visual: UnimodalEncoder::new(vs / "visual", &[c.face_dim, c.back_dim], d, c.sa_layers, c.dropout),
            centrals,
            fusion: AdaptiveFusion::new(vs / "fusion", 3, c.fusion),
            context: ContextClassifier::new(vs / "context", 3 * d, c.context_hidden, c.classes, c.dropout),
            config,
        }
    }

    /// Forward pass. In training, each present modality of an utterance is dropped with
    /// probability `modality_dropout` (never all of them).
    pub fn forward(&self, b: &Batch, train: bool) -> Output {
        let e = self.encode(b, train);
        let logits = self.context.forward(&e.fused, &b.dialogues, &b.speakers, train);
        Output {
            logits,
            modality_logits: e.modality_logits,
            f_ca: e.f_ca,
            present: e.present,
        }
    }

    /// Everything before the context classifier, per utterance: unimodal encoders, MAN and
    /// Adaptive Fusion. Utterances do not interact here, so an utterance encoded alone gets
    /// exactly its descriptor within a dialogue (LIME relies on this).
    pub fn encode(&self, b: &Batch, train: bool) -> Encoded {
        let mut present = b.present.shallow_clone();
        if train && self.config.training.modality_dropout > 0.0 {
            let keep = present
                .rand_like()
                .ge(self.config.training.modality_dropout)
                .to_kind(Kind::Float);
            let dropped = &present * keep;
            // Utterances left with nothing keep what they had.
            let empty = dropped
                .sum_dim_intlist([1i64].as_slice(), true, Kind::Float)
                .eq(0.0)
                .to_kind(Kind::Float);
            present = &dropped + &present * empty;
        }
        let stream = |p: &super::batch::Padded, m: i64| {
            // A dropped modality has length 0 for this utterance.
            let lengths = (&p.lengths * present.select(1, m).to_kind(Kind::Int64)).to_kind(Kind::Int64);
            (p.x.shallow_clone(), lengths)
        };
        let (tx, tl) = stream(&b.text, 0);
        // The mean of the token states (MPNet's sentence vector before normalisation) is
        // read first, so the text Bi-LSTM starts from the whole sentence.
        let (tx, tl) = if self.config.text_mean_first {
            prepend_mean(&tx, &tl)
        } else {
            (tx, tl)
        };
        let (ax, al) = stream(&b.audio, 1);
        let (fx, fl) = stream(&b.face, 2);
        let (bx, bl) = stream(&b.back, 2);
        let t = self.text.forward(&[Stream { x: &tx, lengths: &tl }], train);
        let a = self.audio.forward(&[Stream { x: &ax, lengths: &al }], train);
        let v = self.visual.forward(
            &[Stream { x: &fx, lengths: &fl }, Stream { x: &bx, lengths: &bl }],
            train,
        );
        let presence: Vec<Tensor> = (0..3).map(|m| present.select(1, m).contiguous()).collect();
        let feats = [&t, &a, &v];
        let mods: Vec<ModalityInput<'_>> = (0..3)
            .map(|m| ModalityInput {
                f: &feats[m].0,
                mask: &feats[m].1,
                present: &presence[m],
            })
            .collect();
        let mut pooled = Vec::with_capacity(3);
        let mut logits = Vec::with_capacity(3);
        for (m, central) in self.centrals.iter().enumerate() {
            let peripherals: Vec<ModalityInput<'_>> = (0..3)
                .filter(|&p| p != m)
                .map(|p| ModalityInput {
                    f: mods[p].f,
                    mask: mods[p].mask,
                    present: mods[p].present,
                })
                .collect();
            let out = central.forward(&mods[m], &peripherals, train);
            pooled.push(out.pooled);
            logits.push(out.logits);
        }
        let f_ca = Tensor::stack(&pooled, 0);
        let fused = self.fusion.forward(&f_ca.transpose(0, 1), &present);
        Encoded {
            fused,
            modality_logits: Tensor::stack(&logits, 0),
            f_ca,
            present,
        }
    }

    /// Logits of modality `m`'s Central head `Q_m` for descriptors `f_CA^m [U, d]`.
    pub fn central_logits(&self, m: usize, f_ca: &Tensor) -> Tensor {
        self.centrals[m].head_logits(f_ca)
    }

    /// The context classifier's logits for fused descriptors arranged in dialogues.
    pub fn classify(
        &self,
        fused: &Tensor,
        dialogues: &super::context::Sequences,
        speakers: &super::context::Sequences,
    ) -> Tensor {
        self.context.forward(fused, dialogues, speakers, false)
    }

    /// Eq. 3–5 plus the classification loss, weighted as configured.
    pub fn losses(&self, b: &Batch, out: &Output) -> Losses {
        let c = &self.config;
        let mut focal = Tensor::zeros([], (Kind::Float, out.logits.device()));
        let mut present_modalities = 0.0;
        for m in 0..3 {
            let w = out.present.select(1, m);
            if w.sum(Kind::Float).double_value(&[]) > 0.0 {
                focal += loss::focal(&out.modality_logits.get(m), &b.labels, c.training.gamma, Some(&w));
                present_modalities += 1.0;
            }
        }
        let focal = focal / f64::max(present_modalities, 1.0);
        let mut nce = Tensor::zeros([], (Kind::Float, out.logits.device()));
        let mut pairs = 0.0;
        for m in 0..3 {
            for mi in 0..3 {
                if m == mi {
                    continue;
                }
                let both = out.present.select(1, m) * out.present.select(1, mi);
                if both.sum(Kind::Float).double_value(&[]) >= 2.0 {
                    nce += loss::nce(
                        &out.f_ca.get(m),
                        &out.f_ca.get(mi),
                        &both,
                        c.training.nce_temperature,
                        c.training.nce_negatives,
                    );
                    pairs += 1.0;
                }
            }
        }
        let nce = nce / f64::max(pairs, 1.0);
        let cls = loss::focal(&out.logits, &b.labels, c.training.gamma, None);
        let total = &focal * c.training.focal_weight + &nce * c.training.nce_weight + &cls * c.training.cls_weight;
        Losses {
            focal: focal.double_value(&[]),
            nce: nce.double_value(&[]),
            classification: cls.double_value(&[]),
            total,
        }
    }
}
