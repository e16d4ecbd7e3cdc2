//! `neuropop demo`: simulate, write in the loaders' formats, run every analysis, summarise in
//! `DIR/report.html`.

pub mod maze;

use crate::pipeline::steinmetz::{Steinmetz, SteinmetzConfig, SteinmetzOutput};
use crate::pipeline::{RunOptions, RunSummary, Study};
use crate::report::{Report, Section, Table, fmt3};
use crate::rsa::shesha::{SplitHalfOptions, split_half};
use crate::sim::steinmetz::{SteinmetzSimOptions, simulate};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Seed of the simulations when none is given.
pub const DEFAULT_SEED: u64 = 2019;

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
        crate::io::steinmetz_npz::write(&path, chunk)?;
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
    let run_opts = RunOptions {
        force: true,
        shard: None,
        quiet,
        threads: None,
    };
    let summary = crate::pipeline::steinmetz::run(
        &data_files,
        &pipe_out,
        &SteinmetzConfig::default(),
        &run_opts,
    )?;
    if !quiet {
        println!(
            "Steinmetz replication: {} area-sessions, {} skipped, {} failed sessions -> {}",
            summary.output.rows.len(),
            summary.output.skipped.len(),
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
    demo.report = write_demo_report(out, &demo, &summary)?;
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

/// The demo's report: what was simulated, the planted tuning vs the recovered Shesha per area,
/// then the Steinmetz pipeline's sections.
///
/// # Errors
/// An unreadable figure of the Steinmetz run.
pub fn demo_report(demo: &DemoSummary, run: &RunSummary<SteinmetzOutput>) -> Result<Report> {
    let mut r = Report::new("neuropop demo report");
    r.push(Section::Paragraph(format!(
        "neuropop {} simulated Steinmetz-like recordings with planted per-area tuning, wrote \
         them in the NMA .npz format and ran the analyses on them.",
        env!("CARGO_PKG_VERSION")
    )));
    r.push(Section::Heading {
        level: 2,
        text: "Simulated data".into(),
    });
    let mut trials_by_session = std::collections::BTreeMap::new();
    for row in &run.output.rows {
        trials_by_session.insert(row.session, row.n_trials);
    }
    r.push(Section::List(vec![
        format!(
            "{} sessions in {} files: {}",
            demo.n_sessions,
            demo.data_files.len(),
            demo.data_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "{} trials in the analysed sessions",
            trials_by_session.values().sum::<usize>()
        ),
        format!(
            "{} area-sessions with ≥ 10 neurons, {} neurons in them",
            run.output.rows.len(),
            run.output.rows.iter().map(|x| x.n_neurons).sum::<usize>()
        ),
    ]));
    r.push(Section::Table(Table {
        caption: Some("Planted truth vs recovered".into()),
        header: [
            "area",
            "planted tuning gain",
            "mean Shesha",
            "area-sessions",
        ]
        .map(String::from)
        .to_vec(),
        rows: demo
            .area_stability
            .iter()
            .map(|(a, g, m, n)| vec![a.clone(), format!("{g:.2}"), fmt3(*m), n.to_string()])
            .collect(),
        note: Some(
            "Areas with a larger planted tuning gain should have a higher split-half Shesha \
             (odd vs even trials, cosine RDMs over contrast conditions)."
                .into(),
        ),
    }));
    for s in Steinmetz.report_sections(run)? {
        r.push(s);
    }
    if let Some(m) = &demo.maze {
        r.push(Section::Heading {
            level: 2,
            text: "Monkey maze recordings (simulated)".into(),
        });
        r.push(Section::Paragraph(format!(
            "{} sessions, {} units, {} trials and {} choice steps were simulated as spike \
             times, written as maze v1 HDF5 files ({}) and read back through the maze loader.",
            m.files.len(),
            m.n_units,
            m.n_trials,
            m.n_steps,
            m.files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
        r.push(Section::Table(Table {
            caption: Some("Planted codes vs recovered geometric stability, per region".into()),
            header: [
                "region",
                "planted goal gain (Hz)",
                "goal Shesha",
                "planted location gain (Hz)",
                "location Shesha",
                "sessions",
            ]
            .map(String::from)
            .to_vec(),
            rows: m
                .regions
                .iter()
                .map(|x| {
                    vec![
                        x.region.clone(),
                        format!("{:.1}", x.goal_gain_hz),
                        fmt3(x.goal_shesha),
                        format!("{:.1}", x.location_gain_hz),
                        fmt3(x.location_shesha),
                        format!("{} / {}", x.n_sessions.0, x.n_sessions.1),
                    ]
                })
                .collect(),
            note: Some(
                "Goal Shesha: odd/even split-half stability of the 4-goal RDM of spike counts \
                 0.1–0.6 s after the goal cue (one row per trial). Location Shesha: the same for \
                 the RDM over grid positions, counts 0–0.2 s after the choice options appear \
                 (one row per step). dmPFC carries the strongest planted goal code, vlPFC the \
                 strongest location code."
                    .into(),
            ),
        }));
    }
    Ok(r)
}

/// Writes the demo's report to `out/report.html` and returns its path.
///
/// # Errors
/// See [`demo_report`] and [`Report::write`].
pub fn write_demo_report(
    out: &Path,
    demo: &DemoSummary,
    run: &RunSummary<SteinmetzOutput>,
) -> Result<PathBuf> {
    let path = out.join("report.html");
    demo_report(demo, run)?.write(&path)?;
    Ok(path)
}
