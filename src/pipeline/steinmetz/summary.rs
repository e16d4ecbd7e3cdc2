//! Regional summary and behaviour coupling over area-session rows.

use super::config::SteinmetzConfig;
use super::rows::{AreaSessionRow, CouplingRow, RegionalRow};
use crate::error::Result;
use crate::stats::bootstrap::{BootstrapOptions, bootstrap, spearman_bootstrap};
use crate::stats::correlation::spearman;
use crate::stats::rng::derive_seed;

/// Metrics summarised per region, in output order.
pub const REGIONAL_METRICS: [&str; 5] = [
    "shesha",
    "wuc",
    "rsa_cv",
    "centroid_drift",
    "shesha_temporal",
];
/// Ground truths of the behaviour coupling, in output order.
pub const GROUND_TRUTHS: [&str; 4] = [
    "mean_accuracy",
    "acc_change",
    "tangling",
    "trial_neural_behavior_corr",
];
/// Metrics coupled to behaviour, in output order.
pub const COUPLING_METRICS: [&str; 3] = ["shesha", "wuc", "centroid_drift"];

/// The named metric of a row (NaN for unknown names).
pub fn metric_value(row: &AreaSessionRow, name: &str) -> f64 {
    match name {
        "shesha" => row.shesha,
        "wuc" => row.wuc,
        "rsa_cv" => row.rsa_cv,
        "shesha_temporal" => row.shesha_temporal,
        "centroid_drift" => row.centroid_drift,
        "null_mean_drift" => row.null_mean_drift,
        "null_std_drift" => row.null_std_drift,
        "z_score_drift" => row.z_score_drift,
        "stability_early_mid" => row.stability_early_mid,
        "stability_mid_late" => row.stability_mid_late,
        "tangling" => row.tangling,
        "trial_neural_behavior_corr" => row.trial_neural_behavior_corr,
        "acc_early" => row.acc_early,
        "acc_late" => row.acc_late,
        "acc_change" => row.acc_change,
        "mean_accuracy" => row.mean_accuracy,
        _ => f64::NAN,
    }
}

fn boot_opts(config: &SteinmetzConfig, label: &str) -> BootstrapOptions {
    BootstrapOptions::default()
        .with_n_resamples(config.n_bootstrap)
        .with_seed(derive_seed(config.seed, label))
        .with_min_finite(1)
}

/// Regional summary: per region (config order) and metric, mean and bootstrap CI of the finite
/// values, for at least `min_region_values` of them.
///
/// # Errors
/// Invalid bootstrap options.
pub fn regional(rows: &[AreaSessionRow], config: &SteinmetzConfig) -> Result<Vec<RegionalRow>> {
    let mut out = Vec::new();
    for region in config.region_order() {
        for metric in REGIONAL_METRICS {
            let values: Vec<f64> = rows
                .iter()
                .filter(|r| r.region_coarse == region)
                .map(|r| metric_value(r, metric))
                .filter(|v| v.is_finite())
                .collect();
            if values.len() < config.min_region_values.max(1) {
                continue;
            }
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let opts = boot_opts(config, &format!("steinmetz/regional/{region}/{metric}"));
            let b = bootstrap(values.len(), &opts, |idx| {
                idx.iter().map(|&i| values[i]).sum::<f64>() / idx.len() as f64
            })?;
            out.push(RegionalRow {
                region: region.clone(),
                metric: metric.to_string(),
                n: values.len(),
                mean,
                ci_low: b.ci_low,
                ci_high: b.ci_high,
            });
        }
    }
    Ok(out)
}

/// Behaviour coupling: Spearman of each metric with each ground truth over area-sessions where
/// both are finite, with a pairs bootstrap CI; only with ≥ `min_coupling_pairs` pairs.
///
/// # Errors
/// Invalid bootstrap options.
pub fn coupling(rows: &[AreaSessionRow], config: &SteinmetzConfig) -> Result<Vec<CouplingRow>> {
    let mut out = Vec::new();
    for gt in GROUND_TRUTHS {
        for metric in COUPLING_METRICS {
            let (x, y): (Vec<f64>, Vec<f64>) = rows
                .iter()
                .map(|r| (metric_value(r, metric), metric_value(r, gt)))
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .unzip();
            if x.len() < config.min_coupling_pairs.max(2) {
                continue;
            }
            let c = spearman(&x, &y)?;
            let mut opts = boot_opts(config, &format!("steinmetz/coupling/{gt}/{metric}"));
            opts.min_finite = config.min_finite_bootstraps;
            let b = spearman_bootstrap(&x, &y, &opts)?;
            out.push(CouplingRow {
                ground_truth: gt.to_string(),
                metric: metric.to_string(),
                rho: c.value,
                ci_low: b.ci_low,
                ci_high: b.ci_high,
                p_value: c.p_value,
                n: x.len(),
            });
        }
    }
    Ok(out)
}
