//! Figures of the Steinmetz pipeline, written to `DIR/figures/` after the tables (by `run` and
//! `merge`; see `docs/figures.md`): the regional hierarchy, Shesha vs behaviour, and the
//! odd/even split-half RDMs of example area-sessions.
//!
//! The tables hold everything the first two need. The example RDMs come from the run itself
//! (`run` keeps every area-session's odd/even RDMs, a few kB each); `merge`, which only has
//! the partial tables, recomputes them from the data for the chosen area-sessions with the
//! pipeline's own `X`, condition codes and [`split_half`], and checks that the recomputed
//! Shesha equals the table's, so the figure shows exactly what was analysed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::analyse::{columns, condition_codes, contrast_labelled};
use super::config::SteinmetzConfig;
use super::rows::{AreaSessionRow, CouplingRow, RegionalRow, SplitHalfCache, SteinmetzOutput};
use super::summary::{GROUND_TRUTHS, metric_value};
use crate::error::{Error, Result};
use crate::io::steinmetz_npz;
use crate::pipeline::figures::{FigureWriter, FiguresReport, file_safe};
use crate::pipeline::manifest::SessionStatus;
use crate::plot::{
    CorrelationStats, FigureOptions, HierarchyPanel, MeanCi, RdmPanel, RegionGroup, ScatterPanel,
    rdm_heatmaps, regional_hierarchy, scatter_grid,
};
use crate::rsa::rdm::Rdm;
use crate::rsa::shesha::{SplitHalfOptions, split_half};

/// Metrics of the regional hierarchy: (column, panel title, axis label, reference line).
pub const HIERARCHY_METRICS: [(&str, &str, &str, Option<f64>); 4] = [
    (
        "shesha",
        "Shesha (odd vs even trials)",
        "split-half RDM Spearman ρ",
        Some(0.0),
    ),
    (
        "wuc",
        "Whitened split-half (WUC)",
        "whitened split-half RDM Spearman ρ",
        Some(0.0),
    ),
    (
        "rsa_cv",
        "Cross-validated RSA",
        "mean 5-fold train/test RDM Spearman ρ",
        Some(0.0),
    ),
    (
        "centroid_drift",
        "Centroid stability (early vs late)",
        "cosine similarity of mean unit-norm patterns",
        None,
    ),
];

/// Axis labels of the behavioural measures, in [`GROUND_TRUTHS`] order.
const BEHAVIOR_LABELS: [&str; 4] = [
    "mean accuracy (fraction correct)",
    "accuracy change (late − early half)",
    "tangling (mean Q)",
    "trial norm–correctness Spearman ρ",
];

/// Example area-sessions need at least this many kept conditions (a readable RDM).
pub const EXAMPLE_MIN_CONDITIONS: usize = 6;

/// Where each global session index's data is: `(file, index within the file)`.
pub type SessionSources = BTreeMap<usize, (PathBuf, usize)>;

/// Session sources of a run's per-session statuses.
///
/// ```
/// let s = neuropop::pipeline::steinmetz::figures::sources_from_statuses(&[]);
/// assert!(s.is_empty());
/// ```
pub fn sources_from_statuses(sessions: &[SessionStatus]) -> SessionSources {
    sessions
        .iter()
        .filter_map(|s| Some((s.session?, (s.file.clone(), s.index_in_file?))))
        .collect()
}

/// The hierarchy panels ([`HIERARCHY_METRICS`]): per region (config order, one colour each)
/// the area-session values and the regional summary's mean and CI.
///
/// ```
/// use neuropop::pipeline::{steinmetz::figures::hierarchy_panels, SteinmetzConfig};
/// let panels = hierarchy_panels(&[], &[], &SteinmetzConfig::default());
/// assert_eq!(panels.len(), 4);
/// assert!(panels[0].groups.iter().all(|g| g.values.is_empty()));
/// ```
pub fn hierarchy_panels(
    rows: &[AreaSessionRow],
    regional: &[RegionalRow],
    config: &SteinmetzConfig,
) -> Vec<HierarchyPanel> {
    let regions = config.region_order();
    HIERARCHY_METRICS
        .iter()
        .map(|&(metric, title, axis, reference)| HierarchyPanel {
            title: title.into(),
            axis_label: axis.into(),
            reference,
            groups: regions
                .iter()
                .enumerate()
                .map(|(i, region)| RegionGroup {
                    name: region.clone(),
                    colour_index: i,
                    values: rows
                        .iter()
                        .filter(|r| &r.region_coarse == region)
                        .map(|r| metric_value(r, metric))
                        .collect(),
                    summary: regional
                        .iter()
                        .find(|g| &g.region == region && g.metric == metric)
                        .map(|g| MeanCi {
                            n: g.n,
                            mean: g.mean,
                            ci_low: g.ci_low,
                            ci_high: g.ci_high,
                        }),
                })
                .collect(),
        })
        .collect()
}

