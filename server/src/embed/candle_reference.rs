//! MiniLM through candle's BertModel: the reference that the agreement test (and, with the
//! `candle-reference` feature, `tacit bench latency`) holds tacit's own forward pass to.
//! Never used to serve requests; candle is not a dependency of the shipped binary.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

/// candle's BertModel, one text at a time.
pub struct CandleReference {
    model: BertModel,
    tokenizer: Tokenizer,
}

impl CandleReference {
    pub fn load(dir: &Path) -> anyhow::Result<CandleReference> {
        let config: Config =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json"))?)?;
        // SAFETY: the weights file is memory-mapped read-only and nothing writes to it while
        // the reference runs.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[dir.join("model.safetensors")],
                DType::F32,
                &Device::Cpu,
            )?
        };
        Ok(CandleReference {
            model: BertModel::load(vb, &config)?,
            tokenizer: super::load_tokenizer(dir)?,
        })
    }

    /// Mean-pooled, L2-normalised, as [`super::MiniLm`] does.
    pub fn embed(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        let ids = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| anyhow::anyhow!("tokenizing failed: {e}"))?
            .get_ids()
            .to_vec();
        let n = ids.len();
        let ids = Tensor::from_vec(ids, (1, n), &Device::Cpu)?;
        let hidden = self.model.forward(&ids, &ids.zeros_like()?, None)?;
        let mean = hidden.mean(1)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norm)?.flatten_all()?.to_vec1::<f32>()?)
    }
}
