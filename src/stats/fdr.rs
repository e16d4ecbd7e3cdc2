//! False-discovery-rate adjusted p-values (`scipy.stats.false_discovery_control`).
//!
//! Benjamini–Hochberg (1995): sort the m p-values, multiply the i-th smallest by m / i, take the
//! running minimum from the largest down, clip to 1 and restore the original order. The
//! Benjamini–Yekutieli (2001) variant further multiplies by Σ_{i=1}^m 1/i, valid under any
//! dependence.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which FDR procedure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FdrMethod {
    /// Benjamini–Hochberg (scipy `method='bh'`, the default).
    #[default]
    Bh,
    /// Benjamini–Yekutieli (scipy `method='by'`).
    By,
}

/// Adjusted p-values, in the input order, identical to
/// `scipy.stats.false_discovery_control(p, method=...)`.
///
/// # Errors
/// [`Error::Invalid`] naming the first entry that is not in [0, 1] (NaN included), as scipy
/// raises for it.
///
/// # Example
/// ```
/// use neuropop::stats::fdr::{false_discovery_control, FdrMethod};
/// let q = false_discovery_control(&[0.01, 0.04, 0.03], FdrMethod::Bh).unwrap();
/// assert_eq!(q, vec![0.03, 0.04, 0.04]);
/// ```
pub fn false_discovery_control(p: &[f64], method: FdrMethod) -> Result<Vec<f64>> {
    if let Some(i) = p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        return Err(Error::invalid(
            format!("false_discovery_control: p[{i}]"),
            "a p-value in [0, 1]",
            p[i].to_string(),
        ));
    }
    let m = p.len();
    if m <= 1 {
        return Ok(p.to_vec());
    }
    let mut order: Vec<usize> = (0..m).collect();
    // Stable sort, as numpy's argsort of equal p-values does not matter for the result.
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let by_factor = match method {
        FdrMethod::Bh => 1.0,
        FdrMethod::By => (1..=m).map(|i| 1.0 / i as f64).sum(),
    };
    let mf = m as f64;
    let mut adjusted: Vec<f64> = order
        .iter()
        .enumerate()
        .map(|(k, &i)| p[i] * (mf / (k + 1) as f64) * by_factor)
        .collect();
    for k in (0..m - 1).rev() {
        adjusted[k] = adjusted[k].min(adjusted[k + 1]);
    }
    let mut out = vec![0.0; m];
    for (k, &i) in order.iter().enumerate() {
        out[i] = adjusted[k].clamp(0.0, 1.0);
    }
    Ok(out)
}

/// Benjamini–Hochberg adjusted p-values: [`false_discovery_control`] with [`FdrMethod::Bh`].
///
/// # Errors
/// As [`false_discovery_control`].
///
/// # Example
/// ```
/// let q = neuropop::stats::fdr::benjamini_hochberg(&[0.5, 0.01]).unwrap();
/// assert_eq!(q, vec![0.5, 0.02]);
/// ```
pub fn benjamini_hochberg(p: &[f64]) -> Result<Vec<f64>> {
    false_discovery_control(p, FdrMethod::Bh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range() {
        assert!(benjamini_hochberg(&[0.1, f64::NAN]).is_err());
        assert!(benjamini_hochberg(&[1.5]).is_err());
    }

    #[test]
    fn monotone_in_sorted_order() {
        let p = [0.2, 0.001, 0.04, 0.04, 0.9, 0.03];
        let q = benjamini_hochberg(&p).unwrap();
        let mut pairs: Vec<(f64, f64)> = p.iter().copied().zip(q.iter().copied()).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(q.iter().zip(&p).all(|(a, b)| a >= b));
    }
}
