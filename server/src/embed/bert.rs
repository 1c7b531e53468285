//! The BERT forward pass of MiniLM, one text at a time: the query on the hot path of
//! context assembly, and documents on all threads.
//!
//! candle's matmul packs the whole weight matrix again on every call. A query has about ten
//! tokens, so packing costs more than the arithmetic: about two thirds of a 13 ms query
//! embedding on these machines went to packing and dispatch. Here the weights are
//! packed once at load (see `Dense`), each layer's outputs are split between two threads,
//! and the weight stream is f16. Apart from the matrix kernel, which uses AVX2/FMA/F16C
//! intrinsics (AVX-512 where the CPU has it: a 21-token query 1.5x faster), the code
//! is plain Rust over fixed-width arrays that LLVM vectorises; all of it is compiled a second
//! time with those features enabled, and that copy is used when the CPU has them. A test
//! checks each kernel against candle's BertModel on the real weights.

use std::ops::Range;

use super::checkpoint::{BertConfig, FileRows, Tensors};
use super::EmbedError;

/// Lanes per vector register: one AVX2 register of f32.
const LANES: usize = 8;
/// Outputs per panel of packed weights: two registers wide.
const PANEL: usize = 2 * LANES;
/// The attention's vectors: a head's dimensions and keys are taken 16 at a time.
const LANES_16: usize = 16;
/// Tokens per block: 6 tokens × 2 registers of accumulators, two weight registers and one
/// broadcast activation fill 15 of the 16 AVX2 registers.
const TOKENS: usize = 6;
/// Tokens per block in the AVX-512 kernel: 12 accumulators, the weights and a broadcast
/// activation use 14 of its 32 registers, and a query of up to 12 tokens reads each panel
/// once.
const WIDE_TOKENS: usize = 12;

/// A linear layer with `rows` outputs and `cols` inputs. The weights are packed in panels of
/// `PANEL` outputs: for each input, the panel's `PANEL` weights are adjacent, so the kernel
/// streams through memory once per block of tokens. They are stored as f16 bits: a query's
/// forward pass waits on memory, not arithmetic, and 21 MB of f16 stay in the L3 cache where
/// 42 MB of f32 did not. Sums are in f32; the vectors agree with the f32 model to a cosine of
/// 0.99999 or better (tested).
struct Dense {
    packed: Vec<u16>,
    bias: Vec<f32>,
    rows: usize,
    cols: usize,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    /// Query, key and value projections stacked into one matrix: one pass over the tokens.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    up: Dense,
    down: Dense,
    output_norm: Norm,
}

pub struct BertEncoder {
    /// Threads for single texts (every query). A pool of their own, so that a query never
    /// waits behind a batch of documents being indexed, nor behind rayon's global pool.
    single: rayon::ThreadPool,
    /// Threads for batches of documents.
    batch: rayon::ThreadPool,
    /// Read from the weights file a row per token ([`Tensors::rows_in_file`]).
    word: FileRows,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    /// The matrix kernel uses AVX-512 (the CPU has AVX512F): one register holds a whole
    /// panel, so each weight and token costs one multiply-add instead of two.
    wide: bool,
    hidden: usize,
    intermediate: usize,
    heads: usize,
    vocab: usize,
    max_positions: usize,
    eps: f32,
}

fn tensor(vb: &Tensors, shape: &[usize], name: &str) -> Result<Vec<f32>, EmbedError> {
    vb.get(shape, name)
}

/// The checkpoint's row-major weights of one layer, before packing.
struct Weights {
    weight: Vec<f32>,
    bias: Vec<f32>,
    rows: usize,
    cols: usize,
}

fn weights(vb: &Tensors, rows: usize, cols: usize) -> Result<Weights, EmbedError> {
    Ok(Weights {
        weight: tensor(vb, &[rows, cols], "weight")?,
        bias: tensor(vb, &[rows], "bias")?,
        rows,
        cols,
    })
}

