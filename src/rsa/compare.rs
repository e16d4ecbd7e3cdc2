//! Comparing two RDMs, with rsatoolbox's definitions (`rsatoolbox.rdm.compare`).
//!
//! All methods use the upper triangles (k = 1). Entries that are NaN in both RDMs are left
//! out (rsatoolbox excludes them); NaN in only one of them is an error, as in rsatoolbox.
//!
//! | [`CompareMethod`] | rsatoolbox `method=` | definition |
//! |---|---|---|
//! | `Cosine` | `'cosine'` | ⟨a, b⟩ / (‖a‖‖b‖) |
//! | `Pearson` | `'corr'` | cosine of the mean-centred vectors |
//! | `Spearman` | `'spearman'` | cosine of the centred average ranks |
//! | `KendallTauA` | `'tau-a'` | (C − D) / (n(n − 1)/2) |
//! | `KendallTauB` | `'kendall'`/`'tau-b'` | scipy's τ-b |
//!
//! Deliberate deviation: where rsatoolbox's cosine has a zero-norm vector (a zero RDM, or a
//! constant RDM under Pearson/Spearman) it returns 0; neuropop returns NaN ("undefined is not
//! zero"). τ-a of a constant RDM is NaN here too (rsatoolbox: 0).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rsa::rdm::Rdm;
use crate::stats::correlation::{kendall_tau_a, kendall_tau_b};
use crate::stats::rank::rankdata;

/// How to compare two RDMs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompareMethod {
    /// Cosine similarity of the dissimilarity vectors.
    Cosine,
    /// Pearson correlation.
    Pearson,
    /// Spearman rank correlation (average ranks).
    #[default]
    Spearman,
    /// Kendall τ-a (recommended for models with tied predictions, Nili et al. 2014).
    #[serde(rename = "tau-a")]
    KendallTauA,
    /// Kendall τ-b.
    #[serde(rename = "tau-b")]
    KendallTauB,
}

/// Similarity of two RDMs under `method`.
///
/// # Errors
/// [`Error::Invalid`] when the RDMs have different sizes or different NaN positions.
///
/// # Example
/// ```
/// use neuropop::rsa::{compare, CompareMethod, Rdm};
/// let a = Rdm::new(3, vec![1.0, 2.0, 3.0]).unwrap();
/// let b = Rdm::new(3, vec![2.0, 4.0, 7.0]).unwrap();
/// assert!((compare(&a, &b, CompareMethod::Spearman).unwrap() - 1.0).abs() < 1e-15);
/// assert!((compare(&a, &b, CompareMethod::KendallTauA).unwrap() - 1.0).abs() < 1e-15);
/// ```
pub fn compare(a: &Rdm, b: &Rdm, method: CompareMethod) -> Result<f64> {
    if a.n() != b.n() {
        return Err(Error::invalid(
            "compare: RDMs",
            format!("equal sizes ({} conditions)", a.n()),
            format!("{} conditions", b.n()),
        ));
    }
    compare_vectors(a.upper(), b.upper(), method)
}

/// [`compare`] on two condensed vectors of equal length.
///
/// # Errors
/// [`Error::Invalid`] for different lengths or NaN positions.
///
/// # Example
/// ```
/// use neuropop::rsa::{compare_vectors, CompareMethod};
/// let c = compare_vectors(&[1.0, 0.0], &[1.0, 1.0], CompareMethod::Cosine).unwrap();
/// assert!((c - 0.5f64.sqrt()).abs() < 1e-15);
/// ```
pub fn compare_vectors(a: &[f64], b: &[f64], method: CompareMethod) -> Result<f64> {
    if a.len() != b.len() {
        return Err(Error::invalid(
            "compare: RDM vectors",
            format!("equal lengths ({})", a.len()),
            format!("length {}", b.len()),
        ));
    }
    if let Some(k) = (0..a.len()).find(|&k| a[k].is_nan() != b[k].is_nan()) {
        return Err(Error::invalid(
            format!("compare: entry {k}"),
            "NaN in both RDMs or in neither",
            "NaN in only one",
        ));
    }
    let (a, b): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b)
        .filter(|(x, _)| !x.is_nan())
        .map(|(&x, &y)| (x, y))
        .unzip();
    Ok(match method {
        CompareMethod::Cosine => cosine_similarity(&a, &b),
        CompareMethod::Pearson => cosine_similarity(&centred(&a), &centred(&b)),
        CompareMethod::Spearman => {
            cosine_similarity(&centred(&rankdata(&a)), &centred(&rankdata(&b)))
        }
        CompareMethod::KendallTauA => kendall_tau_a(&a, &b)?.value,
        CompareMethod::KendallTauB => kendall_tau_b(&a, &b)?.value,
    })
}

fn centred(v: &[f64]) -> Vec<f64> {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| x - m).collect()
}

/// ⟨a, b⟩/(‖a‖‖b‖) as rsatoolbox's `_cosine` computes it (divide by each norm in turn); NaN
/// for a zero-norm vector.
fn cosine_similarity(a: &[f64], b: &[f64]) -> f64 {
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if !(na > 0.0 && nb > 0.0) {
        return f64::NAN;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / na / nb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_positions() {
        let a = [1.0, f64::NAN, 3.0, 2.0];
        let b = [2.0, f64::NAN, 1.0, 5.0];
        assert!(
            compare_vectors(&a, &b, CompareMethod::Pearson)
                .unwrap()
                .is_finite()
        );
        assert!(compare_vectors(&a, &[2.0, 1.0, 1.0, 5.0], CompareMethod::Pearson).is_err());
    }

    #[test]
    fn constant_is_undefined() {
        let a = [1.0, 1.0, 1.0];
        let b = [1.0, 2.0, 3.0];
        for m in [
            CompareMethod::Pearson,
            CompareMethod::Spearman,
            CompareMethod::KendallTauA,
            CompareMethod::KendallTauB,
        ] {
            assert!(compare_vectors(&a, &b, m).unwrap().is_nan(), "{m:?}");
        }
        assert!(
            compare_vectors(&[0.0; 3], &b, CompareMethod::Cosine)
                .unwrap()
                .is_nan()
        );
    }
}
