//! What one session of the Steinmetz replication yields: per kept area, the row of
//! `area_sessions` (split-half, whitened and cross-validated Shesha, temporal stability,
//! centroid drift, tertile stability, tangling, behaviour) and its split-half RDMs.

use std::collections::BTreeMap;

use ndarray::Array2;
use rayon::prelude::*;

use super::config::SteinmetzConfig;
use super::rows::{AreaSessionRow, Skip, SplitHalfRdms};
use crate::data::Recording;
use crate::data::counts::CountTensor;
use crate::error::Result;
use crate::rsa::rdm::Rdm;
use crate::rsa::shesha::{
    CentroidDriftOptions, CrossValidatedRsaOptions, Folds, SplitHalfOptions,
    TemporalStabilityOptions, WhitenedSplitHalfOptions, centroid_drift, cross_validated_rsa,
    split_half, temporal_stability, tertile_stability, whitened_split_half,
};
use crate::stats::correlation::spearman;
use crate::stats::rng::derive_seed;
use crate::temporal::tangling::tangling;

/// Columns `idx` of `m`, in row-major order (`select` would build them column-major, and the
/// estimators' row reductions must see the same layout whichever way `X` was gathered).
pub(crate) fn columns(m: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), idx.len()), |(r, j)| m[[r, idx[j]]])
}

/// Per-trial condition codes and the `(contrast_left, contrast_right)` pair of each code.
pub(crate) type ConditionCodes = (Vec<usize>, Vec<(f64, f64)>);

/// Per-trial condition codes: the index of the trial's exact `(contrast_left,
/// contrast_right)` pair among the session's sorted distinct pairs, which are also returned.
pub(crate) fn condition_codes(rec: &Recording) -> Result<ConditionCodes> {
    let cl = rec.trials.f64("contrast_left")?;
    let cr = rec.trials.f64("contrast_right")?;
    let mut keys: Vec<(u64, u64)> = cl
        .iter()
        .zip(&cr)
        .map(|(a, b)| ((a + 0.0).to_bits(), (b + 0.0).to_bits()))
        .collect();
    let per_trial = keys.clone();
    keys.sort_unstable();
    keys.dedup();
    let codes: Vec<usize> = per_trial
        .iter()
        .map(|k| keys.binary_search(k).unwrap_or(0))
        .collect();
    let pairs = keys
        .iter()
        .map(|&(a, b)| (f64::from_bits(a), f64::from_bits(b)))
        .collect();
    Ok((codes, pairs))
}

/// Labels the split-half RDMs (labelled by condition code) with their contrast pairs.
pub(crate) fn contrast_labelled(
    rdms: SplitHalfRdms,
    pairs: &[(f64, f64)],
) -> Result<SplitHalfRdms> {
    let relabel = |r: Rdm| -> Result<Rdm> {
        let labels: Vec<String> = r
            .labels()
            .unwrap_or_default()
            .iter()
            .map(
                |c| match c.parse::<usize>().ok().and_then(|c| pairs.get(c)) {
                    Some((l, r)) => format!("L{l}/R{r}"),
                    None => c.clone(),
                },
            )
            .collect();
        r.with_labels(labels)
    };
    Ok((relabel(rdms.0)?, relabel(rdms.1)?))
}

