//! The loop behind random within-condition split-half ([`Split::Random`](super::Split)):
//! `n_splits` repetitions, each splitting every condition's trials at random into halves of
//! ⌊n/2⌋ and ⌈n/2⌉, comparing the RDMs of the two halves' condition means.
//!
//! Repetition `r` draws each condition's first half (a uniformly random ⌊n/2⌋-subset of its
//! trials, by [`rng::partial_shuffle`] of their positions, conditions in order) from its own
//! stream `(derive_seed(seed, "split_half"), r)`, and every sum it takes has a fixed order,
//! so scores do not depend on batching or threads.
//!
//! Cosine and correlation RDMs only need inner products of the half means, and are unchanged
//! by scaling each mean, so the loop works on half *sums*: `A_c` (the first half of condition
//! c) and `B_c = T_c − A_c` (T_c the condition total). Correlation is cosine on trials centred
//! across features (centring is linear, so the sums of centred trials are the centred sums).
//! Per repetition:
//!
//! * `A` is summed from subset-sum tables (the "four Russians" idea): each condition's trials
//!   are taken four at a time, the 16 sums of every subset of a group are tabulated once per
//!   batch of repetitions, and a half's sum is one table entry per group: ⌈n/4⌉ vector adds
//!   instead of n/2. Tables are built a tile of [`TILE`] features at a time, small enough to
//!   stay in L1 while the whole batch reads them;
//! * `⟨A_c, A_d⟩` comes from a small Gram kernel reading the rows of sums where they lie;
//! * `⟨B_c, B_d⟩ = ⟨T_c, T_d⟩ − ⟨T_c, A_d⟩ − ⟨T_d, A_c⟩ + ⟨A_c, A_d⟩` needs no second product:
//!   `⟨T_c, A_d⟩` is a sum over A_d's trials of `⟨T_c, x_i⟩`, so those products ride along as
//!   `c` extra columns of every trial and are summed with it;
//! * `|B_c|²` comes from the same identity, `|T_c|² − 2⟨T_c, A_c⟩ + |A_c|²`, unless that
//!   cancels to a small fraction of its terms; then it is summed from `B_c` itself, so a
//!   direction-less half mean is exactly zero (NaN distances, as scipy).
//!
//! Euclidean metrics take the half means and direct differences.
//!
//! Batches of repetitions are taken one at a time by all threads (draws and scores split by
//! repetition, sums by condition), so there is one buffer of sums whatever the thread count.

use ndarray::{Array2, ArrayView2};

use rayon::prelude::*;

use super::conditions::{guarded_spearman, small_rdm_into};
use super::split_options::SplitHalfOptions;
use crate::mem::CacheAligned;
use crate::rsa::rdm::Metric;
use crate::stats::gram::{gram_of_rows_into, products_of_rows_into};
use crate::stats::rank::SpearmanScratch;
use crate::stats::rng;

/// Most repetitions drawn together: a condition's subset-sum tables are built once per
/// batch, and all the trials are read once per batch to build them.
const MAX_BATCH: usize = 128;

/// Repetitions per batch: as many as [`MAX_BATCH`] allows, the batches as even as possible
/// (scores do not depend on it).
fn batch_len(n_splits: usize) -> usize {
    n_splits
        .div_ceil(n_splits.div_ceil(MAX_BATCH).max(1))
        .max(1)
}

/// Trials per group of the subset-sum tables (2^GROUP sums per group).
const GROUP: usize = 4;
const SUBSETS: usize = 1 << GROUP;

/// Features per tile: one condition's tables for a tile (⌈n/4⌉ groups × 16 sums × 16
/// features; 26 KB for 50 trials) stay in L1 while every repetition of the batch reads them.
const TILE: usize = 16;

/// The kept conditions' trials, each condition one contiguous block of rows (session order
/// within the block), centred across features under correlation.
struct Blocks {
    /// The trials' `w` columns cut into tiles of [`TILE`] (the last padded with zeros): the
    /// tile starting at column f0 of condition c holds its n_c rows × TILE values contiguously
    /// at `(starts[c] · n_tiles + f0 / TILE · n_c) · TILE`. The first `p` columns are the
    /// trial; on the Gram route `c` more hold `⟨T_k, x_i⟩`.
    tiled: Vec<f64>,
    /// `w` rounded up to whole tiles: the length of a row of sums.
    stride: usize,
    p: usize,
    starts: Vec<usize>,
    sizes: Vec<usize>,
    /// Condition totals `T_c`, c × p.
    totals: Vec<f64>,
    /// Gram route only: `⟨T_c, T_d⟩` (c × c).
    t_gram: Vec<f64>,
}

