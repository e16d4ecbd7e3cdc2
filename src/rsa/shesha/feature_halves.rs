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
//!
//! Data are held feature-major (one contiguous run of n samples per feature), so gathering a
//! half is one copy per feature and the per-sample centring and scaling run over contiguous
//! memory.

use std::sync::OnceLock;

use ndarray::ArrayView2;

use crate::mem::resize_huge;
use crate::rsa::rdm::Metric;
use crate::stats::gram::gram_of_columns_into;

/// A sample is weak on half B when its centred half-B norm² is below this fraction of its
/// total squared norm.
const WEAK: f64 = 1e-2;

/// See [`crate::rsa::rdm`]: nearly parallel unit rows are compared directly.
const CANCELLATION: f64 = 1e-4;

/// Samples × features data prepared for the RDMs of many feature partitions.
pub(crate) struct FeatureHalves {
    /// p × n: feature `f`'s values of all samples at `f * n..(f + 1) * n`, as given.
    xt: Vec<f64>,
    /// Under correlation, the same with each sample centred on its mean over all features:
    /// the same half-centred vectors, but small half sums, so the derived products keep their
    /// digits. (The halves themselves are centred from `xt`, so a sample constant on a half is
    /// exactly direction-less, as in `pdist`.)
    xct: Option<Vec<f64>>,
    n: usize,
    p: usize,
    /// Upper triangle of the samples' Gram matrix (of `xct` under correlation), computed when
    /// a partition first needs it.
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
    /// Per feature: 1 in half A, 2 in half B, 0 left out.
    side: Vec<u8>,
    weak: Vec<usize>,
    dots: Vec<f64>,
    /// Condensed RDM of half A.
    pub(crate) da: Vec<f64>,
    /// Condensed RDM of half B.
    pub(crate) db: Vec<f64>,
}

/// How a partition's RDMs were computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HalvesInfo {
    /// Half B's products came from the difference of Gram matrices.
    pub(crate) derived: bool,
    /// Some distance is NaN (a sample with no direction on a half).
    pub(crate) undefined: bool,
}

/// One half: its samples centred (correlation) and scaled to unit norm, feature-major.
#[derive(Default)]
struct Half {
    /// k × n unit vectors (zeros for a sample with no direction).
    ut: Vec<f64>,
    k: usize,
    /// Centred norm of each sample (0 for no direction).
    norm: Vec<f64>,
    /// 1 / norm (0 for no direction).
    inv: Vec<f64>,
    /// Sum over the half of each sample of the centred data, divided by k (correlation only,
    /// else 0).
    mean_c: Vec<f64>,
    /// Samples with no direction.
    zero: Vec<usize>,
}

impl FeatureHalves {
    /// Prepares `x` (samples × features, finite) for `metric` (cosine or correlation).
    pub(crate) fn new(x: ArrayView2<f64>, metric: Metric) -> FeatureHalves {
        let (n, p) = x.dim();
        let xt: Vec<f64> = x.t().iter().copied().collect();
        let xct = (metric == Metric::Correlation && p > 0).then(|| {
            let mut mean = vec![0.0; n];
            for col in xt.chunks_exact(n.max(1)) {
                mean.iter_mut().zip(col).for_each(|(m, v)| *m += v);
            }
            mean.iter_mut().for_each(|m| *m /= p as f64);
            let mut c = xt.clone();
            for col in c.chunks_exact_mut(n.max(1)) {
                col.iter_mut().zip(&mean).for_each(|(v, m)| *v -= m);
            }
            c
        });
        FeatureHalves {
            xt,
            xct,
            n,
            p,
            full: OnceLock::new(),
        }
    }

    /// The data the derived products are taken from.
    fn centred(&self) -> &[f64] {
        self.xct.as_deref().unwrap_or(&self.xt)
    }

    /// The samples' Gram matrix (upper triangle), computed on first use as the sum of the
    /// Grams of the two halves of the feature axis, one per rayon task. Call it before scoring
    /// partitions in parallel so both threads share this work (a thread that reaches it inside
    /// the parallel loop would compute it while the other waits).
    pub(crate) fn full(&self) -> &[f64] {
        self.full.get_or_init(|| {
            let (n, p) = (self.n, self.p);
            let (first, second) = self.centred().split_at(p / 2 * n);
            let (mut g, mut g2) = (Vec::new(), Vec::new());
            rayon::join(
                || gram_of_columns_into(first, p / 2, n, &mut g),
                || gram_of_columns_into(second, p - p / 2, n, &mut g2),
            );
            for i in 0..n {
                let r = i * n + i..(i + 1) * n;
                g[r.clone()]
                    .iter_mut()
                    .zip(&g2[r])
                    .for_each(|(a, b)| *a += b);
            }
            g
        })
    }

