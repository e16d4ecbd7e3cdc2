//! Percentile bootstrap over resampled indices: seeded, parallel, every draw kept.
//!
//! Draw `i` resamples `n` indices uniformly with replacement from `0..n` using the random
//! stream [`rng::stream`]`(seed, i)`, so the draws are the same bits on any number of threads.
//! The statistic sees only the index vector; resampling *within* a design unit (condition,
//! session) is the statistic's job: map the resampled positions onto the units it resamples.
//!
//! Draws whose statistic is not finite are kept in [`BootstrapResult::draws`] (as NaN → `null`
//! in JSON) but dropped from the interval and counted in `meta.dropped`; with fewer than
//! [`BootstrapOptions::min_finite`] finite draws the interval is undefined (NaN) with a warning.

use rand::Rng as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::result::Meta;
use crate::stats::percentile::percentile_sorted;
use crate::stats::rng;

/// Options of [`bootstrap`]. Defaults: 10,000 resamples, 95 % interval, seed 0, at least 100
/// finite draws for an interval (neuropop's shared definitions for the Steinmetz tables).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BootstrapOptions {
    /// Number of bootstrap resamples.
    pub n_resamples: usize,
    /// Confidence level of the percentile interval, in (0, 1).
    pub ci_level: f64,
    /// Seed; draw `i` uses `rng::stream(seed, i)`.
    pub seed: u64,
    /// Fewer finite draws than this leave the interval undefined (NaN).
    pub min_finite: usize,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            n_resamples: 10_000,
            ci_level: 0.95,
            seed: 0,
            min_finite: 100,
        }
    }
}

impl BootstrapOptions {
    /// Sets the number of resamples.
    ///
    /// ```
    /// let o = neuropop::stats::bootstrap::BootstrapOptions::default().with_n_resamples(500).with_seed(3);
    /// assert_eq!((o.n_resamples, o.seed), (500, 3));
    /// ```
    pub fn with_n_resamples(mut self, n: usize) -> Self {
        self.n_resamples = n;
        self
    }
    /// Sets the seed.
    ///
    /// ```
    /// let o = neuropop::stats::bootstrap::BootstrapOptions::default().with_seed(7);
    /// assert_eq!(o.seed, 7);
    /// ```
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the confidence level.
    ///
    /// ```
    /// let o = neuropop::stats::bootstrap::BootstrapOptions::default().with_ci_level(0.9);
    /// assert_eq!(o.ci_level, 0.9);
    /// ```
    pub fn with_ci_level(mut self, level: f64) -> Self {
        self.ci_level = level;
        self
    }
    /// Sets the minimum number of finite draws for an interval.
    ///
    /// ```
    /// let o = neuropop::stats::bootstrap::BootstrapOptions::default().with_min_finite(10);
    /// assert_eq!(o.min_finite, 10);
    /// ```
    pub fn with_min_finite(mut self, min_finite: usize) -> Self {
        self.min_finite = min_finite;
        self
    }

    /// Checks the options once, naming the bad field.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `n_resamples` is 0 or `ci_level` is not in (0, 1).
    ///
    /// ```
    /// use neuropop::stats::bootstrap::BootstrapOptions;
    /// assert!(BootstrapOptions::default().check().is_ok());
    /// assert!(BootstrapOptions::default().with_ci_level(1.5).check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        if self.n_resamples == 0 {
            return Err(Error::invalid(
                "bootstrap options: n_resamples",
                ">= 1",
                "0",
            ));
        }
        check_ci_level("bootstrap options: ci_level", self.ci_level)
    }
}

pub(crate) fn check_ci_level(context: &str, level: f64) -> Result<()> {
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::invalid(
            context,
            "a level in (0, 1)",
            level.to_string(),
        ));
    }
    Ok(())
}

