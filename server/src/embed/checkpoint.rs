//! A model directory's `config.json` and `model.safetensors`, read with serde and the
//! `safetensors` crate: all the encoder needs from them is a handful of sizes and named
//! tensors, widened to f32, and one table it reads from the file row by row.

use std::fs::File;
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
    weights: &'a Weights,
    file: &'a SafeTensors<'a>,
    prefix: String,
}

impl<'a> Tensors<'a> {
    pub fn new(weights: &'a Weights, file: &'a SafeTensors<'a>) -> Tensors<'a> {
        Tensors {
            weights,
            file,
            prefix: String::new(),
        }
    }

    /// The tensors under `name.` within these.
    pub fn pp(&self, name: impl AsRef<str>) -> Tensors<'a> {
        Tensors {
            weights: self.weights,
            file: self.file,
            prefix: format!("{}{}.", self.prefix, name.as_ref()),
        }
    }

    /// The tensor `name` of exactly `shape`, row-major, as f32.
    pub fn get(&self, shape: &[usize], name: &str) -> Result<Vec<f32>, EmbedError> {
        let full = format!("{}{name}", self.prefix);
        if self.weights.left_in_file.contains(&full) {
            return Err(self.error(format!("{full} was left in the file, to be read by rows")));
        }
        let view = self.view(shape, name)?;
        let mut out = vec![0f32; shape.iter().product()];
        widen(view.dtype(), view.data(), &mut out).map_err(|dtype| {
            self.error(format!(
                "{}{name} is {dtype:?}, not a float type",
                self.prefix
            ))
        })?;
        Ok(out)
    }

    /// A table of which a forward pass reads a few rows per text (the word embeddings:
    /// 30,522 rows, 47 MB in f32), left in the file and read row by row when a text needs
    /// them. Its pages stay in the operating system's file cache, which every tacit process
    /// on the machine shares (a server per editor window, the CLI, an MCP server), instead
    /// of a copy in each process's resident memory; a row costs one `pread` of 1.5 KB, a
    /// few microseconds against the milliseconds of the forward pass.
    pub fn rows_in_file(&self, shape: [usize; 2], name: &str) -> Result<FileRows, EmbedError> {
        let view = self.view(&shape, name)?;
        let dtype = view.dtype();
        if !matches!(dtype, Dtype::F32 | Dtype::F16 | Dtype::BF16) {
            return Err(self.error(format!(
                "{}{name} is {dtype:?}, not a float type",
                self.prefix
            )));
        }
        let file = self
            .weights
            .file
            .try_clone()
            .map_err(|e| self.error(e.to_string()))?;
        // The view is a slice of the bytes read from this same open file, so its place in
        // them is its place in the file, whatever replaces the file's path later.
        let offset = view.data().as_ptr() as usize - self.weights.bytes.as_ptr() as usize;
        Ok(FileRows {
            file,
            path: self.weights.path.clone(),
            offset: offset as u64,
            dtype,
            rows: shape[0],
            columns: shape[1],
        })
    }

    fn error(&self, message: String) -> EmbedError {
        EmbedError::Weights {
            path: self.weights.path.clone(),
            message,
        }
    }

    fn view(
        &self,
        shape: &[usize],
        name: &str,
    ) -> Result<safetensors::tensor::TensorView<'a>, EmbedError> {
        let full = format!("{}{name}", self.prefix);
        let view = self
            .file
            .tensor(&full)
            .map_err(|e| self.error(format!("{full}: {e}")))?;
        if view.shape() != shape {
            return Err(self.error(format!(
                "{full} has shape {:?}, expected {shape:?}",
                view.shape()
            )));
        }
        Ok(view)
    }
}

/// The numbers of `bytes` as f32, into `out` (as many as both hold: the view's shape was
/// checked against `out`'s length); the dtype back when it is not a float. Written element by
/// element into a slice, which the compiler turns into a copy for f32, where a push per
/// number was a tenth of loading the model.
fn widen(dtype: Dtype, bytes: &[u8], out: &mut [f32]) -> Result<(), Dtype> {
    match dtype {
        Dtype::F32 => {
            for (o, b) in out.iter_mut().zip(bytes.as_chunks::<4>().0) {
                *o = f32::from_le_bytes(*b);
            }
        }
        Dtype::F16 => {
            for (o, b) in out.iter_mut().zip(bytes.as_chunks::<2>().0) {
                *o = half::f16::from_le_bytes(*b).to_f32();
            }
        }
        Dtype::BF16 => {
            for (o, b) in out.iter_mut().zip(bytes.as_chunks::<2>().0) {
                *o = half::bf16::from_le_bytes(*b).to_f32();
            }
        }
        other => return Err(other),
    }
    Ok(())
}

/// A row-major table in the weights file, read a row at a time ([`Tensors::rows_in_file`]).
pub struct FileRows {
    file: File,
    path: PathBuf,
    /// Where row 0 starts in the file.
    offset: u64,
    dtype: Dtype,
    rows: usize,
    columns: usize,
}

