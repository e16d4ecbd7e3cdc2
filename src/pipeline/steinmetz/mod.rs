//! One-command replication of the published Steinmetz "Shesha" analysis (`neuropop shesha
//! steinmetz`; see `docs/pipelines.md` and `tests/fixtures/steinmetz/SCRIPT_NOTES.md`), the
//! first study on the pipeline framework ([`crate::pipeline::study`]).
//!
//! * [`config`] — settings (TOML), defaults = the published analysis;
//! * [`analyse`] — what one session yields (a row per kept area);
//! * [`summary`] — regional summary and behaviour coupling across sessions;
//! * [`rows`] — the tables' row types and the run's output;
//! * [`figures`], [`report`] — its figures and its section of `report.html`.

pub mod analyse;
pub mod config;
pub mod figures;
pub mod report;
pub mod rows;
pub mod summary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::data::Recording;
use crate::data::counts::CountTensor;
use crate::error::Result;
use crate::io::steinmetz_npz;
use crate::pipeline::figures::FiguresReport;
use crate::pipeline::manifest::{SessionStatus, Status};
use crate::pipeline::shard::Shard;
use crate::pipeline::study::{self, Analysed, RunOptions, RunSummary, SessionRecord, Study};
use crate::pipeline::table::{read_rows, write_table};
use crate::report::Section;

pub use config::{RegionGroup, SteinmetzConfig};
pub use rows::{AreaSessionRow, CouplingRow, RegionalRow, Skip, SteinmetzOutput};

/// The Steinmetz replication as a [`Study`]: inputs are NMA npz files, sessions are numbered
/// across them in order, each session gives a row per area with enough neurons.
#[derive(Clone, Copy, Debug, Default)]
pub struct Steinmetz;

impl Study for Steinmetz {
    const NAME: &'static str = "steinmetz";
    type Config = SteinmetzConfig;
    /// A session's trials, units and metadata, and its stored spike counts.
    type Session = (Recording, CountTensor);
    type SessionOutput = analyse::SessionResult;
    type Output = SteinmetzOutput;

    fn load(&self, input: &Path, _config: &SteinmetzConfig) -> Result<Vec<Result<Self::Session>>> {
        steinmetz_npz::read_with_counts(input)
    }

    fn session_id(&self, session: &Self::Session) -> String {
        session.0.info.id.clone()
    }

    fn analyse(
        &self,
        (rec, counts): &Self::Session,
        index: usize,
        config: &SteinmetzConfig,
    ) -> Result<Analysed<Self::SessionOutput>> {
        let n = rec.trials.n_trials();
        if n < config.min_trials {
            return Ok(Analysed::Skipped(format!(
                "n_trials={n} < {}",
                config.min_trials
            )));
        }
        analyse::analyse_session(rec, counts, index, config).map(Analysed::Done)
    }

    fn combine(
        &self,
        sessions: Vec<SessionRecord<Self::SessionOutput>>,
        config: &SteinmetzConfig,
        _shard: Option<Shard>,
    ) -> Result<SteinmetzOutput> {
        let mut out = SteinmetzOutput::default();
        for s in sessions {
            match (s.status.status, s.output) {
                (Status::Skipped, _) => out.skipped.push(Skip {
                    session: s.index,
                    area: None,
                    reason: s.status.detail.unwrap_or_default(),
                }),
                (_, Some((rows, skipped))) => {
                    for (row, rdms) in rows {
                        if let Some(rdms) = rdms {
                            out.split_half_rdms
                                .insert((s.index, row.area.clone()), rdms);
                        }
                        out.rows.push(row);
                    }
                    out.skipped.extend(skipped);
                }
                _ => {}
            }
        }
        out.regional = summary::regional(&out.rows, config)?;
        out.coupling = summary::coupling(&out.rows, config)?;
        Ok(out)
    }

    fn write_tables(&self, output: &SteinmetzOutput, dir: &Path) -> Result<()> {
        write_table(dir, "area_sessions", &output.rows)?;
        write_table(dir, "skipped", &output.skipped)?;
        write_table(dir, "regional_summary", &output.regional)?;
        write_table(dir, "behavior_coupling", &output.coupling)
    }

    fn read_parts(&self, dirs: &[PathBuf], config: &SteinmetzConfig) -> Result<SteinmetzOutput> {
        let mut out = SteinmetzOutput::default();
        for d in dirs {
            out.rows.extend(read_rows::<AreaSessionRow>(
                &d.join("area_sessions.parquet"),
            )?);
            out.skipped
                .extend(read_rows::<Skip>(&d.join("skipped.parquet"))?);
        }
        // Stable sorts keep each session's area order.
        out.rows.sort_by_key(|r| r.session);
        out.skipped.sort_by_key(|s| s.session);
        out.regional = summary::regional(&out.rows, config)?;
        out.coupling = summary::coupling(&out.rows, config)?;
        Ok(out)
    }

    fn figures(
        &self,
        output: &SteinmetzOutput,
        dir: &Path,
        config: &SteinmetzConfig,
        sessions: &[SessionStatus],
    ) -> FiguresReport {
        figures::write_figures(
            dir,
            output,
            &figures::sources_from_statuses(sessions),
            config,
        )
    }

    fn counts(&self, output: &SteinmetzOutput) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("area_sessions".to_string(), output.rows.len().into()),
            ("skipped".to_string(), output.skipped.len().into()),
        ])
    }

    fn report_sections(&self, run: &RunSummary<SteinmetzOutput>) -> Result<Vec<Section>> {
        report::sections(run, 10)
    }
}

/// Runs the Steinmetz replication on `files` into `out` (see [`study::run`]): tables
/// `area_sessions`, `skipped`, `regional_summary`, `behavior_coupling` (CSV and Parquet),
/// figures and `manifest.json`.
///
/// # Errors
/// As [`study::run`].
pub fn run(
    files: &[PathBuf],
    out: &Path,
    config: &SteinmetzConfig,
    opts: &RunOptions,
) -> Result<RunSummary<SteinmetzOutput>> {
    study::run(&Steinmetz, files, out, config, opts)
}

/// Merges sharded Steinmetz runs (see [`study::merge`]).
///
/// # Errors
/// As [`study::merge`].
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    config: &SteinmetzConfig,
    force: bool,
) -> Result<RunSummary<SteinmetzOutput>> {
    study::merge(&Steinmetz, dirs, out, config, force)
}