impl Blocks {
    fn new(x: ArrayView2<f64>, by: &[Vec<usize>], keep: &[usize], metric: Metric) -> Blocks {
        let p = x.ncols();
        let c = keep.len();
        let sizes: Vec<usize> = keep.iter().map(|&k| by[k].len()).collect();
        let starts: Vec<usize> = sizes
            .iter()
            .scan(0, |at, &n| {
                *at += n;
                Some(*at - n)
            })
            .collect();
        let n_rows = sizes.iter().sum::<usize>();
        let centre = metric == Metric::Correlation;
        // Trial t as analysed: centred across features under correlation. Taken twice, for
        // the totals and for the tiles (which need the totals first): cheaper than keeping
        // a copy of every trial.
        let trial_into = |t: usize, row: &mut [f64]| {
            row.iter_mut().zip(x.row(t)).for_each(|(d, v)| *d = *v);
            if centre {
                let mean = row.iter().sum::<f64>() / p as f64;
                row.iter_mut().for_each(|v| *v -= mean);
            }
        };
        // Each condition's total, a condition per task.
        let mut totals = vec![0.0; c * p];
        totals
            .par_chunks_mut(p.max(1))
            .zip(keep.par_iter())
            .for_each_init(
                || vec![0.0; p],
                |row, (total, &k)| {
                    for &t in &by[k] {
                        trial_into(t, row);
                        total.iter_mut().zip(&*row).for_each(|(a, v)| *a += v);
                    }
                },
            );
        let t = ArrayView2::from_shape((c, p), &totals).expect("c × p totals");
        let gram_route = matches!(metric, Metric::Cosine | Metric::Correlation) && p > 0;
        let (w, t_gram) = if gram_route {
            (p + c, t.dot(&t.t()).into_raw_vec_and_offset().0)
        } else {
            (p, Vec::new())
        };
        let stride = w.div_ceil(TILE) * TILE;
        // Each condition's block cut into tiles, `⟨T_k, x_i⟩` appended on the Gram route: the
        // condition's trials are gathered into a task's buffer (n_c rows of `stride`, zero
        // beyond `w`), the products taken by the FMA block kernel, and the rows cut into tiles.
        let mut tiled = crate::mem::huge_vec(n_rows * stride);
        split_by_sizes(&mut tiled, &sizes, stride)
            .into_par_iter()
            .zip(keep.par_iter())
            .for_each_init(
                || (Vec::new(), Vec::new()),
                |(rows, t_dot), (out, &k)| {
                    let n_c = by[k].len();
                    rows.clear();
                    rows.resize(n_c * stride, 0.0);
                    for (row, &trial) in rows.chunks_exact_mut(stride).zip(&by[k]) {
                        trial_into(trial, &mut row[..p]);
                    }
                    if gram_route {
                        t_dot.clear();
                        t_dot.resize(n_c * c, 0.0);
                        products_of_rows_into((rows, n_c, stride), (&totals, c, p), p, t_dot, c);
                        for (row, products) in
                            rows.chunks_exact_mut(stride).zip(t_dot.chunks_exact(c))
                        {
                            row[p..w].copy_from_slice(products);
                        }
                    }
                    for (r, row) in rows.chunks_exact(stride).enumerate() {
                        for (k, part) in row.chunks_exact(TILE).enumerate() {
                            out[(k * n_c + r) * TILE..][..TILE].copy_from_slice(part);
                        }
                    }
                },
            );
        Blocks {
            tiled,
            stride,
            p,
            starts,
            sizes,
            totals,
            t_gram,
        }
    }
}

/// `v` cut into consecutive runs of `n · width` values, one per entry of `sizes`.
fn split_by_sizes<'a>(mut v: &'a mut [f64], sizes: &[usize], width: usize) -> Vec<&'a mut [f64]> {
    sizes
        .iter()
        .map(|&n| {
            let (run, rest) = std::mem::take(&mut v).split_at_mut(n * width);
            v = rest;
            run
        })
        .collect()
}

