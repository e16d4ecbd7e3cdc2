//! The two RDMs of one feature partition (cosine or correlation distance between samples on
//! each half of the features), as `pdist` computes them on the half's columns, with the work
//! shared between the halves.
//!
//! Half A is computed directly: its rows are centred (correlation) and scaled to unit norm,
//! their Gram matrix comes from one BLAS `dsyrk`, and `d = 1 − ⟨uᵢ, uⱼ⟩`. Half B usually
//! needs no second Gram product: when the halves are disjoint and few features are left out,
//! `X_B X_Bᵀ = X Xᵀ − X_A X_Aᵀ − X_R X_Rᵀ` (R the left-out features), with `X Xᵀ` computed
//! once for all partitions and `X_A X_Aᵀ` recovered from half A's unit-row Gram. That
//! difference loses digits when a sample has little of its energy on half B, so such samples
//! (half-B centred norm² below [`WEAK`] of the row's total) get their half-B products computed
//! directly, and half B falls back to its own Gram product when more than 1/16 of the samples
//! are weak. Errors of the derived products stay below ~`k·ε/WEAK` relative.
//!
//! As in [`crate::rsa::rdm`], a sample with no direction on a half (zero norm, or zero variance
//! under correlation) gets NaN distances there, and nearly parallel pairs (`1 − cos ≤ 1e-4`)
//! take `‖uᵢ − uⱼ‖²/2`, which keeps the digits `1 − cos` loses.

use std::sync::OnceLock;

use ndarray::ArrayView2;

use crate::rsa::rdm::Metric;
use crate::stats::gram::gram_upper_into;

/// A sample is weak on half B when its centred half-B norm² is below this fraction of its
/// total squared norm.
const WEAK: f64 = 1e-2;

/// See [`crate::rsa::rdm`]: nearly parallel unit rows are compared directly.
const CANCELLATION: f64 = 1e-4;

/// Samples × features data prepared for the RDMs of many feature partitions.
pub(crate) struct FeatureHalves {
    /// n × p, row-major, as given.
    x: Vec<f64>,
    /// Under correlation, `x` with each row centred on its mean over all features: the same
    /// half-centred rows, but small half sums, so the derived products keep their digits.
    /// (The halves themselves are centred from `x`, so a row constant on a half is exactly
    /// direction-less, as in `pdist`.)
    xc: Option<Vec<f64>>,
    n: usize,
    p: usize,
    /// Upper triangle of `x xᵀ`, computed when a partition first needs it.
    full: OnceLock<Vec<f64>>,
}

/// Reusable buffers of one thread.
#[derive(Default)]
pub(crate) struct HalvesWorkspace {
    ua: Half,
    ub: Half,
    rest: Vec<f64>,
    ga: Vec<f64>,
    gb: Vec<f64>,
    gr: Vec<f64>,
    in_a: Vec<bool>,
    weak: Vec<bool>,
    /// Condensed RDM of half A.
    pub(crate) da: Vec<f64>,
    /// Condensed RDM of half B.
    pub(crate) db: Vec<f64>,
}

/// One half's rows, centred (correlation) and scaled to unit norm, with what was removed.
#[derive(Default)]
struct Half {
    /// n × k unit rows (all zeros for a row with no direction).
    u: Vec<f64>,
    k: usize,
    /// Centred norm of each row (0 for a row with no direction).
    norm: Vec<f64>,
    /// Sum over the half of each row of the centred data (correlation only, else 0).
    sum: Vec<f64>,
}

impl FeatureHalves {
    /// Prepares `x` (samples × features, finite) for `metric` (cosine or correlation).
    pub(crate) fn new(x: ArrayView2<f64>, metric: Metric) -> FeatureHalves {
        let (n, p) = x.dim();
        let data: Vec<f64> = x.iter().copied().collect();
        let xc = (metric == Metric::Correlation && p > 0).then(|| {
            let mut c = data.clone();
            for row in c.chunks_exact_mut(p) {
                let m = row.iter().sum::<f64>() / p as f64;
                row.iter_mut().for_each(|v| *v -= m);
            }
            c
        });
        FeatureHalves {
            x: data,
            xc,
            n,
            p,
            full: OnceLock::new(),
        }
    }

    /// The data the derived products are taken from.
    fn centred(&self) -> &[f64] {
        self.xc.as_deref().unwrap_or(&self.x)
    }

    fn full(&self) -> &[f64] {
        self.full.get_or_init(|| {
            let mut g = Vec::new();
            gram_upper_into(self.centred(), self.n, self.p, &mut g);
            g
        })
    }

