//! Text to vectors. The default is all-MiniLM-L6-v2 run on the CPU by tacit's own forward
//! pass; when its weights are not on disk a lexical fallback keeps tacit working, and says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokenizers::{Tokenizer, TruncationParams};

use crate::vector::DIMENSION;

mod bert;
#[cfg(any(test, feature = "candle-reference"))]
mod candle_reference;
mod checkpoint;
mod pair;
pub use bert::BertEncoder;
#[cfg(any(test, feature = "candle-reference"))]
pub use candle_reference::CandleReference;

pub const MODEL_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";
pub const MODEL_DIR_NAME: &str = "all-MiniLM-L6-v2";
const MODEL_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];
/// Long enough for any memory; MiniLM was trained on inputs of at most 256 word pieces.
const MAX_TOKENS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model directory {dir} lacks {file}")]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("cannot load the tokenizer from {path}: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("cannot read the model config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cannot read the model weights {path}: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("tokenizing failed: {0}")]
    Tokenize(String),
    #[error("unsupported model shape: {0}")]
    Unsupported(String),
    #[error("cannot start the embedding threads: {0}")]
    Threads(String),
    #[error("the embedding task stopped: {0}")]
    Task(String),
    #[error("downloading the model failed: {0}")]
    Download(String),
}

/// Turns texts into unit-length vectors of [`DIMENSION`] floats.
pub trait Embedder: Send + Sync {
    /// Stored with the data: a change of embedder re-embeds every entry.
    fn id(&self) -> &str;
    /// True for the lexical fallback, which matches words but not meaning.
    fn is_fallback(&self) -> bool;
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Where the model was looked for, in order; `tacit status` shows this list.
pub fn model_search_path(configured: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = configured {
        dirs.push(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("TACIT_MODEL_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(default_model_dir());
    if let Some(snapshot) = hf_cache_snapshot() {
        dirs.push(snapshot);
    }
    dirs
}

/// `$XDG_CACHE_HOME/tacit/models/all-MiniLM-L6-v2`, where `scripts/fetch-model` installs it.
pub fn default_model_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("tacit")
        .join("models")
        .join(MODEL_DIR_NAME)
}

/// The Hugging Face cache snapshot that `tacit model fetch` (or any HF tool) filled, if any.
fn hf_cache_snapshot() -> Option<PathBuf> {
    let repo = hf_hub::Cache::from_env().model(MODEL_REPO.to_string());
    let weights = repo.get("model.safetensors")?;
    weights.parent().map(Path::to_path_buf)
}

fn has_model(dir: &Path) -> bool {
    MODEL_FILES.iter().all(|f| dir.join(f).is_file())
}

/// The embedder in use and, when it is the fallback, why.
pub struct Selected {
    pub embedder: Arc<dyn Embedder>,
    pub model_dir: Option<PathBuf>,
    pub fallback_reason: Option<String>,
}

/// Loads MiniLM from the first directory that holds it; otherwise the lexical fallback.
pub fn select(configured: Option<&Path>) -> Selected {
    let search = model_search_path(configured);
    let mut reason = format!(
        "no all-MiniLM-L6-v2 weights found (looked in: {}); run `scripts/fetch-model` or `tacit model fetch`",
        search.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    for dir in &search {
        if has_model(dir) {
            match MiniLm::load(dir) {
                Ok(model) => {
                    return Selected {
                        embedder: Arc::new(CachedEmbedder::new(model)),
                        model_dir: Some(dir.clone()),
                        fallback_reason: None,
                    }
                }
                Err(e) => {
                    reason = format!("the model in {} failed to load: {e}", dir.display());
                    break;
                }
            }
        }
    }
    tracing::warn!("using the lexical fallback embedder: {reason}");
    Selected {
        embedder: Arc::new(CachedEmbedder::new(LexicalEmbedder)),
        model_dir: None,
        fallback_reason: Some(reason),
    }
}

/// Downloads the model into the Hugging Face cache, for users who are online.
pub async fn fetch_from_hub() -> Result<PathBuf, EmbedError> {
    let api = hf_hub::api::tokio::Api::new().map_err(|e| EmbedError::Download(e.to_string()))?;
    let repo = api.model(MODEL_REPO.to_string());
    let mut dir = None;
    for file in MODEL_FILES {
        let path = repo
            .get(file)
            .await
            .map_err(|e| EmbedError::Download(format!("{file}: {e}")))?;
        dir = path.parent().map(Path::to_path_buf);
    }
    dir.ok_or_else(|| EmbedError::Download("no files downloaded".into()))
}

/// all-MiniLM-L6-v2: BERT, mean pooling over the tokens, L2 normalisation. The forward pass
/// is [`BertEncoder`].
pub struct MiniLm {
    encoder: BertEncoder,
    tokenizer: Tokenizer,
}

/// Fails with the first of the model's files that `dir` lacks.
fn check_model_files(dir: &Path) -> Result<(), EmbedError> {
    match MODEL_FILES.iter().find(|f| !dir.join(f).is_file()) {
        Some(file) => Err(EmbedError::MissingFile {
            dir: dir.to_path_buf(),
            file,
        }),
        None => Ok(()),
    }
}

impl MiniLm {
    pub fn load(dir: &Path) -> Result<MiniLm, EmbedError> {
        check_model_files(dir)?;
        let config = checkpoint::read_config(&dir.join("config.json"))?;
        // The tokenizer (about 15 ms to parse) is read while the weights are read and packed.
        std::thread::scope(|scope| {
            let tokenizer = scope.spawn(|| load_tokenizer(dir));
            let path = dir.join("model.safetensors");
            let weights = checkpoint::Weights::read(&path, &[bert::WORD_TABLE])?;
            let file = weights.parse()?;
            let encoder = BertEncoder::load(&checkpoint::Tensors::new(&weights, &file), &config)?;
            let tokenizer = tokenizer.join().map_err(|_| {
                EmbedError::Threads("the thread reading the tokenizer panicked".into())
            })??;
            Ok(MiniLm { encoder, tokenizer })
        })
    }
}

/// The model's tokenizer, truncating at [`MAX_TOKENS`] and never padding.
pub(crate) fn load_tokenizer(dir: &Path) -> Result<Tokenizer, EmbedError> {
    let tokenizer_path = dir.join("tokenizer.json");
    let mut tokenizer =
        Tokenizer::from_file(&tokenizer_path).map_err(|e| EmbedError::Tokenizer {
            path: tokenizer_path.clone(),
            message: e.to_string(),
        })?;
    // The shipped tokenizer pads every input to 128 tokens; the encoder takes each text
    // at its own length, so padding would only cost time.
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..Default::default()
        }))
        .map_err(|e| EmbedError::Tokenizer {
            path: tokenizer_path,
            message: e.to_string(),
        })?;
    Ok(tokenizer)
}

impl Embedder for MiniLm {
    fn id(&self) -> &str {
        // Unchanged from the candle BertModel this replaced: the vectors agree to a cosine
        // of 0.999 or better (a test checks) and the retrieval benchmark gives the same
        // figures, so stores need no re-embedding.
        MODEL_REPO
    }

