//! `neuropop demo`: simulate, write in the loaders' formats, run every analysis, summarise in
//! `DIR/report.html`.

pub mod maze;

use crate::io::pickle_write::write_object_npz;
use crate::rsa::shesha::{SplitHalfOptions, split_half};
use crate::sim::steinmetz::{SteinmetzSimOptions, simulate, to_nma_dict};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// What the demo produced.
#[derive(Clone, Debug)]
pub struct DemoSummary {
    /// The simulated NMA-format files.
    pub data_files: Vec<PathBuf>,
    /// Number of sessions simulated.
    pub n_sessions: usize,
    /// Planted tuning gain and mean odd/even Shesha per area (area, gain, mean shesha, n).
    pub area_stability: Vec<(String, f64, f64, usize)>,
    /// The maze part: files written and per-region stability recovered from them.
    pub maze: Option<maze::MazeDemo>,
    /// The HTML report (`DIR/report.html`).
    pub report: PathBuf,
}

/// Runs the demo into `out`.
///
/// # Errors
/// Output-directory, simulation and I/O errors.
pub fn run(out: &Path, small: bool, force: bool, seed: u64, quiet: bool) -> Result<DemoSummary> {
    crate::output::prepare_dir(out, force)?;
    let mut opts = if small {
        SteinmetzSimOptions::small()
    } else {
        SteinmetzSimOptions::default()
    };
    opts.seed = seed;
    let progress = crate::progress::Progress::new("demo", quiet);
    let log = |m: &str| progress.log(m);
    log(&format!(
        "simulating {} Steinmetz-like sessions (seed {seed})",
        opts.n_sessions
    ));
    let (sessions, truth) = simulate(&opts)?;
    let data_dir = out.join("data");
    std::fs::create_dir_all(&data_dir).map_err(|e| Error::io(&data_dir, e))?;
    // Two files, like steinmetz_part0/part1.
    let half = sessions.len().div_ceil(2);
    let mut data_files = Vec::new();
    for (k, chunk) in sessions.chunks(half.max(1)).enumerate() {
        let path = data_dir.join(format!("steinmetz_sim_part{k}.npz"));
        let dicts = chunk.iter().map(to_nma_dict).collect::<Result<Vec<_>>>()?;
        write_object_npz(&path, "dat", dicts)?;
        log(&format!(
            "wrote {} ({} sessions)",
            path.display(),
            chunk.len()
        ));
        data_files.push(path);
    }
    let mut per_area: Vec<(String, f64, Vec<f64>)> = truth
        .areas
        .iter()
        .map(|a| (a.name.clone(), a.tuning_gain, Vec::new()))
        .collect();
    for rec in &sessions {
        let Some(t) = &rec.binned else { continue };
        let labels = rec.trials.labels(&["contrast_left", "contrast_right"])?;
        for (area, n) in rec.units.region_counts() {
            if n < 10 {
                continue;
            }
            let x = t.select_region(&area)?.epoch_mean_bins(50, 100)?;
            let r = split_half(x.view(), labels.codes(), &SplitHalfOptions::default())?;
            if let Some(e) = per_area.iter_mut().find(|e| e.0 == area)
                && r.estimate.is_finite()
            {
                e.2.push(r.estimate);
            }
        }
    }
    let area_stability: Vec<(String, f64, f64, usize)> = per_area
        .into_iter()
        .map(|(a, g, v)| {
            let m = if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            };
            (a, g, m, v.len())
        })
        .collect();
    if !quiet {
        println!(
            "neuropop demo: simulated {} sessions, written to {}",
            sessions.len(),
            data_dir.display()
        );
        println!(
            "{:<8} {:>12} {:>14} {:>6}",
            "area", "planted gain", "mean shesha", "n"
        );
        for (a, g, m, n) in &area_stability {
            println!("{a:<8} {g:>12.2} {m:>14.3} {n:>6}");
        }
    }
    let pipe_out = out.join("shesha_steinmetz");
    log(&format!(
        "running the Steinmetz Shesha replication pipeline into {}",
        pipe_out.display()
    ));
    let run_opts = crate::pipeline::RunOptions {
        force: true,
        shard: None,
        quiet,
        threads: None,
    };
    let summary = crate::pipeline::run(
        &data_files,
        &pipe_out,
        &crate::pipeline::SteinmetzConfig::default(),
        &run_opts,
    )?;
    if !quiet {
        println!(
            "Steinmetz replication: {} area-sessions, {} skipped, {} failed sessions -> {}",
            summary.rows.len(),
            summary.skipped.len(),
            summary.n_failures,
            pipe_out.display()
        );
    }
    let maze = maze::run(&data_dir, small, seed, &progress)?;
    if !quiet {
        println!(
            "Maze: {} sessions, {} units, {} trials, {} choice steps -> {}",
            maze.files.len(),
            maze.n_units,
            maze.n_trials,
            maze.n_steps,
            data_dir.display()
        );
        println!(
            "{:<8} {:>11} {:>12} {:>15} {:>16}",
            "region", "goal gain", "goal shesha", "location gain", "location shesha"
        );
        for r in &maze.regions {
            println!(
                "{:<8} {:>11.1} {:>12.3} {:>15.1} {:>16.3}",
                r.region, r.goal_gain_hz, r.goal_shesha, r.location_gain_hz, r.location_shesha
            );
        }
    }
    let mut demo = DemoSummary {
        data_files,
        n_sessions: sessions.len(),
        area_stability,
        maze: Some(maze),
        report: PathBuf::new(),
    };
    demo.report = crate::report::write_demo_report(out, &demo, &summary)?;
    if !quiet {
        println!(
            "neuropop demo done: data in {}, Steinmetz replication in {}, report {}",
            data_dir.display(),
            pipe_out.display(),
            demo.report.display()
        );
    }
    Ok(demo)
}