fn dense(vb: &Tensors, rows: usize, cols: usize) -> Result<Dense, EmbedError> {
    Ok(pack(weights(vb, rows, cols)?))
}

fn pack(w: Weights) -> Dense {
    let mut packed = Vec::with_capacity(w.weight.len());
    for panel in w.weight.chunks_exact(PANEL * w.cols) {
        for k in 0..w.cols {
            packed.extend((0..PANEL).map(|r| half::f16::from_f32(panel[r * w.cols + k]).to_bits()));
        }
    }
    Dense {
        packed,
        bias: w.bias,
        rows: w.rows,
        cols: w.cols,
    }
}

fn norm(vb: &Tensors, size: usize) -> Result<Norm, EmbedError> {
    Ok(Norm {
        gamma: tensor(vb, &[size], "weight")?,
        beta: tensor(vb, &[size], "bias")?,
    })
}

fn pool(name: &'static str, threads: usize) -> Result<rayon::ThreadPool, EmbedError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{name}-{i}"))
        .build()
        .map_err(|e| EmbedError::Threads(e.to_string()))
}

fn stack(parts: [Weights; 3]) -> Dense {
    let cols = parts[0].cols;
    let mut out = Weights {
        weight: Vec::new(),
        bias: Vec::new(),
        rows: 0,
        cols,
    };
    for part in parts {
        out.weight.extend(part.weight);
        out.bias.extend(part.bias);
        out.rows += part.rows;
    }
    pack(out)
}

impl BertEncoder {
    /// Copies the weights out of `vb` (the same checkpoint candle loads), under the plain or
    /// the `<model_type>.` prefix as candle's BertModel does.
    pub fn load(vb: &Tensors, config: &BertConfig) -> Result<BertEncoder, EmbedError> {
        match Self::load_from(vb, config) {
            Ok(encoder) => Ok(encoder),
            Err(first) => match &config.model_type {
                Some(prefix) => Self::load_from(&vb.pp(prefix), config).map_err(|_| first),
                None => Err(first),
            },
        }
    }

    fn load_from(vb: &Tensors, config: &BertConfig) -> Result<BertEncoder, EmbedError> {
        let h = config.hidden_size;
        let i = config.intermediate_size;
        if config.hidden_act != "gelu"
            || config.num_attention_heads == 0
            || !h.is_multiple_of(config.num_attention_heads)
            || !(h / config.num_attention_heads).is_multiple_of(LANES_16)
            || !h.is_multiple_of(PANEL)
            || !i.is_multiple_of(PANEL)
        {
            return Err(EmbedError::Unsupported(format!(
                "hidden {h}, intermediate {i}, {} heads, activation {}",
                config.num_attention_heads, config.hidden_act
            )));
        }
        let emb = vb.pp("embeddings");
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for n in 0..config.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{n}"));
            let a = l.pp("attention");
            layers.push(Layer {
                qkv: stack([
                    weights(&a.pp("self.query"), h, h)?,
                    weights(&a.pp("self.key"), h, h)?,
                    weights(&a.pp("self.value"), h, h)?,
                ]),
                attention_out: dense(&a.pp("output.dense"), h, h)?,
                attention_norm: norm(&a.pp("output.LayerNorm"), h)?,
                up: dense(&l.pp("intermediate.dense"), i, h)?,
                down: dense(&l.pp("output.dense"), h, i)?,
                output_norm: norm(&l.pp("output.LayerNorm"), h)?,
            });
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(BertEncoder {
            // Each layer is split in two halves, so a third thread would have nothing to do.
            single: pool("tacit-embed", cores.min(2))?,
            batch: pool("tacit-embed-batch", cores.min(8))?,
            word: emb.rows_in_file([config.vocab_size, h], "word_embeddings.weight")?,
            position: tensor(
                &emb,
                &[config.max_position_embeddings, h],
                "position_embeddings.weight",
            )?,
            token_type: tensor(
                &emb,
                &[config.type_vocab_size, h],
                "token_type_embeddings.weight",
            )?,
            embedding_norm: norm(&emb.pp("LayerNorm"), h)?,
            layers,
            wide: has_avx512(),
            hidden: h,
            intermediate: i,
            heads: config.num_attention_heads,
            vocab: config.vocab_size,
            max_positions: config.max_position_embeddings,
            eps: config.layer_norm_eps as f32,
        })
    }

