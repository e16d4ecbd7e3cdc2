//! The loop behind random within-condition split-half ([`Split::Random`](super::Split)):
//! `n_splits` repetitions, each splitting every condition's trials at random into halves of
//! ⌊n/2⌋ and ⌈n/2⌉, comparing the RDMs of the two halves' condition means.
//!
//! Repetition `r` shuffles each condition's trials (in condition order) with its own stream
//! `(derive_seed(seed, "split_half"), r)`, so scores do not depend on batching or threads.
//!
//! Cosine and correlation RDMs only need inner products of the half means, and are unchanged
//! by scaling each mean, so the loop works on half *sums*: `A_c` (the first half of condition
//! c) and `B_c = T_c − A_c` (T_c the condition total). Correlation is cosine on trials centred
//! across features (centring is linear, so the sums of centred trials are the centred sums).
//! Per repetition:
//!
//! * `A` is summed with features in L1-sized tiles, each tile summed for a batch of
//!   repetitions while it is in cache;
//! * `⟨A_c, A_d⟩` comes from one BLAS `dsyrk`;
//! * `⟨B_c, B_d⟩ = ⟨T_c, T_d⟩ − ⟨T_c, A_d⟩ − ⟨T_d, A_c⟩ + ⟨A_c, A_d⟩` needs no second product:
//!   `⟨T_c, A_d⟩` is a sum over A_d's trials of `⟨T_c, x_i⟩`, computed once for every trial;
//! * the norms of `B_c` are taken from `B_c` itself, so a direction-less half mean is exact.
//!
//! Euclidean metrics take the half means and direct differences.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::conditions::{guarded_spearman, small_rdm_into};
use super::split_half::SplitHalfOptions;
use crate::rsa::rdm::Metric;
use crate::stats::gram::gram_of_rows_into;
use crate::stats::rank::SpearmanScratch;
use crate::stats::rng;

/// Repetitions drawn together: a condition's block of trials is read into cache once per
/// batch, not once per repetition (the half sums are memory-bound).
const SPLIT_BATCH: usize = 32;

/// Features per tile of the half sums: a tile of a condition's trials (≤ ~60 trials × 64
/// features) stays in L1 while every repetition of the batch sums it.
const TILE: usize = 64;

/// The kept conditions' trials, each condition one contiguous block of rows (session order
/// within the block), centred across features under correlation.
struct Blocks {
    /// Each condition's block, cut into tiles of [`TILE`] features: the tile starting at
    /// feature f0 (width w) of condition c holds its n_c rows × w values contiguously at
    /// `starts[c] · p + f0 · n_c`, so a tile is one contiguous, cache-resident run.
    tiled: Vec<f64>,
    p: usize,
    starts: Vec<usize>,
    sizes: Vec<usize>,
    /// Condition totals `T_c`, c × p.
    totals: Vec<f64>,
    /// Gram route only: `⟨T_c, x_i⟩` for every trial row i (rows × c) and `⟨T_c, T_d⟩` (c × c).
    t_dot_rows: Vec<f64>,
    t_gram: Vec<f64>,
}

impl Blocks {
    fn new(x: ArrayView2<f64>, by: &[Vec<usize>], keep: &[usize], metric: Metric) -> Blocks {
        let p = x.ncols();
        let c = keep.len();
        let sizes: Vec<usize> = keep.iter().map(|&k| by[k].len()).collect();
        let mut starts = Vec::with_capacity(c);
        let mut rows = Vec::with_capacity(sizes.iter().sum::<usize>() * p);
        for &k in keep {
            starts.push(rows.len() / p.max(1));
            for &t in &by[k] {
                rows.extend(x.row(t).iter());
            }
        }
        let gram_route = matches!(metric, Metric::Cosine | Metric::Correlation);
        if metric == Metric::Correlation && p > 0 {
            for row in rows.chunks_exact_mut(p) {
                let mean = row.iter().sum::<f64>() / p as f64;
                row.iter_mut().for_each(|v| *v -= mean);
            }
        }
        let mut totals = vec![0.0; c * p];
        for ci in 0..c {
            let acc = &mut totals[ci * p..(ci + 1) * p];
            for r in starts[ci]..starts[ci] + sizes[ci] {
                acc.iter_mut()
                    .zip(&rows[r * p..(r + 1) * p])
                    .for_each(|(a, v)| *a += v);
            }
        }
        let (mut t_dot_rows, mut t_gram) = (Vec::new(), Vec::new());
        if gram_route && p > 0 {
            let n_rows = rows.len() / p;
            let t = ArrayView2::from_shape((c, p), &totals).expect("c × p totals");
            let xr = ArrayView2::from_shape((n_rows, p), &rows).expect("rows × p trials");
            t_dot_rows = xr.dot(&t.t()).into_raw_vec_and_offset().0;
            t_gram = t.dot(&t.t()).into_raw_vec_and_offset().0;
        }
        let mut tiled = Vec::with_capacity(rows.len());
        for ci in 0..c {
            for f0 in (0..p).step_by(TILE) {
                let f1 = (f0 + TILE).min(p);
                for r in starts[ci]..starts[ci] + sizes[ci] {
                    tiled.extend_from_slice(&rows[r * p + f0..r * p + f1]);
                }
            }
        }
        Blocks {
            tiled,
            p,
            starts,
            sizes,
            totals,
            t_dot_rows,
            t_gram,
        }
    }
}

