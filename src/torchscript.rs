//! One pretrained encoder exported to TorchScript: load it once, run it without autograd.
//!
//! Every encoder of the pipeline (MPNet, Whisper, the expression CNN, EfficientNet, the
//! voice encoder, the MTCNN nets) is a TorchScript file made by `tools/export_models.py`.
//! They differ only in their input/output contract (written in the manifest), so one
//! wrapper serves them all; the modality-specific code is about preparing inputs.

use anyhow::{Context, Result};
use tch::{CModule, Device, IValue, Tensor};

use crate::manifest::ModelStore;

/// A loaded TorchScript module in evaluation mode.
#[derive(Debug)]
pub struct TorchScript {
    pub name: String,
    module: CModule,
    device: Device,
}

impl TorchScript {
    /// Load the manifest entry `name` on `device`, after checking the file's checksum.
    pub fn load(store: &ModelStore, name: &str, device: Device) -> Result<Self> {
        let path = store.require(name)?;
        let mut module = CModule::load_on_device(&path, device)
            .with_context(|| format!("LibTorch could not load {} (re-run `make setup`)", path.display()))?;
        module.set_eval();
        Ok(Self {
            name: name.to_owned(),
            module,
            device,
        })
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// The module's parameters by name, sharing storage with the module (so an in-place
    /// change, like merging a [`crate::features::adapter::TextAdapter`], changes what it computes).
    pub fn parameters(&self) -> Result<Vec<(String, Tensor)>> {
        self.module
            .named_parameters()
            .with_context(|| format!("reading the parameters of encoder `{}`", self.name))
    }

    /// Run the module on `inputs` (moved to its device) and return its outputs, a tuple
    /// flattened into a vector (a single tensor becomes a one-element vector). Image batches
    /// go in as [`channels_last`].
    pub fn forward(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let args: Vec<IValue> = inputs
            .iter()
            .map(|t| IValue::Tensor(channels_last(&t.to_device(self.device))))
            .collect();
        let out = tch::no_grad(|| self.module.forward_is(&args)).with_context(|| {
            format!(
                "encoder `{}` failed on inputs of shapes {:?}",
                self.name,
                shapes(inputs)
            )
        })?;
        flatten(out).with_context(|| format!("encoder `{}` returned an unexpected value", self.name))
    }
}

/// A 4-D float batch `[N, C, H, W]` with channels-last strides (the same values and shape,
/// stored as NHWC); other tensors as they are. oneDNN's convolutions run on NHWC without
/// reordering: one thread, same weights, the expression CNN, EfficientNet and MTCNN's nets
/// took 1.4×, 2×, 2× (P-net) to 4× (R-, O-net) less time, outputs within 1e-6 (measured
/// with the bootstrap's PyTorch). Convolutions keep the layout, so the outputs of
/// such a net are channels-last too; read them through `contiguous()`.
pub fn channels_last(t: &Tensor) -> Tensor {
    if t.dim() == 4 && t.is_floating_point() {
        t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
    } else {
        t.shallow_clone()
    }
}

fn shapes(inputs: &[Tensor]) -> Vec<Vec<i64>> {
    inputs.iter().map(|t| t.size()).collect()
}

fn flatten(value: IValue) -> Result<Vec<Tensor>> {
    match value {
        IValue::Tensor(t) => Ok(vec![t]),
        IValue::Tuple(items) | IValue::GenericList(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.extend(flatten(item)?);
            }
            Ok(out)
        }
        IValue::TensorList(ts) => Ok(ts),
        other => anyhow::bail!("expected tensors, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_last_keeps_values_and_shape_and_stores_nhwc() {
        let t = Tensor::arange(2 * 3 * 4 * 5, (tch::Kind::Float, Device::Cpu)).view([2, 3, 4, 5]);
        let c = channels_last(&t);
        assert_eq!(c.size(), vec![2, 3, 4, 5]);
        assert_eq!(c.stride(), vec![60, 1, 15, 3]);
        assert!(c.equal(&t));
        // Ids, sequences and 3-D inputs are left alone.
        let ids = Tensor::from_slice(&[1i64, 2, 3]).view([1, 1, 1, 3]);
        assert_eq!(channels_last(&ids).stride(), ids.stride());
    }
}
