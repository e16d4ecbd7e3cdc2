//! Sums of squared differences `Σ_f (x_{i,f} − x_{j,f})²` between the rows of a matrix, added
//! in scipy's order: the squared Euclidean distances of `pdist`, bit for bit.
//!
//! scipy's `pdist(x, 'sqeuclidean')` (and `'euclidean'`, its square root) adds each pair's
//! squared differences feature after feature, 0, 1, …, p − 1, starting from 0 (checked
//! against scipy 1.17.1 in `tests/fixtures/rsa/make_tie_fixtures.py`). These kernels add in
//! the same order, so every sum is pdist's, and in particular:
//!
//! * whenever the squared differences sum exactly — integer counts, or any values on a grid
//!   2⁻ᵏ whose sums stay below 2⁵³ — the result is exact, and mathematically equal distances
//!   are equal (a Spearman comparison ranks them as scipy's do);
//! * on any other input, distances that scipy finds equal are equal here too.
//!
//! A Gram product (‖x‖² + ‖y‖² − 2⟨x, y⟩) would be faster, but it rounds differently for
//! every pair and breaks such ties.
//!
//! Speed comes from vectorising across pairs instead of features (which would reorder the
//! sum): the rows j are packed feature-major in panels of [`W`] rows, and a group of `MI`
//! rows i updates `MI × W` independent sums per feature, each one add chain in pdist's
//! order. The loop is written once, in portable Rust that the compiler vectorises; it is
//! compiled three times — for baseline x86-64 (SSE2), for AVX2 and for AVX-512 — and the
//! widest copy the CPU and the [`simd`](super::simd) switch allow runs. All copies perform the
//! same IEEE operations on each sum (no fused multiply-add), so they give the same bits.

use std::ops::Range;

use rayon::prelude::*;

use super::simd::{self, Level};

/// Rows j per panel: the sums of one row i with a panel fill two 512-bit or four 256-bit
/// registers.
const W: usize = 16;
/// Rows i per parallel task: their values (256 KB at p = 1000) stay in L2 while every panel
/// passes by.
const BLOCK: usize = 32;

/// Start of row i's pairs (i, i+1..n) in a condensed vector over n items.
#[inline]
fn row_start(n: usize, i: usize) -> usize {
    n * i - i * (i + 1) / 2
}

/// The rows of `x` (`n` rows of `p` values, row-major) packed into panels of [`W`] rows,
/// feature-major: panel q holds value f of row `qW + w` at `(q · p + f) · W + w`; rows past
/// `n` are zeros (their sums are never written out). `out` is reused.
fn pack_into(x: &[f64], n: usize, p: usize, out: &mut Vec<f64>) {
    let n_panels = n.div_ceil(W);
    out.clear();
    out.resize(n_panels * p * W, 0.0);
    let fill = |(q, panel): (usize, &mut [f64])| {
        for w in 0..W.min(n - q * W) {
            let row = &x[(q * W + w) * p..(q * W + w + 1) * p];
            for (f, &v) in row.iter().enumerate() {
                panel[f * W + w] = v;
            }
        }
    };
    if p == 0 {
        return;
    }
    // Large inputs are packed in parallel (16 MB for 2000 × 1000); small ones (a split-half
    // repetition's condition means) on the calling thread.
    if n * p >= 1 << 16 {
        out.par_chunks_mut(p * W).enumerate().for_each(fill);
    } else {
        out.chunks_mut(p * W).enumerate().for_each(fill);
    }
}

/// The `MI × W` sums of rows `ri` against the panel's rows, feature after feature.
#[inline(always)]
fn kernel<const MI: usize>(ri: [&[f64]; MI], panel: &[f64], p: usize) -> [[f64; W]; MI] {
    // Lengths stated once, so that the loop below runs without bounds checks.
    let ri = ri.map(|r| &r[..p]);
    let panel = &panel[..p * W];
    let mut acc = [[0.0f64; W]; MI];
    for (f, column) in panel.chunks_exact(W).enumerate() {
        for (sums, r) in acc.iter_mut().zip(&ri) {
            let a = r[f];
            for (s, &b) in sums.iter_mut().zip(column) {
                let d = b - a;
                *s += d * d;
            }
        }
    }
    acc
}