/// A percentile bootstrap: full-data estimate, every draw, the interval and its bookkeeping.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BootstrapResult {
    /// The statistic on the original sample (indices `0..n`).
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub estimate: f64,
    /// Every draw in draw order, NaN where the statistic was not finite.
    #[serde(serialize_with = "crate::result::nan_as_null_vec")]
    pub draws: Vec<f64>,
    /// Number of finite draws.
    pub n_finite: usize,
    /// Lower percentile bound (`100 (1 − level)/2`-th percentile of the finite draws).
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub ci_low: f64,
    /// Upper percentile bound.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub ci_high: f64,
    /// Confidence level.
    pub ci_level: f64,
    /// Standard deviation (n − 1) of the finite draws: the bootstrap standard error.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub std_error: f64,
    /// Draws requested/used, non-finite draws dropped, warnings.
    pub meta: Meta,
}

/// Fills `out` with `n` indices drawn uniformly with replacement from `0..n`, from stream
/// `(seed, draw)`. The resample that [`bootstrap`] gives draw `draw`.
///
/// # Example
/// ```
/// let mut a = Vec::new();
/// neuropop::stats::bootstrap::resample_indices(5, 0, 4, &mut a);
/// assert_eq!(a.len(), 4);
/// assert!(a.iter().all(|&i| i < 4));
/// ```
pub fn resample_indices(seed: u64, draw: u64, n: usize, out: &mut Vec<usize>) {
    let mut r = rng::stream(seed, draw);
    out.clear();
    out.extend((0..n).map(|_| r.random_range(0..n)));
}

/// The `(lower, upper)` percentile interval at `level` of `finite` values (numpy's linear
/// percentile at `100 (1 − level)/2` and `100 (1 + level)/2`); NaN for an empty slice.
///
/// # Example
/// ```
/// let (lo, hi) = neuropop::stats::bootstrap::percentile_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5);
/// assert_eq!((lo, hi), (2.0, 4.0));
/// ```
pub fn percentile_interval(finite: &[f64], level: f64) -> (f64, f64) {
    let mut sorted = finite.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let alpha = 1.0 - level;
    (
        percentile_sorted(&sorted, 100.0 * alpha / 2.0),
        percentile_sorted(&sorted, 100.0 * (1.0 - alpha / 2.0)),
    )
}