/// Per-thread buffers of the scores of one repetition.
struct Scratch {
    /// Euclidean route: the repetition's half means (c × p).
    means_a: Array2<f64>,
    means_b: Array2<f64>,
    ga: Vec<f64>,
    /// Gram route: the inverse norms of the halves; Euclidean route: the work buffer of
    /// `small_rdm_into` (the packed half means).
    norm_a: Vec<f64>,
    norm_b: Vec<f64>,
    rdm_a: Vec<f64>,
    rdm_b: Vec<f64>,
    ranks: SpearmanScratch,
}

impl Scratch {
    fn new(c: usize, p: usize, gram_route: bool) -> Scratch {
        let means = if gram_route { (0, 0) } else { (c, p) };
        Scratch {
            means_a: Array2::zeros(means),
            means_b: Array2::zeros(means),
            ga: Vec::new(),
            norm_a: vec![0.0; c],
            norm_b: vec![0.0; c],
            rdm_a: Vec::with_capacity(c * c / 2),
            rdm_b: Vec::with_capacity(c * c / 2),
            ranks: SpearmanScratch::default(),
        }
    }
}

/// One batch's first-half sums, and what scoring them needs.
struct Batch<'a> {
    b: &'a Blocks,
    /// Repetition j's condition c row (`stride` values) at `(c · batch + j) · stride`, so that
    /// one condition's rows for the batch are together.
    rows: &'a [f64],
    batch: usize,
    opts: &'a SplitHalfOptions,
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
    let (p, c, stride) = (b.p, keep.len(), b.stride);
    let n_tiles = stride / TILE;
    let seed = rng::derive_seed(opts.seed, "split_half");
    let batch_reps = batch_len(n_splits);
    let threads = rayon::current_num_threads().max(1);
    let gram_route = matches!(opts.metric, Metric::Cosine | Metric::Correlation);
    // Condition ci's masks for a batch: repetition j's group g at mask_at[ci] + j · G_ci + g.
    let n_groups: Vec<usize> = b.sizes.iter().map(|n| n.div_ceil(GROUP).max(1)).collect();
    let mask_at: Vec<usize> = n_groups
        .iter()
        .scan(0, |at, &g| {
            *at += g * batch_reps;
            Some(*at - g * batch_reps)
        })
        .collect();
    let mut masks = vec![0u8; n_groups.iter().sum::<usize>() * batch_reps];
    // All threads work on one batch at a time, so there is one buffer of sums (22 MB for 125
    // repetitions × 40 conditions × 544 columns): fresh memory costs about as much to fault
    // in as a batch costs to sum.
    let mut first = CacheAligned::zeroed(batch_reps * c * stride);
    let mut scores = Vec::with_capacity(n_splits);
    // The sums' kernels (same bits either way), chosen once for the run.
    let avx2 = crate::stats::simd::avx2_available();
    for batch_start in (0..n_splits).step_by(batch_reps) {
        let n_reps = batch_reps.min(n_splits - batch_start);
        // Each repetition's halves from its own stream, conditions in order.
        let drawn: Vec<Vec<u8>> = (batch_start..batch_start + n_reps)
            .into_par_iter()
            .map_init(Vec::new, |order, rep| {
                let mut r = rng::stream(seed, rep as u64);
                draw_halves(&b.sizes, &n_groups, &mut r, order)
            })
            .collect();
        // Regrouped by condition; every mask the batch reads is overwritten.
        for (j, drawn) in drawn.iter().enumerate() {
            let mut from = 0;
            for (ci, &g) in n_groups.iter().enumerate() {
                masks[mask_at[ci] + j * g..][..g].copy_from_slice(&drawn[from..from + g]);
                from += g;
            }
        }
        // The sums, a condition per task (each writes its own rows).
        first
            .slice_mut()
            .par_chunks_mut(batch_reps * stride)
            .enumerate()
            .for_each_init(
                || CacheAligned::zeroed(n_groups.iter().max().unwrap_or(&1) * SUBSETS * TILE),
                |tables, (ci, out)| {
                    let (start, n_c) = (b.starts[ci], b.sizes[ci]);
                    let masks = &masks[mask_at[ci]..][..n_reps * n_groups[ci]];
                    for k in 0..n_tiles {
                        let at = (start * n_tiles + k * n_c) * TILE;
                        tile_sums(
                            &b.tiled[at..at + n_c * TILE],
                            masks,
                            (n_groups[ci], stride),
                            tables.slice_mut(),
                            &mut out[k * TILE..],
                            avx2,
                        );
                    }
                },
            );
        let batch = Batch {
            b: &b,
            rows: first.slice(),
            batch: batch_reps,
            opts,
        };
        // The scores, a run of repetitions per thread.
        let batch_scores: Vec<f64> = (0..n_reps)
            .into_par_iter()
            .with_min_len((n_reps / threads).max(1))
            .map_init(
                || Scratch::new(c, p, gram_route),
                |s, j| {
                    if gram_route {
                        batch.score_by_gram(j, s)
                    } else {
                        batch.score_by_means(j, s)
                    }
                },
            )
            .collect();
        scores.extend(batch_scores);
    }
    scores
}

