//! Shared machinery of the trial-based (Steinmetz) estimators: trials grouped by condition,
//! condition means over a subset of trials, small condensed RDMs, and the script's guarded
//! Spearman of two RDMs.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::rsa::rdm::{Metric, centre_rows, check_finite};
use crate::stats::rank::{SpearmanScratch, spearman_rho};
use crate::stats::{simd, sqdiff};

/// Validates a trials × features matrix and its per-trial condition codes, and returns, for
/// every code `0..=max`, its trials in ascending (session) order.
pub(crate) fn trials_by_condition(
    x: ArrayView2<f64>,
    conditions: &[usize],
    context: &str,
) -> Result<Vec<Vec<usize>>> {
    if conditions.len() != x.nrows() {
        return Err(Error::invalid(
            format!("{context}: conditions"),
            format!("one code per trial ({})", x.nrows()),
            format!("{} codes", conditions.len()),
        ));
    }
    check_finite(x, &format!("{context}: x"))?;
    let n_codes = conditions.iter().copied().max().map_or(0, |m| m + 1);
    let mut by = vec![Vec::new(); n_codes];
    for (t, &c) in conditions.iter().enumerate() {
        by[c].push(t);
    }
    Ok(by)
}

/// Means of `x` over each row set (one output row per set, summed in the given order).
pub(crate) fn group_means(x: ArrayView2<f64>, sets: &[Vec<usize>]) -> Array2<f64> {
    let mut out = Array2::zeros((sets.len(), x.ncols()));
    for (mut row, set) in out.rows_mut().into_iter().zip(sets) {
        for &t in set {
            row += &x.row(t);
        }
        row /= set.len() as f64;
    }
    out
}

/// Condensed RDM of the rows of a small matrix (conditions × features), written into `out`.
///
/// Cosine: 1 − clip(⟨mᵢ, mⱼ⟩ / (‖mᵢ‖‖mⱼ‖), −1, 1), NaN for a zero row (0/0), as the
/// published script and scipy. Correlation: the same on row-centred rows (centres `m` in
/// place). Euclidean and squared Euclidean: squared differences added in pdist's order
/// (`stats::sqdiff`), so the same bits as `pdist` and as [`crate::rsa::rdm()`] (exact on
/// counts). Allocation-free once `work` (row norms, or the packed rows) and `out` have grown,
/// for the split loops.
pub(crate) fn small_rdm_into(
    m: &mut Array2<f64>,
    metric: Metric,
    work: &mut Vec<f64>,
    out: &mut Vec<f64>,
) {
    let c = m.nrows();
    out.clear();
    let p = m.ncols();
    match metric {
        Metric::Cosine | Metric::Correlation => {
            if metric == Metric::Correlation {
                centre_rows(m);
            }
            let ms = m
                .as_slice()
                .expect("condition means are an owned standard-layout array");
            let row = |i: usize| &ms[i * p..(i + 1) * p];
            let norms = work;
            norms.clear();
            norms.extend((0..c).map(|i| dot(row(i), row(i)).sqrt()));
            for i in 0..c {
                for j in i + 1..c {
                    let s = dot(row(i), row(j)) / (norms[i] * norms[j]);
                    out.push(1.0 - s.clamp(-1.0, 1.0)); // NaN stays NaN through clamp
                }
            }
        }
        Metric::Euclidean | Metric::SqEuclidean => {
            let ms = m
                .as_slice()
                .expect("condition means are an owned standard-layout array");
            sqdiff::condensed_small_into(ms, (c, p), work, out, simd::vector_level());
            if metric == Metric::Euclidean {
                out.iter_mut().for_each(|v| *v = v.sqrt());
            }
        }
    }
}

/// Dot product with four accumulators (lets the compiler vectorise the loop).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// [`small_rdm_into`] returning a new vector.
pub(crate) fn small_rdm(mut m: Array2<f64>, metric: Metric) -> Vec<f64> {
    let mut out = Vec::new();
    small_rdm_into(&mut m, metric, &mut Vec::new(), &mut out);
    out
}

