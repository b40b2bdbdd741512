//! A batch of dialogues as the model's input tensors.
//!
//! Built from plain per-utterance features (whatever modalities each has), so training,
//! the viewer's worker and LIME all feed the model the same way.

use tch::{Device, Kind, Tensor};

use super::amuse::Modality;
use super::context::{speaker_sequences, Sequences};

/// One utterance's inputs. Missing modalities are `None`; `face` rows are only keyframes
/// where a face was found.
#[derive(Debug)]
pub struct UtteranceInput {
    /// `[p, text_dim]`.
    pub text: Option<Tensor>,
    /// `[e, audio_dim]`.
    pub audio: Option<Tensor>,
    /// `[k, face_dim]`.
    pub face: Option<Tensor>,
    /// `[n, back_dim]`.
    pub back: Option<Tensor>,
    pub speaker: Option<String>,
    /// Class index, or `None` when unlabelled.
    pub label: Option<i64>,
}

impl UtteranceInput {
    /// The same utterance with only the modalities `keeps` accepts (by the names of
    /// [`Modality`]; the face and back frames are visual). Tensors are
    /// shared, not copied.
    pub fn only(&self, keeps: impl Fn(Modality) -> bool) -> UtteranceInput {
        let take = |m: Modality, t: &Option<Tensor>| t.as_ref().filter(|_| keeps(m)).map(Tensor::shallow_clone);
        UtteranceInput {
            text: take(Modality::Text, &self.text),
            audio: take(Modality::Audio, &self.audio),
            face: take(Modality::Visual, &self.face),
            back: take(Modality::Visual, &self.back),
            speaker: self.speaker.clone(),
            label: self.label,
        }
    }
}

impl UtteranceInput {
    /// The same utterance with another label.
    pub fn labelled(self, label: i64) -> UtteranceInput {
        UtteranceInput {
            label: Some(label),
            ..self
        }
    }
}

/// A padded modality: `[U, L, dim]` and lengths `[U]`.
#[derive(Debug)]
pub struct Padded {
    pub x: Tensor,
    pub lengths: Tensor,
}

/// Pad sequences `[L_i, dim]` (absent ones count as empty) into `[N, L_max, dim]` f32 on
/// the CPU, with `L_max` at least 1, and return their lengths.
pub fn pad_sequences(rows: &[Option<&Tensor>], dim: i64) -> (Tensor, Vec<i64>) {
    let lens: Vec<i64> = rows.iter().map(|t| t.map_or(0, |t| t.size()[0])).collect();
    let l = lens.iter().copied().max().unwrap_or(0).max(1);
    if rows.is_empty() {
        return (Tensor::zeros([0, l, dim], (Kind::Float, Device::Cpu)), lens);
    }
    let padded: Vec<Tensor> = rows
        .iter()
        .map(|t| {
            let t = t.map_or_else(
                || Tensor::zeros([0, dim], (Kind::Float, Device::Cpu)),
                |t| t.to_kind(Kind::Float).to_device(Device::Cpu),
            );
            t.constant_pad_nd([0, 0, 0, l - t.size()[0]])
        })
        .collect();
    (Tensor::stack(&padded, 0), lens)
}

#[derive(Debug)]
pub struct Batch {
    pub text: Padded,
    pub audio: Padded,
    pub face: Padded,
    pub back: Padded,
    /// `[U, 3]` 0/1: text, audio, visual present.
    pub present: Tensor,
    pub labels: Tensor,
    pub dialogues: Sequences,
    pub speakers: Sequences,
}

impl Batch {
    pub fn utterances(&self) -> i64 {
        self.labels.size()[0]
    }

    /// Stack dialogues (each a list of utterances) into one batch on `device`.
    pub fn new(dialogues: &[&[UtteranceInput]], dims: [i64; 4], device: Device) -> Self {
        let all: Vec<&UtteranceInput> = dialogues.iter().flat_map(|d| d.iter()).collect();
        let pad = |get: &dyn Fn(&UtteranceInput) -> Option<&Tensor>, dim: i64| -> Padded {
            let rows: Vec<Option<&Tensor>> = all.iter().map(|u| get(u)).collect();
            let (x, lens) = pad_sequences(&rows, dim);
            Padded {
                x: x.to_device(device),
                lengths: Tensor::from_slice(&lens).to_device(device),
            }
        };
        let text = pad(&|u| u.text.as_ref(), dims[0]);
        let audio = pad(&|u| u.audio.as_ref(), dims[1]);
        let face = pad(&|u| u.face.as_ref(), dims[2]);
        let back = pad(&|u| u.back.as_ref(), dims[3]);
        let present: Vec<f32> = all
            .iter()
            .flat_map(|u| {
                let has = |t: &Option<Tensor>| -> f32 {
                    if t.as_ref().is_some_and(|t| t.size()[0] > 0) {
                        1.0
                    } else {
                        0.0
                    }
                };
                [has(&u.text), has(&u.audio), has(&u.face).max(has(&u.back))]
            })
            .collect();
        let labels: Vec<i64> = all.iter().map(|u| u.label.unwrap_or(-1)).collect();
        let mut dseq = Vec::new();
        let mut sseq = Vec::new();
        let mut base = 0i64;
        for d in dialogues {
            dseq.push((base..base + d.len() as i64).collect());
            let names: Vec<Option<String>> = d.iter().map(|u| u.speaker.clone()).collect();
            sseq.extend(speaker_sequences(&names, base));
            base += d.len() as i64;
        }
        Batch {
            text,
            audio,
            face,
            back,
            present: Tensor::from_slice(&present).view([-1, 3]).to_device(device),
            labels: Tensor::from_slice(&labels).to_device(device),
            dialogues: Sequences(dseq),
            speakers: Sequences(sseq),
        }
    }
}