/// One repetition's first halves, condition after condition: condition ci's groups (of
/// [`GROUP`] trials) as bit masks of the trials drawn, a uniformly random ⌊n/2⌋-subset.
fn draw_halves(
    sizes: &[usize],
    n_groups: &[usize],
    r: &mut rng::Rng,
    order: &mut Vec<usize>,
) -> Vec<u8> {
    let mut masks = vec![0u8; n_groups.iter().sum()];
    let mut at = 0;
    for (&n_c, &g) in sizes.iter().zip(n_groups) {
        order.clear();
        order.extend(0..n_c);
        rng::partial_shuffle(order, n_c / 2, r);
        for &pos in &order[..n_c / 2] {
            masks[at + pos / GROUP] |= 1 << (pos % GROUP);
        }
        at += g;
    }
    masks
}

/// Builds the subset-sum tables of one condition's tile (`rows`: n_c × [`TILE`]) and sums
/// every repetition's first half from them, `Σ_g tables[g][mask[g]]` with the groups in
/// order, into `out[j · stride..][..TILE]` for repetition j. `avx2` takes the AVX2 kernels
/// where the CPU has them; both paths add the same terms in the same order (same bits).
fn tile_sums(
    rows: &[f64],
    masks: &[u8],
    (n_groups, stride): (usize, usize),
    tables: &mut [f64],
    out: &mut [f64],
    avx2: bool,
) {
    let tables = &mut tables[..n_groups * SUBSETS * TILE];
    let n_reps = masks.len() / n_groups;
    // Every write below lands inside `out` (the kernels index without checks).
    assert!(n_reps == 0 || (n_reps - 1) * stride + TILE <= out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if avx2 && crate::stats::simd::avx2_detected() {
            // Streaming stores need every destination tile 32-byte aligned.
            assert!(
                (out.as_ptr() as usize).is_multiple_of(32) && stride.is_multiple_of(4),
                "tile_sums: sums must start 32-byte aligned"
            );
            // SAFETY: the CPU supports AVX2 (checked just above); the bounds and alignment
            // were checked above and the tables have n_groups · SUBSETS tiles.
            unsafe {
                build_tables_avx2(rows, n_groups, tables);
                sums_avx2(tables, masks, n_groups, out, stride);
            }
            return;
        }
    }
    let _ = avx2;
    build_tables(rows, 0..n_groups, tables);
    for (j, mask) in masks.chunks_exact(n_groups).enumerate() {
        let mut acc = [0.0f64; TILE];
        for (g, &m) in mask.iter().enumerate() {
            let e = tile(tables, g * SUBSETS + (m as usize & (SUBSETS - 1)));
            for k in 0..TILE {
                acc[k] += e[k];
            }
        }
        out[j * stride..j * stride + TILE].copy_from_slice(&acc);
    }
}

