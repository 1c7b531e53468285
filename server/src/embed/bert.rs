//! The BERT forward pass of MiniLM, one text at a time: the query on the hot path of
//! context assembly, and documents on all threads.
//!
//! candle's matmul packs the whole weight matrix again on every call. A query has about ten
//! tokens, so packing costs more than the arithmetic: about two thirds of a 13 ms query
//! embedding on these machines went to packing and dispatch. Here the weights are
//! packed once at load (see `Dense`), each layer's outputs are split between two threads,
//! and the linear layers multiply 8-bit integers: the weights, and each layer's input
//! quantised on the way in. Where the CPU has AVX-512 VNNI, one `vpdpbusd` does 64 of
//! those multiply-adds (a 15-token query 1.5x and documents 1.8x faster than the f16 weights
//! and f32 arithmetic before); AVX2 CPUs get an integer kernel of their own. The rest is plain
//! Rust over fixed-width arrays that LLVM vectorises; all of it is compiled a second time
//! with those features enabled, and that copy is used when the CPU has them. A test checks
//! each kernel against candle's BertModel on the real weights.

use std::ops::Range;

use super::checkpoint::{BertConfig, FileRows, Tensors};
use super::pair::{Session, ThreadPair};
use super::EmbedError;

/// Lanes per vector register: one AVX2 register of f32.
const LANES: usize = 8;
/// Outputs per panel of packed weights: two registers wide.
const PANEL: usize = 2 * LANES;
/// The attention's vectors: a head's dimensions and keys are taken 16 at a time.
const LANES_16: usize = 16;
/// Tokens per block in the AVX2 and portable kernels.
const TOKENS: usize = 6;
/// Tokens per block in the AVX-512 VNNI kernel: a query of up to 16 tokens reads each panel
/// once. 16 integer and 16 f32 accumulators are more than its 32 registers hold, but the f32
/// ones are touched once per group of inputs; a 15-token query took 2.6–3.2 ms against
/// 2.9–3.9 ms with blocks of 12, which read the weights twice.
const WIDE_TOKENS: usize = 16;
/// Inputs per scale of the 8-bit weights and inputs. A scale per whole output lost too much
/// (a cosine of 0.9985 to the f32 model on a 3-token text); 32, as in llama.cpp's Q8_0, gave
/// 0.9994, and 64 gives 0.9991 (0.9996–0.9997 on longer texts, the retrieval and accuracy
/// benchmarks unchanged) with half the f32 work after each group's integer sums: 4 f32
/// operations per 16 `vpdpbusd` instead of per 8, a first run's embedding 5–8% shorter.
const GROUP: usize = 64;
/// Inputs per 32-bit lane of the integer kernel: `vpdpbusd` sums four byte products.
const QUAD: usize = 4;
/// Quads per group.
const QUADS: usize = GROUP / QUAD;

/// A linear layer with `rows` outputs and `cols` inputs, its weights stored as 8-bit
/// integers with one scale per output and `GROUP` inputs (as llama.cpp's Q8_0 blocks). The
/// weights are packed in panels of `PANEL` outputs: for each group, then each quad of 4
/// inputs, the panel's 16 × 4 codes are adjacent, the operand of one AVX-512 VNNI
/// `vpdpbusd`, so the kernel streams through memory once per block of tokens. A query's
/// forward pass waits on memory: 13 MB of codes, scales and sums against 21 MB of f16
/// before (and 42 MB of f32). The inputs are quantised per token and group too
/// ([`Quantised`]), the products summed exactly in 32-bit integers, and only the group sums
/// scaled to f32; the vectors agree with the f32 model to a cosine of 0.999 or better
/// (tested).
struct Dense {
    codes: Vec<[i8; PANEL * QUAD]>,
    /// `PANEL` scales per panel and group.
    scales: Vec<[f32; PANEL]>,
    /// Per panel and group, each output's sum of codes: an input group's minimum times it
    /// is that group's part of the output ([`Quantised`]).
    sums: Vec<[f32; PANEL]>,
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

/// The word-embedding table, which the encoder reads from the weights file row by row
/// ([`super::checkpoint::FileRows`]) instead of holding it.
pub const WORD_TABLE: &str = "word_embeddings.weight";

pub struct BertEncoder {
    /// The partner of the thread that embeds a single text (every query), for the second
    /// half of each layer: a thread of its own, so that a query never waits behind a batch of
    /// documents being indexed. None on one core.
    single: Option<ThreadPair>,
    /// Threads for batches of documents.
    batch: rayon::ThreadPool,
    /// Read from the weights file a row per token ([`Tensors::rows_in_file`]).
    word: FileRows,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    /// The matrix kernel uses AVX-512 VNNI (the CPU has AVX512F and AVX512VNNI): one register
    /// holds a whole panel, and one instruction multiplies four inputs of a token by it.
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
    #[cfg(target_arch = "x86_64")]
    if has_simd() {
        // SAFETY: the CPU supports the features `pack_avx2` is compiled for.
        return unsafe { pack_avx2(w) };
    }
    pack_codes(w)
}

/// The same packing, compiled where rounding is an instruction rather than a call to
/// `roundf` per weight, so that a group's codes are computed in vectors: packing was about
/// a fifth of a start's CPU time. The codes are the same bit for bit (`round` is exact
/// either way).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn pack_avx2(w: Weights) -> Dense {
    pack_codes(w)
}

#[inline(always)]
fn pack_codes(w: Weights) -> Dense {
    let groups = w.rows / PANEL * (w.cols / GROUP);
    let mut codes = Vec::with_capacity(w.weight.len() / (PANEL * QUAD));
    let mut scales = Vec::with_capacity(groups);
    let mut sums = Vec::with_capacity(groups);
    for panel in w.weight.chunks_exact(PANEL * w.cols) {
        for group in (0..w.cols).step_by(GROUP) {
            let mut scale = [0f32; PANEL];
            let mut code = [[0i8; GROUP]; PANEL];
            for r in 0..PANEL {
                let row: &[f32; GROUP] = panel[r * w.cols + group..][..GROUP]
                    .try_into()
                    .expect("a group is GROUP wide");
                scale[r] = scale_of(row);
                if scale[r] != 0.0 {
                    for (c, &v) in code[r].iter_mut().zip(row) {
                        *c = quantise(v, scale[r]);
                    }
                }
            }
            for quad in (0..GROUP).step_by(QUAD) {
                codes.push(std::array::from_fn(|l| code[l / QUAD][quad + l % QUAD]));
            }
            scales.push(scale);
            sums.push(std::array::from_fn(|r| {
                code[r].iter().map(|&c| i32::from(c)).sum::<i32>() as f32
            }));
        }
    }
    Dense {
        codes,
        scales,
        sums,
        bias: w.bias,
        rows: w.rows,
        cols: w.cols,
    }
}