/// The sums of rows `rows` with every later row, into `out` (their run of the condensed
/// vector, scipy's order), `MI` rows i at a time.
#[inline(always)]
fn rows_body<const MI: usize>(
    x: &[f64],
    (n, p): (usize, usize),
    packed: &[f64],
    rows: Range<usize>,
    out: &mut [f64],
) {
    let (r0, r1) = (rows.start, rows.end);
    let base = row_start(n, r0);
    let n_panels = n.div_ceil(W);
    for i0 in rows.step_by(MI) {
        // Rows past the block repeat its last row; their sums are dropped.
        let ri: [&[f64]; MI] = std::array::from_fn(|k| {
            let i = (i0 + k).min(r1 - 1);
            &x[i * p..(i + 1) * p]
        });
        // The first panel holding a row after i0.
        for q in (i0 + 1) / W..n_panels {
            let acc = kernel(ri, &packed[q * p * W..(q + 1) * p * W], p);
            for (ii, sums) in acc.iter().enumerate() {
                let i = i0 + ii;
                if i >= r1 {
                    break;
                }
                let at = row_start(n, i) - base;
                for (w, &s) in sums.iter().enumerate() {
                    let j = q * W + w;
                    if j > i && j < n {
                        out[at + j - i - 1] = s;
                    }
                }
            }
        }
    }
}

/// [`rows_body`] compiled for baseline x86-64.
fn rows_portable(
    x: &[f64],
    np: (usize, usize),
    packed: &[f64],
    rows: Range<usize>,
    out: &mut [f64],
) {
    rows_body::<2>(x, np, packed, rows, out);
}

/// [`rows_body`] compiled for AVX2: 2 rows i × 16 sums in eight 256-bit registers.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn rows_avx2(
    x: &[f64],
    np: (usize, usize),
    packed: &[f64],
    rows: Range<usize>,
    out: &mut [f64],
) {
    rows_body::<2>(x, np, packed, rows, out);
}

/// [`rows_body`] compiled for AVX-512: 4 rows i × 16 sums in eight 512-bit registers.
///
/// # Safety
/// The CPU supports AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn rows_avx512(
    x: &[f64],
    np: (usize, usize),
    packed: &[f64],
    rows: Range<usize>,
    out: &mut [f64],
) {
    rows_body::<4>(x, np, packed, rows, out);
}

/// [`rows_body`] on the copy for `level`, or the widest narrower one the CPU has.
fn rows_into(
    x: &[f64],
    np: (usize, usize),
    packed: &[f64],
    rows: Range<usize>,
    out: &mut [f64],
    level: Level,
) {
    if rows.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if level >= Level::Avx512 && simd::avx512_detected() {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            unsafe { rows_avx512(x, np, packed, rows, out) };
            return;
        }
        if level >= Level::Avx2 && simd::avx2_detected() {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { rows_avx2(x, np, packed, rows, out) };
            return;
        }
    }
    let _ = level;
    rows_portable(x, np, packed, rows, out);
}

/// The condensed vector (scipy's order) of the sums of squared differences between the rows
/// of `x` (`n` rows of `p` values, row-major): `pdist(x, 'sqeuclidean')`, bit for bit. Rows
/// are taken in blocks in parallel (each block writes its own run of the output, so the
/// result does not depend on the thread count); `level` is the widest copy of the loop that
/// may run (same bits whichever does).
///
/// # Panics
/// If `x.len() != n · p` (a programming error).
pub(crate) fn condensed(x: &[f64], n: usize, p: usize, level: Level) -> Vec<f64> {
    assert_eq!(
        x.len(),
        n * p,
        "sqdiff::condensed: x must hold n × p values"
    );
    let mut out = crate::mem::huge_vec(n * n.saturating_sub(1) / 2);
    let mut packed = Vec::new();
    pack_into(x, n, p, &mut packed);
    let mut runs: Vec<(usize, &mut [f64])> = Vec::new();
    let mut rest: &mut [f64] = &mut out;
    for r0 in (0..n).step_by(BLOCK) {
        let r1 = (r0 + BLOCK).min(n);
        let (run, tail) =
            std::mem::take(&mut rest).split_at_mut(row_start(n, r1) - row_start(n, r0));
        runs.push((r0, run));
        rest = tail;
    }
    runs.into_par_iter().for_each(|(r0, run)| {
        rows_into(x, (n, p), &packed, r0..(r0 + BLOCK).min(n), run, level);
    });
    out
}