/// Sample standard deviation (n − 1 denominator); NaN with fewer than two values.
pub(crate) fn sample_std(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Percentile bootstrap of `statistic` over `n` units.
///
/// `statistic(indices)` receives the resampled unit indices (length `n`, with repetitions) and
/// returns the statistic of that resample. It runs in parallel (rayon) and must be `Sync`.
///
/// # Errors
/// [`Error::Invalid`] from [`BootstrapOptions::check`].
///
/// # Example
/// ```
/// use neuropop::stats::bootstrap::{bootstrap, BootstrapOptions};
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
/// let mean = |idx: &[usize]| idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64;
/// let r = bootstrap(x.len(), &BootstrapOptions::default().with_n_resamples(2000).with_seed(1), mean).unwrap();
/// assert_eq!(r.estimate, 4.5);
/// assert_eq!(r.draws.len(), 2000);
/// assert!(r.ci_low < 4.5 && 4.5 < r.ci_high);
/// ```
pub fn bootstrap<F>(n: usize, opts: &BootstrapOptions, statistic: F) -> Result<BootstrapResult>
where
    F: Fn(&[usize]) -> f64 + Sync,
{
    opts.check()?;
    let identity: Vec<usize> = (0..n).collect();
    let estimate = statistic(&identity);
    let draws: Vec<f64> = (0..opts.n_resamples as u64)
        .into_par_iter()
        .map_init(
            || Vec::with_capacity(n),
            |buf, i| {
                resample_indices(opts.seed, i, n, buf);
                let s = statistic(buf);
                if s.is_finite() { s } else { f64::NAN }
            },
        )
        .collect();
    Ok(summarise(estimate, draws, opts.ci_level, opts.min_finite))
}

/// The ties structure of one variable: its positions sorted by value, cut into runs of equal
/// values (−0.0 and +0.0 tie, as in [`rankdata`](crate::stats::rank::rankdata)).
struct TieGroups {
    order: Vec<u32>,
    /// Start of each run in `order`, then `order.len()`.
    bounds: Vec<usize>,
}

impl TieGroups {
    fn new(v: &[f64]) -> TieGroups {
        let key = crate::stats::rank::order_key;
        let mut order: Vec<u32> = (0..v.len() as u32).collect();
        order.sort_unstable_by_key(|&i| key(v[i as usize]));
        let mut bounds = vec![0];
        for k in 1..order.len() {
            if key(v[order[k] as usize]) != key(v[order[k - 1] as usize]) {
                bounds.push(k);
            }
        }
        bounds.push(order.len());
        TieGroups { order, bounds }
    }

    /// Twice the average rank every original position would get in a resample that holds position
    /// `i` `counts[i]` times (only positions drawn at least once get a meaningful rank), and
    /// the number of distinct values drawn.
    fn resample_ranks(&self, counts: &[u32], ranks: &mut [u64]) -> usize {
        let mut pos = 0usize;
        let mut distinct = 0;
        for g in self.bounds.windows(2) {
            let members = &self.order[g[0]..g[1]];
            let c: usize = members.iter().map(|&i| counts[i as usize] as usize).sum();
            if c == 0 {
                continue;
            }
            distinct += 1;
            // Twice rankdata's (start + end + 1) / 2 for the run start..end of this value.
            let rank = (pos + pos + c + 1) as u64;
            for &i in members {
                ranks[i as usize] = rank;
            }
            pos += c;
        }
        distinct
    }
}

/// Percentile bootstrap of Spearman's ρ over resampled `(x, y)` pairs: the same draws, bit for
/// bit, as [`bootstrap`]`(n, opts, |idx| spearman(x[idx], y[idx]))`, but each draw's ranks
/// come from the counts of the resampled positions walked in the presorted order (O(n) per
/// draw) instead of two sorts. Draws with a constant resampled variable are NaN, as
/// `spearman` is undefined there; NaN in `x` or `y` makes every draw NaN.
///
/// # Errors
/// `x` and `y` of different lengths, or invalid options.
///
/// # Example
/// ```
/// use neuropop::stats::bootstrap::{BootstrapOptions, spearman_bootstrap};
/// let x: Vec<f64> = (0..40).map(|i| i as f64).collect();
/// let y: Vec<f64> = x.iter().map(|v| v * v).collect();
/// let b = spearman_bootstrap(&x, &y, &BootstrapOptions::default().with_n_resamples(200))?;
/// assert_eq!(b.estimate, 1.0);
/// assert_eq!((b.ci_low, b.ci_high), (1.0, 1.0));
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn spearman_bootstrap(
    x: &[f64],
    y: &[f64],
    opts: &BootstrapOptions,
) -> Result<BootstrapResult> {
    if x.len() != y.len() {
        return Err(Error::invalid(
            "spearman_bootstrap: y",
            format!("length {} (as x)", x.len()),
            format!("length {}", y.len()),
        ));
    }
    let n = x.len();
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return bootstrap(n, opts, |_| f64::NAN);
    }
    if n >= 1 << 30 {
        // Beyond the exact integer sums: resample and rank every draw.
        return bootstrap(n, opts, |idx| {
            let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
            let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
            crate::stats::correlation::spearman(&xs, &ys).map_or(f64::NAN, |c| c.value)
        });
    }
    let (gx, gy) = (TieGroups::new(x), TieGroups::new(y));
    bootstrap(n, opts, |idx| {
        let mut counts = vec![0u32; n];
        for &i in idx {
            counts[i] += 1;
        }
        let (mut rx, mut ry) = (vec![0u64; n], vec![0u64; n]);
        if gx.resample_ranks(&counts, &mut rx) < 2 || gy.resample_ranks(&counts, &mut ry) < 2 {
            return f64::NAN;
        }
        let (mut sxx, mut syy, mut sxy) = (0u128, 0u128, 0u128);
        for &i in idx {
            let (a, b) = (u128::from(rx[i]), u128::from(ry[i]));
            sxx += a * a;
            syy += b * b;
            sxy += a * b;
        }
        crate::stats::rank::rho_from_twice_ranks(n, sxx, syy, sxy)
    })
}

