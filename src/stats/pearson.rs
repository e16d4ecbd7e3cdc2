//! Pearson's r of two slices, the one hot-path helper both the correlation tests
//! ([`super::correlation`]) and the rank-based ones ([`super::rank`]) build on.

pub(crate) fn is_constant(x: &[f64]) -> bool {
    x.iter().all(|&v| v == x[0])
}

/// Pearson r of two equal-length slices, without a p-value (hot-path helper).
///
/// NaN when a slice is constant, shorter than 2 or contains NaN. Centres both inputs first (two
/// passes), so large offsets do not cost precision; the result is clipped to [−1, 1].
pub(crate) fn pearson_r(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 || is_constant(x) || is_constant(y) {
        return f64::NAN;
    }
    let nf = n as f64;
    let mx = x.iter().sum::<f64>() / nf;
    let my = y.iter().sum::<f64>() / nf;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (da, db) = (a - mx, b - my);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    let denom = (sxx * syy).sqrt();
    if denom.is_nan() || denom <= 0.0 {
        return f64::NAN;
    }
    (sxy / denom).clamp(-1.0, 1.0)
}