impl FileRows {
    /// Row `row`, widened to f32, into `out` (`columns` long); `bytes` is scratch space.
    pub fn read_row(
        &self,
        row: usize,
        out: &mut [f32],
        bytes: &mut Vec<u8>,
    ) -> Result<(), EmbedError> {
        assert!(
            row < self.rows && out.len() == self.columns,
            "row {row} of {}",
            self.rows
        );
        let size = self.columns * self.dtype.bitsize() / 8;
        bytes.resize(size, 0);
        let at = self.offset + (row * size) as u64;
        // A file cut short since loading (rewritten in place rather than replaced) is an
        // error for this text, not a panic.
        read_exact_at(&self.file, bytes, at).map_err(|e| EmbedError::Weights {
            path: self.path.clone(),
            message: format!("reading row {row} at byte {at}: {e}"),
        })?;
        widen(self.dtype, bytes, out)
            .expect("checked to be a float type when the table was opened");
        Ok(())
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// The weights file, open, and its bytes: every tensor but the tables left in the file for
/// [`FileRows`], converted by the encoder and dropped after loading; the file stays open for
/// [`FileRows`].
pub struct Weights {
    file: File,
    path: PathBuf,
    /// As long as the file. A table left in the file is zeros here, pages never touched.
    bytes: Vec<u8>,
    /// The names of the tensors not read into `bytes`.
    left_in_file: Vec<String>,
}

impl Weights {
    /// Reads the header and the tensors, except those whose name ends with one of
    /// `left_in_file`: MiniLM's word table is half of its 90 MB file, and reading it whole
    /// only to read it again row by row was a quarter of a start's CPU time under `perf`.
    pub fn read(path: &Path, left_in_file: &[&str]) -> Result<Weights, EmbedError> {
        let error = |message: String| EmbedError::Weights {
            path: path.to_path_buf(),
            message,
        };
        let file = File::open(path).map_err(|e| error(e.to_string()))?;
        let len = file.metadata().map_err(|e| error(e.to_string()))?.len();
        let len = usize::try_from(len).map_err(|e| error(e.to_string()))?;
        // Zeroed by the allocator's fresh pages, which stay unmapped until written.
        let mut bytes = vec![0u8; len];
        let mut header_len = [0u8; 8];
        read_exact_at(&file, &mut header_len, 0).map_err(|e| error(e.to_string()))?;
        let data_start = usize::try_from(u64::from_le_bytes(header_len))
            .ok()
            .and_then(|n| n.checked_add(8))
            .filter(|&end| end <= len)
            .ok_or_else(|| error("the header is longer than the file".into()))?;
        read_exact_at(&file, &mut bytes[..data_start], 0).map_err(|e| error(e.to_string()))?;
        let (_, metadata) = SafeTensors::read_metadata(&bytes).map_err(|e| error(e.to_string()))?;
        let mut left = Vec::new();
        for (name, info) in metadata.tensors() {
            if left_in_file.iter().any(|suffix| name.ends_with(suffix)) {
                left.push(name);
                continue;
            }
            // Checked against the file's length by `read_metadata`.
            let (start, end) = (
                data_start + info.data_offsets.0,
                data_start + info.data_offsets.1,
            );
            read_exact_at(&file, &mut bytes[start..end], start as u64)
                .map_err(|e| error(format!("{name}: {e}")))?;
        }
        Ok(Weights {
            file,
            path: path.to_path_buf(),
            bytes,
            left_in_file: left,
        })
    }

    pub fn parse(&self) -> Result<SafeTensors<'_>, EmbedError> {
        SafeTensors::deserialize(&self.bytes).map_err(|e| EmbedError::Weights {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of two tensors: `a` (2×2) and the word table (3×2), f32.
    fn write_file(path: &Path) {
        let header = r#"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"emb.word_embeddings.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[16,40]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        for x in 1..=10 {
            bytes.extend_from_slice(&(x as f32).to_le_bytes());
        }
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn a_table_left_in_the_file_is_read_by_rows_and_never_taken_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        write_file(&path);
        let weights = Weights::read(&path, &["word_embeddings.weight"]).unwrap();
        let file = weights.parse().unwrap();
        let tensors = Tensors::new(&weights, &file);
        assert_eq!(tensors.get(&[2, 2], "a").unwrap(), [1.0, 2.0, 3.0, 4.0]);
        let emb = tensors.pp("emb");
        let rows = emb.rows_in_file([3, 2], "word_embeddings.weight").unwrap();
        let (mut row, mut scratch) = ([0f32; 2], Vec::new());
        rows.read_row(2, &mut row, &mut scratch).unwrap();
        assert_eq!(row, [9.0, 10.0]);
        // Its bytes were not read, so taking it whole is an error, not zeros.
        match emb.get(&[3, 2], "word_embeddings.weight") {
            Err(EmbedError::Weights { message, .. }) => {
                assert!(message.contains("left in the file"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        // Read whole, it is there.
        let weights = Weights::read(&path, &[]).unwrap();
        let file = weights.parse().unwrap();
        let tensors = Tensors::new(&weights, &file);
        assert_eq!(
            tensors
                .pp("emb")
                .get(&[3, 2], "word_embeddings.weight")
                .unwrap()[4..],
            [9.0, 10.0]
        );
        // A file cut short is an error that names it.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(100)
            .unwrap();
        assert!(matches!(
            Weights::read(&path, &[]),
            Err(EmbedError::Weights { .. })
        ));
    }
}