    /// The mean of the last hidden states over all tokens of one text, L2-normalised. Each
    /// layer's outputs are split between two threads.
    pub fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        self.check(ids)?;
        let words = self.words(ids)?;
        Ok(self.single.install(|| self.forward_dispatch(words)))
    }

    /// Many texts, one per thread at a time.
    pub fn embed_many(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        use rayon::prelude::*;
        for ids in texts {
            self.check(ids)?;
        }
        self.batch.install(|| {
            texts
                .par_iter()
                .map(|ids| Ok(self.forward_dispatch(self.words(ids)?)))
                .collect()
        })
    }

    fn check(&self, ids: &[u32]) -> Result<(), EmbedError> {
        if ids.is_empty() || ids.len() > self.max_positions {
            return Err(EmbedError::Tokenize(format!(
                "{} tokens; the model takes 1 to {}",
                ids.len(),
                self.max_positions
            )));
        }
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= self.vocab) {
            return Err(EmbedError::Tokenize(format!(
                "token id {bad} outside the vocabulary of {}",
                self.vocab
            )));
        }
        Ok(())
    }

    /// The word-embedding rows of `ids`, one after another.
    fn words(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        let h = self.hidden;
        let mut words = vec![0f32; ids.len() * h];
        let mut bytes = Vec::new();
        for (&id, row) in ids.iter().zip(words.chunks_exact_mut(h)) {
            self.word.read_row(id as usize, row, &mut bytes)?;
        }
        Ok(words)
    }

    fn forward_dispatch(&self, words: Vec<f32>) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if has_simd() {
            // SAFETY: the CPU supports the features `forward_avx2` is compiled for.
            return unsafe { self.forward_avx2(words, self.wide) };
        }
        self.forward::<false>(words, false)
    }

    /// The copy without AVX2, FMA and F16C, which CPUs without them run.
    #[cfg(test)]
    pub(super) fn embed_portable(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        let words = self.words(ids)?;
        Ok(self.single.install(|| self.forward::<false>(words, false)))
    }

    /// With the AVX2 matrix kernel, which CPUs without AVX-512 run.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(super) fn embed_avx2(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        assert!(has_simd(), "this CPU has no AVX2");
        let words = self.words(ids)?;
        // SAFETY: the CPU supports the features `forward_avx2` is compiled for.
        Ok(self
            .single
            .install(|| unsafe { self.forward_avx2(words, false) }))
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn forward_avx2(&self, words: Vec<f32>, wide: bool) -> Vec<f32> {
        self.forward::<true>(words, wide)
    }

    /// `SIMD`: this copy is compiled into `forward_avx2`, where fused multiply-add and F16C
    /// are instructions; elsewhere `mul_add` would be a library call per element.
    #[inline(always)]
    /// `words`: the word-embedding rows of the text's tokens ([`Self::words`]).
    fn forward<const SIMD: bool>(&self, words: Vec<f32>, wide: bool) -> Vec<f32> {
        let h = self.hidden;
        let n = words.len() / h;
        let mut hidden = words;
        for (t, row) in hidden.chunks_exact_mut(h).enumerate() {
            let position = &self.position[t * h..][..h];
            // Every input is a single segment: token type 0.
            let segment = &self.token_type[..h];
            for (k, out) in row.iter_mut().enumerate() {
                *out += position[k] + segment[k];
            }
        }
        layer_norm(&mut hidden, h, &self.embedding_norm, self.eps);

        let mut qkv = vec![0f32; n * 3 * h];
        let mut context = vec![0f32; n * h];
        let mut projected = vec![0f32; n * h];
        let mut up = vec![0f32; n * self.intermediate];
        let mut scores = vec![0f32; n.next_multiple_of(LANES_16)];
        for layer in &self.layers {
            linear::<SIMD>(&hidden, n, &layer.qkv, &mut qkv, wide);
            attention::<SIMD>(&qkv, n, h, self.heads, &mut scores, &mut context);
            linear::<SIMD>(&context, n, &layer.attention_out, &mut projected, wide);
            add_and_norm(&mut hidden, &projected, h, &layer.attention_norm, self.eps);
            linear::<SIMD>(&hidden, n, &layer.up, &mut up, wide);
            gelu::<SIMD>(&mut up);
            linear::<SIMD>(&up, n, &layer.down, &mut projected, wide);
            add_and_norm(&mut hidden, &projected, h, &layer.output_norm, self.eps);
        }

        let mut mean = vec![0f32; h];
        for row in hidden.chunks_exact(h) {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        // The mean's 1/n cancels in the normalisation.
        mean.iter_mut().for_each(|x| *x /= norm);
        mean
    }
}