    fn is_fallback(&self) -> bool {
        false
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if let [text] = texts {
            // Every query: `encode_batch` would hand even one text to a thread pool.
            let encoding = self
                .tokenizer
                .encode(*text, true)
                .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
            return Ok(vec![self.encoder.embed(encoding.get_ids())?]);
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        self.encoder.embed_many(&ids)
    }
}

/// Fallback: hashed word and character-trigram features. It matches shared words and word
/// parts, not meaning; it exists so that tacit works before the model is installed.
pub struct LexicalEmbedder;

pub const LEXICAL_ID: &str = "tacit-lexical-hash-384 (fallback)";

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    hash
}

impl LexicalEmbedder {
    fn embed_one(text: &str) -> Vec<f32> {
        let mut v = vec![0f32; DIMENSION];
        let mut add = |feature: &str, weight: f32| {
            let h = fnv1a(feature.as_bytes());
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            v[(h % DIMENSION as u64) as usize] += sign * weight;
        };
        let lower = text.to_lowercase();
        for word in lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            add(word, 1.0);
            let padded: Vec<char> = format!("^{word}$").chars().collect();
            for tri in padded.windows(3) {
                add(&tri.iter().collect::<String>(), 0.3);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

impl Embedder for LexicalEmbedder {
    fn id(&self) -> &str {
        LEXICAL_ID
    }

    fn is_fallback(&self) -> bool {
        true
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| LexicalEmbedder::embed_one(t))
            .collect())
    }
}

/// Remembers recent embeddings: copilots ask the same questions again and again.
pub struct CachedEmbedder<E> {
    inner: E,
    cache: Mutex<HashMap<String, Vec<f32>>>,
}

const CACHE_LIMIT: usize = 2048;

impl<E: Embedder> CachedEmbedder<E> {
    pub fn new(inner: E) -> Self {
        CachedEmbedder {
            inner,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl<E: Embedder> Embedder for CachedEmbedder<E> {
    fn id(&self) -> &str {
        self.inner.id()
    }

    fn is_fallback(&self) -> bool {
        self.inner.is_fallback()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out: Vec<Option<Vec<f32>>> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            texts.iter().map(|t| cache.get(*t).cloned()).collect()
        };
        let missing: Vec<usize> = (0..texts.len()).filter(|&i| out[i].is_none()).collect();
        if !missing.is_empty() {
            let todo: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
            let fresh = self.inner.embed(&todo)?;
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() + fresh.len() > CACHE_LIMIT {
                cache.clear();
            }
            for (i, v) in missing.into_iter().zip(fresh) {
                cache.insert(texts[i].to_string(), v.clone());
                out[i] = Some(v);
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::cosine;

    #[test]
    fn lexical_fallback_is_normalised_and_matches_shared_words() {
        let e = LexicalEmbedder;
        let v = e
            .embed(&[
                "use tracing for logging",
                "logging with tracing",
                "indent with tabs",
            ])
            .unwrap();
        let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]));
        assert!(e.is_fallback());
    }

    #[test]
    fn a_directory_without_weights_selects_the_fallback_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let lone = dir.path().join("config.json");
        std::fs::write(&lone, "{}").unwrap();
        assert!(matches!(
            MiniLm::load(dir.path()),
            Err(EmbedError::MissingFile {
                file: "model.safetensors",
                ..
            })
        ));
    }

    /// Runs with the real weights that `scripts/fetch-model` installs; CI runs that script
    /// first, so this test never skips there.
    #[test]
    fn minilm_embeds_meaning_not_only_words() {
        let dir = model_search_path(None).into_iter().find(|d| has_model(d)).expect(
            "all-MiniLM-L6-v2 not installed: run scripts/fetch-model (CI does this before the tests)",
        );
        let model = MiniLm::load(&dir).unwrap();
        let texts = [
            "How are errors handled in this codebase?",
            "Functions return Result and propagate failures with the ? operator.",
            "The CSS uses a dark colour palette.",
        ];
        let v = model.embed(&texts).unwrap();
        assert_eq!(v[0].len(), DIMENSION);
        let norm: f32 = v[1].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3);
        assert!(
            cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.1,
            "{} vs {}",
            cosine(&v[0], &v[1]),
            cosine(&v[0], &v[2])
        );
        // One text alone and among others gives the same vector.
        let single = model.embed(&[texts[1]]).unwrap();
        assert!(cosine(&single[0], &v[1]) > 0.9999);
    }