/// Per-thread buffers of one batch of repetitions.
struct Scratch {
    /// Per repetition, each condition's shuffled positions at `starts[c]..starts[c] + n_c`.
    orders: Vec<Vec<usize>>,
    /// Per repetition, the first-half sums (c × p).
    first: Vec<Array2<f64>>,
    second: Array2<f64>,
    ga: Vec<f64>,
    /// Per repetition, `⟨T_k, A_d⟩` at `d * c + k`.
    t_dot_a: Vec<Vec<f64>>,
    norm_a: Vec<f64>,
    norm_b: Vec<f64>,
    rdm_a: Vec<f64>,
    rdm_b: Vec<f64>,
    ranks: SpearmanScratch,
}

/// Scores of `n_splits` random within-condition splits (NaN where undefined), in order.
pub(super) fn random_split_scores(
    x: ArrayView2<f64>,
    by: &[Vec<usize>],
    keep: &[usize],
    opts: &SplitHalfOptions,
    n_splits: usize,
) -> Vec<f64> {
    let b = Blocks::new(x, by, keep, opts.metric);
    let (p, c) = (b.p, keep.len());
    let n_rows = b.sizes.iter().sum::<usize>();
    let seed = rng::derive_seed(opts.seed, "split_half");
    let n_batches = n_splits.div_ceil(SPLIT_BATCH);
    let per_batch: Vec<Vec<f64>> = (0..n_batches)
        .into_par_iter()
        .map_init(
            || Scratch {
                orders: vec![vec![0; n_rows]; SPLIT_BATCH],
                first: vec![Array2::zeros((c, p)); SPLIT_BATCH],
                second: Array2::zeros((c, p)),
                ga: Vec::new(),
                t_dot_a: vec![vec![0.0; c * c]; SPLIT_BATCH],
                norm_a: vec![0.0; c],
                norm_b: vec![0.0; c],
                rdm_a: Vec::with_capacity(c * c / 2),
                rdm_b: Vec::with_capacity(c * c / 2),
                ranks: SpearmanScratch::default(),
            },
            |s, batch| {
                let reps = batch * SPLIT_BATCH..((batch + 1) * SPLIT_BATCH).min(n_splits);
                let mut rngs: Vec<_> = reps
                    .clone()
                    .map(|rep| rng::stream(seed, rep as u64))
                    .collect();
                half_sums(&b, &mut rngs, s);
                (0..reps.len())
                    .map(|j| match opts.metric {
                        Metric::Cosine | Metric::Correlation => score_by_gram(&b, j, s, opts),
                        Metric::Euclidean | Metric::SqEuclidean => score_by_means(&b, j, s, opts),
                    })
                    .collect()
            },
        )
        .collect();
    per_batch.into_iter().flatten().collect()
}

