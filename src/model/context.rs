//! Emotion classification with speaker and dialogue context (Section III-D).
//!
//! Two parallel Bi-LSTMs read the fused utterance descriptors `A(u)`: the *Dialogue
//! Context* over the whole dialogue, the *Speaker Context* over the utterances of the
//! target speaker only. Every utterance is classified with its own speaker as the target:
//! `e_l = s_l ⊕ d_l → linear → softmax`.

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::bilstm::{valid_mask, BiLstm};

/// Which utterances (indices into the batch) form each sequence, in order.
#[derive(Debug, Clone, Default)]
pub struct Sequences(pub Vec<Vec<i64>>);

impl Sequences {
    /// Padded index `[S, N]`, lengths `[S]`.
    fn padded(&self, device: tch::Device) -> (Tensor, Tensor) {
        let n = self.0.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut idx = Vec::with_capacity(self.0.len() * n);
        for s in &self.0 {
            idx.extend_from_slice(s);
            idx.extend(std::iter::repeat_n(0, n - s.len()));
        }
        let lens: Vec<i64> = self.0.iter().map(|s| s.len() as i64).collect();
        (
            Tensor::from_slice(&idx)
                .view([self.0.len() as i64, n as i64])
                .to_device(device),
            Tensor::from_slice(&lens).to_device(device),
        )
    }
}

#[derive(Debug)]
pub struct ContextClassifier {
    dialogue: BiLstm,
    speaker: BiLstm,
    out: nn::Linear,
    dropout: f64,
}

impl ContextClassifier {
    pub fn new(vs: nn::Path, input: i64, hidden: i64, classes: i64, dropout: f64) -> Self {
        Self {
            dialogue: BiLstm::new(&vs / "dialogue", input, hidden),
            speaker: BiLstm::new(&vs / "speaker", input, hidden),
            out: nn::linear(&vs / "out", 4 * hidden, classes, Default::default()),
            dropout,
        }
    }

    /// Run one context Bi-LSTM over `seqs` of `fused [U, F]` → `[U, 2h]` per utterance.
    fn context(lstm: &BiLstm, fused: &Tensor, seqs: &Sequences) -> Tensor {
        let u = fused.size()[0];
        let (idx, lens) = seqs.padded(fused.device());
        let (s, n) = (idx.size()[0], idx.size()[1]);
        let x = fused.index_select(0, &idx.view([-1])).view([s, n, -1]);
        let out = lstm.forward(&x, &lens).view([s * n, -1]);
        let valid = valid_mask(&lens, n).view([-1]);
        let rows = out.index_select(0, &valid.nonzero().squeeze_dim(1));
        let targets = idx.view([-1]).masked_select(&valid);
        Tensor::zeros([u, 2 * lstm.hidden], (Kind::Float, fused.device())).index_copy(0, &targets, &rows)
    }

    /// Class logits `[U, classes]` for every utterance.
    pub fn forward(&self, fused: &Tensor, dialogues: &Sequences, speakers: &Sequences, train: bool) -> Tensor {
        let d = Self::context(&self.dialogue, fused, dialogues);
        let s = Self::context(&self.speaker, fused, speakers);
        self.out.forward(&Tensor::cat(&[s, d], 1).dropout(self.dropout, train))
    }
}

/// Speaker sequences of a dialogue: the utterance indices (offset by `base`) of each
/// distinct speaker, in order. Utterances without a speaker form their own sequence each.
pub fn speaker_sequences(speakers: &[Option<String>], base: i64) -> Vec<Vec<i64>> {
    let mut names: Vec<&str> = Vec::new();
    let mut seqs: Vec<Vec<i64>> = Vec::new();
    for (i, s) in speakers.iter().enumerate() {
        let idx = base + i as i64;
        match s {
            Some(name) => match names.iter().position(|n| n == name) {
                Some(k) => seqs[k].push(idx),
                None => {
                    names.push(name);
                    seqs.push(vec![idx]);
                }
            },
            None => {
                names.push("");
                seqs.push(vec![idx]);
            }
        }
    }
    seqs
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn speaker_sequences_group_by_name() {
        let s = [Some("A".to_owned()), Some("B".to_owned()), Some("A".to_owned()), None];
        assert_eq!(speaker_sequences(&s, 10), vec![vec![10, 12], vec![11], vec![13]]);
    }

    #[test]
    fn each_utterance_gets_its_own_context_and_speakers_do_not_leak() {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let clf = ContextClassifier::new(vs.root(), 4, 3, 7, 0.0);
        let fused = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
        let dialogues = Sequences(vec![vec![0, 1, 2], vec![3]]);
        let speakers = Sequences(vec![vec![0, 2], vec![1], vec![3]]);
        let out = clf.forward(&fused, &dialogues, &speakers, false);
        assert_eq!(out.size(), [4, 7]);
        // Changing utterance 3 (another dialogue) leaves dialogue 0's logits unchanged.
        let mut other = fused.copy();
        let _ = other.get(3).fill_(5.0);
        let out2 = clf.forward(&other, &dialogues, &speakers, false);
        assert!(
            (out.narrow(0, 0, 3) - out2.narrow(0, 0, 3))
                .abs()
                .max()
                .double_value(&[])
                < 1e-6
        );
        other = fused.copy();
        let _ = other.get(1).fill_(5.0);
        let out3 = clf.forward(&other, &dialogues, &speakers, false);
        assert!(
            (out.get(0) - out3.get(0)).abs().max().double_value(&[]) > 1e-6,
            "dialogue context reaches utterance 0"
        );
    }
}
