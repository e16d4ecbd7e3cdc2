//! A generic permutation test: seeded, parallel, with the null distribution kept.
//!
//! Permutation `i` is a Fisher–Yates shuffle of `0..n` drawn from [`rng::stream`]`(seed, i)`;
//! the statistic receives it and decides what is permuted (labels, half membership, ...). The
//! observed statistic is the statistic of the identity permutation.
//!
//! # p-value
//! With `k` null values at least as extreme as the observed one among `m` finite null values,
//! p = (k + 1) / (m + 1) (Phipson & Smyth 2010): the observed arrangement is itself one of the
//! equally likely arrangements under H0, so the p-value is never 0 and the test is exact at
//! level α for any m. Two-sided p = min(1, 2 min(p_greater, p_less)), which needs no
//! assumption about the centre of the null.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::result::Meta;
use crate::stats::rng;

/// Which tail counts as extreme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    /// Both tails (doubled smaller one-sided p-value).
    #[default]
    TwoSided,
    /// Observed larger than the null.
    Greater,
    /// Observed smaller than the null.
    Less,
}

/// Options of [`permutation_test`]. Defaults: 1000 permutations, seed 0, two-sided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PermutationOptions {
    /// Number of permutations.
    pub n_permutations: usize,
    /// Seed; permutation `i` uses `rng::stream(seed, i)`.
    pub seed: u64,
    /// Tail of the test.
    pub alternative: Alternative,
}

impl Default for PermutationOptions {
    fn default() -> Self {
        PermutationOptions {
            n_permutations: 1000,
            seed: 0,
            alternative: Alternative::TwoSided,
        }
    }
}

/// Observed statistic, the whole null distribution and its summaries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PermutationResult {
    /// Statistic of the unpermuted data.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub observed: f64,
    /// Null values in permutation order (NaN where the statistic was not finite).
    #[serde(serialize_with = "crate::result::nan_as_null_vec")]
    pub null: Vec<f64>,
    /// Number of finite null values.
    pub n_valid: usize,
    /// Mean of the finite null values.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub null_mean: f64,
    /// Standard deviation of the finite null values (population form, n denominator, as `np.std`).
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub null_std: f64,
    /// (observed − null_mean) / null_std; NaN when null_std is 0 or undefined.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub z_score: f64,
    /// (k + 1)/(m + 1) p-value, see the module docs.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub p_value: f64,
    /// Permutations requested/used, non-finite ones dropped, warnings.
    pub meta: Meta,
}

/// Writes permutation `index` of `0..n` (stream `(seed, index)`) into `out`.
///
/// # Example
/// ```
/// let mut p = Vec::new();
/// neuropop::stats::permutation::permutation_indices(1, 0, 5, &mut p);
/// let mut s = p.clone();
/// s.sort();
/// assert_eq!(s, vec![0, 1, 2, 3, 4]);
/// ```
pub fn permutation_indices(seed: u64, index: u64, n: usize, out: &mut Vec<usize>) {
    out.clear();
    out.extend(0..n);
    let mut r = rng::stream(seed, index);
    rng::shuffle(out, &mut r);
}

/// Permutation test of `statistic` over arrangements of `n` items.
///
/// # Errors
/// [`Error::Invalid`] when `n_permutations` is 0.
///
/// # Example
/// ```
/// use neuropop::stats::permutation::{permutation_test, PermutationOptions, Alternative};
/// // Is the first half of x larger than the second? Permute which items form the first half.
/// let x = [5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0];
/// let stat = |p: &[usize]| p[..4].iter().map(|&i| x[i]).sum::<f64>() - p[4..].iter().map(|&i| x[i]).sum::<f64>();
/// let opts = PermutationOptions { n_permutations: 999, seed: 1, alternative: Alternative::Greater };
/// let r = permutation_test(8, &opts, stat).unwrap();
/// assert_eq!(r.observed, 16.0);
/// assert!(r.p_value < 0.05);
/// assert_eq!(r.null.len(), 999);
/// ```
pub fn permutation_test<F>(
    n: usize,
    opts: &PermutationOptions,
    statistic: F,
) -> Result<PermutationResult>
where
    F: Fn(&[usize]) -> f64 + Sync,
{
    if opts.n_permutations == 0 {
        return Err(Error::invalid(
            "permutation options: n_permutations",
            ">= 1",
            "0",
        ));
    }
    let identity: Vec<usize> = (0..n).collect();
    let observed = statistic(&identity);
    let null: Vec<f64> = (0..opts.n_permutations as u64)
        .into_par_iter()
        .map_init(
            || Vec::with_capacity(n),
            |buf, i| {
                permutation_indices(opts.seed, i, n, buf);
                let s = statistic(buf);
                if s.is_finite() { s } else { f64::NAN }
            },
        )
        .collect();
    Ok(summarise_null(observed, null, opts.alternative))
}

/// Summaries and p-value of an observed statistic against a computed null (NaN = unestimable).
pub(crate) fn summarise_null(
    observed: f64,
    null: Vec<f64>,
    alternative: Alternative,
) -> PermutationResult {
    let finite: Vec<f64> = null.iter().copied().filter(|v| v.is_finite()).collect();
    let m = finite.len();
    let mut meta = Meta {
        n_requested: null.len(),
        n_used: m,
        ..Meta::default()
    };
    if m < null.len() {
        meta.drop_item(
            format!("{} permutations", null.len() - m),
            "statistic not finite on the permuted data",
        );
    }
    let (null_mean, null_std) = if m == 0 {
        (f64::NAN, f64::NAN)
    } else {
        let mean = finite.iter().sum::<f64>() / m as f64;
        let var = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / m as f64;
        (mean, var.sqrt())
    };
    let z_score = if null_std > 0.0 {
        (observed - null_mean) / null_std
    } else {
        f64::NAN
    };
    let p_value = if m == 0 || !observed.is_finite() {
        meta.warn("p-value undefined: observed statistic or every null value is not finite");
        f64::NAN
    } else {
        let ge = finite.iter().filter(|&&v| v >= observed).count();
        let le = finite.iter().filter(|&&v| v <= observed).count();
        let p = |k: usize| (k + 1) as f64 / (m + 1) as f64;
        match alternative {
            Alternative::Greater => p(ge),
            Alternative::Less => p(le),
            Alternative::TwoSided => (2.0 * p(ge).min(p(le))).min(1.0),
        }
    };
    if null_std.is_finite() && null_std == 0.0 {
        meta.warn("null distribution has zero spread: z-score undefined");
    }
    PermutationResult {
        observed,
        null,
        n_valid: m,
        null_mean,
        null_std,
        z_score,
        p_value,
        meta,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_value_plus_one_rule() {
        let r = summarise_null(10.0, vec![1.0, 2.0, 3.0], Alternative::Greater);
        assert_eq!(r.p_value, 0.25);
        let r = summarise_null(2.0, vec![1.0, 2.0, 3.0], Alternative::TwoSided);
        assert_eq!(r.p_value, 1.0);
        assert!((r.null_std - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
    }
}