    /// Writes the condensed RDMs of the samples on features `a` and on features `b` into
    /// `ws.da` and `ws.db`; returns whether half B's products were derived (not a Gram product
    /// of their own).
    pub(crate) fn rdms(&self, a: &[usize], b: &[usize], ws: &mut HalvesWorkspace) -> bool {
        let n = self.n;
        let m = n * n.saturating_sub(1) / 2;
        ws.da.resize(m, 0.0);
        ws.db.resize(m, 0.0);
        self.half(a, &mut ws.ua);
        self.half(b, &mut ws.ub);
        gram_upper_into(&ws.ua.u, n, ws.ua.k, &mut ws.ga);
        fill_direct(&ws.ga, &ws.ua, &mut ws.da);

        // Derive half B's products when the halves are disjoint and few features are left out.
        ws.in_a.clear();
        ws.in_a.resize(self.p, false);
        a.iter().for_each(|&j| ws.in_a[j] = true);
        let disjoint = b.iter().all(|&j| !ws.in_a[j]);
        let n_rest = self.p.saturating_sub(a.len() + b.len());
        if !disjoint || 2 * n_rest >= b.len() || b.is_empty() {
            self.direct_b(ws);
            return false;
        }
        let full = self.full();
        ws.weak.clear();
        ws.weak.extend((0..n).map(|i| {
            ws.ub.norm[i] * ws.ub.norm[i] < WEAK * full[i * n + i] && ws.ub.norm[i] > 0.0
        }));
        if ws.weak.iter().filter(|&&w| w).count() * 16 > n {
            self.direct_b(ws);
            return false;
        }
        let has_rest = n_rest > 0;
        if has_rest {
            ws.in_a.iter_mut().for_each(|v| *v = !*v);
            b.iter().for_each(|&j| ws.in_a[j] = false);
            // `in_a` now marks the left-out features.
            ws.rest.clear();
            for row in self.centred().chunks_exact(self.p) {
                ws.rest.extend(
                    row.iter()
                        .zip(&ws.in_a)
                        .filter(|(_, r)| **r)
                        .map(|(v, _)| *v),
                );
            }
            gram_upper_into(&ws.rest, n, n_rest, &mut ws.gr);
        }
        let corr = self.xc.is_some();
        let (ua, ub) = (&ws.ua, &ws.ub);
        let (ka, kb) = (ua.k as f64, ub.k as f64);
        let mut idx = 0;
        for i in 0..n {
            let (na, sa) = (ua.norm[i], ua.sum[i]);
            let (nb, sb) = (ub.norm[i], ub.sum[i]);
            let inv_b = 1.0 / nb;
            let row_full = &full[i * n..(i + 1) * n];
            let row_ga = &ws.ga[i * n..(i + 1) * n];
            for j in i + 1..n {
                let d = if nb == 0.0 || ub.norm[j] == 0.0 {
                    f64::NAN
                } else {
                    let c = if ws.weak[i] || ws.weak[j] {
                        dot(ub.row(i), ub.row(j))
                    } else {
                        // Raw half-A product from its unit-row Gram, then half B's by difference.
                        let mut raw_a = row_ga[j] * na * ua.norm[j];
                        let mut mean_b = 0.0;
                        if corr {
                            raw_a += sa * ua.sum[j] / ka;
                            mean_b = sb * ub.sum[j] / kb;
                        }
                        let mut raw_b = row_full[j] - raw_a;
                        if has_rest {
                            raw_b -= ws.gr[i * n + j];
                        }
                        (raw_b - mean_b) * inv_b / ub.norm[j]
                    };
                    distance(c, ub, i, j)
                };
                ws.db[idx] = d;
                idx += 1;
            }
        }
        true
    }

    /// Half B from its own Gram product.
    fn direct_b(&self, ws: &mut HalvesWorkspace) {
        gram_upper_into(&ws.ub.u, self.n, ws.ub.k, &mut ws.gb);
        fill_direct(&ws.gb, &ws.ub, &mut ws.db);
    }

    /// Gathers features `cols` of every row into `h`, centred (correlation) and unit-scaled.
    fn half(&self, cols: &[usize], h: &mut Half) {
        let k = cols.len();
        h.k = k;
        h.u.clear();
        h.norm.clear();
        h.sum.clear();
        let p = self.p.max(1);
        for (i, row) in self.x.chunks_exact(p).take(self.n).enumerate() {
            let start = h.u.len();
            h.u.extend(cols.iter().map(|&j| row[j]));
            let r = &mut h.u[start..];
            let mut sum = 0.0;
            if let Some(xc) = &self.xc
                && k > 0
            {
                let mean = r.iter().sum::<f64>() / k as f64;
                r.iter_mut().for_each(|v| *v -= mean);
                let crow = &xc[i * p..(i + 1) * p];
                sum = cols.iter().map(|&j| crow[j]).sum::<f64>();
            }
            let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                r.iter_mut().for_each(|v| *v /= norm);
            } else {
                r.iter_mut().for_each(|v| *v = 0.0);
            }
            h.norm.push(norm);
            h.sum.push(sum);
        }
    }
}