/// AVX2, FMA and F16C: every x86-64 CPU since 2013–2015 has all three. The check is cached
/// after the first call.
#[cfg(target_arch = "x86_64")]
fn has_simd() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
        && std::arch::is_x86_feature_detected!("f16c")
}

/// AVX512F on top of `has_simd`: x86-64 CPUs since Skylake-SP (2017) and Zen 4 (2022).
fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return has_simd() && std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Below this many multiply-adds one thread does a layer: handing half of it to another
/// thread costs more than it saves.
const SPLIT_WORK: usize = 1 << 18;

/// `y[t] = W x[t] + b` for the `n` tokens in `x`, the first and second half of the output
/// panels on two threads. Each thread reads only its half of the weights.
#[inline(always)]
fn linear<const SIMD: bool>(x: &[f32], n: usize, d: &Dense, y: &mut [f32], wide: bool) {
    let panels = d.rows / PANEL;
    let xt = Blocks::new(
        x,
        n,
        d.cols,
        if SIMD && wide { WIDE_TOKENS } else { TOKENS },
    );
    if n * d.rows * d.cols < SPLIT_WORK {
        let mut out: Vec<&mut [f32]> = y.chunks_exact_mut(d.rows).collect();
        return linear_on_this_thread::<SIMD>(&xt, d, 0..panels, &mut out, wide);
    }
    let mid = panels / 2;
    let (mut left, mut right): (Vec<&mut [f32]>, Vec<&mut [f32]>) = y
        .chunks_exact_mut(d.rows)
        .map(|row| row.split_at_mut(mid * PANEL))
        .unzip();
    rayon::join(
        || linear_on_this_thread::<SIMD>(&xt, d, 0..mid, &mut left, wide),
        || linear_on_this_thread::<SIMD>(&xt, d, mid..panels, &mut right, wide),
    );
}

/// The tokens of a linear layer's input in blocks of equal size (a last block of one or two
/// tokens would widen the weights again for very little arithmetic), each block stored input
/// by input: the block's values of input `k` are adjacent. The kernel then reaches every
/// token of a block from one pointer, where a pointer per token ran out of registers.
struct Blocks {
    values: Vec<f32>,
    /// `(first token, tokens)` of each block; block `b`'s values start at `first * cols`.
    blocks: Vec<(usize, usize)>,
    cols: usize,
}

impl Blocks {
    fn new(x: &[f32], n: usize, cols: usize, most: usize) -> Blocks {
        let count = n.div_ceil(most);
        let mut blocks = Vec::with_capacity(count);
        let mut values = vec![0f32; n * cols];
        let mut first = 0;
        for b in 0..count {
            let size = n / count + usize::from(b < n % count);
            let block = &mut values[first * cols..(first + size) * cols];
            for (k, at) in block.chunks_exact_mut(size).enumerate() {
                for (t, v) in at.iter_mut().enumerate() {
                    *v = x[(first + t) * cols + k];
                }
            }
            blocks.push((first, size));
            first += size;
        }
        Blocks {
            values,
            blocks,
            cols,
        }
    }
}