/// Computes the row of one area of one session (and its labelled split-half RDMs, kept for the
/// figures). `idx` are the area's unit indices.
#[allow(clippy::too_many_arguments)]
fn area_row(
    session: usize,
    area: &str,
    idx: &[usize],
    codes: &[usize],
    pairs: &[(f64, f64)],
    correct: &[f64],
    (session_x, session_courses): (&Array2<f64>, &[Array2<f64>]),
    config: &SteinmetzConfig,
) -> Result<(AreaSessionRow, Option<SplitHalfRdms>)> {
    let x = columns(session_x, idx);
    let n = x.nrows();
    let xv = x.view();

    let sh = split_half(xv, codes, &SplitHalfOptions::default())?;
    let wuc = whitened_split_half(xv, codes, &WhitenedSplitHalfOptions::default())?;
    let folds = match config.cv_sklearn_random_state {
        Some(rs) => Folds::SklearnKFold {
            k: config.cv_folds,
            seed: rs,
        },
        None => Folds::KFold {
            k: config.cv_folds,
            seed: derive_seed(config.seed, &format!("steinmetz/rsa_cv/{session}/{area}")),
        },
    };
    let cv = cross_validated_rsa(
        xv,
        codes,
        &CrossValidatedRsaOptions {
            folds,
            ..CrossValidatedRsaOptions::default()
        },
    )?;
    let temporal = temporal_stability(xv, codes, &TemporalStabilityOptions::default())?;
    let drift = centroid_drift(
        xv,
        &CentroidDriftOptions {
            n_permutations: config.n_permutations,
            seed: derive_seed(config.seed, &format!("steinmetz/drift/{session}/{area}")),
        },
    )?;
    let (null_mean_drift, null_std_drift, z_score_drift) = drift.published_summary();
    let tert = tertile_stability(xv)?;

    // Tangling: conditions with >= 2 trials, trial-mean time courses over the epoch.
    let trajs: Vec<Array2<f64>> = session_courses.iter().map(|m| columns(m, idx)).collect();
    let tangle = if trajs.len() < 3 {
        f64::NAN
    } else {
        tangling(&trajs)
    };

    let norms: Vec<f64> = x
        .rows()
        .into_iter()
        .map(|r| {
            // Sequential sum in neuron order, as numpy reduces the script's (transposed,
            // Fortran-order) X: ties between trial norms then break exactly as there.
            r.iter().fold(0.0, |acc, v| acc + v * v).sqrt()
        })
        .collect();
    let tnb = spearman(&norms, correct)?.value;
    let mid = n / 2;
    let mean = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let acc_early = mean(&correct[..mid]);
    let acc_late = mean(&correct[mid..]);
    let fin = |v: f64| if v.is_finite() { v } else { f64::NAN };
    let rdms = sh
        .rdms
        .clone()
        .map(|r| contrast_labelled(r, pairs))
        .transpose()?;
    let row = AreaSessionRow {
        session,
        area: area.to_string(),
        region_coarse: config.region_of(area).to_string(),
        n_neurons: idx.len(),
        n_trials: n,
        n_conditions: sh.conditions.len(),
        shesha: fin(sh.estimate),
        wuc: fin(wuc.estimate),
        rsa_cv: fin(cv.estimate),
        shesha_temporal: fin(temporal.estimate),
        centroid_drift: drift.similarity,
        null_mean_drift,
        null_std_drift,
        z_score_drift,
        stability_early_mid: tert.early_mid,
        stability_mid_late: tert.mid_late,
        tangling: tangle,
        trial_neural_behavior_corr: fin(tnb),
        acc_early,
        acc_late,
        acc_change: acc_late - acc_early,
        mean_accuracy: mean(correct),
    };
    Ok((row, rdms))
}

/// One analysed session: its rows (with their split-half RDMs) and skipped areas.
pub(crate) type SessionResult = (Vec<(AreaSessionRow, Option<SplitHalfRdms>)>, Vec<Skip>);

/// Analyses one session: its area rows and skipped areas. The trial epoch means and the
/// condition time courses are reduced straight from the stored counts.
pub(crate) fn analyse_session(
    rec: &Recording,
    counts: &CountTensor,
    session: usize,
    config: &SteinmetzConfig,
) -> Result<SessionResult> {
    let n = rec.trials.n_trials();
    let fb = rec.trials.f64("feedback_type")?;
    let (codes, pairs) = condition_codes(rec)?;
    let correct: Vec<f64> = fb
        .iter()
        .map(|&f| if f == 1.0 { 1.0 } else { 0.0 })
        .collect();
    debug_assert_eq!(correct.len(), n);
    let mut areas: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (u, r) in rec.units.regions.iter().enumerate() {
        areas.entry(r.as_str()).or_default().push(u);
    }
    let mut skipped = Vec::new();
    let mut jobs = Vec::new();
    for (area, idx) in &areas {
        if idx.len() < config.min_neurons {
            skipped.push(Skip {
                session,
                area: Some((*area).to_string()),
                reason: format!("n_neurons={} < {}", idx.len(), config.min_neurons),
            });
        } else {
            jobs.push((*area, idx));
        }
    }
    let (x, courses) = counts
        .view()?
        .epoch_summaries(config.epoch_start_bin..config.epoch_stop_bin, &codes)?;
    let rows = jobs
        .par_iter()
        .map(|(area, idx)| {
            area_row(
                session,
                area,
                idx,
                &codes,
                &pairs,
                &correct,
                (&x, &courses),
                config,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((rows, skipped))
}