    /// Writes the condensed RDMs of the samples on features `a` and on features `b` into
    /// `ws.da` and `ws.db`.
    pub(crate) fn rdms(&self, a: &[usize], b: &[usize], ws: &mut HalvesWorkspace) -> HalvesInfo {
        let n = self.n;
        let m = n * n.saturating_sub(1) / 2;
        resize_huge(&mut ws.da, m);
        resize_huge(&mut ws.db, m);
        self.half(a, &mut ws.ua);
        self.half(b, &mut ws.ub);
        let undefined = n >= 2 && !(ws.ua.zero.is_empty() && ws.ub.zero.is_empty());
        gram_of_columns_into(&ws.ua.ut, ws.ua.k, n, &mut ws.ga);
        fill_direct(&ws.ga, &ws.ua, &mut ws.da);
        let derived = self.half_b(a, b, ws);
        if !derived {
            gram_of_columns_into(&ws.ub.ut, ws.ub.k, n, &mut ws.gb);
            fill_direct(&ws.gb, &ws.ub, &mut ws.db);
        }
        HalvesInfo { derived, undefined }
    }

    /// Half B's distances from `X Xᵀ − X_A X_Aᵀ − X_R X_Rᵀ`; false (nothing written) when the
    /// halves overlap, many features are left out, or many samples are weak on half B.
    fn half_b(&self, a: &[usize], b: &[usize], ws: &mut HalvesWorkspace) -> bool {
        let n = self.n;
        // The identity needs two disjoint halves without repeated features.
        ws.side.clear();
        ws.side.resize(self.p, 0);
        let mut proper = true;
        for (&j, mark) in a.iter().map(|j| (j, 1u8)).chain(b.iter().map(|j| (j, 2u8))) {
            proper &= ws.side[j] == 0;
            ws.side[j] = mark;
        }
        let n_rest = ws.side.iter().filter(|&&m| m == 0).count();
        if !proper || 2 * n_rest >= b.len() || b.is_empty() {
            return false;
        }
        let full = self.full();
        let ub = &ws.ub;
        ws.weak.clear();
        ws.weak.extend(
            (0..n)
                .filter(|&i| ub.norm[i] > 0.0 && ub.norm[i] * ub.norm[i] < WEAK * full[i * n + i]),
        );
        if ws.weak.len() * 16 > n {
            return false;
        }
        let has_rest = n_rest > 0;
        if has_rest {
            ws.rest.clear();
            let xc = self.centred();
            for f in (0..self.p).filter(|&f| ws.side[f] == 0) {
                ws.rest.extend_from_slice(&xc[f * n..(f + 1) * n]);
            }
            gram_of_columns_into(&ws.rest, n_rest, n, &mut ws.gr);
        }
        let ua = &ws.ua;
        let mut start = 0;
        for i in 0..n {
            let len = n - i - 1;
            let out = &mut ws.db[start..start + len];
            let (na, ma, mb, ib) = (ua.norm[i], ua.mean_c[i], ub.mean_c[i], ub.inv[i]);
            let r = i + 1..n;
            let (ga, g) = (
                &ws.ga[i * n + i + 1..(i + 1) * n],
                &full[i * n + i + 1..(i + 1) * n],
            );
            let mut small = false;
            // The raw half-A product is ⟨u_A,i, u_A,j⟩·|a_i||a_j| + k_A·m_i·m_j (centred sums).
            let derived = |j: usize, gij: f64, gaij: f64, grij: f64| {
                let raw_a = gaij * na * ua.norm[j] + ma * ua.mean_c[j] * ua.k as f64;
                let raw_b = gij - raw_a - grij;
                1.0 - (raw_b - mb * ub.mean_c[j] * ub.k as f64) * ib * ub.inv[j]
            };
            if has_rest {
                let gr = &ws.gr[i * n + i + 1..(i + 1) * n];
                for ((((o, j), &gij), &gaij), &grij) in out.iter_mut().zip(r).zip(g).zip(ga).zip(gr)
                {
                    let d = derived(j, gij, gaij, grij);
                    small |= d <= CANCELLATION;
                    *o = d.min(2.0);
                }
            } else {
                for (((o, j), &gij), &gaij) in out.iter_mut().zip(r).zip(g).zip(ga) {
                    let d = derived(j, gij, gaij, 0.0);
                    small |= d <= CANCELLATION;
                    *o = d.min(2.0);
                }
            }
            if small {
                fix_cancellation(out, ub, i);
            }
            start += len;
        }
        // Weak samples: their products directly from the unit vectors.
        for w in std::mem::take(&mut ws.weak) {
            ws.dots.clear();
            ws.dots.resize(n, 0.0);
            for col in ub.ut.chunks_exact(n) {
                let v = col[w];
                ws.dots.iter_mut().zip(col).for_each(|(d, c)| *d += v * c);
            }
            for j in (0..n).filter(|&j| j != w) {
                let (lo, hi) = (w.min(j), w.max(j));
                ws.db[crate::rsa::rdm::condensed_index(n, lo, hi)] =
                    distance(ws.dots[j], ub, lo, hi);
            }
        }
        mark_undefined(&mut ws.db, ub, n);
        true
    }

