//! The rows of the Steinmetz replication's tables, and the run's output that holds them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pipeline::table::{ColumnType, TableRow};
use crate::rsa::rdm::Rdm;

/// One kept area in one session (`area_sessions.csv`); NaN where a metric is undefined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AreaSessionRow {
    pub session: usize,
    pub area: String,
    pub region_coarse: String,
    pub n_neurons: usize,
    pub n_trials: usize,
    pub n_conditions: usize,
    #[serde(with = "crate::result::nan_null")]
    pub shesha: f64,
    #[serde(with = "crate::result::nan_null")]
    pub wuc: f64,
    #[serde(with = "crate::result::nan_null")]
    pub rsa_cv: f64,
    #[serde(with = "crate::result::nan_null")]
    pub shesha_temporal: f64,
    #[serde(with = "crate::result::nan_null")]
    pub centroid_drift: f64,
    #[serde(with = "crate::result::nan_null")]
    pub null_mean_drift: f64,
    #[serde(with = "crate::result::nan_null")]
    pub null_std_drift: f64,
    #[serde(with = "crate::result::nan_null")]
    pub z_score_drift: f64,
    #[serde(with = "crate::result::nan_null")]
    pub stability_early_mid: f64,
    #[serde(with = "crate::result::nan_null")]
    pub stability_mid_late: f64,
    #[serde(with = "crate::result::nan_null")]
    pub tangling: f64,
    #[serde(with = "crate::result::nan_null")]
    pub trial_neural_behavior_corr: f64,
    #[serde(with = "crate::result::nan_null")]
    pub acc_early: f64,
    #[serde(with = "crate::result::nan_null")]
    pub acc_late: f64,
    #[serde(with = "crate::result::nan_null")]
    pub acc_change: f64,
    #[serde(with = "crate::result::nan_null")]
    pub mean_accuracy: f64,
}

impl TableRow for AreaSessionRow {
    const COLUMNS: &'static [(&'static str, ColumnType)] = &[
        ("session", ColumnType::UInt),
        ("area", ColumnType::Str),
        ("region_coarse", ColumnType::Str),
        ("n_neurons", ColumnType::UInt),
        ("n_trials", ColumnType::UInt),
        ("n_conditions", ColumnType::UInt),
        ("shesha", ColumnType::Float),
        ("wuc", ColumnType::Float),
        ("rsa_cv", ColumnType::Float),
        ("shesha_temporal", ColumnType::Float),
        ("centroid_drift", ColumnType::Float),
        ("null_mean_drift", ColumnType::Float),
        ("null_std_drift", ColumnType::Float),
        ("z_score_drift", ColumnType::Float),
        ("stability_early_mid", ColumnType::Float),
        ("stability_mid_late", ColumnType::Float),
        ("tangling", ColumnType::Float),
        ("trial_neural_behavior_corr", ColumnType::Float),
        ("acc_early", ColumnType::Float),
        ("acc_late", ColumnType::Float),
        ("acc_change", ColumnType::Float),
        ("mean_accuracy", ColumnType::Float),
    ];
}

/// A skipped session (`area` null: an empty CSV cell) or area, with the reason
/// (`skipped.csv`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    /// Global session index.
    pub session: usize,
    /// Area, `None` for a whole session.
    pub area: Option<String>,
    /// Why.
    pub reason: String,
}

impl TableRow for Skip {
    const COLUMNS: &'static [(&'static str, ColumnType)] = &[
        ("session", ColumnType::UInt),
        ("area", ColumnType::Str),
        ("reason", ColumnType::Str),
    ];
}

/// One row of `regional_summary.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionalRow {
    /// Coarse region.
    pub region: String,
    /// Metric name.
    pub metric: String,
    /// Number of finite values.
    pub n: usize,
    /// Mean of the finite values.
    #[serde(with = "crate::result::nan_null")]
    pub mean: f64,
    /// 2.5th percentile of the bootstrap means.
    #[serde(with = "crate::result::nan_null")]
    pub ci_low: f64,
    /// 97.5th percentile of the bootstrap means.
    #[serde(with = "crate::result::nan_null")]
    pub ci_high: f64,
}

impl TableRow for RegionalRow {
    const COLUMNS: &'static [(&'static str, ColumnType)] = &[
        ("region", ColumnType::Str),
        ("metric", ColumnType::Str),
        ("n", ColumnType::UInt),
        ("mean", ColumnType::Float),
        ("ci_low", ColumnType::Float),
        ("ci_high", ColumnType::Float),
    ];
}

/// One row of `behavior_coupling.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CouplingRow {
    /// Behavioural ground truth.
    pub ground_truth: String,
    /// Metric.
    pub metric: String,
    /// Spearman rho.
    #[serde(with = "crate::result::nan_null")]
    pub rho: f64,
    /// Bootstrap 2.5th percentile (NaN with < `min_finite_bootstraps` finite draws).
    #[serde(with = "crate::result::nan_null")]
    pub ci_low: f64,
    /// Bootstrap 97.5th percentile.
    #[serde(with = "crate::result::nan_null")]
    pub ci_high: f64,
    /// Two-sided p-value as `scipy.stats.spearmanr`.
    #[serde(with = "crate::result::nan_null")]
    pub p_value: f64,
    /// Number of area-sessions with both values finite.
    pub n: usize,
}

impl TableRow for CouplingRow {
    const COLUMNS: &'static [(&'static str, ColumnType)] = &[
        ("ground_truth", ColumnType::Str),
        ("metric", ColumnType::Str),
        ("rho", ColumnType::Float),
        ("ci_low", ColumnType::Float),
        ("ci_high", ColumnType::Float),
        ("p_value", ColumnType::Float),
        ("n", ColumnType::UInt),
    ];
}

/// The odd/even split-half RDMs of one area-session, labelled `L<contrast_left>/R<contrast_right>`.
pub type SplitHalfRdms = (Rdm, Rdm);

/// Odd/even split-half RDMs already computed by a run, by `(session, area)`.
pub type SplitHalfCache = BTreeMap<(usize, String), SplitHalfRdms>;

/// Everything the Steinmetz replication produced: its four tables and, after a run (not a
/// merge), the split-half RDMs the example figures show.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SteinmetzOutput {
    /// Area-session rows, ordered by session then area.
    pub rows: Vec<AreaSessionRow>,
    /// Skipped sessions and areas, ordered by session.
    pub skipped: Vec<Skip>,
    /// Regional summary.
    pub regional: Vec<RegionalRow>,
    /// Behaviour coupling.
    pub coupling: Vec<CouplingRow>,
    /// Split-half RDMs of every area-session with a defined odd/even split (`run` only).
    #[serde(skip)]
    pub split_half_rdms: SplitHalfCache,
}
