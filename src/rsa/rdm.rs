//! Representational dissimilarity matrices: the [`Rdm`] type and the distance metrics.
//!
//! [`rdm`] dispatches to one small function per [`Metric`]; each gives the numbers of
//! `scipy.spatial.distance.pdist(x, metric)`:
//!
//! | metric | computed as | agreement with pdist |
//! |---|---|---|
//! | `sqeuclidean` | Σ (xᵢ − yᵢ)² added feature after feature, as pdist adds them (`stats::sqdiff`) | the same bits |
//! | `euclidean` | the square root of that sum, as pdist | the same bits |
//! | `cosine` | 1 − g on rows scaled to unit norm, g from a Gram product `U Uᵀ` | ~1e-12 relative on well-conditioned data |
//! | `correlation` | as cosine, rows centred first | as cosine |
//!
//! Euclidean distances are summed from the differences, in pdist's order, because Spearman-based
//! comparisons rank them: on spike counts many distances are mathematically equal, and they come
//! out exactly equal (the sums are exact), where the Gram form ‖x‖² + ‖y‖² − 2⟨x, y⟩ would break
//! the ties by rounding. Cosine and correlation distances of real data are rarely tied, and
//! come from the Gram product (cache-blocked matrix multiplication, rows in parallel with
//! rayon) instead of n²/2 separate loops.
//!
//! A row with zero norm (cosine) or zero variance (correlation) has no direction, and scipy
//! returns NaN for every distance involving it. [`rdm`] refuses such input with an error naming
//! the row; [`rdm_with`] and [`ZeroNorm::Nan`] give scipy's NaN entries instead.
//!
//! Noise-normalised distances ([`mahalanobis`], [`crossnobis`]) follow rsatoolbox's
//! `calc_rdm(..., method='mahalanobis' | 'crossnobis')`, see their docs.

use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::sqdiff;

/// A distance metric between condition patterns (rows).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Euclidean distance ‖u − v‖.
    Euclidean,
    /// Squared Euclidean distance ‖u − v‖².
    SqEuclidean,
    /// Correlation distance 1 − r(u, v).
    Correlation,
    /// Cosine distance 1 − ⟨u, v⟩ / (‖u‖‖v‖) (Shesha's default).
    #[default]
    Cosine,
}

impl Metric {
    /// The lower-case name (`euclidean`, `sqeuclidean`, `correlation`, `cosine`), as scipy names it.
    ///
    /// ```
    /// assert_eq!(neuropop::rsa::Metric::SqEuclidean.name(), "sqeuclidean");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Metric::Euclidean => "euclidean",
            Metric::SqEuclidean => "sqeuclidean",
            Metric::Correlation => "correlation",
            Metric::Cosine => "cosine",
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Metric {
    type Err = Error;
    /// Parses `euclidean | sqeuclidean | correlation | cosine`.
    ///
    /// ```
    /// use neuropop::rsa::Metric;
    /// assert_eq!("cosine".parse::<Metric>().unwrap(), Metric::Cosine);
    /// assert!("manhattan".parse::<Metric>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "euclidean" => Ok(Metric::Euclidean),
            "sqeuclidean" => Ok(Metric::SqEuclidean),
            "correlation" => Ok(Metric::Correlation),
            "cosine" => Ok(Metric::Cosine),
            other => Err(Error::invalid(
                "metric",
                "euclidean, sqeuclidean, correlation or cosine",
                other,
            )),
        }
    }
}

/// What to do with a row that has no direction (zero norm for cosine, zero variance for
/// correlation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZeroNorm {
    /// Return [`Error::Invalid`] naming the row.
    #[default]
    Error,
    /// Write NaN for every distance involving the row (scipy's behaviour).
    Nan,
}

/// A representational dissimilarity matrix over `n` conditions.
///
/// Stored condensed, in scipy's order: the upper triangle row by row,
/// `(0,1), (0,2), …, (0,n−1), (1,2), …, (n−2,n−1)`; the diagonal is zero by definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rdm {
    n: usize,
    #[serde(serialize_with = "crate::result::nan_as_null_vec")]
    condensed: Vec<f64>,
    labels: Option<Vec<String>>,
}

/// Position of pair (i, j), i < j, in a condensed vector over n items.
#[inline]
pub(crate) fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    debug_assert!(i < j && j < n);
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