/// Builds a [`BootstrapResult`] from already computed draws (NaN = unestimable).
pub(crate) fn summarise(
    estimate: f64,
    draws: Vec<f64>,
    ci_level: f64,
    min_finite: usize,
) -> BootstrapResult {
    let finite: Vec<f64> = draws.iter().copied().filter(|v| v.is_finite()).collect();
    let mut meta = Meta {
        n_requested: draws.len(),
        n_used: finite.len(),
        ..Meta::default()
    };
    let n_bad = draws.len() - finite.len();
    if n_bad > 0 {
        meta.drop_item(
            format!("{n_bad} bootstrap draws"),
            "statistic not finite on the resample",
        );
    }
    let (ci_low, ci_high) = if finite.len() >= min_finite.max(1) {
        percentile_interval(&finite, ci_level)
    } else {
        meta.warn(format!(
            "only {} finite bootstrap draws (< {}): interval undefined",
            finite.len(),
            min_finite.max(1)
        ));
        (f64::NAN, f64::NAN)
    };
    BootstrapResult {
        estimate,
        std_error: sample_std(&finite),
        n_finite: finite.len(),
        draws,
        ci_low,
        ci_high,
        ci_level,
        meta,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_non_finite_and_counts() {
        let opts = BootstrapOptions::default()
            .with_n_resamples(300)
            .with_min_finite(1000);
        // The statistic is undefined whenever index 0 is drawn first.
        let r = bootstrap(5, &opts, |idx| if idx[0] == 0 { f64::NAN } else { 1.0 }).unwrap();
        assert_eq!(r.draws.len(), 300);
        assert!(r.n_finite < 300 && r.n_finite > 0);
        assert_eq!(r.meta.dropped.len(), 1);
        assert!(
            r.ci_low.is_nan(),
            "fewer than min_finite finite draws leaves the CI undefined"
        );
    }

    #[test]
    fn thread_count_does_not_change_bits() {
        let x: Vec<f64> = (0..50).map(|i| (i as f64).sin()).collect();
        let stat = |idx: &[usize]| idx.iter().map(|&i| x[i]).sum::<f64>();
        let opts = BootstrapOptions::default()
            .with_n_resamples(500)
            .with_seed(9);
        let run = |t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| bootstrap(50, &opts, stat).unwrap())
        };
        let (a, b) = (run(1), run(3));
        assert!(
            a.draws
                .iter()
                .zip(&b.draws)
                .all(|(p, q)| p.to_bits() == q.to_bits())
        );
    }

    proptest::proptest! {
        #[test]
        fn spearman_bootstrap_equals_resorting_every_draw(
            pairs in proptest::collection::vec((0i32..6, -3i32..4), 2..40),
            seed in 0u64..1000,
        ) {
            // Small integer ranges: many ties, constant resamples and −0.0/+0.0 included.
            let x: Vec<f64> = pairs.iter().map(|p| if p.0 == 0 { -0.0 } else { p.0 as f64 }).collect();
            let y: Vec<f64> = pairs.iter().map(|p| p.1 as f64 * 0.5).collect();
            let opts = BootstrapOptions::default().with_n_resamples(64).with_seed(seed);
            let fast = spearman_bootstrap(&x, &y, &opts).unwrap();
            let slow = bootstrap(x.len(), &opts, |idx| {
                let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
                let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
                crate::stats::correlation::spearman(&xs, &ys).map_or(f64::NAN, |c| c.value)
            })
            .unwrap();
            let bits = |v: &[f64]| v.iter().map(|d| d.to_bits()).collect::<Vec<_>>();
            proptest::prop_assert_eq!(bits(&fast.draws), bits(&slow.draws));
        }
    }

    #[test]
    fn bad_options() {
        assert!(bootstrap(3, &BootstrapOptions::default().with_ci_level(1.0), |_| 0.0).is_err());
        assert!(bootstrap(3, &BootstrapOptions::default().with_n_resamples(0), |_| 0.0).is_err());
    }
}
