//! The maze part of `neuropop demo`: simulate monkey maze sessions, write them as maze v1
//! HDF5 files, read them back through the loader, and measure per region how stable the
//! condition geometry of the goal (after the goal cue) and of the current location (at option
//! onset) is — the planted codes make dmPFC lead on goal and vlPFC on location.

use crate::data::tensor::bin_spikes;
use crate::data::{BinSpec, Recording, TrialTable};
use crate::progress::Progress;
use crate::rsa::shesha::{SplitHalfOptions, split_half};
use crate::sim::maze::{MazeSimOptions, simulate};
use crate::{Error, Result};
use polars::prelude::Column;
use std::path::{Path, PathBuf};

/// Per-region geometric stability recovered from the simulated maze files.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MazeRegionStability {
    /// Region name.
    pub region: String,
    /// Planted goal gain (Hz).
    pub goal_gain_hz: f64,
    /// Planted location gain (Hz).
    pub location_gain_hz: f64,
    /// Mean over sessions of split-half Shesha of goal (trials, 0.1–0.6 s after the goal cue).
    pub goal_shesha: f64,
    /// Mean over sessions of split-half Shesha of location (steps, 0–0.2 s after options).
    pub location_shesha: f64,
    /// Sessions with a finite value (goal, location).
    pub n_sessions: (usize, usize),
}

/// What the maze part of the demo produced.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MazeDemo {
    /// The maze v1 files written.
    pub files: Vec<PathBuf>,
    /// Units over all sessions.
    pub n_units: usize,
    /// Trials over all sessions.
    pub n_trials: usize,
    /// Choice steps over all sessions.
    pub n_steps: usize,
    /// One row per region.
    pub regions: Vec<MazeRegionStability>,
}

/// Window counts of `rec`'s units in `region` aligned to `event` of `table`.
fn window_counts(
    rec: &Recording,
    table: &TrialTable,
    event: &str,
    spec: &BinSpec,
    region: &str,
) -> Result<ndarray::Array2<f64>> {
    let spikes = rec
        .spikes
        .as_ref()
        .ok_or_else(|| Error::missing(rec.info.id.clone(), "dataset", "/units/spike_times"))?;
    let t = bin_spikes(spikes, &rec.units, table, event, spec)?;
    let t = t.select_region(region)?;
    t.epoch_mean_bins(0, t.n_bins())
}

/// Runs the maze part into `data_dir` (files) and returns the per-region table.
///
/// # Errors
/// Simulation, write, read-back and analysis errors.
pub fn run(data_dir: &Path, small: bool, seed: u64, progress: &Progress) -> Result<MazeDemo> {
    let mut opts = if small {
        MazeSimOptions::small()
    } else {
        MazeSimOptions::default()
    };
    opts.seed = seed;
    progress.log(&format!(
        "simulating {} maze sessions × {} units (seed {seed})",
        opts.n_sessions, opts.units_per_session
    ));
    let (sessions, truth) = simulate(&opts)?;
    let mut files = Vec::new();
    let mut stage = progress.stage("maze files", sessions.len() as u64);
    for rec in &sessions {
        let path = data_dir.join(format!("{}.maze.h5", rec.info.id));
        crate::io::maze::write(&path, rec)?;
        stage.inc(&path.display().to_string());
        files.push(path);
    }
    stage.finish();
    // Read back through the loader: the analysis sees exactly what a lab's export would give.
    let loaded: Vec<Recording> = files
        .iter()
        .map(|p| crate::io::maze::read(p))
        .collect::<Result<_>>()?;
    let mut regions = Vec::new();
    for spec in &truth.regions {
        let name = spec.spec.name.clone();
        let (mut goal, mut loc) = (Vec::new(), Vec::new());
        for rec in &loaded {
            // Goal after the cue, one row per trial.
            let x = window_counts(
                rec,
                &rec.trials,
                "goal_cue_time",
                &BinSpec::new(0.1, 0.6, 0.5),
                &name,
            )?;
            let goals = rec.trials.labels(&["goal"])?;
            let r = split_half(x.view(), goals.codes(), &SplitHalfOptions::default())?;
            if r.estimate.is_finite() {
                goal.push(r.estimate);
            }
            // Location at option onset, one row per step.
            let steps = rec
                .steps
                .as_ref()
                .ok_or_else(|| Error::missing(rec.info.id.clone(), "dataset", "/steps"))?;
            let mut table = TrialTable::from_f64_columns(
                &[("options_time", steps.options_time_s.clone())],
                format!("{}: steps", rec.info.id),
            )?;
            table.set_column(Column::new("x".into(), &steps.x))?;
            table.set_column(Column::new("y".into(), &steps.y))?;
            let x = window_counts(
                rec,
                &table,
                "options_time",
                &BinSpec::new(0.0, 0.2, 0.2),
                &name,
            )?;
            let places = table.labels(&["x", "y"])?;
            let r = split_half(x.view(), places.codes(), &SplitHalfOptions::default())?;
            if r.estimate.is_finite() {
                loc.push(r.estimate);
            }
        }
        let mean = |v: &[f64]| {
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        regions.push(MazeRegionStability {
            region: name,
            goal_gain_hz: spec.spec.goal_gain_hz,
            location_gain_hz: spec.spec.location_gain_hz,
            goal_shesha: mean(&goal),
            location_shesha: mean(&loc),
            n_sessions: (goal.len(), loc.len()),
        });
    }
    Ok(MazeDemo {
        files,
        n_units: loaded.iter().map(|r| r.units.len()).sum(),
        n_trials: loaded.iter().map(|r| r.trials.n_trials()).sum(),
        n_steps: loaded
            .iter()
            .map(|r| r.steps.as_ref().map_or(0, |s| s.len()))
            .sum(),
        regions,
    })
}