/// [`build_tables`] for AVX2: each full group's four rows are read a quarter tile (one
/// 256-bit register) at a time and its 16 subset sums stored straight from registers, each
/// the same sum of the same two terms as in [`build_tables`]; a last partial group is left to
/// it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn build_tables_avx2(rows: &[f64], n_groups: usize, tables: &mut [f64]) {
    use std::arch::x86_64::{_mm256_add_pd, _mm256_loadu_pd, _mm256_setzero_pd, _mm256_storeu_pd};
    const _: () = assert!(GROUP == 4 && TILE.is_multiple_of(4));
    let full = (rows.len() / TILE / GROUP).min(n_groups);
    for g in 0..full {
        let r: &[f64; GROUP * TILE] = rows[g * GROUP * TILE..(g + 1) * GROUP * TILE]
            .try_into()
            .expect("a whole group");
        let t: &mut [f64; SUBSETS * TILE] = (&mut tables[g * SUBSETS * TILE..][..SUBSETS * TILE])
            .try_into()
            .expect("a group's tables");
        let (r, t) = (r.as_ptr(), t.as_mut_ptr());
        for o in (0..TILE).step_by(4) {
            // SAFETY: row m's quarter at m · TILE + o and entry s's at s · TILE + o lie in
            // the group's rows and tables (o + 4 ≤ TILE).
            unsafe {
                let x = |m: usize| _mm256_loadu_pd(r.add(m * TILE + o));
                let (r0, r1, r2, r3) = (x(0), x(1), x(2), x(3));
                let e3 = _mm256_add_pd(r1, r0);
                let e5 = _mm256_add_pd(r2, r0);
                let e6 = _mm256_add_pd(r2, r1);
                let e7 = _mm256_add_pd(e6, r0);
                let e9 = _mm256_add_pd(r3, r0);
                let e10 = _mm256_add_pd(r3, r1);
                let e11 = _mm256_add_pd(e10, r0);
                let e12 = _mm256_add_pd(r3, r2);
                let e13 = _mm256_add_pd(e12, r0);
                let e14 = _mm256_add_pd(e12, r1);
                let e15 = _mm256_add_pd(e14, r0);
                let entries = [
                    _mm256_setzero_pd(),
                    r0,
                    r1,
                    e3,
                    r2,
                    e5,
                    e6,
                    e7,
                    r3,
                    e9,
                    e10,
                    e11,
                    e12,
                    e13,
                    e14,
                    e15,
                ];
                for (s, e) in entries.into_iter().enumerate() {
                    _mm256_storeu_pd(t.add(s * TILE + o), e);
                }
            }
        }
    }
    build_tables(rows, full..n_groups, tables);
}

/// Group g's subset m at `tables[(g · 16 + m) · TILE..]`, for the groups in `groups`: the
/// subset without its lowest member, plus that member's row.
fn build_tables(rows: &[f64], groups: std::ops::Range<usize>, tables: &mut [f64]) {
    let n_c = rows.len() / TILE;
    for g in groups {
        let members = GROUP.min(n_c - g * GROUP);
        let t = &mut tables[g * SUBSETS * TILE..(g + 1) * SUBSETS * TILE];
        t[..TILE].fill(0.0);
        for m in 1..1usize << members {
            let (low, rest) = (m.trailing_zeros() as usize, m & (m - 1));
            let row = tile(rows, g * GROUP + low);
            let (done, new) = t.split_at_mut(m * TILE);
            let prev = tile(done, rest);
            let dst: &mut [f64; TILE] = (&mut new[..TILE]).try_into().expect("one tile");
            for k in 0..TILE {
                dst[k] = prev[k] + row[k];
            }
        }
    }
}

