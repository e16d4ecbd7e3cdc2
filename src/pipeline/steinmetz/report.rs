//! The Steinmetz replication's section of `report.html`.

use super::rows::SteinmetzOutput;
use crate::error::Result;
use crate::pipeline::figures::figure_sections;
use crate::pipeline::study::{RunSummary, provenance_sections};
use crate::report::{Section, Table, fmt_p, fmt3};

/// The report sections of a Steinmetz run: the regional summary, behaviour coupling and the
/// first `max_rows` area-sessions as tables, its figures with captions, and its provenance
/// (version, commit, seed, input hashes, timings).
///
/// # Errors
/// An unreadable figure or manifest.
pub fn sections(run: &RunSummary<SteinmetzOutput>, max_rows: usize) -> Result<Vec<Section>> {
    let out = &run.output;
    let mut s = Vec::new();
    let h = |level: u8, text: &str| Section::Heading {
        level,
        text: text.into(),
    };
    s.push(h(2, "Steinmetz geometric-stability replication"));
    s.push(Section::Paragraph(format!(
        "{} area-sessions analysed, {} sessions or areas skipped (skipped.csv), {} failures. \
         Output directory: {}.",
        out.rows.len(),
        out.skipped.len(),
        run.n_failures,
        run.out_dir.display()
    )));
    s.push(Section::Table(Table {
        caption: Some("Regional summary (regional_summary.csv)".into()),
        header: ["region", "metric", "n", "mean", "CI low", "CI high"]
            .map(String::from)
            .to_vec(),
        rows: out
            .regional
            .iter()
            .map(|r| {
                vec![
                    r.region.clone(),
                    r.metric.clone(),
                    r.n.to_string(),
                    fmt3(r.mean),
                    fmt3(r.ci_low),
                    fmt3(r.ci_high),
                ]
            })
            .collect(),
        note: Some("Mean over area-sessions with a 95 % percentile-bootstrap CI.".into()),
    }));
    s.push(Section::Table(Table {
        caption: Some("Behaviour coupling (behavior_coupling.csv)".into()),
        header: [
            "behaviour",
            "metric",
            "Spearman ρ",
            "CI low",
            "CI high",
            "p",
            "n",
        ]
        .map(String::from)
        .to_vec(),
        rows: out
            .coupling
            .iter()
            .map(|r| {
                vec![
                    r.ground_truth.clone(),
                    r.metric.clone(),
                    fmt3(r.rho),
                    fmt3(r.ci_low),
                    fmt3(r.ci_high),
                    fmt_p(r.p_value),
                    r.n.to_string(),
                ]
            })
            .collect(),
        note: None,
    }));
    let shown = out.rows.len().min(max_rows);
    s.push(Section::Table(Table {
        caption: Some("Area-sessions (area_sessions.csv, selected columns)".into()),
        header: [
            "session",
            "area",
            "region",
            "neurons",
            "trials",
            "conditions",
            "shesha",
            "wuc",
            "rsa_cv",
            "centroid_drift",
            "tangling",
            "mean_accuracy",
        ]
        .map(String::from)
        .to_vec(),
        rows: out.rows[..shown]
            .iter()
            .map(|r| {
                vec![
                    r.session.to_string(),
                    r.area.clone(),
                    r.region_coarse.clone(),
                    r.n_neurons.to_string(),
                    r.n_trials.to_string(),
                    r.n_conditions.to_string(),
                    fmt3(r.shesha),
                    fmt3(r.wuc),
                    fmt3(r.rsa_cv),
                    fmt3(r.centroid_drift),
                    fmt3(r.tangling),
                    fmt3(r.mean_accuracy),
                ]
            })
            .collect(),
        note: Some(format!(
            "First {shown} of {} rows; all 22 columns are in area_sessions.csv / .parquet.",
            out.rows.len()
        )),
    }));
    s.push(h(3, "Figures"));
    s.extend(figure_sections(&run.out_dir, &run.figures)?);
    s.extend(provenance_sections(&run.manifest));
    Ok(s)
}