/// Shesha (x) against each behavioural measure (y), coloured by region, with the coupling
/// row's ρ, CI, p and n; returns the panels and the region names (colour order).
///
/// ```
/// use neuropop::pipeline::{steinmetz::figures::behavior_panels, SteinmetzConfig};
/// let (panels, regions) = behavior_panels(&[], &[], &SteinmetzConfig::default());
/// assert_eq!(panels.len(), 4);
/// assert!(panels[0].stats.is_none());
/// assert_eq!(regions[0], "Visual");
/// ```
pub fn behavior_panels(
    rows: &[AreaSessionRow],
    coupling: &[CouplingRow],
    config: &SteinmetzConfig,
) -> (Vec<ScatterPanel>, Vec<String>) {
    let regions = config.region_order();
    let region_index = |r: &str| regions.iter().position(|g| g == r).unwrap_or(0);
    let panels = GROUND_TRUTHS
        .iter()
        .zip(BEHAVIOR_LABELS)
        .map(|(&gt, label)| {
            let points = rows
                .iter()
                .map(|r| {
                    (
                        r.shesha,
                        metric_value(r, gt),
                        region_index(&r.region_coarse),
                    )
                })
                .collect();
            let mut p = ScatterPanel::new("Shesha (split-half ρ)", label, points);
            p.stats = coupling
                .iter()
                .find(|c| c.ground_truth == gt && c.metric == "shesha")
                .map(|c| CorrelationStats {
                    rho: c.rho,
                    ci_low: c.ci_low,
                    ci_high: c.ci_high,
                    p_value: c.p_value,
                    n: c.n,
                });
            if p.stats.is_none() {
                p.no_stats_reason = Some(format!(
                    "no coupling row: < {} pairs",
                    config.min_coupling_pairs
                ));
            }
            p
        })
        .collect();
    (panels, regions)
}

/// Example area-sessions: those with ≥ `min_conditions` kept conditions and a finite Shesha,
/// the highest, the median and the lowest Shesha (fewer if fewer qualify), in that order.
///
/// ```
/// use neuropop::pipeline::steinmetz::figures::choose_examples;
/// assert!(choose_examples(&[], 6).is_empty());
/// ```
pub fn choose_examples(rows: &[AreaSessionRow], min_conditions: usize) -> Vec<&AreaSessionRow> {
    let mut ok: Vec<&AreaSessionRow> = rows
        .iter()
        .filter(|r| r.n_conditions >= min_conditions && r.shesha.is_finite())
        .collect();
    // Stable sort: ties keep session/area order, so the choice is deterministic.
    ok.sort_by(|a, b| b.shesha.total_cmp(&a.shesha));
    let mut idx = vec![0, ok.len() / 2, ok.len().saturating_sub(1)];
    idx.dedup();
    idx.into_iter().filter_map(|i| ok.get(i).copied()).collect()
}

/// The odd/even split-half RDMs of one area-session.
#[derive(Clone, Debug, PartialEq)]
pub struct SplitHalfExample {
    /// The area-session's table row.
    pub row: AreaSessionRow,
    /// Cosine RDM of the first-half (0-based even positions; the script's "odd") condition
    /// means, labelled `L<contrast_left>/R<contrast_right>`.
    pub odd: Rdm,
    /// Cosine RDM of the second-half (0-based odd positions) condition means.
    pub even: Rdm,
}

/// The split-half RDMs of `examples`: from `cache` where it has them, otherwise recomputed
/// from the data (each file read once).
///
/// # Errors
/// A session whose file is unknown or unreadable, an area missing from its session, or a
/// recomputed Shesha that differs from the table's (the data changed since the run).
pub fn split_half_examples(
    examples: &[&AreaSessionRow],
    sources: &SessionSources,
    cache: &SplitHalfCache,
    config: &SteinmetzConfig,
) -> Result<Vec<SplitHalfExample>> {
    let mut out: Vec<Option<SplitHalfExample>> = vec![None; examples.len()];
    let mut by_file: BTreeMap<&Path, Vec<(usize, usize)>> = BTreeMap::new();
    for (e, row) in examples.iter().enumerate() {
        if let Some((odd, even)) = cache.get(&(row.session, row.area.clone())) {
            out[e] = Some(SplitHalfExample {
                row: (*row).clone(),
                odd: odd.clone(),
                even: even.clone(),
            });
            continue;
        }
        let (file, k) = sources.get(&row.session).ok_or_else(|| {
            Error::missing(
                "manifest sessions",
                "session source",
                row.session.to_string(),
            )
        })?;
        by_file.entry(file.as_path()).or_default().push((e, *k));
    }
    for (file, wanted) in by_file {
        let sessions = steinmetz_npz::read_with_counts(file)?;
        for (e, k) in wanted {
            let row = examples[e];
            let (rec, counts) = match sessions.get(k) {
                Some(Ok(s)) => s,
                Some(Err(err)) => {
                    return Err(Error::invalid(
                        format!("{}: session {k}", file.display()),
                        "a readable session",
                        err.to_string(),
                    ));
                }
                None => {
                    return Err(Error::invalid(
                        format!("{}: session index", file.display()),
                        format!("< {}", sessions.len()),
                        k.to_string(),
                    ));
                }
            };
            let idx: Vec<usize> = rec
                .units
                .regions
                .iter()
                .enumerate()
                .filter(|(_, r)| **r == row.area)
                .map(|(u, _)| u)
                .collect();
            if idx.is_empty() {
                return Err(Error::missing(
                    format!("{} session {k}", file.display()),
                    "brain_area",
                    row.area.clone(),
                ));
            }
            let (codes, pairs) = condition_codes(rec)?;
            let (means, _) = counts
                .view()?
                .epoch_summaries(config.epoch_start_bin..config.epoch_stop_bin, &codes)?;
            let x = columns(&means, &idx);
            let r = split_half(x.view(), &codes, &SplitHalfOptions::default())?;
            let same = (r.estimate - row.shesha).abs() < 1e-9
                || (r.estimate.is_nan() && row.shesha.is_nan());
            if !same {
                return Err(Error::invalid(
                    format!(
                        "recomputed split-half Shesha of session {} area {}",
                        row.session, row.area
                    ),
                    format!("{} as in area_sessions", row.shesha),
                    r.estimate.to_string(),
                ));
            }
            let Some(rdms) = r.rdms else {
                return Err(Error::invalid(
                    "split-half RDMs",
                    "the odd/even split's RDMs",
                    "none",
                ));
            };
            let (odd, even) = contrast_labelled(rdms, &pairs)?;
            out[e] = Some(SplitHalfExample {
                row: row.clone(),
                odd,
                even,
            });
        }
    }
    Ok(out.into_iter().flatten().collect())
}