impl Half {
    fn row(&self, i: usize) -> &[f64] {
        &self.u[i * self.k..(i + 1) * self.k]
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `1 − c` clamped to [0, 2], or `‖uᵢ − uⱼ‖²/2` for nearly parallel rows.
#[inline]
fn distance(c: f64, h: &Half, i: usize, j: usize) -> f64 {
    let d = 1.0 - c;
    if d <= CANCELLATION {
        0.5 * h
            .row(i)
            .iter()
            .zip(h.row(j))
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
    } else {
        d.clamp(0.0, 2.0)
    }
}

/// Condensed distances of a half from the Gram matrix `g` (upper triangle) of its unit rows.
fn fill_direct(g: &[f64], h: &Half, out: &mut [f64]) {
    let n = h.norm.len();
    let mut idx = 0;
    for i in 0..n {
        let row = &g[i * n..(i + 1) * n];
        for (j, &gij) in row.iter().enumerate().skip(i + 1) {
            out[idx] = if h.norm[i] == 0.0 || h.norm[j] == 0.0 {
                f64::NAN
            } else {
                distance(gij, h, i, j)
            };
            idx += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsa::rdm::{ZeroNorm, rdm_with};
    use ndarray::{Array2, Axis};
    use rand::Rng as _;

    fn reference(x: &Array2<f64>, cols: &[usize], metric: Metric) -> Vec<f64> {
        rdm_with(x.select(Axis(1), cols).view(), metric, ZeroNorm::Nan)
            .unwrap()
            .into_condensed()
    }

    fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), want.len());
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g.is_nan() && w.is_nan()) || (g - w).abs() <= tol,
                "{what}[{k}]: {g} vs {w}"
            );
        }
    }

    /// Random data with planted hard cases: large row offsets, a row that lives almost only
    /// on half A (weak on B), a row that is zero on B, duplicated rows, a constant-on-B row.
    fn data(n: usize, p: usize, seed: u64) -> Array2<f64> {
        let mut r = crate::stats::rng::stream(seed, 0);
        let mut x = Array2::from_shape_fn((n, p), |(i, _)| {
            r.random::<f64>() - 0.5 + if i % 3 == 0 { 50.0 } else { 0.0 }
        });
        let b: Vec<usize> = (1..p).step_by(2).collect();
        for &j in &b {
            x[[1, j]] *= 1e-4;
            x[[2, j]] = 0.0;
            x[[5, j]] = 3.0;
        }
        let dup = x.row(4).to_owned();
        x.row_mut(7).assign(&dup);
        x
    }

    #[test]
    fn equal_to_the_rdm_of_each_half() {
        for metric in [Metric::Cosine, Metric::Correlation] {
            for p in [12usize, 13, 40] {
                let x = data(30, p, p as u64);
                let fh = FeatureHalves::new(x.view(), metric);
                let mut ws = HalvesWorkspace::default();
                let a: Vec<usize> = (0..p).step_by(2).collect();
                let b: Vec<usize> = (1..p).step_by(2).collect();
                let mut parts = vec![(a.clone(), b.clone()), (b.clone(), a.clone())];
                // Many left out (direct B), overlapping halves (direct B), one left out.
                parts.push((a[..2].to_vec(), b[..3].to_vec()));
                parts.push((a.clone(), a.clone()));
                parts.push((a[1..].to_vec(), b.clone()));
                for (t, (pa, pb)) in parts.iter().enumerate() {
                    // The complementary halves (and one left-out feature) take the derived path.
                    let derived = fh.rdms(pa, pb, &mut ws);
                    assert_eq!(derived, t < 2 || t == 4, "partition {t}");
                    assert_close(&ws.da, &reference(&x, pa, metric), 1e-12, "A");
                    assert_close(&ws.db, &reference(&x, pb, metric), 1e-12, "B");
                }
            }
        }
    }

    #[test]
    fn derived_half_b_is_exact_on_identical_rows() {
        let x = data(20, 16, 3);
        let fh = FeatureHalves::new(x.view(), Metric::Cosine);
        let mut ws = HalvesWorkspace::default();
        let a: Vec<usize> = (0..16).step_by(2).collect();
        let b: Vec<usize> = (1..16).step_by(2).collect();
        assert!(fh.rdms(&a, &b, &mut ws));
        // Rows 4 and 7 are copies: exactly zero apart on both halves, as pdist gives.
        let k = crate::rsa::rdm::condensed_index(20, 4, 7);
        assert_eq!((ws.da[k], ws.db[k]), (0.0, 0.0));
        // Row 2 is zero on half B: every distance to it is undefined there.
        let k2 = crate::rsa::rdm::condensed_index(20, 2, 9);
        assert!(ws.db[k2].is_nan() && ws.da[k2].is_finite());
    }
}