/// Start of row i's entries (pairs (i, i+1..n)) in a condensed vector over n items.
#[inline]
fn row_start(n: usize, i: usize) -> usize {
    n * i - i * (i + 1) / 2
}

impl Rdm {
    /// An RDM from its condensed vector (length n(n−1)/2, scipy's order).
    ///
    /// # Errors
    /// [`Error::Invalid`] when the length does not match `n`.
    ///
    /// # Example
    /// ```
    /// let r = neuropop::rsa::Rdm::new(3, vec![1.0, 2.0, 3.0]).unwrap();
    /// assert_eq!(r.get(2, 1), 3.0);
    /// ```
    pub fn new(n: usize, condensed: Vec<f64>) -> Result<Self> {
        let expected = n * n.saturating_sub(1) / 2;
        if condensed.len() != expected {
            return Err(Error::invalid(
                "Rdm::new: condensed",
                format!("length {expected} for n = {n}"),
                format!("length {}", condensed.len()),
            ));
        }
        Ok(Rdm {
            n,
            condensed,
            labels: None,
        })
    }

    /// An RDM from a square matrix: takes its upper triangle (k = 1).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a non-square matrix.
    ///
    /// # Example
    /// ```
    /// use ndarray::array;
    /// let r = neuropop::rsa::Rdm::from_square(array![[0.0, 1.0], [1.0, 0.0]].view()).unwrap();
    /// assert_eq!(r.upper(), &[1.0]);
    /// ```
    pub fn from_square(square: ArrayView2<f64>) -> Result<Self> {
        let (r, c) = square.dim();
        if r != c {
            return Err(Error::invalid(
                "Rdm::from_square",
                "a square matrix",
                format!("{r} × {c}"),
            ));
        }
        let condensed = (0..r)
            .flat_map(|i| (i + 1..r).map(move |j| (i, j)))
            .map(|(i, j)| square[[i, j]])
            .collect();
        Ok(Rdm {
            n: r,
            condensed,
            labels: None,
        })
    }

    /// Attaches condition labels (one per row).
    ///
    /// # Errors
    /// [`Error::Invalid`] when the number of labels is not `n`.
    ///
    /// # Example
    /// ```
    /// let r = neuropop::rsa::Rdm::new(2, vec![0.5]).unwrap().with_labels(vec!["a".into(), "b".into()]).unwrap();
    /// assert_eq!(r.labels().unwrap()[1], "b");
    /// ```
    pub fn with_labels(mut self, labels: Vec<String>) -> Result<Self> {
        if labels.len() != self.n {
            return Err(Error::invalid(
                "Rdm::with_labels",
                format!("{} labels", self.n),
                format!("{} labels", labels.len()),
            ));
        }
        self.labels = Some(labels);
        Ok(self)
    }

    /// Number of conditions.
    ///
    /// ```
    /// assert_eq!(neuropop::rsa::Rdm::new(4, vec![0.0; 6]).unwrap().n(), 4);
    /// ```
    pub fn n(&self) -> usize {
        self.n
    }

    /// Condition labels, if attached.
    ///
    /// ```
    /// assert!(neuropop::rsa::Rdm::new(2, vec![1.0]).unwrap().labels().is_none());
    /// ```
    pub fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    /// The condensed upper triangle (k = 1), scipy's order.
    ///
    /// ```
    /// let r = neuropop::rsa::Rdm::new(3, vec![1.0, 2.0, 3.0]).unwrap();
    /// assert_eq!(r.upper(), &[1.0, 2.0, 3.0]);
    /// ```
    pub fn upper(&self) -> &[f64] {
        &self.condensed
    }

    /// Consumes the RDM and returns its condensed vector.
    ///
    /// ```
    /// assert_eq!(neuropop::rsa::Rdm::new(2, vec![1.5]).unwrap().into_condensed(), vec![1.5]);
    /// ```
    pub fn into_condensed(self) -> Vec<f64> {
        self.condensed
    }

