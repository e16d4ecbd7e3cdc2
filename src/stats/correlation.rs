//! Correlation coefficients with the p-values scipy reports.
//!
//! | function | coefficient | two-sided p-value (as scipy 1.17) |
//! |---|---|---|
//! | [`pearson`] | Pearson r | exact: under H0, (r + 1)/2 ~ Beta(n/2 − 1, n/2 − 1) (`pearsonr`), i.e. Student t with n − 2 df |
//! | [`spearman`] | Pearson r of average ranks | t = r √((n − 2)/((1 + r)(1 − r))), Student t with n − 2 df (`spearmanr`) |
//! | [`kendall_tau_b`] | Kendall τ-b (tie-corrected) | `kendalltau(method='auto')`: exact null distribution when there are no ties and n ≤ 33 (or at most one discordant/concordant pair), else the normal approximation with the tie-corrected variance |
//! | [`kendall_tau_a`] | Kendall τ-a, (C − D)/(n(n − 1)/2) | the same test of S = C − D as τ-b |
//!
//! Undefined coefficients (fewer than 2 pairs, a constant input, any NaN) are NaN with a NaN
//! p-value, never a panic. Kendall's coefficients use Knight's O(n log n) algorithm (sort, then
//! count discordant pairs with a Fenwick tree), so 2 million pairs (a condensed 2000-condition
//! RDM) take well under a second.

use serde::{Deserialize, Serialize};
use statrs::function::beta::beta_reg;
use statrs::function::erf::erfc;

use crate::error::{Error, Result};
use crate::stats::pearson::is_constant;
pub(crate) use crate::stats::pearson::pearson_r;
use crate::stats::rank::{SpearmanScratch, spearman_rho};

/// A correlation coefficient, its two-sided p-value and the number of pairs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// The coefficient in [−1, 1]; NaN when undefined (constant input, n < 2, NaN input).
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub value: f64,
    /// Two-sided p-value under independence; NaN when undefined.
    #[serde(serialize_with = "crate::result::nan_as_null")]
    pub p_value: f64,
    /// Number of (x, y) pairs.
    pub n: usize,
}

impl Correlation {
    fn undefined(n: usize) -> Self {
        Correlation {
            value: f64::NAN,
            p_value: f64::NAN,
            n,
        }
    }
}

fn check_lengths(x: &[f64], y: &[f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(Error::invalid(
            "correlation: y",
            format!("length {} (as x)", x.len()),
            format!("length {}", y.len()),
        ));
    }
    Ok(())
}

/// Two-sided p-value of a Pearson r from n pairs, scipy's exact Beta form.
fn pearson_p(r: f64, n: usize) -> f64 {
    if !r.is_finite() || n < 2 {
        return f64::NAN;
    }
    if n == 2 {
        return 1.0; // scipy: with two points r = ±1 always, p = 1.
    }
    let a = n as f64 / 2.0 - 1.0;
    // 2 * P(B <= (1 - |r|)/2) for B ~ Beta(a, a): the lower tail of the symmetric Beta.
    (2.0 * beta_reg(a, a, ((1.0 - r.abs()) / 2.0).clamp(0.0, 0.5))).min(1.0)
}

/// Two-sided p-value of Student t with `df` degrees of freedom.
fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2).
    beta_reg(df / 2.0, 0.5, df / (df + t * t)).min(1.0)
}

/// Pearson correlation with scipy's two-sided p-value (`scipy.stats.pearsonr`).
///
/// # Errors
/// [`Error::Invalid`] when `x` and `y` differ in length.
///
/// # Example
/// ```
/// use neuropop::stats::correlation::pearson;
/// let c = pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
/// assert!((c.value - 0.8).abs() < 1e-12);
/// assert!((c.p_value - 0.2).abs() < 1e-12); // scipy: pvalue=0.2
/// ```
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Correlation> {
    check_lengths(x, y)?;
    let n = x.len();
    let r = pearson_r(x, y);
    if r.is_nan() {
        return Ok(Correlation::undefined(n));
    }
    Ok(Correlation {
        value: r,
        p_value: pearson_p(r, n),
        n,
    })
}