/// The sums of [`tile_sums`], two repetitions at a time in sixteen 256-bit registers: their
/// sums are independent add chains, which hides the add latency that one repetition's chain
/// of ⌈n/4⌉ dependent adds would expose, and the results go straight from the registers to
/// `out`.
///
/// # Safety
/// AVX2 is available; `tables` holds `n_groups · SUBSETS` tiles; `out` holds
/// `(masks.len() / n_groups − 1) · stride + TILE` values and starts 32-byte aligned, and
/// `stride` is a multiple of 4.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sums_avx2(tables: &[f64], masks: &[u8], n_groups: usize, out: &mut [f64], stride: usize) {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_loadu_pd, _mm256_setzero_pd, _mm256_stream_pd,
    };
    const _: () = assert!(TILE == 16);
    let t = tables.as_ptr();
    // The 16 values of table entry (g, m); the mask is cut to GROUP bits, so in bounds.
    let entry = |g: usize, m: u8| (g * SUBSETS + (m as usize & (SUBSETS - 1))) * TILE;
    let o = out.as_mut_ptr();
    // The sums bypass the cache (streaming stores): the batch's sums are megabytes, written
    // once and read back by the Gram products, so caching them on the way out would only
    // evict the tables and read each line from memory before overwriting it.
    let store = |at: usize, v: [__m256d; 4]| {
        // SAFETY: at + TILE ≤ out.len() and `o + at` is 32-byte aligned (the caller's bounds).
        unsafe {
            for (k, x) in v.into_iter().enumerate() {
                _mm256_stream_pd(o.add(at + 4 * k), x);
            }
        }
    };
    let mut pairs = masks.chunks_exact(2 * n_groups);
    let mut j = 0;
    for pair in pairs.by_ref() {
        let (m0, m1) = pair.split_at(n_groups);
        let [mut a0, mut a1, mut a2, mut a3] = [_mm256_setzero_pd(); 4];
        let [mut b0, mut b1, mut b2, mut b3] = [_mm256_setzero_pd(); 4];
        for g in 0..n_groups {
            // SAFETY: entries of the tables (see `entry`).
            unsafe {
                let (e, f) = (t.add(entry(g, m0[g])), t.add(entry(g, m1[g])));
                a0 = _mm256_add_pd(a0, _mm256_loadu_pd(e));
                b0 = _mm256_add_pd(b0, _mm256_loadu_pd(f));
                a1 = _mm256_add_pd(a1, _mm256_loadu_pd(e.add(4)));
                b1 = _mm256_add_pd(b1, _mm256_loadu_pd(f.add(4)));
                a2 = _mm256_add_pd(a2, _mm256_loadu_pd(e.add(8)));
                b2 = _mm256_add_pd(b2, _mm256_loadu_pd(f.add(8)));
                a3 = _mm256_add_pd(a3, _mm256_loadu_pd(e.add(12)));
                b3 = _mm256_add_pd(b3, _mm256_loadu_pd(f.add(12)));
            }
        }
        store(j * stride, [a0, a1, a2, a3]);
        store((j + 1) * stride, [b0, b1, b2, b3]);
        j += 2;
    }
    let last = pairs.remainder();
    if !last.is_empty() {
        let [mut a0, mut a1, mut a2, mut a3] = [_mm256_setzero_pd(); 4];
        for (g, &m) in last.iter().enumerate() {
            // SAFETY: an entry of the tables (see `entry`).
            unsafe {
                let e = t.add(entry(g, m));
                a0 = _mm256_add_pd(a0, _mm256_loadu_pd(e));
                a1 = _mm256_add_pd(a1, _mm256_loadu_pd(e.add(4)));
                a2 = _mm256_add_pd(a2, _mm256_loadu_pd(e.add(8)));
                a3 = _mm256_add_pd(a3, _mm256_loadu_pd(e.add(12)));
            }
        }
        store(j * stride, [a0, a1, a2, a3]);
    }
    // Streaming stores are weakly ordered: fenced before the sums are read (by whichever
    // thread scores the repetition).
    std::arch::x86_64::_mm_sfence();
}

/// The `i`-th [`TILE`]-wide run of `v`.
#[inline(always)]
fn tile(v: &[f64], i: usize) -> &[f64; TILE] {
    v[i * TILE..(i + 1) * TILE]
        .try_into()
        .expect("a whole tile")
}