    /// The dissimilarity of conditions `i` and `j` (0 on the diagonal; symmetric).
    ///
    /// # Panics
    /// If `i` or `j` is not below `n`.
    ///
    /// ```
    /// let r = neuropop::rsa::Rdm::new(3, vec![1.0, 2.0, 3.0]).unwrap();
    /// assert_eq!((r.get(0, 2), r.get(2, 0), r.get(1, 1)), (2.0, 2.0, 0.0));
    /// ```
    pub fn get(&self, i: usize, j: usize) -> f64 {
        assert!(
            i < self.n && j < self.n,
            "Rdm::get({i}, {j}) out of range for n = {}",
            self.n
        );
        match i.cmp(&j) {
            std::cmp::Ordering::Equal => 0.0,
            std::cmp::Ordering::Less => self.condensed[condensed_index(self.n, i, j)],
            std::cmp::Ordering::Greater => self.condensed[condensed_index(self.n, j, i)],
        }
    }

    /// The full symmetric n × n matrix with exact zeros on the diagonal.
    ///
    /// ```
    /// let m = neuropop::rsa::Rdm::new(3, vec![1.0, 2.0, 3.0]).unwrap().square();
    /// assert_eq!(m, ndarray::array![[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]]);
    /// ```
    pub fn square(&self) -> Array2<f64> {
        let n = self.n;
        let mut m = Array2::zeros((n, n));
        for i in 0..n {
            for j in i + 1..n {
                let v = self.condensed[condensed_index(n, i, j)];
                m[[i, j]] = v;
                m[[j, i]] = v;
            }
        }
        m
    }
}

/// The RDM of the rows of `x` (conditions × features) under `metric`, as `pdist(x, metric)`.
///
/// # Errors
/// [`Error::Invalid`] when `x` contains a non-finite value, or (cosine/correlation) a row has
/// zero norm/variance — the error names the row. Use [`rdm_with`] for scipy's NaN entries.
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::{rdm, Metric};
/// let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let r = rdm(x.view(), Metric::Cosine).unwrap();
/// assert!((r.get(0, 1) - 1.0).abs() < 1e-15);
/// assert!((r.get(0, 2) - (1.0 - 0.5f64.sqrt())).abs() < 1e-15);
/// let e = rdm(x.view(), Metric::Euclidean).unwrap();
/// assert!((e.get(0, 1) - 2f64.sqrt()).abs() < 1e-15);
/// ```
pub fn rdm(x: ArrayView2<f64>, metric: Metric) -> Result<Rdm> {
    rdm_with(x, metric, ZeroNorm::Error)
}

/// [`rdm`] with a choice of what a direction-less row does (error, or scipy's NaN entries).
///
/// # Errors
/// [`Error::Invalid`] for non-finite input, or a zero-norm row under [`ZeroNorm::Error`].
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::{rdm_with, Metric, ZeroNorm};
/// let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let r = rdm_with(x.view(), Metric::Cosine, ZeroNorm::Nan).unwrap();
/// assert!(r.get(0, 1).is_nan() && r.get(1, 2).is_finite());
/// assert!(neuropop::rsa::rdm(x.view(), Metric::Cosine).is_err());
/// ```
pub fn rdm_with(x: ArrayView2<f64>, metric: Metric, zero_norm: ZeroNorm) -> Result<Rdm> {
    check_finite(x, "rdm: x")?;
    match metric {
        Metric::Euclidean => Ok(euclidean(x)),
        Metric::SqEuclidean => Ok(sqeuclidean(x)),
        Metric::Cosine => cosine(x, zero_norm),
        Metric::Correlation => correlation(x, zero_norm),
    }
}

pub(crate) fn check_finite(x: ArrayView2<f64>, context: &str) -> Result<()> {
    // The common case first, branch-free over memory (vectorised); the index of a bad value
    // is only looked for when there is one.
    let all_finite = match x.as_slice_memory_order() {
        Some(s) => s.iter().fold(true, |ok, v| ok & v.is_finite()),
        None => x.iter().all(|v| v.is_finite()),
    };
    if all_finite {
        return Ok(());
    }
    if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            format!("{context}[{i}, {j}]"),
            "a finite value",
            v.to_string(),
        ));
    }
    Ok(())
}

/// Euclidean RDM (`pdist(x, 'euclidean')`) of finite input: the square root of
/// [`sqeuclidean`]'s sums, pdist's bits.
///
/// ```
/// use ndarray::array;
/// let r = neuropop::rsa::rdm::euclidean(array![[0.0, 0.0], [3.0, 4.0]].view());
/// assert_eq!(r.upper(), &[5.0]);
/// ```
pub fn euclidean(x: ArrayView2<f64>) -> Rdm {
    let mut r = sqeuclidean(x);
    r.condensed.par_iter_mut().for_each(|v| *v = v.sqrt());
    r
}