/// Draws every repetition's split of every condition and sums the first halves into
/// `s.first[j]`.
fn half_sums(b: &Blocks, rngs: &mut [rng::Rng], s: &mut Scratch) {
    let p = b.p;
    for ci in 0..b.sizes.len() {
        let (start, n_c) = (b.starts[ci], b.sizes[ci]);
        let h = n_c / 2;
        for (order, r) in s.orders.iter_mut().zip(rngs.iter_mut()) {
            // Shuffling positions within the block draws the same permutation as shuffling the
            // trial indices themselves (Fisher–Yates depends only on the length).
            let o = &mut order[start..start + n_c];
            o.iter_mut().enumerate().for_each(|(k, v)| *v = k);
            rng::shuffle(o, r);
        }
        if !b.t_dot_rows.is_empty() {
            // ⟨T_k, A_ci⟩ for every k: the products of A_ci's trials with the totals, summed
            // while this condition's rows of the table are in cache.
            let c = b.sizes.len();
            for (t_dot_a, order) in s.t_dot_a.iter_mut().zip(&s.orders).take(rngs.len()) {
                let acc = &mut t_dot_a[ci * c..(ci + 1) * c];
                acc.fill(0.0);
                for &pos in &order[start..start + h] {
                    let r = start + pos;
                    acc.iter_mut()
                        .zip(&b.t_dot_rows[r * c..(r + 1) * c])
                        .for_each(|(x, v)| *x += v);
                }
            }
        }
        for f0 in (0..p).step_by(TILE) {
            let f1 = (f0 + TILE).min(p);
            let at = start * p + f0 * n_c;
            let tile = &b.tiled[at..at + n_c * (f1 - f0)];
            for (first, order) in s.first.iter_mut().zip(&s.orders).take(rngs.len()) {
                let dst = first
                    .as_slice_mut()
                    .expect("owned array is standard layout");
                sum_rows(
                    &mut dst[ci * p + f0..ci * p + f1],
                    tile,
                    &order[start..start + h],
                );
            }
        }
    }
}

/// Score of repetition `j` from inner products of the half sums (cosine on trials already
/// centred under correlation).
fn score_by_gram(b: &Blocks, j: usize, s: &mut Scratch, opts: &SplitHalfOptions) -> f64 {
    let (p, c) = (b.p, b.sizes.len());
    let a = s.first[j]
        .as_slice()
        .expect("owned array is standard layout");
    gram_of_rows_into(a, c, p, &mut s.ga);
    // |B_c| from B_c = T_c − A_c itself (the products come from the identity).
    for ci in 0..c {
        s.norm_a[ci] = s.ga[ci * c + ci].sqrt();
        let range = ci * p..(ci + 1) * p;
        s.norm_b[ci] = diff_sq(&b.totals[range.clone()], &a[range]).sqrt();
    }
    let t_dot_a = &s.t_dot_a[j];
    s.rdm_a.clear();
    s.rdm_b.clear();
    for i in 0..c {
        for k in i + 1..c {
            let g_a = s.ga[i * c + k];
            let g_b = b.t_gram[i * c + k] - t_dot_a[k * c + i] - t_dot_a[i * c + k] + g_a;
            s.rdm_a.push(cosine_distance(g_a, s.norm_a[i], s.norm_a[k]));
            s.rdm_b.push(cosine_distance(g_b, s.norm_b[i], s.norm_b[k]));
        }
    }
    guarded_spearman(&s.rdm_a, &s.rdm_b, opts.constant_std, &mut s.ranks).unwrap_or(f64::NAN)
}