impl Batch<'_> {
    /// Score of repetition `j` from inner products of the half sums (cosine on trials already
    /// centred under correlation).
    fn score_by_gram(&self, j: usize, s: &mut Scratch) -> f64 {
        let (b, opts) = (self.b, self.opts);
        let (p, c, stride) = (b.p, b.sizes.len(), b.stride);
        // Repetition j's rows, `lda` apart.
        let (a, lda) = (&self.rows[j * stride..], self.batch * stride);
        gram_of_rows_into(a, c, p, lda, &mut s.ga);
        // ⟨T_k, A_d⟩ is column p + k of A_d's row.
        let t_dot_a = |d: usize, k: usize| a[d * lda + p + k];
        // 1 / |A_c| and 1 / |B_c| (∞ for a zero vector, whose distances are NaN).
        for ci in 0..c {
            let (ga, tt) = (s.ga[ci * c + ci], b.t_gram[ci * c + ci]);
            // |B_c|² = |T_c|² − 2⟨T_c, A_c⟩ + |A_c|², unless that cancels to a small fraction of
            // its terms; then from B_c = T_c − A_c itself, so a direction-less half is exact.
            let mut bb = tt - 2.0 * t_dot_a(ci, ci) + ga;
            if bb.is_nan() || bb <= 1e-6 * (tt + ga) {
                let a_c = &a[ci * lda..ci * lda + p];
                bb = diff_sq(&b.totals[ci * p..(ci + 1) * p], a_c);
            }
            s.norm_a[ci] = 1.0 / ga.sqrt();
            s.norm_b[ci] = 1.0 / bb.sqrt();
        }
        s.rdm_a.clear();
        s.rdm_b.clear();
        for i in 0..c {
            for k in i + 1..c {
                let g_a = s.ga[i * c + k];
                let g_b = b.t_gram[i * c + k] - t_dot_a(k, i) - t_dot_a(i, k) + g_a;
                s.rdm_a.push(cosine_distance(g_a, s.norm_a[i], s.norm_a[k]));
                s.rdm_b.push(cosine_distance(g_b, s.norm_b[i], s.norm_b[k]));
            }
        }
        guarded_spearman(&s.rdm_a, &s.rdm_b, opts.constant_std, &mut s.ranks).unwrap_or(f64::NAN)
    }

    /// Score of repetition `j` from the half means (Euclidean metrics).
    fn score_by_means(&self, j: usize, s: &mut Scratch) -> f64 {
        let (b, opts) = (self.b, self.opts);
        // Euclidean rows carry no extra columns (w = p).
        let (p, stride) = (b.p, b.stride);
        let (a, b_means) = (
            s.means_a
                .as_slice_mut()
                .expect("owned array is standard layout"),
            s.means_b
                .as_slice_mut()
                .expect("owned array is standard layout"),
        );
        for (ci, &n_c) in b.sizes.iter().enumerate() {
            let h = n_c / 2;
            let (inv_a, inv_b) = (1.0 / h as f64, 1.0 / (n_c - h) as f64);
            let row = &self.rows[(ci * self.batch + j) * stride..][..p];
            let range = ci * p..(ci + 1) * p;
            for (((av, bv), sv), tv) in a[range.clone()]
                .iter_mut()
                .zip(&mut b_means[range.clone()])
                .zip(row)
                .zip(&b.totals[range])
            {
                *av = sv * inv_a;
                *bv = (tv - sv) * inv_b;
            }
        }
        small_rdm_into(&mut s.means_a, opts.metric, &mut s.norm_a, &mut s.rdm_a);
        small_rdm_into(&mut s.means_b, opts.metric, &mut s.norm_b, &mut s.rdm_b);
        guarded_spearman(&s.rdm_a, &s.rdm_b, opts.constant_std, &mut s.ranks).unwrap_or(f64::NAN)
    }
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