/// Squared Euclidean RDM (`pdist(x, 'sqeuclidean')`) of finite input.
///
/// Each pair's squared differences are added feature after feature from 0, the order in which
/// pdist adds them, so every distance is pdist's bits: exact whenever the squared differences
/// sum exactly (integer counts), and equal wherever pdist's are equal. See
/// `docs/methods/rsa.md` for how this is computed fast.
///
/// ```
/// use ndarray::array;
/// let r = neuropop::rsa::rdm::sqeuclidean(array![[0.0, 0.0], [3.0, 4.0]].view());
/// assert_eq!(r.upper(), &[25.0]);
/// // Counts: equal distances are exactly equal (here 1 + 4 = 4 + 1).
/// let c = neuropop::rsa::rdm::sqeuclidean(array![[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]].view());
/// assert_eq!(c.get(0, 1), c.get(0, 2));
/// ```
pub fn sqeuclidean(x: ArrayView2<f64>) -> Rdm {
    let (n, p) = x.dim();
    let owned;
    let values: &[f64] = match x.as_slice() {
        Some(s) => s,
        None => {
            owned = x.as_standard_layout().into_owned();
            owned.as_slice().expect("standard layout")
        }
    };
    Rdm {
        n,
        condensed: sqdiff::condensed(values, n, p, crate::stats::simd::vector_level()),
        labels: None,
    }
}

/// Cosine RDM (`pdist(x, 'cosine')`) of finite input.
///
/// # Errors
/// A zero-norm row under [`ZeroNorm::Error`].
///
/// ```
/// use ndarray::array;
/// let r = neuropop::rsa::rdm::cosine(array![[1.0, 0.0], [-2.0, 0.0]].view(), Default::default()).unwrap();
/// assert_eq!(r.upper(), &[2.0]);
/// ```
pub fn cosine(x: ArrayView2<f64>, zero_norm: ZeroNorm) -> Result<Rdm> {
    directional(x.to_owned(), zero_norm, "cosine", "zero norm")
}

/// Correlation RDM (`pdist(x, 'correlation')`) of finite input.
///
/// # Errors
/// A constant row under [`ZeroNorm::Error`].
///
/// ```
/// use ndarray::array;
/// let r = neuropop::rsa::rdm::correlation(array![[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]].view(), Default::default()).unwrap();
/// assert!((r.upper()[0] - 2.0).abs() < 1e-15);
/// ```
pub fn correlation(x: ArrayView2<f64>, zero_norm: ZeroNorm) -> Result<Rdm> {
    let mut u = x.to_owned();
    centre_rows(&mut u);
    directional(u, zero_norm, "correlation", "zero variance")
}

/// Subtracts each row's mean from it (the correlation distance is the cosine distance of
/// row-centred rows).
pub(crate) fn centre_rows(m: &mut Array2<f64>) {
    for mut row in m.rows_mut() {
        let mean = row.mean().unwrap_or(0.0);
        row -= mean;
    }
}

/// Scales rows of `u` to unit norm and returns 1 − ⟨uᵢ, uⱼ⟩ clamped to [0, 2].
fn directional(mut u: Array2<f64>, zero_norm: ZeroNorm, metric: &str, what: &str) -> Result<Rdm> {
    let n = u.nrows();
    let mut degenerate = vec![false; n];
    for (i, mut row) in u.rows_mut().into_iter().enumerate() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        } else {
            if zero_norm == ZeroNorm::Error {
                return Err(Error::invalid(
                    format!("rdm ({metric}): row {i}"),
                    "a row with a direction",
                    what,
                ));
            }
            degenerate[i] = true;
        }
    }
    let condensed = gram_condensed(u.view(), |i, j, g| {
        if degenerate[i] || degenerate[j] {
            f64::NAN
        } else if 1.0 - g <= CANCELLATION {
            // Nearly parallel unit rows: 1 − cos = ‖uᵢ − uⱼ‖²/2 keeps the digits that 1 − g loses.
            0.5 * direct_sq(u.row(i), u.row(j))
        } else {
            (1.0 - g).clamp(0.0, 2.0)
        }
    });
    Ok(Rdm {
        n,
        condensed,
        labels: None,
    })
}