/// `Σ (t − a)²` with eight partial sums (independent add chains).
fn diff_sq(t: &[f64], a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (tc, ac) = (t.chunks_exact(8), a.chunks_exact(8));
    let tail: f64 = tc
        .remainder()
        .iter()
        .zip(ac.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in tc.zip(ac) {
        for k in 0..8 {
            let d = x[k] - y[k];
            acc[k] += d * d;
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `1 − clip(g / (nᵢ nⱼ), −1, 1)`; NaN when either vector is zero (scipy's 0/0).
fn cosine_distance(g: f64, ni: f64, nj: f64) -> f64 {
    if ni == 0.0 || nj == 0.0 {
        return f64::NAN;
    }
    1.0 - (g / (ni * nj)).clamp(-1.0, 1.0)
}

/// Score of repetition `j` from the half means (Euclidean metrics).
fn score_by_means(b: &Blocks, j: usize, s: &mut Scratch, opts: &SplitHalfOptions) -> f64 {
    let p = b.p;
    let first = s.first[j]
        .as_slice_mut()
        .expect("owned array is standard layout");
    let second = s
        .second
        .as_slice_mut()
        .expect("owned array is standard layout");
    for ci in 0..b.sizes.len() {
        let (n_c, h) = (b.sizes[ci], b.sizes[ci] / 2);
        let (inv_a, inv_b) = (1.0 / h as f64, 1.0 / (n_c - h) as f64);
        let range = ci * p..(ci + 1) * p;
        for ((bv, av), tv) in second[range.clone()]
            .iter_mut()
            .zip(first[range.clone()].iter_mut())
            .zip(&b.totals[range])
        {
            *bv = (tv - *av) * inv_b;
            *av *= inv_a;
        }
    }
    small_rdm_into(&mut s.first[j], opts.metric, &mut s.norm_a, &mut s.rdm_a);
    small_rdm_into(&mut s.second, opts.metric, &mut s.norm_b, &mut s.rdm_b);
    guarded_spearman(&s.rdm_a, &s.rdm_b, opts.constant_std, &mut s.ranks).unwrap_or(f64::NAN)
}

/// `dst[f] = Σ_k tile[order[k] · w + f]` for the rows of a tile of width `w = dst.len()`,
/// summing in the given order for every feature (bit-identical to a row-by-row sum). Features
/// are taken 32 at a time with the accumulators in registers (eight independent AVX2 add
/// chains).
fn sum_rows(dst: &mut [f64], tile: &[f64], order: &[usize]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above); no other preconditions.
            unsafe { sum_rows_avx2(dst, tile, order) };
            return;
        }
    }
    sum_rows_generic(dst, tile, order);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sum_rows_avx2(dst: &mut [f64], tile: &[f64], order: &[usize]) {
    // The same code compiled with AVX2: the 32 accumulators become eight 256-bit registers.
    sum_rows_generic(dst, tile, order);
}

#[inline(always)]
fn sum_rows_generic(dst: &mut [f64], tile: &[f64], order: &[usize]) {
    const W: usize = 32;
    let width = dst.len();
    let full = width / W * W;
    for start in (0..full).step_by(W) {
        let mut acc = [0.0f64; W];
        for &r in order {
            let off = r * width + start;
            let src = &tile[off..off + W];
            for k in 0..W {
                acc[k] += src[k];
            }
        }
        dst[start..start + W].copy_from_slice(&acc);
    }
    for f in full..width {
        let mut acc = 0.0;
        for &r in order {
            acc += tile[r * width + f];
        }
        dst[f] = acc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsa::rdm::{ZeroNorm, rdm_with};
    use crate::stats::rank::{SpearmanScratch, spearman_rho};
    use rand::Rng as _;

    /// The definition, one repetition at a time: explicit half means, `pdist`-equivalent RDMs.
    fn reference(
        x: &Array2<f64>,
        by: &[Vec<usize>],
        opts: &SplitHalfOptions,
        n: usize,
    ) -> Vec<f64> {
        let seed = rng::derive_seed(opts.seed, "split_half");
        (0..n)
            .map(|rep| {
                let mut r = rng::stream(seed, rep as u64);
                let (mut ma, mut mb) = (
                    Array2::zeros((by.len(), x.ncols())),
                    Array2::zeros((by.len(), x.ncols())),
                );
                for (ci, trials) in by.iter().enumerate() {
                    let mut o: Vec<usize> = (0..trials.len()).collect();
                    rng::shuffle(&mut o, &mut r);
                    let h = trials.len() / 2;
                    for (k, &pos) in o.iter().enumerate() {
                        let (m, w) = if k < h {
                            (&mut ma, h)
                        } else {
                            (&mut mb, trials.len() - h)
                        };
                        let mut row = m.row_mut(ci);
                        row.scaled_add(1.0 / w as f64, &x.row(trials[pos]));
                    }
                }
                let ra = rdm_with(ma.view(), opts.metric, ZeroNorm::Nan)
                    .unwrap()
                    .into_condensed();
                let rb = rdm_with(mb.view(), opts.metric, ZeroNorm::Nan)
                    .unwrap()
                    .into_condensed();
                spearman_rho(&ra, &rb, &mut SpearmanScratch::default())
            })
            .collect()
    }

    #[test]
    fn equals_explicit_half_means_for_every_metric() {
        let mut r = rng::stream(5, 0);
        let (n_cond, p) = (7, 150);
        let cond: Vec<usize> = (0..230).map(|t| t % n_cond).collect();
        // Large common offset (firing rates), condition tuning, noise; one silent feature.
        let x = Array2::from_shape_fn((cond.len(), p), |(t, f)| {
            if f == 3 {
                0.0
            } else {
                20.0 + ((cond[t] * 3 + f) % 5) as f64 + r.random::<f64>() * 4.0
            }
        });
        let by: Vec<Vec<usize>> = (0..n_cond)
            .map(|c| (0..cond.len()).filter(|&t| cond[t] == c).collect())
            .collect();
        let keep: Vec<usize> = (0..n_cond).collect();
        for metric in [
            Metric::Cosine,
            Metric::Correlation,
            Metric::Euclidean,
            Metric::SqEuclidean,
        ] {
            let opts = SplitHalfOptions {
                metric,
                ..SplitHalfOptions::default()
            };
            let got = random_split_scores(x.view(), &by, &keep, &opts, 40);
            let want = reference(&x, &by, &opts, 40);
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() < 1e-9, "{metric:?} split {k}: {g} vs {w}");
            }
        }
    }
}
