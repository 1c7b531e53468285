//! Embedding vectors as every module sees them: their dimension, their cosine, and the int8
//! codes the store's scan reads. Shared by `embed` (which makes vectors) and `store` (which
//! keeps and scans them), so neither depends on the other.

/// all-MiniLM-L6-v2's output size; every stored vector has it.
pub const DIMENSION: usize = 384;

/// The cosine of two vectors tacit made. Every vector tacit stores is unit length, so the
/// dot product is the cosine.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// int8 codes of `v` (each component divided by the returned scale and rounded); the scale
/// maps the largest component to 127.
pub fn quantize(v: &[f32], codes: &mut [i8]) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        codes.fill(0);
        return 0.0;
    }
    let scale = max / 127.0;
    for (c, x) in codes.iter_mut().zip(v) {
        *c = (x / scale).round() as i8;
    }
    scale
}

/// The cosine of `v` with the vector that `codes` and `scale` (from [`quantize`]) stand for.
pub fn cosine_with_codes(v: &[f32], codes: &[i8], scale: f32) -> f32 {
    let dot: f32 = v.iter().zip(codes).map(|(x, &c)| x * f32::from(c)).sum();
    dot * scale
}

/// Appends each row's approximate cosine with the query (codes and scales from [`quantize`])
/// to `out`, with AVX2 when the CPU has it.
pub fn scan_int8(
    codes: &[i8],
    scales: &[f32],
    q: &[i8; DIMENSION],
    q_scale: f32,
    out: &mut Vec<f32>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked for AVX2.
        return unsafe { scan_avx2(codes, scales, q, q_scale, out) };
    }
    scan(codes, scales, q, q_scale, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2(codes: &[i8], scales: &[f32], q: &[i8; DIMENSION], q_scale: f32, out: &mut Vec<f32>) {
    scan(codes, scales, q, q_scale, out)
}

/// Appends each slot's approximate cosine with the query to `out`. Written as an integer
/// dot product that LLVM turns into widening multiply-adds.
#[inline(always)]
fn scan(codes: &[i8], scales: &[f32], q: &[i8; DIMENSION], q_scale: f32, out: &mut Vec<f32>) {
    for (row, &scale) in codes.as_chunks::<DIMENSION>().0.iter().zip(scales) {
        let dot: i32 = row
            .iter()
            .zip(q)
            .map(|(&a, &b)| i32::from(a) * i32::from(b))
            .sum();
        out.push(dot as f32 * scale * q_scale);
    }
}