/// Distances between every row of `a` and every row of `b` (`scipy.spatial.distance.cdist`),
/// `a.nrows() × b.nrows()`, NaN where a row has no direction under cosine/correlation.
///
/// # Errors
/// [`Error::Invalid`] for non-finite input or different column counts.
///
/// # Example
/// ```
/// use ndarray::array;
/// use neuropop::rsa::{cdist, Metric};
/// let d = cdist(array![[0.0, 0.0]].view(), array![[3.0, 4.0], [0.0, 1.0]].view(), Metric::Euclidean).unwrap();
/// assert_eq!(d, array![[5.0, 1.0]]);
/// ```
pub fn cdist(a: ArrayView2<f64>, b: ArrayView2<f64>, metric: Metric) -> Result<Array2<f64>> {
    check_finite(a, "cdist: a")?;
    check_finite(b, "cdist: b")?;
    if a.ncols() != b.ncols() {
        return Err(Error::invalid(
            "cdist: b",
            format!("{} columns (as a)", a.ncols()),
            format!("{} columns", b.ncols()),
        ));
    }
    let prep = |x: ArrayView2<f64>| -> (Array2<f64>, Vec<f64>) {
        let mut u = x.to_owned();
        if metric == Metric::Correlation {
            for mut row in u.rows_mut() {
                let m = row.mean().unwrap_or(0.0);
                row -= m;
            }
        }
        let norms: Vec<f64> = u.rows().into_iter().map(|r| r.dot(&r)).collect();
        if matches!(metric, Metric::Cosine | Metric::Correlation) {
            for (mut row, &q) in u.rows_mut().into_iter().zip(&norms) {
                if q > 0.0 {
                    row /= q.sqrt();
                }
            }
        }
        (u, norms)
    };
    let (ua, na) = prep(a);
    let (ub, nb) = prep(b);
    if matches!(metric, Metric::Cosine | Metric::Correlation) {
        let g = ua.dot(&ub.t());
        return Ok(Array2::from_shape_fn(g.dim(), |(i, j)| {
            if na[i] > 0.0 && nb[j] > 0.0 {
                (1.0 - g[[i, j]]).clamp(0.0, 2.0)
            } else {
                f64::NAN
            }
        }));
    }
    // Euclidean: direct differences added feature after feature, as cdist adds them (its
    // bits; exact on counts). cdist sizes here are anchors × probes, small.
    Ok(Array2::from_shape_fn((a.nrows(), b.nrows()), |(i, j)| {
        let d2 = a
            .row(i)
            .iter()
            .zip(b.row(j))
            .fold(0.0, |s, (x, y)| s + (x - y) * (x - y));
        if metric == Metric::SqEuclidean {
            d2
        } else {
            d2.sqrt()
        }
    }))
}

/// Below this relative size a Gram-derived cosine distance is recomputed from differences.
const CANCELLATION: f64 = 1e-4;