/// [`condensed`] on the calling thread, into `out` (cleared first), packing into `work`: for
/// the small RDMs of a split loop, allocation-free once the buffers have grown.
///
/// # Panics
/// If `x.len() != n · p` (a programming error).
pub(crate) fn condensed_small_into(
    x: &[f64],
    (n, p): (usize, usize),
    work: &mut Vec<f64>,
    out: &mut Vec<f64>,
    level: Level,
) {
    assert_eq!(
        x.len(),
        n * p,
        "sqdiff::condensed_small_into: x must hold n × p values"
    );
    out.clear();
    out.resize(n * n.saturating_sub(1) / 2, 0.0);
    pack_into(x, n, p, work);
    rows_into(x, (n, p), work, 0..n, out, level);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pdist's definition: each pair's squared differences added feature after feature.
    fn sequential(x: &[f64], n: usize, p: usize) -> Vec<f64> {
        let mut out = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                let mut s = 0.0;
                for f in 0..p {
                    let d = x[i * p + f] - x[j * p + f];
                    s += d * d;
                }
                out.push(s);
            }
        }
        out
    }

    fn values(n: usize, p: usize, seed: u64) -> Vec<f64> {
        use rand::Rng as _;
        let mut r = crate::stats::rng::stream(seed, 0);
        (0..n * p)
            .map(|_| r.random::<f64>() * 40.0 - 7.0 + r.random::<f64>() * 1e-9)
            .collect()
    }

    #[test]
    fn every_copy_gives_pdists_order_bit_for_bit() {
        // Row counts around the groups of 2 and 4, panels of 16 and blocks of 32; feature
        // counts from 0.
        for (n, p) in [
            (0usize, 3usize),
            (1, 5),
            (2, 1),
            (3, 0),
            (5, 7),
            (8, 3),
            (9, 16),
            (15, 2),
            (16, 9),
            (17, 4),
            (33, 5),
            (40, 31),
            (75, 13),
            (130, 4),
        ] {
            let x = values(n, p, (n * 100 + p) as u64);
            let want = sequential(&x, n, p);
            // Every copy this CPU can run (a level it lacks runs the next narrower copy).
            for level in [Level::Portable, Level::Avx2, Level::Avx512] {
                let got = condensed(&x, n, p, level);
                let (mut work, mut small) = (vec![1.0; 3], vec![f64::NAN; 2]);
                condensed_small_into(&x, (n, p), &mut work, &mut small, level);
                assert_eq!(got.len(), want.len());
                for (k, ((g, s), w)) in got.iter().zip(&small).zip(&want).enumerate() {
                    assert_eq!(g.to_bits(), w.to_bits(), "n {n} p {p} {level:?} pair {k}");
                    assert_eq!(s.to_bits(), w.to_bits(), "small: n {n} p {p} {level:?}");
                }
            }
        }
    }

    #[test]
    fn counts_give_exact_sums() {
        use rand::Rng as _;
        let mut r = crate::stats::rng::stream(4, 0);
        let (n, p) = (70, 50);
        let x: Vec<f64> = (0..n * p)
            .map(|_| f64::from(r.random_range(0..30u32)))
            .collect();
        let got = condensed(&x, n, p, simd::vector_level());
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                let exact: i64 = (0..p)
                    .map(|f| {
                        let d = x[i * p + f] as i64 - x[j * p + f] as i64;
                        d * d
                    })
                    .sum();
                assert_eq!(got[k], exact as f64);
                k += 1;
            }
        }
    }

    #[test]
    fn same_bits_for_any_thread_count() {
        let (n, p) = (101, 40);
        let x = values(n, p, 9);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| condensed(&x, n, p, simd::vector_level()))
        };
        let (one, four) = (run(1), run(4));
        assert!(
            one.iter()
                .zip(&four)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
}