    /// Gathers features `cols` into `h`, each sample centred (correlation) and unit-scaled.
    fn half(&self, cols: &[usize], h: &mut Half) {
        let (n, k) = (self.n, cols.len());
        h.k = k;
        resize_huge(&mut h.ut, k * n);
        for (dst, &f) in h.ut.chunks_exact_mut(n.max(1)).zip(cols) {
            dst.copy_from_slice(&self.xt[f * n..(f + 1) * n]);
        }
        h.mean_c.clear();
        h.mean_c.resize(n, 0.0);
        if let Some(xct) = &self.xct
            && k > 0
        {
            let mut mean = vec![0.0; n];
            for col in h.ut.chunks_exact(n) {
                mean.iter_mut().zip(col).for_each(|(m, v)| *m += v);
            }
            mean.iter_mut().for_each(|m| *m /= k as f64);
            for col in h.ut.chunks_exact_mut(n) {
                col.iter_mut().zip(&mean).for_each(|(v, m)| *v -= m);
            }
            for &f in cols {
                let c = &xct[f * n..(f + 1) * n];
                h.mean_c.iter_mut().zip(c).for_each(|(s, v)| *s += v);
            }
            h.mean_c.iter_mut().for_each(|s| *s /= k as f64);
        }
        h.norm.clear();
        h.norm.resize(n, 0.0);
        for col in h.ut.chunks_exact(n.max(1)) {
            h.norm.iter_mut().zip(col).for_each(|(s, v)| *s += v * v);
        }
        h.norm.iter_mut().for_each(|s| *s = s.sqrt());
        h.zero.clear();
        h.zero.extend((0..n).filter(|&i| h.norm[i] == 0.0));
        h.inv.clear();
        h.inv
            .extend(h.norm.iter().map(|&s| if s > 0.0 { 1.0 / s } else { 0.0 }));
        // Divide (not multiply by the inverse) to match `pdist`'s scaling; a sample with no
        // direction is all zeros and divided by 1.
        let safe: Vec<f64> = h
            .norm
            .iter()
            .map(|&s| if s > 0.0 { s } else { 1.0 })
            .collect();
        for col in h.ut.chunks_exact_mut(n.max(1)) {
            col.iter_mut().zip(&safe).for_each(|(v, s)| *v /= s);
        }
    }
}

/// `‖uᵢ − uⱼ‖²/2` of two samples of a half.
fn direct_sq_half(h: &Half, n: usize, i: usize, j: usize) -> f64 {
    0.5 * h
        .ut
        .chunks_exact(n)
        .map(|col| (col[i] - col[j]) * (col[i] - col[j]))
        .sum::<f64>()
}

/// `1 − c` clamped to [0, 2], or `‖uᵢ − uⱼ‖²/2` for nearly parallel samples.
fn distance(c: f64, h: &Half, i: usize, j: usize) -> f64 {
    let d = 1.0 - c;
    if d <= CANCELLATION {
        direct_sq_half(h, h.norm.len(), i, j)
    } else {
        d.min(2.0)
    }
}

/// Recomputes directly the entries of row `i` (pairs (i, j > i), in `out`) with
/// `d ≤ CANCELLATION`.
fn fix_cancellation(out: &mut [f64], h: &Half, i: usize) {
    let n = h.norm.len();
    for (o, j) in out.iter_mut().zip(i + 1..n) {
        if *o <= CANCELLATION {
            *o = direct_sq_half(h, n, i, j);
        }
    }
}

/// NaN for every pair of a sample with no direction on the half.
fn mark_undefined(out: &mut [f64], h: &Half, n: usize) {
    for &z in &h.zero {
        for j in (0..n).filter(|&j| j != z) {
            out[crate::rsa::rdm::condensed_index(n, z.min(j), z.max(j))] = f64::NAN;
        }
    }
}

/// Condensed distances of a half from the Gram matrix `g` (upper triangle) of its unit vectors.
fn fill_direct(g: &[f64], h: &Half, out: &mut [f64]) {
    let n = h.norm.len();
    let mut start = 0;
    for i in 0..n {
        let len = n - i - 1;
        let seg = &mut out[start..start + len];
        let mut small = false;
        for (o, &gij) in seg.iter_mut().zip(&g[i * n + i + 1..(i + 1) * n]) {
            let d = 1.0 - gij;
            small |= d <= CANCELLATION;
            *o = d.min(2.0);
        }
        if small {
            fix_cancellation(seg, h, i);
        }
        start += len;
    }
    mark_undefined(out, h, n);
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
                // A repeated feature (direct B: the identity would count it twice).
                let mut rep = a.clone();
                rep[1] = rep[0];
                parts.push((rep, b.clone()));
                for (t, (pa, pb)) in parts.iter().enumerate() {
                    // The complementary halves (and one left-out feature) take the derived path.
                    let derived = fh.rdms(pa, pb, &mut ws).derived;
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
        let info = fh.rdms(&a, &b, &mut ws);
        assert!(info.derived && info.undefined);
        // Rows 4 and 7 are copies: exactly zero apart on both halves, as pdist gives.
        let k = crate::rsa::rdm::condensed_index(20, 4, 7);
        assert_eq!((ws.da[k], ws.db[k]), (0.0, 0.0));
        // Row 2 is zero on half B: every distance to it is undefined there.
        let k2 = crate::rsa::rdm::condensed_index(20, 2, 9);
        assert!(ws.db[k2].is_nan() && ws.da[k2].is_finite());
    }
}