    /// The word embeddings are read from the weights file on demand, so what happens to the
    /// file after loading matters: `scripts/fetch-model` replaces it (a new file renamed over
    /// the path), which a loaded model does not notice; a file cut short in place is an
    /// error for the text, not a panic or a wrong vector.
    #[test]
    fn a_loaded_model_survives_its_weights_file_being_replaced_and_reports_one_cut_short() {
        let installed = model_search_path(None).into_iter().find(|d| has_model(d)).expect(
            "all-MiniLM-L6-v2 not installed: run scripts/fetch-model (CI does this before the tests)",
        );
        let dir = tempfile::tempdir().unwrap();
        for file in MODEL_FILES {
            std::fs::copy(installed.join(file), dir.path().join(file)).unwrap();
        }
        let weights = dir.path().join("model.safetensors");
        let model = MiniLm::load(dir.path()).unwrap();
        let text = ["Functions return Result and propagate failures with the ? operator."];
        let before = model.embed(&text).unwrap();

        let replacement = dir.path().join("model.safetensors.part");
        std::fs::write(&replacement, b"not a model").unwrap();
        std::fs::rename(&replacement, &weights).unwrap();
        assert_eq!(
            model.embed(&text).unwrap(),
            before,
            "the replaced file is not read"
        );

        std::fs::copy(installed.join("model.safetensors"), &weights).unwrap();
        let model = MiniLm::load(dir.path()).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&weights)
            .unwrap()
            .set_len(1024)
            .unwrap();
        match model.embed(&text) {
            Err(EmbedError::Weights { message, .. }) => {
                assert!(message.contains("reading row"), "{message}")
            }
            other => panic!("a truncated weights file gave {other:?}"),
        }
    }