/// `1 − clip(g / (|xᵢ| |xⱼ|), −1, 1)` from the inverse norms; NaN when either vector is zero
/// (an infinite inverse norm: scipy's 0/0).
fn cosine_distance(g: f64, inv_i: f64, inv_j: f64) -> f64 {
    if inv_i == f64::INFINITY || inv_j == f64::INFINITY {
        return f64::NAN;
    }
    1.0 - (g * inv_i * inv_j).clamp(-1.0, 1.0)
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
                    let h = trials.len() / 2;
                    rng::partial_shuffle(&mut o, h, &mut r);
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
        // Condition 6 has only three trials (one partial group of the subset-sum tables).
        let cond: Vec<usize> = (0..230)
            .map(|t| if t % 7 == 6 && t > 20 { t % 6 } else { t % 7 })
            .collect();
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
            // 41: an odd repetition left over after the pairs of the kernel.
            let got = random_split_scores(x.view(), &by, &keep, &opts, 41);
            let want = reference(&x, &by, &opts, 41);
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() < 1e-9, "{metric:?} split {k}: {g} vs {w}");
            }
            // A repetition's score does not depend on how many others are drawn with it.
            let more = random_split_scores(x.view(), &by, &keep, &opts, 2 * MAX_BATCH + 3);
            assert_eq!(got[..], more[..41], "{metric:?}");
        }
    }

    #[test]
    fn tile_sums_avx2_and_portable_give_the_same_bits() {
        // Both paths add the same table entries in the same order, so the sums are equal bit
        // for bit (issue 21). Trial counts around the groups of four (partial last groups),
        // odd and even numbers of repetitions (the AVX2 kernel takes them in pairs).
        let mut r = rng::stream(21, 0);
        for n_c in [1usize, 2, 3, 4, 5, 7, 8, 9, 13, 50] {
            let n_groups = n_c.div_ceil(GROUP);
            let rows: Vec<f64> = (0..n_c * TILE)
                .map(|_| r.random::<f64>() * 30.0 - 3.0)
                .collect();
            for n_reps in [1usize, 2, 5, 16] {
                let masks: Vec<u8> = (0..n_reps * n_groups)
                    .map(|k| {
                        let members = GROUP.min(n_c - (k % n_groups) * GROUP);
                        r.random_range(0..1u8 << members)
                    })
                    .collect();
                let stride = 3 * TILE;
                let sums = |avx2: bool| {
                    let mut tables = CacheAligned::zeroed(n_groups * SUBSETS * TILE);
                    let mut out = CacheAligned::zeroed(n_reps * stride);
                    out.slice_mut().fill(f64::NAN);
                    tile_sums(
                        &rows,
                        &masks,
                        (n_groups, stride),
                        tables.slice_mut(),
                        out.slice_mut(),
                        avx2,
                    );
                    out.slice().to_vec()
                };
                let (portable, avx2) = (sums(false), sums(true));
                for j in 0..n_reps {
                    for k in 0..TILE {
                        let (a, b) = (portable[j * stride + k], avx2[j * stride + k]);
                        assert_eq!(a.to_bits(), b.to_bits(), "n_c {n_c} rep {j} feature {k}");
                        // And the sum is the one the masks ask for, up to rounding.
                        let want: f64 = (0..n_c)
                            .filter(|&t| masks[j * n_groups + t / GROUP] >> (t % GROUP) & 1 == 1)
                            .map(|t| rows[t * TILE + k])
                            .sum();
                        assert!((a - want).abs() <= 1e-12 * want.abs().max(1.0));
                    }
                    // Nothing written beyond the tile.
                    assert!(
                        portable[j * stride + TILE..(j + 1) * stride]
                            .iter()
                            .all(|v| v.is_nan())
                    );
                    assert!(
                        avx2[j * stride + TILE..(j + 1) * stride]
                            .iter()
                            .all(|v| v.is_nan())
                    );
                }
            }
        }
    }

    #[test]
    fn batches_are_as_long_as_allowed_and_even() {
        assert_eq!(batch_len(1000), 125);
        assert_eq!(batch_len(41), 41);
        assert_eq!(batch_len(129), 65);
        assert_eq!(batch_len(1), 1);
        assert_eq!(batch_len(0), 1);
        // As few batches as MAX_BATCH allows, and no batch more than one longer than another.
        for n in [1000, 1001, 5000, 9, 30, 128, 257] {
            let b = batch_len(n);
            assert!(b <= MAX_BATCH);
            assert_eq!(n.div_ceil(b), n.div_ceil(MAX_BATCH), "{n}");
            assert!(b * n.div_ceil(b) - n < n.div_ceil(b), "{n}");
        }
    }

    #[test]
    fn a_zero_half_gives_nan_as_scipy() {
        // Condition 0 has trials x, y and −y: whenever x is drawn as the first half, the
        // second half's mean is zero and every cosine distance to it is 0/0 (NaN), however
        // |T|² − 2⟨T, A⟩ + |A|² rounds. Values are multiples of 1/8, so every sum is exact.
        let mut r = rng::stream(9, 0);
        let p = 33;
        let cond: Vec<usize> = (0..27).map(|t| if t < 3 { 0 } else { 1 + t % 4 }).collect();
        let mut x = Array2::from_shape_fn((cond.len(), p), |_| {
            f64::from(r.random_range(1..40u8)) / 8.0
        });
        let y = x.row(1).to_owned();
        x.row_mut(2).assign(&-&y);
        let by: Vec<Vec<usize>> = (0..5)
            .map(|c| (0..cond.len()).filter(|&t| cond[t] == c).collect())
            .collect();
        let keep: Vec<usize> = (0..5).collect();
        let opts = SplitHalfOptions::default();
        let got = random_split_scores(x.view(), &by, &keep, &opts, 20);
        let want = reference(&x, &by, &opts, 20);
        assert!(want.iter().any(|v| v.is_nan()) && want.iter().any(|v| v.is_finite()));
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g.is_nan() && w.is_nan()) || (g - w).abs() < 1e-9,
                "split {k}: {g} vs {w}"
            );
        }
    }
}