/// The closures that rayon runs do not inherit the caller's target features, so the kernel
/// is entered again through a function compiled with them. `out[t]` receives token `t`'s
/// outputs of `panels`. `wide`: the AVX-512 kernel, which the caller found the CPU has.
fn linear_on_this_thread<const SIMD: bool>(
    x: &Blocks,
    d: &Dense,
    panels: Range<usize>,
    out: &mut [&mut [f32]],
    wide: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if SIMD && wide {
        debug_assert!(has_avx512());
        // SAFETY: `wide` is set only where the CPU supports AVX512F, AVX2, FMA and F16C.
        return unsafe { linear_avx512(x, d, panels, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if SIMD && has_simd() {
        // SAFETY: the CPU supports the features `linear_avx2` is compiled for.
        return unsafe { linear_avx2(x, d, panels, out) };
    }
    linear_kernel::<false, false>(x, d, panels, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn linear_avx2(x: &Blocks, d: &Dense, panels: Range<usize>, out: &mut [&mut [f32]]) {
    linear_kernel::<true, false>(x, d, panels, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn linear_avx512(x: &Blocks, d: &Dense, panels: Range<usize>, out: &mut [&mut [f32]]) {
    linear_kernel::<true, true>(x, d, panels, out)
}

#[inline(always)]
fn linear_kernel<const SIMD: bool, const WIDE: bool>(
    x: &Blocks,
    d: &Dense,
    panels: Range<usize>,
    out: &mut [&mut [f32]],
) {
    let cols = x.cols;
    let first_panel = panels.start;
    for p in panels {
        let panel: &[[u16; PANEL]] = d.packed[p * PANEL * cols..][..PANEL * cols].as_chunks().0;
        let bias = &d.bias[p * PANEL..][..PANEL];
        let at = (p - first_panel) * PANEL;
        for &(first, size) in &x.blocks {
            let xt = &x.values[first * cols..(first + size) * cols];
            let mut store = |sums: &[[f32; PANEL]]| {
                for (row, s) in out[first..].iter_mut().zip(sums) {
                    let o = &mut row[at..at + PANEL];
                    for l in 0..PANEL {
                        o[l] = s[l] + bias[l];
                    }
                }
            };
            match size {
                1 => store(&panel_block::<1, SIMD, WIDE>(panel, xt)),
                2 => store(&panel_block::<2, SIMD, WIDE>(panel, xt)),
                3 => store(&panel_block::<3, SIMD, WIDE>(panel, xt)),
                4 => store(&panel_block::<4, SIMD, WIDE>(panel, xt)),
                5 => store(&panel_block::<5, SIMD, WIDE>(panel, xt)),
                6 => store(&panel_block::<6, SIMD, WIDE>(panel, xt)),
                7 if WIDE => store(&panel_block::<7, SIMD, WIDE>(panel, xt)),
                8 if WIDE => store(&panel_block::<8, SIMD, WIDE>(panel, xt)),
                9 if WIDE => store(&panel_block::<9, SIMD, WIDE>(panel, xt)),
                10 if WIDE => store(&panel_block::<10, SIMD, WIDE>(panel, xt)),
                11 if WIDE => store(&panel_block::<11, SIMD, WIDE>(panel, xt)),
                _ if WIDE => store(&panel_block::<WIDE_TOKENS, SIMD, WIDE>(panel, xt)),
                _ => store(&panel_block::<TOKENS, SIMD, WIDE>(panel, xt)),
            }
        }
    }
}

/// One panel of outputs for the `T` tokens of a block (`xt`, input by input): each input's
/// panel weights are loaded once and multiplied by that input's value in each token.
#[inline(always)]
fn panel_block<const T: usize, const SIMD: bool, const WIDE: bool>(
    panel: &[[u16; PANEL]],
    xt: &[f32],
) -> [[f32; PANEL]; T] {
    let xt: &[[f32; T]] = xt.as_chunks().0;
    // The same length, so that the kernels' loops over both need no bounds checks.
    let n = panel.len().min(xt.len());
    let (panel, xt) = (&panel[..n], &xt[..n]);
    #[cfg(target_arch = "x86_64")]
    if SIMD && WIDE {
        // SAFETY: `WIDE` is true only in code compiled into `linear_avx512`, which the caller
        // enters after detecting AVX512F, AVX2, FMA and F16C.
        return unsafe { panel_block_avx512(panel, xt) };
    }
    #[cfg(target_arch = "x86_64")]
    if SIMD {
        debug_assert!(has_simd());
        // SAFETY: `SIMD` is true only in code compiled into `linear_avx2`, which the caller
        // enters after detecting AVX2, FMA and F16C.
        return unsafe { panel_block_f16c(panel, xt) };
    }
    let mut acc = [[0f32; PANEL]; T];
    for (w, x) in panel.iter().zip(xt) {
        let w = w.map(|bits| half::f16::from_bits(bits).to_f32());
        for (acc_t, b) in acc.iter_mut().zip(x) {
            for l in 0..PANEL {
                acc_t[l] += w[l] * b;
            }
        }
    }
    acc
}

/// `panel_block` with the f16 weights widened by F16C, eight at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn panel_block_f16c<const T: usize>(panel: &[[u16; PANEL]], xt: &[[f32; T]]) -> [[f32; PANEL]; T] {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); 2]; T];
    for (w, x) in panel.iter().zip(xt) {
        // SAFETY: each load reads 8 of the 16 u16 in `w`.
        let (lo, hi) = unsafe {
            (
                _mm_loadu_si128(w.as_ptr().cast()),
                _mm_loadu_si128(w.as_ptr().add(8).cast()),
            )
        };
        let (w0, w1) = (_mm256_cvtph_ps(lo), _mm256_cvtph_ps(hi));
        for (acc_t, &b) in acc.iter_mut().zip(x) {
            let b = _mm256_set1_ps(b);
            acc_t[0] = _mm256_fmadd_ps(w0, b, acc_t[0]);
            acc_t[1] = _mm256_fmadd_ps(w1, b, acc_t[1]);
        }
    }
    let mut out = [[0f32; PANEL]; T];
    for (o, a) in out.iter_mut().zip(&acc) {
        // SAFETY: each store writes 8 of the 16 f32 in `o`.
        unsafe {
            _mm256_storeu_ps(o.as_mut_ptr(), a[0]);
            _mm256_storeu_ps(o.as_mut_ptr().add(8), a[1]);
        }
    }
    out
}

/// `panel_block` with a whole panel in one AVX-512 register, widened from f16 in one
/// instruction.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
fn panel_block_avx512<const T: usize>(
    panel: &[[u16; PANEL]],
    xt: &[[f32; T]],
) -> [[f32; PANEL]; T] {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); T];
    for (w, x) in panel.iter().zip(xt) {
        // SAFETY: the load reads the 16 u16 of `w`.
        let w = _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(w.as_ptr().cast()) });
        for (acc_t, &b) in acc.iter_mut().zip(x) {
            *acc_t = _mm512_fmadd_ps(w, _mm512_set1_ps(b), *acc_t);
        }
    }
    let mut out = [[0f32; PANEL]; T];
    for (o, a) in out.iter_mut().zip(&acc) {
        // SAFETY: the store writes the 16 f32 of `o`.
        unsafe { _mm512_storeu_ps(o.as_mut_ptr(), *a) };
    }
    out
}

/// Scaled dot-product self-attention over `qkv` rows laid out as `[query | key | value]`.
///
/// A head's keys are first copied dimension by dimension (padded with zero keys to a multiple
/// of 16), so that a query's scores against 16 keys grow together in one vector, one
/// multiply-add per dimension; the weighted sum of the values grows in vectors of 16 of the
/// head's dimensions. Both stay in registers across their loop, where a dot product per key
/// was a chain of dependent scalar adds and a sum over the whole row went through memory at
/// every key (together a quarter of a 50-token document's pass under `perf`).
#[inline(always)]
fn attention<const SIMD: bool>(
    qkv: &[f32],
    n: usize,
    h: usize,
    heads: usize,
    scores: &mut [f32],
    out: &mut [f32],
) {
    let d = h / heads;
    let scale = 1.0 / (d as f32).sqrt();
    let row = |t: usize| &qkv[t * 3 * h..][..3 * h];
    let padded = n.next_multiple_of(LANES_16);
    let mut keys = vec![0f32; d * padded];
    let mut query = vec![0f32; d];
    for head in 0..heads {
        let at = head * d;
        for j in 0..n {
            for (c, &k) in row(j)[h + at..h + at + d].iter().enumerate() {
                keys[c * padded + j] = k;
            }
        }
        for i in 0..n {
            for (q, &v) in query.iter_mut().zip(&row(i)[at..at + d]) {
                *q = v * scale;
            }
            for (block, chunk) in scores[..padded].chunks_exact_mut(LANES_16).enumerate() {
                let mut sums = [0f32; LANES_16];
                for (&qc, dimension) in query.iter().zip(keys.chunks_exact(padded)) {
                    let k: &[f32; LANES_16] = dimension[block * LANES_16..][..LANES_16]
                        .try_into()
                        .expect("16 keys");
                    for l in 0..LANES_16 {
                        sums[l] = madd::<SIMD>(qc, k[l], sums[l]);
                    }
                }
                chunk.copy_from_slice(&sums);
            }
            let scores = &mut scores[..n];
            let max = max_of(scores);
            let mut totals = [0f32; LANES_16];
            for chunk in scores.chunks_mut(LANES_16) {
                for (s, total) in chunk.iter_mut().zip(&mut totals) {
                    *s = exp::<SIMD>(*s - max);
                    *total += *s;
                }
            }
            let inverse = 1.0 / totals.iter().sum::<f32>();
            for (part, o) in out[i * h + at..][..d]
                .chunks_exact_mut(LANES_16)
                .enumerate()
            {
                let mut sums = [0f32; LANES_16];
                for (j, &s) in scores.iter().enumerate() {
                    let v: &[f32; LANES_16] = row(j)[2 * h + at + part * LANES_16..][..LANES_16]
                        .try_into()
                        .expect("16 dimensions");
                    for l in 0..LANES_16 {
                        sums[l] = madd::<SIMD>(s, v[l], sums[l]);
                    }
                }
                for (o, sum) in o.iter_mut().zip(sums) {
                    *o = sum * inverse;
                }
            }
        }
    }
}

/// e^x for x ≤ 0 (a softmax's scores less their maximum), in a form that vectorises, where
/// the C library's expf is a call per score: x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r as its
/// degree-6 Taylor polynomial (relative error below 2e-7), times 2^k built in the exponent
/// bits. Below -87, e^x is under f32's smallest normal and taken as 0.
#[inline(always)]
fn exp<const SIMD: bool>(x: f32) -> f32 {
    let underflows = x < -87.0;
    let x = x.max(-87.0);
    let k = (x * std::f32::consts::LOG2_E).round();
    // ln 2 in two parts, so that k ln 2 is subtracted without rounding.
    let r = madd::<SIMD>(k, -0.693_145_75, x);
    let r = madd::<SIMD>(k, -1.428_606_8e-6, r);
    let mut p = madd::<SIMD>(r, 1.0 / 720.0, 1.0 / 120.0);
    p = madd::<SIMD>(p, r, 1.0 / 24.0);
    p = madd::<SIMD>(p, r, 1.0 / 6.0);
    p = madd::<SIMD>(p, r, 0.5);
    p = madd::<SIMD>(p, r, 1.0);
    p = madd::<SIMD>(p, r, 1.0);
    let e = p * f32::from_bits(((k as i32 + 127) as u32) << 23);
    if underflows {
        0.0
    } else {
        e
    }
}

/// The largest of `x`, eight lanes at a time so that the compiler keeps them in a vector
/// (a single running maximum is a chain the compiler may not reorder).
#[inline(always)]
fn max_of(x: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    for chunk in x.chunks(8) {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = if v > *lane { v } else { *lane };
        }
    }
    lanes.into_iter().fold(f32::NEG_INFINITY, f32::max)
}

/// `hidden = LayerNorm(hidden + residual)`, row by row.
#[inline(always)]
fn add_and_norm(hidden: &mut [f32], residual: &[f32], h: usize, norm: &Norm, eps: f32) {
    for (x, r) in hidden.iter_mut().zip(residual) {
        *x += r;
    }
    layer_norm(hidden, h, norm, eps);
}

#[inline(always)]
fn layer_norm(x: &mut [f32], h: usize, norm: &Norm, eps: f32) {
    for row in x.chunks_exact_mut(h) {
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(&norm.gamma).zip(&norm.beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// The exact (erf) GELU of BERT, with erf as a rational approximation that vectorises: the
/// C library's erff was a tenth of the forward pass.
#[inline(always)]
fn gelu<const SIMD: bool>(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf::<SIMD>(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// erf for f32 as a rational function of degree 13/8 on [-4, 4] (the approximation Eigen and
/// XLA use); outside that interval erf is ±1 in f32.
#[inline(always)]
fn erf<const SIMD: bool>(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = madd::<SIMD>(x2, -2.726_142_3e-10, 2.770_681_4e-8);
    p = madd::<SIMD>(p, x2, -2.101_024e-6);
    p = madd::<SIMD>(p, x2, -5.692_506_4e-5);
    p = madd::<SIMD>(p, x2, -7.349_906_3e-4);
    p = madd::<SIMD>(p, x2, -2.954_600_6e-3);
    p = madd::<SIMD>(p, x2, -1.609_603_3e-2);
    let mut q = madd::<SIMD>(x2, -1.456_607_2e-5, -2.133_740_6e-4);
    q = madd::<SIMD>(q, x2, -1.682_827e-3);
    q = madd::<SIMD>(q, x2, -7.373_329_3e-3);
    q = madd::<SIMD>(q, x2, -1.426_474e-2);
    x * p / q
}

#[inline(always)]
fn madd<const SIMD: bool>(a: f32, b: f32, c: f32) -> f32 {
    if SIMD {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_a_reference_to_float_precision() {
        let mut worst = 0f32;
        for i in -6000..=6000 {
            let x = i as f32 / 1000.0;
            worst = worst
                .max((erf::<true>(x) - reference_erf(x)).abs())
                .max((erf::<false>(x) - reference_erf(x)).abs());
        }
        assert!(worst < 2e-6, "max error {worst}");
    }

    #[test]
    fn exp_matches_the_standard_library_to_float_precision() {
        let mut worst = 0f32;
        for i in 0..=87_000 {
            let x = -(i as f32) / 1000.0;
            let expected = x.exp();
            for got in [exp::<true>(x), exp::<false>(x)] {
                worst = worst.max(((got - expected) / expected).abs());
            }
        }
        assert!(worst < 1e-6, "max relative error {worst}");
        assert_eq!(exp::<true>(-200.0), 0.0);
        assert_eq!(exp::<true>(0.0), 1.0);
    }

    fn reference_erf(x: f32) -> f32 {
        // Abramowitz–Stegun 7.1.26 in f64 is accurate to 1.5e-7: a reference independent of
        // the approximation under test.
        let x = f64::from(x);
        let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
        let y = 1.0
            - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736)
                * t
                + 0.254_829_592)
                * t
                * (-x * x).exp();
        (y.copysign(x)) as f32
    }
}