fn direct_sq(a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Rows per parallel block of the Gram product.
const GRAM_BLOCK: usize = 32;

/// Condensed vector of `f(i, j, ⟨uᵢ, uⱼ⟩)` over i < j, computing only the upper blocks of the
/// Gram matrix `U Uᵀ`: block of rows [r0, r1) times rows [r0, n). Each block writes its own
/// contiguous run of the condensed vector, so blocks run in parallel without locking and the
/// result does not depend on the number of threads.
pub(crate) fn gram_condensed<F>(u: ArrayView2<f64>, f: F) -> Vec<f64>
where
    F: Fn(usize, usize, f64) -> f64 + Sync,
{
    let n = u.nrows();
    let mut out = vec![0.0; n * n.saturating_sub(1) / 2];
    // Split the output into per-block slices.
    let mut slices: Vec<(usize, &mut [f64])> = Vec::new();
    let mut rest: &mut [f64] = &mut out;
    let mut r0 = 0;
    while r0 < n {
        let r1 = (r0 + GRAM_BLOCK).min(n);
        let len = row_start(n, r1) - row_start(n, r0);
        let (head, tail) = rest.split_at_mut(len);
        slices.push((r0, head));
        rest = tail;
        r0 = r1;
    }
    slices.into_par_iter().for_each(|(r0, slice)| {
        let r1 = (r0 + GRAM_BLOCK).min(n);
        let block = u.slice(s![r0..r1, ..]);
        let others = u.slice(s![r0.., ..]);
        let g = block.dot(&others.t()); // (r1 - r0) × (n - r0); column c is row r0 + c
        let mut k = 0;
        for i in r0..r1 {
            for j in i + 1..n {
                slice[k] = f(i, j, g[[i - r0, j - r0]]);
                k += 1;
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    fn random(n: usize, p: usize, seed: u64) -> Array2<f64> {
        let mut rng = crate::stats::rng::stream(seed, 0);
        Array2::from_shape_fn((n, p), |_| rng.random::<f64>() * 2.0 - 1.0)
    }

    /// Direct pairwise loops, scipy's formulas.
    fn direct(x: ArrayView2<f64>, metric: Metric) -> Vec<f64> {
        let n = x.nrows();
        let mut out = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                let (a, b) = (x.row(i), x.row(j));
                let d = match metric {
                    Metric::SqEuclidean => (&a - &b).mapv(|v| v * v).sum(),
                    Metric::Euclidean => (&a - &b).mapv(|v| v * v).sum().sqrt(),
                    Metric::Cosine => 1.0 - a.dot(&b) / (a.dot(&a) * b.dot(&b)).sqrt(),
                    Metric::Correlation => {
                        let (ca, cb) = (&a - a.mean().unwrap(), &b - b.mean().unwrap());
                        1.0 - ca.dot(&cb) / (ca.dot(&ca) * cb.dot(&cb)).sqrt()
                    }
                };
                out.push(d);
            }
        }
        out
    }

    #[test]
    fn gram_matches_direct_all_metrics() {
        let x = random(75, 20, 3); // 75 rows: three Gram blocks, one partial
        for metric in [
            Metric::Euclidean,
            Metric::SqEuclidean,
            Metric::Cosine,
            Metric::Correlation,
        ] {
            let r = rdm(x.view(), metric).unwrap();
            let d = direct(x.view(), metric);
            for (a, b) in r.upper().iter().zip(&d) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1e-3),
                    "{metric}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn symmetric_zero_diagonal_nonnegative() {
        let x = random(40, 7, 5);
        for metric in [
            Metric::Euclidean,
            Metric::SqEuclidean,
            Metric::Cosine,
            Metric::Correlation,
        ] {
            let m = rdm(x.view(), metric).unwrap().square();
            for i in 0..40 {
                assert_eq!(m[[i, i]], 0.0);
                for j in 0..40 {
                    assert_eq!(m[[i, j]].to_bits(), m[[j, i]].to_bits());
                    assert!(m[[i, j]] >= 0.0);
                }
            }
        }
    }

    #[test]
    fn identical_rows_are_exactly_zero_apart() {
        let x = ndarray::array![[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0, 1.0, 0.0]];
        let r = rdm(x.view(), Metric::SqEuclidean).unwrap();
        assert_eq!(r.get(0, 1), 0.0);
    }

    #[test]
    fn degenerate_rows() {
        let x = ndarray::array![[1.0, 1.0, 1.0], [1.0, 2.0, 3.0], [3.0, 1.0, 2.0]];
        let err = rdm(x.view(), Metric::Correlation).unwrap_err().to_string();
        assert!(err.contains("row 0"), "{err}");
        let r = rdm_with(x.view(), Metric::Correlation, ZeroNorm::Nan).unwrap();
        assert!(r.get(0, 1).is_nan() && r.get(0, 2).is_nan() && r.get(1, 2).is_finite());
        let bad = ndarray::array![[f64::NAN, 1.0], [1.0, 2.0]];
        assert!(rdm(bad.view(), Metric::Euclidean).is_err());
        // Empty and single-row inputs give empty RDMs.
        assert_eq!(
            rdm(Array2::<f64>::zeros((1, 3)).view(), Metric::Euclidean)
                .unwrap()
                .upper()
                .len(),
            0
        );
        assert_eq!(
            rdm(Array2::<f64>::zeros((0, 3)).view(), Metric::Euclidean)
                .unwrap()
                .n(),
            0
        );
    }

    #[test]
    fn condensed_index_matches_scipy_order() {
        let n = 5;
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(condensed_index(n, i, j), k);
                k += 1;
            }
        }
    }
}