    /// tacit's own forward pass gives candle's BertModel result on the real weights (to a
    /// cosine of 0.999: its weights and inputs are 8-bit), for texts from one token to the
    /// truncation limit: with the kernel this CPU picks (AVX-512 VNNI where it has it), the
    /// AVX2 one and the portable code, which agree with each other to 0.9995.
    #[test]
    fn the_encoder_agrees_with_candle_bert() {
        let dir = model_search_path(None).into_iter().find(|d| has_model(d)).expect(
            "all-MiniLM-L6-v2 not installed: run scripts/fetch-model (CI does this before the tests)",
        );
        let model = MiniLm::load(&dir).unwrap();
        let reference = CandleReference::load(&dir).unwrap();
        let long = "errors propagate with the question mark operator ".repeat(60);
        let texts = [
            "x",
            "How are errors handled?",
            "Before you commit, run cargo fmt and cargo clippy with -D warnings.",
            long.as_str(),
        ];
        let ours = model.embed(&texts).unwrap();
        for (text, v) in texts.iter().zip(&ours) {
            let expected = reference.embed(text).unwrap();
            let ids = model.tokenizer.encode(*text, true).unwrap();
            let n = ids.len();
            let cos = cosine(v, &expected);
            assert!(cos > 0.999, "{n} tokens: cosine {cos}");
            // Every kernel sums integer products the same way; the f32 steps around them
            // (fused or not) differ in the last bits, which can move a code by one step.
            let portable = model
                .encoder
                .embed_portable(ids.get_ids())
                .expect("portable");
            let cos = cosine(&portable, &expected);
            assert!(cos > 0.999, "{n} tokens without SIMD: cosine {cos}");
            let cos = cosine(&portable, v);
            assert!(cos > 0.9995, "{n} tokens, portable against SIMD: {cos}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                let avx2 = model.encoder.embed_avx2(ids.get_ids()).expect("avx2");
                let cos = cosine(&avx2, v);
                assert!(
                    cos > 0.9995,
                    "{n} tokens, AVX2 kernel against this CPU's: {cos}"
                );
            }
        }
        assert_eq!(
            model.tokenizer.encode(texts[3], true).unwrap().len(),
            MAX_TOKENS,
            "the long text reaches the truncation limit"
        );
    }
}