/// Why a guarded Spearman is undefined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Undefined {
    /// An RDM's population std is below the tolerance.
    ConstantRdm,
    /// An RDM has NaN entries (a zero-norm condition mean) or the correlation is not finite.
    NanDistance,
}

impl Undefined {
    pub(crate) fn reason(self, tol: f64) -> String {
        match self {
            Undefined::ConstantRdm => format!("an RDM is constant (std < {tol:e}): Spearman undefined"),
            Undefined::NanDistance => "an RDM has undefined distances (a condition mean with no direction): Spearman undefined".to_string(),
        }
    }
}

/// The published script's RDM comparison: NaN if either RDM's population std is below `tol`
/// (a NaN std passes that guard, then NaN propagates through the Spearman), else Spearman
/// with average ranks.
pub(crate) fn guarded_spearman(
    a: &[f64],
    b: &[f64],
    tol: f64,
    scratch: &mut SpearmanScratch,
) -> std::result::Result<f64, Undefined> {
    let std = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
    };
    if std(a) < tol || std(b) < tol {
        return Err(Undefined::ConstantRdm);
    }
    // A NaN distance, or fewer than two, makes the Spearman NaN (no separate pass for them).
    let r = spearman_rho(a, b, scratch);
    if r.is_finite() {
        Ok(r)
    } else {
        Err(Undefined::NanDistance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_euclidean_path_gives_the_same_bits() {
        // The split loops' small RDMs, rdm() and cdist() all add squared differences in
        // pdist's order: the same bits for the same rows, on counts and on other values.
        use rand::Rng as _;
        let mut r = crate::stats::rng::stream(22, 0);
        for counts in [true, false] {
            let m = Array2::from_shape_fn((23, 17), |_| {
                if counts {
                    f64::from(r.random_range(0..4u8))
                } else {
                    r.random::<f64>() * 9.0 + 100.0
                }
            });
            for metric in [Metric::Euclidean, Metric::SqEuclidean] {
                let small = small_rdm(m.clone(), metric);
                let full = crate::rsa::rdm(m.view(), metric).unwrap().into_condensed();
                let cross = crate::rsa::cdist(m.view(), m.view(), metric).unwrap();
                let mut k = 0;
                for i in 0..23 {
                    for j in i + 1..23 {
                        assert_eq!(small[k].to_bits(), full[k].to_bits(), "{metric} ({i}, {j})");
                        assert_eq!(
                            small[k].to_bits(),
                            cross[[i, j]].to_bits(),
                            "{metric} ({i}, {j})"
                        );
                        k += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn guarded_spearman_names_why_it_is_undefined() {
        let mut s = SpearmanScratch::default();
        let (a, b) = ([0.1, 0.5, 0.3, 0.9], [0.2, 0.4, 0.6, 0.8]);
        // scipy.stats.spearmanr([.1, .5, .3, .9], [.2, .4, .6, .8]) = 0.8
        assert!((guarded_spearman(&a, &b, 1e-10, &mut s).unwrap() - 0.8).abs() < 1e-15);
        let constant = [0.5; 4];
        assert_eq!(
            guarded_spearman(&a, &constant, 1e-10, &mut s),
            Err(Undefined::ConstantRdm)
        );
        let with_nan = [0.1, f64::NAN, 0.3, 0.9];
        assert_eq!(
            guarded_spearman(&with_nan, &b, 1e-10, &mut s),
            Err(Undefined::NanDistance)
        );
        // The constant check comes first, as in the published script.
        assert_eq!(
            guarded_spearman(&with_nan, &constant, 1e-10, &mut s),
            Err(Undefined::ConstantRdm)
        );
        assert_eq!(
            guarded_spearman(&[], &[], 1e-10, &mut s),
            Err(Undefined::NanDistance)
        );
    }
}