/// Symmetric: the largest magnitude of `values` maps to ±127 (0 for all zeros). Eight
/// running maxima, so that the loop runs in vectors: the largest is the largest in any order.
#[inline(always)]
fn scale_of(values: &[f32]) -> f32 {
    let mut most = [0f32; 8];
    let (chunks, rest) = values.as_chunks::<8>();
    for chunk in chunks {
        for (m, v) in most.iter_mut().zip(chunk) {
            *m = m.max(v.abs());
        }
    }
    let tail = rest.iter().fold(0f32, |m, v| m.max(v.abs()));
    most.iter().fold(tail, |m, &v| m.max(v)) / 127.0
}

/// `value / scale` rounded half away from zero, within ±127; NaN gives 0 (as `as i8` does).
#[inline(always)]
fn quantise(value: f32, scale: f32) -> i8 {
    if scale == 0.0 {
        return 0;
    }
    let q = (value / scale).round();
    if q.is_nan() {
        0
    } else {
        // SAFETY: clamped to ±127, finite, so the conversion is in range.
        unsafe { q.clamp(-127.0, 127.0).to_int_unchecked::<i32>() as i8 }
    }
}

/// `make(0)` … `make(n - 1)`, in order, on up to `threads` threads (this one among them),
/// each making a contiguous run; the first error, if any.
fn on_threads<T: Send>(
    n: usize,
    threads: usize,
    make: impl Fn(usize) -> Result<T, EmbedError> + Sync,
) -> Result<Vec<T>, EmbedError> {
    let run = n.div_ceil(threads.max(1)).max(1);
    let make = &make;
    std::thread::scope(|scope| {
        let others: Vec<_> = (run..n)
            .step_by(run)
            .map(|start| {
                scope.spawn(move || {
                    (start..(start + run).min(n))
                        .map(make)
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut all = (0..run.min(n)).map(make).collect::<Result<Vec<_>, _>>()?;
        for other in others {
            let made = other
                .join()
                .map_err(|_| EmbedError::Threads("a thread packing the weights panicked".into()))?;
            all.extend(made?);
        }
        Ok(all)
    })
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
            || !h.is_multiple_of(PANEL.max(GROUP))
            || !i.is_multiple_of(PANEL.max(GROUP))
        {
            return Err(EmbedError::Unsupported(format!(
                "hidden {h}, intermediate {i}, {} heads, activation {}",
                config.num_attention_heads, config.hidden_act
            )));
        }
        let emb = vb.pp("embeddings");
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Packing is most of a start's wait for the model (about 55 ms of its 100 on this
        // machine's cores, one layer after another): the layers are independent, so each core
        // packs some of them.
        let layers = on_threads(config.num_hidden_layers, cores, |n| {
            let l = vb.pp(format!("encoder.layer.{n}"));
            let a = l.pp("attention");
            Ok(Layer {
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
            })
        })?;
        Ok(BertEncoder {
            // Each layer is split in two halves, so a third thread would have nothing to do.
            single: match cores {
                1 => None,
                _ => Some(
                    ThreadPair::new("tacit-embed")
                        .map_err(|e| EmbedError::Threads(e.to_string()))?,
                ),
            },
            batch: pool("tacit-embed-batch", cores.min(8))?,
            word: emb.rows_in_file([config.vocab_size, h], WORD_TABLE)?,
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
            wide: has_vnni(),
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
        // The partner wakes while the rows are read.
        let session = self.single.as_ref().map(ThreadPair::session);
        self.check(ids)?;
        let words = self.words(ids)?;
        Ok(self.forward_dispatch(words, &Halves::of(session.as_ref())))
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
                .map(|ids| Ok(self.forward_dispatch(self.words(ids)?, &Halves::Rayon)))
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

    fn forward_dispatch(&self, words: Vec<f32>, halves: &Halves) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if has_simd() {
            // SAFETY: the CPU supports the features `forward_avx2` is compiled for.
            return unsafe { self.forward_avx2(words, self.wide, halves) };
        }
        self.forward::<false>(
            words,
            &Pass {
                wide: false,
                halves,
            },
        )
    }

    /// The copy without AVX2, FMA and F16C, which CPUs without them run.
    #[cfg(test)]
    pub(super) fn embed_portable(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        let session = self.single.as_ref().map(ThreadPair::session);
        let words = self.words(ids)?;
        let halves = Halves::of(session.as_ref());
        Ok(self.forward::<false>(
            words,
            &Pass {
                wide: false,
                halves: &halves,
            },
        ))
    }

    /// With the AVX2 matrix kernel, which CPUs without AVX-512 run.
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(super) fn embed_avx2(&self, ids: &[u32]) -> Result<Vec<f32>, EmbedError> {
        assert!(has_simd(), "this CPU has no AVX2");
        let session = self.single.as_ref().map(ThreadPair::session);
        let words = self.words(ids)?;
        // SAFETY: the CPU supports the features `forward_avx2` is compiled for.
        Ok(unsafe { self.forward_avx2(words, false, &Halves::of(session.as_ref())) })
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn forward_avx2(&self, words: Vec<f32>, wide: bool, halves: &Halves) -> Vec<f32> {
        self.forward::<true>(words, &Pass { wide, halves })
    }

    /// `SIMD`: this copy is compiled into `forward_avx2`, where fused multiply-add and F16C
    /// are instructions; elsewhere `mul_add` would be a library call per element.
    #[inline(always)]
    /// `words`: the word-embedding rows of the text's tokens ([`Self::words`]).
    fn forward<const SIMD: bool>(&self, words: Vec<f32>, pass: &Pass) -> Vec<f32> {
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
        let q = &mut Quantised::default();
        for layer in &self.layers {
            linear::<SIMD>(&hidden, n, &layer.qkv, &mut qkv, pass, q, Activation::None);
            attention::<SIMD>(&qkv, n, h, self.heads, &mut context, pass.halves);
            linear::<SIMD>(
                &context,
                n,
                &layer.attention_out,
                &mut projected,
                pass,
                q,
                Activation::None,
            );
            add_and_norm(&mut hidden, &projected, h, &layer.attention_norm, self.eps);
            linear::<SIMD>(&hidden, n, &layer.up, &mut up, pass, q, Activation::Gelu);
            linear::<SIMD>(
                &up,
                n,
                &layer.down,
                &mut projected,
                pass,
                q,
                Activation::None,
            );
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

/// AVX-512 with VNNI on top of `has_simd`: Intel since Cascade Lake and Ice Lake (2019), AMD
/// since Zen 4 (2022).
fn has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    return has_simd()
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vnni");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Below this many multiply-adds one thread does a layer: handing half of it to another
/// thread costs more than it saves.
const SPLIT_WORK: usize = 1 << 18;

/// What a linear layer applies to its outputs before it returns.
#[derive(Clone, Copy, PartialEq)]
enum Activation {
    None,
    /// Applied by each thread to the outputs it computed, while they are in cache and
    /// without a third hand-off per layer.
    Gelu,
}

/// Where the second half of a layer split in two runs.
enum Halves<'a> {
    /// A single text: on the partner of the thread that asked.
    Pair(&'a Session<'a>),
    /// A text of a batch: on whichever thread of the batch pool is free.
    Rayon,
    /// One core: here, after the first.
    Here,
}

impl Halves<'_> {
    fn of<'a>(session: Option<&'a Session<'a>>) -> Halves<'a> {
        session.map_or(Halves::Here, Halves::Pair)
    }

    fn join(&self, first: impl FnOnce() + Send, second: impl FnOnce() + Send) {
        match self {
            Halves::Pair(session) => session.join(first, second),
            Halves::Rayon => {
                rayon::join(first, second);
            }
            Halves::Here => {
                first();
                second();
            }
        }
    }
}

/// What every layer of one forward pass shares.
struct Pass<'a> {
    /// The AVX-512 VNNI kernel (see `BertEncoder::wide`).
    wide: bool,
    halves: &'a Halves<'a>,
}

/// `y[t] = activation(W x[t] + b)` for the `n` tokens in `x`, the first and second half of
/// the output panels on two threads. Each thread reads only its half of the weights.
#[inline(always)]
fn linear<const SIMD: bool>(
    x: &[f32],
    n: usize,
    d: &Dense,
    y: &mut [f32],
    pass: &Pass,
    xt: &mut Quantised,
    activation: Activation,
) {
    let wide = pass.wide;
    let panels = d.rows / PANEL;
    xt.fill::<SIMD>(
        x,
        n,
        d.cols,
        if SIMD && wide { WIDE_TOKENS } else { TOKENS },
    );
    let xt = &*xt;
    if n * d.rows * d.cols < SPLIT_WORK {
        let mut out: Vec<&mut [f32]> = y.chunks_exact_mut(d.rows).collect();
        return linear_on_this_thread::<SIMD>(xt, d, 0..panels, &mut out, wide, activation);
    }
    let mid = panels / 2;
    let (mut left, mut right): (Vec<&mut [f32]>, Vec<&mut [f32]>) = y
        .chunks_exact_mut(d.rows)
        .map(|row| row.split_at_mut(mid * PANEL))
        .unzip();
    pass.halves.join(
        || linear_on_this_thread::<SIMD>(xt, d, 0..mid, &mut left, wide, activation),
        || linear_on_this_thread::<SIMD>(xt, d, mid..panels, &mut right, wide, activation),
    );
}

/// The tokens of a linear layer's input, quantised per token and `GROUP` inputs: a group is
/// its minimum plus a scale times codes in 0..=255 (`vpdpbusd` takes one operand unsigned),
/// four codes to a `u32`. Unsigned codes from the minimum halve the step against codes around
/// zero where a group is lopsided, as GELU's outputs are (down to -0.17, up to several units).
/// In blocks of equal size (a last block of one or two tokens would read the weights again
/// for very little arithmetic), each block stored quad by quad: the block's codes of one quad
/// of inputs are adjacent, and its scales and minima of one group. The kernel then reaches
/// every token of a block from one pointer, where a pointer per token ran out of registers.
#[derive(Default)]
struct Quantised {
    codes: Vec<u32>,
    scales: Vec<f32>,
    minima: Vec<f32>,
    /// `(first token, tokens)` of each block; block `b`'s codes start at `first * cols / 4`,
    /// its scales and minima at `first * cols / GROUP`.
    blocks: Vec<(usize, usize)>,
    cols: usize,
}

impl Quantised {
    /// Quantises `x` (`n` tokens of `cols` inputs) in blocks of at most `most` tokens into
    /// this value's buffers, which a forward pass reuses from layer to layer. Inlined, so that
    /// it is compiled with the caller's target features: without them the rounding alone was
    /// a library call per value, and quantising cost more than the kernel.
    #[inline(always)]
    fn fill<const SIMD: bool>(&mut self, x: &[f32], n: usize, cols: usize, most: usize) {
        let count = n.div_ceil(most);
        self.blocks.clear();
        self.codes.resize(n * cols / QUAD, 0);
        self.scales.resize(n * cols / GROUP, 0.0);
        self.minima.resize(n * cols / GROUP, 0.0);
        self.cols = cols;
        let mut first = 0;
        for b in 0..count {
            let size = n / count + usize::from(b < n % count);
            let block_codes = &mut self.codes[first * cols / QUAD..(first + size) * cols / QUAD];
            let groups = first * cols / GROUP..(first + size) * cols / GROUP;
            let block_scales = &mut self.scales[groups.clone()];
            let block_minima = &mut self.minima[groups];
            for (t, row) in x[first * cols..(first + size) * cols]
                .chunks_exact(cols)
                .enumerate()
            {
                for (g, values) in row.as_chunks::<GROUP>().0.iter().enumerate() {
                    let (min, scale, quads) = quantise_group::<SIMD>(values);
                    block_scales[g * size + t] = scale;
                    block_minima[g * size + t] = min;
                    for (q, quad) in quads.into_iter().enumerate() {
                        block_codes[(g * QUADS + q) * size + t] = quad;
                    }
                }
            }
            self.blocks.push((first, size));
            first += size;
        }
    }
}

/// One group of a layer's input as its minimum, the step between codes, and its codes in
/// 0..=255, four to a `u32` (the first in the lowest byte).
#[inline(always)]
fn quantise_group<const SIMD: bool>(values: &[f32; GROUP]) -> (f32, f32, [u32; QUADS]) {
    #[cfg(target_arch = "x86_64")]
    if SIMD {
        // SAFETY: the SIMD copy of the forward pass runs only on CPUs with AVX2 and FMA.
        return unsafe { quantise_group_avx2(values) };
    }
    let (min, max) = range_of(values);
    let scale = (max - min) / 255.0;
    let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
    // Non-negative, so adding a half and truncating rounds; `as` saturates at 255.
    let mut code = [0u8; GROUP];
    for k in 0..GROUP {
        code[k] = ((values[k] - min) * inverse + 0.5) as u8;
    }
    let mut quads = [0u32; QUADS];
    for (quad, bytes) in quads.iter_mut().zip(code.as_chunks::<QUAD>().0) {
        *quad = u32::from_le_bytes(*bytes);
    }
    (min, scale, quads)
}

/// [`quantise_group`] in AVX2 registers, with the same arithmetic step by step (unfused), so
/// that both give the same codes. Written out because the compiler's version of the scalar
/// loop converted and packed byte by byte: quantising took more than a quarter of a short
/// query's forward pass (620 µs of 2.2 ms for 16 tokens).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
fn quantise_group_avx2(values: &[f32; GROUP]) -> (f32, f32, [u32; QUADS]) {
    use std::arch::x86_64::*;
    let chunks = values.as_chunks::<LANES>().0;
    // SAFETY: each load reads the eight f32 of its chunk.
    let v: [__m256; GROUP / LANES] =
        std::array::from_fn(|i| unsafe { _mm256_loadu_ps(chunks[i].as_ptr()) });
    let mut low = v[0];
    let mut high = v[0];
    for x in &v[1..] {
        low = _mm256_min_ps(*x, low);
        high = _mm256_max_ps(*x, high);
    }
    let low = _mm_min_ps(_mm256_extractf128_ps::<1>(low), _mm256_castps256_ps128(low));
    let high = _mm_max_ps(
        _mm256_extractf128_ps::<1>(high),
        _mm256_castps256_ps128(high),
    );
    let low = _mm_min_ps(_mm_movehl_ps(low, low), low);
    let high = _mm_max_ps(_mm_movehl_ps(high, high), high);
    let min = _mm_cvtss_f32(_mm_min_ss(_mm_movehdup_ps(low), low));
    let max = _mm_cvtss_f32(_mm_max_ss(_mm_movehdup_ps(high), high));
    let scale = (max - min) / 255.0;
    let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
    let (vmin, vinverse, half) = (
        _mm256_set1_ps(min),
        _mm256_set1_ps(inverse),
        _mm256_set1_ps(0.5),
    );
    // Each 32 inputs (four vectors) become eight quads.
    let mut quads = [0u32; QUADS];
    for (c, out) in quads.chunks_exact_mut(8).enumerate() {
        // Truncated to 32-bit integers, then narrowed with unsigned saturation (to 0..=255,
        // as `as u8` does; a NaN's integer is negative and becomes 0 as with `as`).
        let code: [__m256i; 4] = std::array::from_fn(|k| {
            _mm256_cvttps_epi32(_mm256_add_ps(
                _mm256_mul_ps(_mm256_sub_ps(v[4 * c + k], vmin), vinverse),
                half,
            ))
        });
        let bytes = _mm256_packus_epi16(
            _mm256_packus_epi32(code[0], code[1]),
            _mm256_packus_epi32(code[2], code[3]),
        );
        // Packing works within each 128-bit half: the quads come out as a0 b0 c0 d0 a1 b1 c1
        // d1 (aN: the Nth four codes of the first vector) and are put back in order.
        let bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        // SAFETY: the store writes the 32 bytes of `out`.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), bytes) };
    }
    (min, scale, quads)
}

/// The least and the greatest of `values`, in eight lanes that vectorise.
#[inline(always)]
fn range_of(values: &[f32; GROUP]) -> (f32, f32) {
    let mut low = [f32::INFINITY; LANES];
    let mut high = [f32::NEG_INFINITY; LANES];
    for chunk in values.as_chunks::<LANES>().0 {
        for l in 0..LANES {
            low[l] = if chunk[l] < low[l] { chunk[l] } else { low[l] };
            high[l] = if chunk[l] > high[l] {
                chunk[l]
            } else {
                high[l]
            };
        }
    }
    let min = low
        .iter()
        .fold(f32::INFINITY, |m, &v| if v < m { v } else { m });
    let max = high
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    (min, max)
}

/// The closures that rayon runs do not inherit the caller's target features, so the kernel
/// is entered again through a function compiled with them. `out[t]` receives token `t`'s
/// outputs of `panels`. `wide`: the AVX-512 VNNI kernel, which the caller found the CPU has.
fn linear_on_this_thread<const SIMD: bool>(
    x: &Quantised,
    d: &Dense,
    panels: Range<usize>,
    out: &mut [&mut [f32]],
    wide: bool,
    activation: Activation,
) {
    #[cfg(target_arch = "x86_64")]
    if SIMD && wide {
        debug_assert!(has_vnni());
        // SAFETY: `wide` is set only where the CPU supports AVX512F, AVX512VNNI, AVX2, FMA and
        // F16C.
        return unsafe { linear_vnni(x, d, panels, out, activation) };
    }
    #[cfg(target_arch = "x86_64")]
    if SIMD && has_simd() {
        // SAFETY: the CPU supports the features `linear_avx2` is compiled for.
        return unsafe { linear_avx2(x, d, panels, out, activation) };
    }
    linear_kernel::<false, false>(x, d, panels, out);
    activate::<false>(out, activation);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn linear_avx2(
    x: &Quantised,
    d: &Dense,
    panels: Range<usize>,
    out: &mut [&mut [f32]],
    activation: Activation,
) {
    linear_kernel::<true, false>(x, d, panels, out);
    activate::<true>(out, activation);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni,avx2,fma,f16c")]
fn linear_vnni(
    x: &Quantised,
    d: &Dense,
    panels: Range<usize>,
    out: &mut [&mut [f32]],
    activation: Activation,
) {
    linear_kernel::<true, true>(x, d, panels, out);
    activate::<true>(out, activation);
}

#[inline(always)]
fn activate<const SIMD: bool>(out: &mut [&mut [f32]], activation: Activation) {
    if activation == Activation::Gelu {
        for row in out.iter_mut() {
            gelu::<SIMD>(row);
        }
    }
}

/// One panel's weights: its codes quad by quad, its scales and sums group by group.
struct Panel<'a> {
    codes: &'a [[i8; PANEL * QUAD]],
    scales: &'a [[f32; PANEL]],
    sums: &'a [[f32; PANEL]],
}

/// One block of `T` tokens of a [`Quantised`] input: codes quad by quad, scales and minima
/// group by group.
struct Tokens<'a, const T: usize> {
    codes: &'a [[u32; T]],
    scales: &'a [[f32; T]],
    minima: &'a [[f32; T]],
}

/// One group of `GROUP` inputs of a panel and a block of tokens: both sides' codes of its
/// quads, the panel's scales and sums of codes, the tokens' scales and minima.
struct Group<'a, const T: usize> {
    w_codes: &'a [[i8; PANEL * QUAD]],
    x_codes: &'a [[u32; T]],
    w_scale: &'a [f32; PANEL],
    w_sum: &'a [f32; PANEL],
    x_scale: &'a [f32; T],
    x_min: &'a [f32; T],
}

/// The groups of a panel and a block of tokens, in order, for every kernel.
#[inline(always)]
fn groups_of<'a, const T: usize>(
    w: &Panel<'a>,
    x: &Tokens<'a, T>,
) -> impl Iterator<Item = Group<'a, T>> + 'a {
    let (w_codes, w_scales, w_sums) = (w.codes, w.scales, w.sums);
    let (x_codes, x_scales, x_minima) = (x.codes, x.scales, x.minima);
    w_codes
        .chunks_exact(QUADS)
        .zip(x_codes.chunks_exact(QUADS))
        .zip(w_scales.iter().zip(w_sums))
        .zip(x_scales.iter().zip(x_minima))
        .map(|((codes, scale_sum), scale_min)| Group {
            w_codes: codes.0,
            x_codes: codes.1,
            w_scale: scale_sum.0,
            w_sum: scale_sum.1,
            x_scale: scale_min.0,
            x_min: scale_min.1,
        })
}

#[inline(always)]
fn linear_kernel<const SIMD: bool, const WIDE: bool>(
    x: &Quantised,
    d: &Dense,
    panels: Range<usize>,
    out: &mut [&mut [f32]],
) {
    let cols = x.cols;
    let groups = cols / GROUP;
    let first_panel = panels.start;
    for p in panels {
        let panel = Panel {
            codes: &d.codes[p * cols / QUAD..][..cols / QUAD],
            scales: &d.scales[p * groups..][..groups],
            sums: &d.sums[p * groups..][..groups],
        };
        let bias: &[f32; PANEL] = d.bias[p * PANEL..][..PANEL]
            .try_into()
            .expect("a panel's outputs");
        let at = (p - first_panel) * PANEL;
        for &(first, size) in &x.blocks {
            // Each arm's sums go through `store_panel` inline, not a closure: a closure is
            // compiled apart, without the kernel's target features.
            macro_rules! store {
                ($sums:expr) => {
                    store_panel(&mut out[first..], at, $sums, bias)
                };
            }
            let (w, b) = (&panel, (x, first, size));
            match size {
                1 => store!(&panel_block::<1, SIMD, WIDE>(w, b)),
                2 => store!(&panel_block::<2, SIMD, WIDE>(w, b)),
                3 => store!(&panel_block::<3, SIMD, WIDE>(w, b)),
                4 => store!(&panel_block::<4, SIMD, WIDE>(w, b)),
                5 => store!(&panel_block::<5, SIMD, WIDE>(w, b)),
                6 => store!(&panel_block::<6, SIMD, WIDE>(w, b)),
                7 if WIDE => store!(&panel_block::<7, SIMD, WIDE>(w, b)),
                8 if WIDE => store!(&panel_block::<8, SIMD, WIDE>(w, b)),
                9 if WIDE => store!(&panel_block::<9, SIMD, WIDE>(w, b)),
                10 if WIDE => store!(&panel_block::<10, SIMD, WIDE>(w, b)),
                11 if WIDE => store!(&panel_block::<11, SIMD, WIDE>(w, b)),
                12 if WIDE => store!(&panel_block::<12, SIMD, WIDE>(w, b)),
                13 if WIDE => store!(&panel_block::<13, SIMD, WIDE>(w, b)),
                14 if WIDE => store!(&panel_block::<14, SIMD, WIDE>(w, b)),
                15 if WIDE => store!(&panel_block::<15, SIMD, WIDE>(w, b)),
                _ if WIDE => store!(&panel_block::<WIDE_TOKENS, SIMD, WIDE>(w, b)),
                _ => store!(&panel_block::<TOKENS, SIMD, WIDE>(w, b)),
            }
        }
    }
}

/// Writes one panel's sums plus its bias into the outputs `at..at + PANEL` of each token's
/// row, inlined into the kernel. As a closure it was compiled apart, without the kernel's
/// target features, into a scalar load and add per output: 5% of a first index run's CPU time
/// under `perf`, beside an 8-bit kernel that does 64 products in one instruction.
#[inline(always)]
fn store_panel(out: &mut [&mut [f32]], at: usize, sums: &[[f32; PANEL]], bias: &[f32; PANEL]) {
    for (row, s) in out.iter_mut().zip(sums) {
        let o: &mut [f32; PANEL] = (&mut row[at..at + PANEL])
            .try_into()
            .expect("a panel's outputs");
        for l in 0..PANEL {
            o[l] = s[l] + bias[l];
        }
    }
}

/// One panel of outputs for the `T` tokens of the block of `x` at `(x, first token, T)`:
/// each quad's panel codes are loaded once and multiplied by that quad's codes in each token,
/// the sums of a group exactly in 32-bit integers (at most 64 × 255 × 127), then scaled into
/// f32: `Σ w x = w_scale (x_scale Σ codes_w codes_x + x_min Σ codes_w)`.
#[inline(always)]
fn panel_block<const T: usize, const SIMD: bool, const WIDE: bool>(
    w: &Panel,
    (x, first, size): (&Quantised, usize, usize),
) -> [[f32; PANEL]; T] {
    debug_assert_eq!(size, T);
    let groups = first * x.cols / GROUP..(first + T) * x.cols / GROUP;
    let x = Tokens::<T> {
        codes: x.codes[first * x.cols / QUAD..(first + T) * x.cols / QUAD]
            .as_chunks()
            .0,
        scales: x.scales[groups.clone()].as_chunks().0,
        minima: x.minima[groups].as_chunks().0,
    };
    #[cfg(target_arch = "x86_64")]
    if SIMD && WIDE {
        // SAFETY: `WIDE` is true only in code compiled into `linear_vnni`, which the caller
        // enters after detecting AVX512F, AVX512VNNI, AVX2, FMA and F16C.
        return unsafe { panel_block_vnni(w, &x) };
    }
    #[cfg(target_arch = "x86_64")]
    if SIMD {
        debug_assert!(has_simd());
        // SAFETY: `SIMD` is true only in code compiled into `linear_avx2`, which the caller
        // enters after detecting AVX2, FMA and F16C.
        return unsafe { panel_block_avx2(w, &x) };
    }
    let mut acc = [[0f32; PANEL]; T];
    for group in groups_of(w, &x) {
        let Group {
            w_codes,
            x_codes,
            w_scale,
            w_sum,
            x_scale,
            x_min,
        } = group;
        let mut dots = [[0i32; PANEL]; T];
        for (wq, xq) in w_codes.iter().zip(x_codes) {
            for (dot, &x) in dots.iter_mut().zip(xq) {
                let x = x.to_le_bytes().map(i32::from);
                for r in 0..PANEL {
                    for j in 0..QUAD {
                        dot[r] += x[j] * i32::from(wq[r * QUAD + j]);
                    }
                }
            }
        }
        for (((acc, dot), &scale), &min) in acc.iter_mut().zip(&dots).zip(x_scale).zip(x_min) {
            for r in 0..PANEL {
                let part = madd::<SIMD>(dot[r] as f32, scale, min * w_sum[r]);
                acc[r] = madd::<SIMD>(part, w_scale[r], acc[r]);
            }
        }
    }
    acc
}

/// `panel_block` with AVX2 integer multiplies: the codes widened to 16 bits, and
/// `vpmaddwd` summing two products into 32 bits (`vpmaddubsw` would saturate its 16-bit sums
/// of two products of up to 255 × 127).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn panel_block_avx2<const T: usize>(w: &Panel, x: &Tokens<T>) -> [[f32; PANEL]; T] {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); 2]; T];
    for group in groups_of(w, x) {
        let Group {
            w_codes,
            x_codes,
            w_scale,
            w_sum,
            x_scale,
            x_min,
        } = group;
        // Per token, four vectors of outputs 0–3, 4–7, 8–11 and 12–15, each output's two
        // lanes the sums of its inputs 0–1 and 2–3 of every quad.
        let mut dots = [[_mm256_setzero_si256(); 4]; T];
        for (wq, xq) in w_codes.iter().zip(x_codes) {
            // SAFETY: each load reads 16 of the 64 bytes of `wq`.
            let wq: [__m256i; 4] = std::array::from_fn(|i| {
                _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(wq.as_ptr().add(16 * i).cast()) })
            });
            for (dot, &x) in dots.iter_mut().zip(xq) {
                let x = _mm256_cvtepu8_epi16(_mm_set1_epi32(x as i32));
                for i in 0..4 {
                    dot[i] = _mm256_add_epi32(dot[i], _mm256_madd_epi16(wq[i], x));
                }
            }
        }
        // SAFETY: each load reads 8 of the 16 f32 of its array.
        let (w_scale, w_sum) = unsafe {
            (
                [
                    _mm256_loadu_ps(w_scale.as_ptr()),
                    _mm256_loadu_ps(w_scale.as_ptr().add(8)),
                ],
                [
                    _mm256_loadu_ps(w_sum.as_ptr()),
                    _mm256_loadu_ps(w_sum.as_ptr().add(8)),
                ],
            )
        };
        for (((acc, dot), &scale), &min) in acc.iter_mut().zip(&dots).zip(x_scale).zip(x_min) {
            // The two lanes of each output added: `vphaddd` works within 128-bit halves, so
            // outputs come out as 0–1, 4–5, 2–3, 6–7, put back in order by one permute.
            let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
            for h in 0..2 {
                let sums = _mm256_hadd_epi32(dot[2 * h], dot[2 * h + 1]);
                let sums = _mm256_cvtepi32_ps(_mm256_permutevar8x32_epi32(sums, order));
                let part = _mm256_fmadd_ps(
                    sums,
                    _mm256_set1_ps(scale),
                    _mm256_mul_ps(w_sum[h], _mm256_set1_ps(min)),
                );
                acc[h] = _mm256_fmadd_ps(part, w_scale[h], acc[h]);
            }
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

/// `panel_block` with a whole panel in one AVX-512 register: one `vpdpbusd` multiplies a
/// token's quad of inputs by the panel's 16 × 4 codes and adds the products into each
/// output's 32-bit sum.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni,avx2,fma,f16c")]
fn panel_block_vnni<const T: usize>(w: &Panel, x: &Tokens<T>) -> [[f32; PANEL]; T] {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_setzero_ps(); T];
    for group in groups_of(w, x) {
        let Group {
            w_codes,
            x_codes,
            w_scale,
            w_sum,
            x_scale,
            x_min,
        } = group;
        let mut dots = [_mm512_setzero_si512(); T];
        for (wq, xq) in w_codes.iter().zip(x_codes) {
            // SAFETY: the load reads the 64 bytes of `wq`.
            let wq = unsafe { _mm512_loadu_si512(wq.as_ptr().cast()) };
            for (dot, &x) in dots.iter_mut().zip(xq) {
                *dot = _mm512_dpbusd_epi32(*dot, _mm512_set1_epi32(x as i32), wq);
            }
        }
        // SAFETY: each load reads the 16 f32 of its array.
        let (w_scale, w_sum) = unsafe {
            (
                _mm512_loadu_ps(w_scale.as_ptr()),
                _mm512_loadu_ps(w_sum.as_ptr()),
            )
        };
        for (((acc, dot), &scale), &min) in acc.iter_mut().zip(&dots).zip(x_scale).zip(x_min) {
            let part = _mm512_fmadd_ps(
                _mm512_cvtepi32_ps(*dot),
                _mm512_set1_ps(scale),
                _mm512_mul_ps(w_sum, _mm512_set1_ps(min)),
            );
            *acc = _mm512_fmadd_ps(part, w_scale, *acc);
        }
    }
    let mut out = [[0f32; PANEL]; T];
    for (o, a) in out.iter_mut().zip(&acc) {
        // SAFETY: the store writes the 16 f32 of `o`.
        unsafe { _mm512_storeu_ps(o.as_mut_ptr(), *a) };
    }
    out
}

/// Scaled dot-product self-attention over `qkv` rows laid out as `[query | key | value]`,
/// into `out` (`n` rows of `h`). From [`ATTENTION_SPLIT`] tokens the heads are split between
/// two threads (a query's partner spins through the pass, so a split wakes nobody).
#[inline(always)]
fn attention<const SIMD: bool>(
    qkv: &[f32],
    n: usize,
    h: usize,
    heads: usize,
    out: &mut [f32],
    halves: &Halves,
) {
    let d = h / heads;
    // Both halves' working memory in one allocation per layer, not three per thread.
    let mut scratch = vec![0f32; 2 * scratch_len(n, d)];
    let (mine, theirs) = scratch.split_at_mut(scratch_len(n, d));
    if n < ATTENTION_SPLIT {
        let mut rows: Vec<&mut [f32]> = out.chunks_exact_mut(h).collect();
        return attention_on_this_thread::<SIMD>(qkv, n, h, heads, 0..heads, &mut rows, mine);
    }
    let mid = heads / 2;
    let (mut left, mut right): (Vec<&mut [f32]>, Vec<&mut [f32]>) = out
        .chunks_exact_mut(h)
        .map(|row| row.split_at_mut(mid * d))
        .unzip();
    halves.join(
        || attention_on_this_thread::<SIMD>(qkv, n, h, heads, 0..mid, &mut left, mine),
        || attention_on_this_thread::<SIMD>(qkv, n, h, heads, mid..heads, &mut right, theirs),
    );
}

/// The length of one thread's working memory for attention over `n` tokens and heads of `d`
/// dimensions: a head's keys dimension by dimension and its values 16 dimensions at a time,
/// the scaled query, the scores.
fn scratch_len(n: usize, d: usize) -> usize {
    let padded = n.next_multiple_of(LANES_16);
    d * padded + n * d + d + padded
}

/// Below this many tokens one thread does the attention: it takes a few microseconds.
const ATTENTION_SPLIT: usize = 8;

/// The attention of the heads in `range`; `out[t]` receives token `t`'s outputs of those
/// heads. Entered again with the target features, as [`linear_on_this_thread`] is.
fn attention_on_this_thread<const SIMD: bool>(
    qkv: &[f32],
    n: usize,
    h: usize,
    heads: usize,
    range: Range<usize>,
    out: &mut [&mut [f32]],
    scratch: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if SIMD {
        // SAFETY: the SIMD copy of the forward pass runs only on CPUs with AVX2, FMA and F16C.
        return unsafe { attention_avx2(qkv, n, h, heads, range, out, scratch) };
    }
    attention_heads::<false>(qkv, n, h, heads, range, out, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn attention_avx2(
    qkv: &[f32],
    n: usize,
    h: usize,
    heads: usize,
    range: Range<usize>,
    out: &mut [&mut [f32]],
    scratch: &mut [f32],
) {
    attention_heads::<true>(qkv, n, h, heads, range, out, scratch)
}

/// A head's keys are first copied dimension by dimension (padded with zero keys to a multiple
/// of 16), so that a query's scores against 16 keys grow together in one vector, one
/// multiply-add per dimension; the weighted sum of the values grows in vectors of 16 of the
/// head's dimensions. Both stay in registers across their loop, where a dot product per key
/// was a chain of dependent scalar adds and a sum over the whole row went through memory at
/// every key (together a quarter of a 50-token document's pass under `perf`). The
/// exponentials are taken 16 at a time over the padded scores, whose padding is then zeroed.
#[inline(always)]
fn attention_heads<const SIMD: bool>(
    qkv: &[f32],
    n: usize,
    h: usize,
    heads: usize,
    range: Range<usize>,
    out: &mut [&mut [f32]],
    scratch: &mut [f32],
) {
    let d = h / heads;
    let scale = 1.0 / (d as f32).sqrt();
    let row = |t: usize| &qkv[t * 3 * h..][..3 * h];
    let padded = n.next_multiple_of(LANES_16);
    let (keys, rest) = scratch.split_at_mut(d * padded);
    let (values, rest) = rest.split_at_mut(n * d);
    let (query, scores) = rest.split_at_mut(d);
    let first = range.start;
    for head in range {
        let at = head * d;
        for j in 0..n {
            for (c, &k) in row(j)[h + at..h + at + d].iter().enumerate() {
                keys[c * padded + j] = k;
            }
            // Values 16 dimensions at a time, all the keys' first 16 before their next 16.
            for (part, v) in row(j)[2 * h + at..][..d].chunks_exact(LANES_16).enumerate() {
                values[(part * n + j) * LANES_16..][..LANES_16].copy_from_slice(v);
            }
        }
        for (i, out) in out.iter_mut().enumerate().take(n) {
            for (q, &v) in query.iter_mut().zip(&row(i)[at..at + d]) {
                *q = v * scale;
            }
            let mut block = 0;
            let blocks = padded / LANES_16;
            while block < blocks {
                // Up to four blocks of 16 keys at a time: four independent chains of
                // multiply-adds, where one block's chain waited on each add in turn.
                block += match blocks - block {
                    1 => scores_of_blocks::<1, SIMD>(query, keys, padded, block, scores),
                    2 => scores_of_blocks::<2, SIMD>(query, keys, padded, block, scores),
                    3 => scores_of_blocks::<3, SIMD>(query, keys, padded, block, scores),
                    _ => scores_of_blocks::<4, SIMD>(query, keys, padded, block, scores),
                };
            }
            let max = max_of(&scores[..n]);
            for chunk in scores.as_chunks_mut::<LANES_16>().0 {
                for s in chunk.iter_mut() {
                    *s = exp::<SIMD>(*s - max);
                }
            }
            scores[n..].fill(0.0);
            let mut totals = [0f32; LANES_16];
            for chunk in scores.as_chunks::<LANES_16>().0 {
                for (s, total) in chunk.iter().zip(&mut totals) {
                    *total += *s;
                }
            }
            let inverse = 1.0 / totals.iter().sum::<f32>();
            let o = &mut out[(head - first) * d..][..d];
            let parts = values.as_chunks::<LANES_16>().0.chunks_exact(n);
            for (o, part) in o.chunks_exact_mut(LANES_16).zip(parts) {
                // Four keys' values at a time into four sums, independent chains as for the
                // scores, added together at the end; the values of one part of the head lie
                // key after key, so the loop walks two slices without working out offsets.
                let mut sums = [[0f32; LANES_16]; 4];
                let (fours, rest) = part.as_chunks::<4>();
                let (weights, last) = scores[..n].as_chunks::<4>();
                for (v, s) in fours.iter().zip(weights) {
                    for (k, sum) in sums.iter_mut().enumerate() {
                        for l in 0..LANES_16 {
                            sum[l] = madd::<SIMD>(s[k], v[k][l], sum[l]);
                        }
                    }
                }
                // The last few into the first sum: an index chosen at run time would keep
                // all four sums in memory instead of registers.
                for (v, &s) in rest.iter().zip(last) {
                    for l in 0..LANES_16 {
                        sums[0][l] = madd::<SIMD>(s, v[l], sums[0][l]);
                    }
                }
                for (l, o) in o.iter_mut().enumerate() {
                    *o = ((sums[0][l] + sums[1][l]) + (sums[2][l] + sums[3][l])) * inverse;
                }
            }
        }
    }
}

/// The scores of `query` against the blocks `first..first + B` of 16 keys, into `scores`;
/// `keys` holds a head's keys dimension by dimension, each dimension `padded` long. Returns
/// the number of blocks done.
#[inline(always)]
fn scores_of_blocks<const B: usize, const SIMD: bool>(
    query: &[f32],
    keys: &[f32],
    padded: usize,
    first: usize,
    scores: &mut [f32],
) -> usize {
    let mut sums = [[0f32; LANES_16]; B];
    for (&qc, dimension) in query.iter().zip(keys.chunks_exact(padded)) {
        for (b, sum) in sums.iter_mut().enumerate() {
            let k: &[f32; LANES_16] = dimension[(first + b) * LANES_16..][..LANES_16]
                .try_into()
                .expect("16 keys");
            for l in 0..LANES_16 {
                sum[l] = madd::<SIMD>(qc, k[l], sum[l]);
            }
        }
    }
    for (b, sum) in sums.iter().enumerate() {
        scores[(first + b) * LANES_16..][..LANES_16].copy_from_slice(sum);
    }
    B
}

/// e^x for x ≤ 0 (a softmax's scores less their maximum), in a form that vectorises, where
/// the C library's expf is a call per score: x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r as its
/// degree-6 Taylor polynomial (relative error below 2e-7), times 2^k built in the exponent
/// bits. Below -87, e^x is under f32's smallest normal and taken as 0.
#[inline(always)]
fn exp<const SIMD: bool>(x: f32) -> f32 {
    let underflows = x < -87.0;
    // `max` before `min`: a NaN becomes -87 (`clamp` would keep it, and the conversion below
    // must not see one). The upper bound only keeps 2^k representable for the padding's
    // scores (zeroed afterwards), which can exceed the row's maximum.
    #[expect(clippy::manual_clamp, reason = "clamp keeps a NaN")]
    let x = x.max(-87.0).min(88.0);
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
    // SAFETY: k is a whole number in [-126, 127] (x was clamped above), so it fits an i32.
    // `as i32` would saturate NaN and out-of-range values, which the compiler did one lane
    // at a time (a quarter of the attention's samples under `perf`).
    let k = unsafe { k.to_int_unchecked::<i32>() };
    let e = p * f32::from_bits(((k + 127) as u32) << 23);
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
    // Whole chunks, then the rest: a last chunk shorter than the lanes made the compiler
    // store the lanes through a mask, about a seventh of the attention's samples under `perf`.
    let (chunks, rest) = x.as_chunks::<8>();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = if v > *lane { v } else { *lane };
        }
    }
    rest.iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |max, &v| if v > max { v } else { max })
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
    fn packing_in_vectors_gives_the_portable_codes_bit_for_bit() {
        let (rows, cols) = (2 * PANEL, 4 * GROUP);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut weight: Vec<f32> = (0..rows * cols)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 20_001) as f32 / 10_000.0 - 1.0
            })
            .collect();
        // Halves exactly between two codes (rounded away from zero), and a group of zeros.
        let scale = 1.0 / 127.0;
        weight[..GROUP].copy_from_slice(&[0.0; GROUP]);
        for (k, w) in weight[cols..cols + 8].iter_mut().enumerate() {
            *w = (k as f32 - 3.5) * scale;
        }
        weight[cols + 8] = 1.0;
        let made = |weight: &Vec<f32>| Weights {
            weight: weight.clone(),
            bias: vec![0.5; rows],
            rows,
            cols,
        };
        let portable = pack_codes(made(&weight));
        let packed = pack(made(&weight));
        assert_eq!(packed.codes, portable.codes);
        assert_eq!(packed.scales, portable.scales);
        assert_eq!(packed.sums, portable.sums);
        assert!(portable.codes.iter().flatten().any(|&c| c == 127));
    }

    #[test]
    fn layers_packed_on_several_threads_come_back_in_order_and_fail_with_their_error() {
        for threads in 1..=4 {
            for n in 0..=7 {
                let made = on_threads(n, threads, |i| Ok(i * 10)).expect("nothing fails");
                assert_eq!(
                    made,
                    (0..n).map(|i| i * 10).collect::<Vec<_>>(),
                    "{n} on {threads}"
                );
            }
        }
        let failed = on_threads(6, 2, |i| match i {
            4 => Err(EmbedError::Unsupported(format!("layer {i}"))),
            _ => Ok(i),
        });
        assert!(matches!(failed, Err(EmbedError::Unsupported(m)) if m == "layer 4"));
    }

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

    /// Attention against a plain f64 softmax attention, at lengths around the 16-key blocks
    /// and the four-key steps of the weighted sum, with the SIMD copy where the CPU has it.
    #[test]
    fn attention_matches_a_plain_softmax_attention() {
        let (h, heads) = (64, 2);
        let d = h / heads;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0
        };
        for n in [1, 3, 4, 15, 16, 17, 33, 63, 64, 65, 130] {
            let qkv: Vec<f32> = (0..n * 3 * h).map(|_| next()).collect();
            let mut expected = vec![0f64; n * h];
            for head in 0..heads {
                let at = head * d;
                for i in 0..n {
                    let q = &qkv[i * 3 * h + at..][..d];
                    let scores: Vec<f64> = (0..n)
                        .map(|j| {
                            let k = &qkv[j * 3 * h + h + at..][..d];
                            q.iter()
                                .zip(k)
                                .map(|(&a, &b)| a as f64 * b as f64)
                                .sum::<f64>()
                                / (d as f64).sqrt()
                        })
                        .collect();
                    let max = scores.iter().copied().fold(f64::MIN, f64::max);
                    let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for (j, w) in weights.iter().enumerate() {
                        let v = &qkv[j * 3 * h + 2 * h + at..][..d];
                        for c in 0..d {
                            expected[i * h + at + c] += w / total * v[c] as f64;
                        }
                    }
                }
            }
            let variants: &[bool] = if has_simd() { &[true, false] } else { &[false] };
            for &simd in variants {
                let mut out = vec![0f32; n * h];
                let mut scratch = vec![0f32; scratch_len(n, d)];
                let mut rows: Vec<&mut [f32]> = out.chunks_exact_mut(h).collect();
                if simd {
                    attention_on_this_thread::<true>(
                        &qkv,
                        n,
                        h,
                        heads,
                        0..heads,
                        &mut rows,
                        &mut scratch,
                    );
                } else {
                    attention_on_this_thread::<false>(
                        &qkv,
                        n,
                        h,
                        heads,
                        0..heads,
                        &mut rows,
                        &mut scratch,
                    );
                }
                for (got, want) in out.iter().zip(&expected) {
                    assert!(
                        (*got as f64 - want).abs() < 1e-5,
                        "n {n}, simd {simd}: {got} against {want}"
                    );
                }
            }
        }
    }

    /// The AVX2 quantiser gives the portable one's minimum, step and codes exactly, on
    /// lopsided groups (GELU's outputs), groups around zero, and a constant group.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_quantiser_gives_the_portable_codes() {
        assert!(has_simd(), "this CPU has no AVX2");
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32
        };
        let mut groups: Vec<[f32; GROUP]> = (0..200)
            .map(|i| {
                let spread = 0.01 + i as f32 / 20.0;
                std::array::from_fn(|_| (next() - 0.5) * spread)
            })
            .collect();
        groups.push(std::array::from_fn(|k| gelu_of(k as f32 / 4.0 - 4.0)));
        groups.push([0.25; GROUP]);
        for values in &groups {
            let portable = quantise_group::<false>(values);
            // SAFETY: the CPU was just checked for AVX2 and FMA.
            let avx2 = unsafe { quantise_group_avx2(values) };
            assert_eq!(avx2, portable, "{values:?}");
        }
        let (min, scale, quads) = quantise_group::<false>(&groups[groups.len() - 2]);
        assert!(min < -0.16 && scale > 0.0);
        assert_eq!(quads[QUADS - 1] >> 24, 255, "the maximum is code 255");
        assert_eq!(
            quantise_group::<false>(&[0.25; GROUP]),
            (0.25, 0.0, [0; QUADS])
        );
    }

    fn gelu_of(x: f32) -> f32 {
        let mut v = [x];
        gelu::<false>(&mut v);
        v[0]
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