/// Writes the pipeline's figures (PNG and SVG) into `out/figures/`. Never fails the run: a
/// figure that cannot be made is recorded in the returned report.
pub fn write_figures(
    out: &Path,
    output: &SteinmetzOutput,
    sources: &SessionSources,
    config: &SteinmetzConfig,
) -> FiguresReport {
    let (rows, regional, coupling) = (&output.rows, &output.regional, &output.coupling);
    let cache = &output.split_half_rdms;
    let mut report = FigureWriter::new(out);
    let opts = FigureOptions::default();
    let panels = hierarchy_panels(rows, regional, config);
    report.emit(
        "regional_hierarchy",
        format!(
            "Regional hierarchy of stability. Per coarse region: mean over area-sessions \
             (large marker) with its 95 % percentile-bootstrap CI ({} draws; regions with \
             ≥ {} values), individual area-sessions as jittered points; regions ordered by \
             mean, n = number of area-sessions.",
            config.n_bootstrap, config.min_region_values
        ),
        &|p| regional_hierarchy(&panels, p, &opts),
    );

    let (panels, regions) = behavior_panels(rows, coupling, config);
    report.emit(
        "shesha_vs_behavior",
        "Shesha vs behaviour: each point is an area-session, coloured by coarse region. \
         Titles: Spearman ρ with its pairs-bootstrap 95 % CI, p-value and number of pairs \
         (behavior_coupling.csv)."
            .into(),
        &|p| scatter_grid(&panels, &regions, p, &opts),
    );

    let chosen = choose_examples(rows, EXAMPLE_MIN_CONDITIONS);
    if chosen.is_empty() {
        report.fail(
            "split_half_rdms",
            format!(
                "no area-session with a finite Shesha and ≥ {EXAMPLE_MIN_CONDITIONS} conditions"
            ),
        );
    }
    let rank = ["highest", "median", "lowest"];
    match split_half_examples(&chosen, sources, cache, config) {
        Err(e) => report.fail("split_half_rdms", e.to_string()),
        Ok(examples) => {
            for (i, ex) in examples.iter().enumerate() {
                let r = &ex.row;
                let which = if examples.len() == 1 {
                    "only"
                } else if i + 1 == examples.len() {
                    "lowest"
                } else {
                    rank[i]
                };
                let name = format!(
                    "split_half_rdms_{}_session{}_{}",
                    i + 1,
                    r.session,
                    file_safe(&r.area)
                );
                let title = format!(
                    "session {} · {} ({}) · Shesha ρ = {}",
                    r.session,
                    r.area,
                    r.region_coarse,
                    crate::plot::fmt_num(r.shesha, 2)
                );
                let panels = [
                    RdmPanel {
                        title: "odd trials (1st, 3rd, …)".into(),
                        rdm: ex.odd.clone(),
                    },
                    RdmPanel {
                        title: "even trials (2nd, 4th, …)".into(),
                        rdm: ex.even.clone(),
                    },
                ];
                report.emit(
                    &name,
                    format!(
                        "Split-half RDMs of session {} {} ({}), the {which} Shesha among \
                         area-sessions with ≥ {EXAMPLE_MIN_CONDITIONS} conditions: cosine \
                         distances between the condition means (contrast pairs L/R) of the \
                         odd and of the even trials; Shesha = Spearman ρ of the two = {} \
                         ({} neurons, {} trials, {} conditions).",
                        r.session,
                        r.area,
                        r.region_coarse,
                        crate::plot::fmt_num(r.shesha, 3),
                        r.n_neurons,
                        r.n_trials,
                        r.n_conditions
                    ),
                    &|p| rdm_heatmaps(&panels, Some(&title), "cosine distance", p, &opts),
                );
            }
        }
    }
    report.finish()
}