/// Spearman rank correlation (average ranks for ties) with scipy's t-approximation p-value
/// (`scipy.stats.spearmanr`).
///
/// # Errors
/// [`Error::Invalid`] when `x` and `y` differ in length.
///
/// # Example
/// ```
/// use neuropop::stats::correlation::spearman;
/// let c = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]).unwrap();
/// assert!((c.value - 0.8207826816681233).abs() < 1e-12);
/// assert!((c.p_value - 0.08858700531354381).abs() < 1e-10);
/// // A constant input is undefined, not zero:
/// assert!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap().value.is_nan());
/// ```
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Correlation> {
    check_lengths(x, y)?;
    let n = x.len();
    if n < 2 || is_constant(x) || is_constant(y) || x.iter().chain(y).any(|v| v.is_nan()) {
        return Ok(Correlation::undefined(n));
    }
    let r = spearman_rho(x, y, &mut SpearmanScratch::default());
    if r.is_nan() {
        return Ok(Correlation::undefined(n));
    }
    let dof = n as f64 - 2.0;
    let t = r * (dof / ((r + 1.0) * (1.0 - r))).max(0.0).sqrt();
    Ok(Correlation {
        value: r,
        p_value: t_two_sided_p(t, dof),
        n,
    })
}

/// Counts behind Kendall's τ: discordant pairs and tie statistics (scipy's names).
#[derive(Clone, Copy, Debug)]
struct KendallCounts {
    n: usize,
    /// Discordant pairs.
    dis: u64,
    /// Pairs tied in both x and y.
    ntie: u64,
    /// Pairs tied in x / in y.
    xtie: u64,
    ytie: u64,
    /// Σ c(c−1)(c−2) and Σ c(c−1)(2c+5) over tie groups of x / y (floats: they overflow u64 at n ~ 2e6).
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl KendallCounts {
    fn total(&self) -> u64 {
        let n = self.n as u64;
        n * (n.saturating_sub(1)) / 2
    }
    /// C − D = tot − xtie − ytie + ntie − 2 dis, as a signed number.
    fn con_minus_dis(&self) -> f64 {
        (self.total() as i128 - self.xtie as i128 - self.ytie as i128 + self.ntie as i128
            - 2 * self.dis as i128) as f64
    }
}

/// Dense ranks (0-based, equal values share a rank; -0.0 equals 0.0) and the sorted order.
fn dense_ranks(v: &[f64]) -> Vec<u32> {
    let key = |i: u32| {
        let x = v[i as usize];
        if x == 0.0 { 0.0 } else { x }
    };
    let mut order: Vec<u32> = (0..v.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| key(a).total_cmp(&key(b)));
    let mut ranks = vec![0u32; v.len()];
    let mut r = 0u32;
    for k in 0..order.len() {
        if k > 0 && key(order[k]) != key(order[k - 1]) {
            r += 1;
        }
        ranks[order[k] as usize] = r;
    }
    ranks
}

/// Σ over tie groups of (c(c−1)/2, c(c−1)(c−2), c(c−1)(2c+5)) given group sizes.
fn tie_stats(ranks: &[u32]) -> (u64, f64, f64) {
    let max = ranks.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut counts = vec![0u64; max];
    for &r in ranks {
        counts[r as usize] += 1;
    }
    let (mut t, mut s0, mut s1) = (0u64, 0.0, 0.0);
    for &c in counts.iter().filter(|&&c| c > 1) {
        t += c * (c - 1) / 2;
        let cf = c as f64;
        s0 += cf * (cf - 1.0) * (cf - 2.0);
        s1 += cf * (cf - 1.0) * (2.0 * cf + 5.0);
    }
    (t, s0, s1)
}

/// Knight's algorithm: sort pairs by (x, y), then count strict inversions of y with a Fenwick tree.
fn kendall_counts(x: &[f64], y: &[f64]) -> KendallCounts {
    let n = x.len();
    let xr = dense_ranks(x);
    let yr = dense_ranks(y);
    let mut keys: Vec<u64> = xr
        .iter()
        .zip(&yr)
        .map(|(&a, &b)| (u64::from(a) << 32) | u64::from(b))
        .collect();
    keys.sort_unstable();
    // Discordant pairs: i < j in (x, y) order with y_i > y_j. Ties in x are sorted by y, so
    // they never count; ties in y are not strict inversions.
    let ny = yr.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut tree = vec![0u64; ny + 1];
    let mut dis = 0u64;
    for (seen, &k) in keys.iter().enumerate() {
        let yk = (k & 0xffff_ffff) as usize;
        // Number of earlier elements with y rank <= yk.
        let mut i = yk + 1;
        let mut le = 0u64;
        while i > 0 {
            le += tree[i];
            i &= i - 1;
        }
        dis += seen as u64 - le;
        let mut i = yk + 1;
        while i <= ny {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    // Joint ties: runs of identical (x, y) keys.
    let mut ntie = 0u64;
    let mut run = 1u64;
    for k in 1..=keys.len() {
        if k < keys.len() && keys[k] == keys[k - 1] {
            run += 1;
        } else {
            ntie += run * (run - 1) / 2;
            run = 1;
        }
    }
    let (xtie, x0, x1) = tie_stats(&xr);
    let (ytie, y0, y1) = tie_stats(&yr);
    KendallCounts {
        n,
        dis,
        ntie,
        xtie,
        ytie,
        x0,
        x1,
        y0,
        y1,
    }
}

/// scipy's `mstats_basic._kendall_p_exact`, two-sided: P(|S| ≥ |s|) for n items with `c`
/// concordant pairs and no ties.
fn kendall_p_exact(n: usize, c: u64) -> f64 {
    let tot = (n as u64) * (n as u64 - 1) / 2;
    let c = c.min(tot - c) as usize;
    if n <= 2 {
        return 1.0;
    }
    let factorial = |k: usize| (1..=k).fold(1.0f64, |acc, i| acc * i as f64);
    let prob = if c == 0 {
        if n < 171 { 2.0 / factorial(n) } else { 0.0 }
    } else if c == 1 {
        if n < 172 { 2.0 / factorial(n - 1) } else { 0.0 }
    } else if 4 * c as u64 == (n as u64) * (n as u64 - 1) {
        1.0
    } else {
        // Number of permutations of j items with k inversions, k <= c, built up j = 3..n.
        let mut new = vec![0.0f64; c + 1];
        new[0] = 1.0;
        new[1] = 1.0;
        let big = n >= 171;
        for j in 3..=n {
            let mut acc = 0.0;
            for v in new.iter_mut() {
                acc += *v;
                *v = if big { acc / j as f64 } else { acc };
            }
            if j <= c {
                for k in (j..=c).rev() {
                    new[k] -= new[k - j];
                }
            }
        }
        let s: f64 = new.iter().sum();
        if big { s } else { 2.0 * s / factorial(n) }
    };
    prob.clamp(0.0, 1.0)
}

/// Two-sided p-value of Kendall's S = C − D as scipy's `kendalltau(method='auto')` computes it.
fn kendall_p(k: &KendallCounts) -> f64 {
    let n = k.n;
    let tot = k.total();
    if k.xtie == 0 && k.ytie == 0 && (n <= 33 || k.dis.min(tot - k.dis) <= 1) {
        return kendall_p_exact(n, tot - k.dis);
    }
    let nf = n as f64;
    let m = nf * (nf - 1.0);
    let var = (m * (2.0 * nf + 5.0) - k.x1 - k.y1) / 18.0
        + (2.0 * k.xtie as f64 * k.ytie as f64) / m
        + k.x0 * k.y0 / (9.0 * m * (nf - 2.0));
    let z = k.con_minus_dis() / var.sqrt();
    // Two-sided normal tail 2 Φ(−|z|) = erfc(|z| / √2).
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

fn kendall_prepare(x: &[f64], y: &[f64]) -> Result<Option<KendallCounts>> {
    check_lengths(x, y)?;
    if x.is_empty() || x.iter().chain(y).any(|v| v.is_nan()) {
        return Ok(None);
    }
    let k = kendall_counts(x, y);
    let tot = k.total();
    if k.xtie == tot || k.ytie == tot {
        return Ok(None); // a constant input (or n = 1): undefined, as scipy
    }
    Ok(Some(k))
}

/// Kendall τ-b with scipy's default two-sided p-value (`scipy.stats.kendalltau`,
/// `method='auto'`, `variant='b'`).
///
/// The p-value is exact (scipy's recursion) when there are no ties and n ≤ 33, or when at most
/// one pair is discordant (or concordant); otherwise it is the normal approximation with the
/// tie-corrected variance of S. This is exactly what scipy's `'auto'` does.
///
/// # Errors
/// [`Error::Invalid`] when `x` and `y` differ in length.
///
/// # Example
/// ```
/// use neuropop::stats::correlation::kendall_tau_b;
/// let c = kendall_tau_b(&[12.0, 2.0, 1.0, 12.0, 2.0], &[1.0, 4.0, 7.0, 1.0, 0.0]).unwrap();
/// assert!((c.value - (-0.4714045207910316)).abs() < 1e-12);
/// assert!((c.p_value - 0.2827454599327748).abs() < 1e-10);
/// ```
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<Correlation> {
    let n = x.len();
    let Some(k) = kendall_prepare(x, y)? else {
        return Ok(Correlation::undefined(n));
    };
    let tot = k.total() as f64;
    let tau = k.con_minus_dis() / (tot - k.xtie as f64).sqrt() / (tot - k.ytie as f64).sqrt();
    Ok(Correlation {
        value: tau.clamp(-1.0, 1.0),
        p_value: kendall_p(&k),
        n,
    })
}

/// Kendall τ-a: (C − D) / (n(n − 1)/2), no tie correction in the denominator — rsatoolbox's
/// `compare(..., method='tau-a')` (Nili et al. 2014 recommend it for RDMs with tied predictions).
///
/// The p-value tests the same statistic S = C − D as [`kendall_tau_b`] and is identical to it.
/// With a constant input τ-a is NaN here (rsatoolbox returns 0 in that case, see
/// [`crate::rsa::compare`]).
///
/// # Errors
/// [`Error::Invalid`] when `x` and `y` differ in length.
///
/// # Example
/// ```
/// use neuropop::stats::correlation::kendall_tau_a;
/// // 3 concordant, 1 discordant, 2 tied pairs out of 6: (3 - 1) / 6.
/// let c = kendall_tau_a(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 2.0]).unwrap();
/// assert!((c.value - 2.0 / 6.0).abs() < 1e-15);
/// ```
pub fn kendall_tau_a(x: &[f64], y: &[f64]) -> Result<Correlation> {
    let n = x.len();
    let Some(k) = kendall_prepare(x, y)? else {
        return Ok(Correlation::undefined(n));
    };
    let tau = k.con_minus_dis() / k.total() as f64;
    Ok(Correlation {
        value: tau.clamp(-1.0, 1.0),
        p_value: kendall_p(&k),
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// O(n²) reference for τ-a / τ-b.
    fn naive(x: &[f64], y: &[f64]) -> (f64, f64) {
        let n = x.len();
        let (mut s, mut tx, mut ty) = (0i64, 0i64, 0i64);
        for i in 0..n {
            for j in i + 1..n {
                let a = (x[i] - x[j]).signum() as i64 * i64::from(x[i] != x[j]);
                let b = (y[i] - y[j]).signum() as i64 * i64::from(y[i] != y[j]);
                s += a * b;
                tx += i64::from(a == 0);
                ty += i64::from(b == 0);
            }
        }
        let tot = (n * (n - 1) / 2) as f64;
        (
            s as f64 / tot,
            s as f64 / ((tot - tx as f64) * (tot - ty as f64)).sqrt(),
        )
    }

    #[test]
    fn kendall_matches_naive_with_ties() {
        use rand::Rng as _;
        let mut rng = crate::stats::rng::stream(1, 0);
        for n in [2usize, 3, 10, 57, 300] {
            let x: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.random_range(0..7u8)))
                .collect();
            let y: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.random_range(0..5u8)))
                .collect();
            let (a, b) = naive(&x, &y);
            let ta = kendall_tau_a(&x, &y).unwrap().value;
            let tb = kendall_tau_b(&x, &y).unwrap().value;
            if b.is_finite() {
                assert!((ta - a).abs() < 1e-12, "n={n}: {ta} vs {a}");
                assert!((tb - b).abs() < 1e-12, "n={n}: {tb} vs {b}");
            }
        }
    }

    #[test]
    fn undefined_cases_are_nan() {
        assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).unwrap().value.is_nan());
        assert!(pearson(&[1.0], &[1.0]).unwrap().value.is_nan());
        assert!(spearman(&[], &[]).unwrap().value.is_nan());
        assert!(
            kendall_tau_b(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0])
                .unwrap()
                .value
                .is_nan()
        );
        assert!(
            kendall_tau_b(&[1.0, f64::NAN], &[1.0, 2.0])
                .unwrap()
                .p_value
                .is_nan()
        );
        assert!(pearson(&[1.0, 2.0], &[1.0]).is_err());
    }

    #[test]
    fn exact_kendall_p_small() {
        // scipy.stats.kendalltau([1,2,3,4,5],[1,2,3,5,4]) -> tau 0.8, p 0.08333333333333333
        let c = kendall_tau_b(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 2.0, 3.0, 5.0, 4.0]).unwrap();
        assert!((c.value - 0.8).abs() < 1e-15);
        assert!((c.p_value - 0.08333333333333333).abs() < 1e-14);
    }
}
