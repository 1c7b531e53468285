//! A model directory's `config.json` and `model.safetensors`, read with serde and the
//! `safetensors` crate: all the encoder needs from them is a handful of sizes and named
//! tensors, widened to f32.

use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use super::EmbedError;

/// The fields of a BERT `config.json` that the forward pass reads, with the defaults of
/// Hugging Face's `BertConfig` for those a checkpoint may leave out.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default = "max_positions")]
    pub max_position_embeddings: usize,
    #[serde(default = "type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Some checkpoints name every tensor `<model_type>.…` (`bert.embeddings…`).
    #[serde(default)]
    pub model_type: Option<String>,
}

fn gelu() -> String {
    "gelu".into()
}
fn max_positions() -> usize {
    512
}
fn type_vocab() -> usize {
    2
}
fn layer_norm_eps() -> f64 {
    1e-12
}

pub fn read_config(path: &Path) -> Result<BertConfig, EmbedError> {
    std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
        .map_err(|message| EmbedError::Config {
            path: path.to_path_buf(),
            message,
        })
}

/// The tensors of a safetensors file under a name prefix, as `encoder.layer.0.` …
pub struct Tensors<'a> {
    file: &'a SafeTensors<'a>,
    path: &'a Path,
    prefix: String,
}

impl<'a> Tensors<'a> {
    pub fn new(file: &'a SafeTensors<'a>, path: &'a Path) -> Tensors<'a> {
        Tensors {
            file,
            path,
            prefix: String::new(),
        }
    }

    /// The tensors under `name.` within these.
    pub fn pp(&self, name: impl AsRef<str>) -> Tensors<'a> {
        Tensors {
            file: self.file,
            path: self.path,
            prefix: format!("{}{}.", self.prefix, name.as_ref()),
        }
    }

    /// The tensor `name` of exactly `shape`, row-major, as f32.
    pub fn get(&self, shape: &[usize], name: &str) -> Result<Vec<f32>, EmbedError> {
        self.read(shape, name, |x| x)
    }

    /// The tensor as f16 bits: for a table of which a forward pass reads a few rows (the
    /// word embeddings, 47 MB in f32), half the resident memory at a rounding error well
    /// inside the encoder's agreement with the f32 model.
    pub fn get_f16(&self, shape: &[usize], name: &str) -> Result<Vec<u16>, EmbedError> {
        self.read(shape, name, |x| half::f16::from_f32(x).to_bits())
    }

    fn read<T>(
        &self,
        shape: &[usize],
        name: &str,
        narrow: impl Fn(f32) -> T,
    ) -> Result<Vec<T>, EmbedError> {
        let full = format!("{}{name}", self.prefix);
        let error = |message: String| EmbedError::Weights {
            path: self.path.to_path_buf(),
            message,
        };
        let view = self
            .file
            .tensor(&full)
            .map_err(|e| error(format!("{full}: {e}")))?;
        if view.shape() != shape {
            return Err(error(format!(
                "{full} has shape {:?}, expected {shape:?}",
                view.shape()
            )));
        }
        let bytes = view.data();
        Ok(match view.dtype() {
            Dtype::F32 => bytes
                .as_chunks::<4>()
                .0
                .iter()
                .map(|b| narrow(f32::from_le_bytes(*b)))
                .collect(),
            Dtype::F16 => bytes
                .as_chunks::<2>()
                .0
                .iter()
                .map(|b| narrow(half::f16::from_le_bytes(*b).to_f32()))
                .collect(),
            Dtype::BF16 => bytes
                .as_chunks::<2>()
                .0
                .iter()
                .map(|b| narrow(half::bf16::from_le_bytes(*b).to_f32()))
                .collect(),
            other => return Err(error(format!("{full} is {other:?}, not a float type"))),
        })
    }
}

/// The weights file's bytes: read whole (90 MB for MiniLM), converted by the encoder and
/// dropped after loading.
pub fn read_weights(path: &Path) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(path).map_err(|e| EmbedError::Weights {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

pub fn parse_weights<'a>(bytes: &'a [u8], path: &Path) -> Result<SafeTensors<'a>, EmbedError> {
    SafeTensors::deserialize(bytes).map_err(|e| EmbedError::Weights {
        path: PathBuf::from(path),
        message: e.to_string(),
    })
}
