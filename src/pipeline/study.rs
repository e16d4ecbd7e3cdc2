//! The framework every batch pipeline runs on. A pipeline is a [`Study`]: it says how to load
//! an input into sessions, what one session yields, how sessions combine into tables, which
//! figures and report sections it makes. [`run`] and [`merge`] do the rest once for all
//! studies: output-directory safety, threads, input hashing, per-session status, shards,
//! progress, stage timings, tables, figures and `manifest.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::figures::FiguresReport;
use super::manifest::{InputFile, Manifest, Part, SessionStatus, Status, git_commit, sha256_input};
use super::shard::Shard;
use crate::error::{Error, Result};
use crate::report::Section;

/// The configuration of a study: TOML with defaults for every key, unknown keys refused.
pub trait StudyConfig:
    Serialize + DeserializeOwned + Default + Clone + std::fmt::Debug + Sync
{
    /// The master seed of every random step.
    fn seed(&self) -> u64;
    /// Sets the master seed (`--seed` overrides the config file).
    fn set_seed(&mut self, seed: u64);
    /// Checks the values are usable.
    ///
    /// # Errors
    /// [`Error::Config`] naming the bad key.
    fn check(&self) -> Result<()>;
}

/// Parses a study's TOML config (missing keys take their defaults) and checks it.
///
/// # Errors
/// [`Error::Config`] for invalid TOML, unknown keys or inconsistent values, naming `source`.
pub fn config_from_toml<C: StudyConfig>(text: &str, source: &str) -> Result<C> {
    let c: C = toml::from_str(text).map_err(|e| Error::config(source, e.to_string()))?;
    c.check()
        .map_err(|e| Error::config(source, e.to_string()))?;
    Ok(c)
}

/// Reads a study's config from a TOML file, or its defaults without one.
///
/// # Errors
/// [`Error::Io`] naming the file, or as [`config_from_toml`].
pub fn load_config<C: StudyConfig>(path: Option<&Path>) -> Result<C> {
    match path {
        None => Ok(C::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            config_from_toml(&text, &p.display().to_string())
        }
    }
}

/// The default config of a study as a commented TOML document (`neuropop config print NAME`).
pub fn default_toml<C: StudyConfig>(title: &str) -> String {
    let body = toml::to_string_pretty(&C::default())
        .unwrap_or_else(|e| format!("# could not serialise the default config: {e}\n"));
    format!("# neuropop {title} configuration (defaults = the published analysis)\n\n{body}")
}

/// What analysing one session gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Analysed<T> {
    /// The session's output.
    Done(T),
    /// The session was left out on purpose, with the reason.
    Skipped(String),
}

/// One session as [`Study::combine`] sees it: its global index, status and output (`None`
/// when it was skipped or failed).
#[derive(Debug)]
pub struct SessionRecord<T> {
    /// Global session index.
    pub index: usize,
    /// Its status as recorded in the manifest.
    pub status: SessionStatus,
    /// Its output when analysed.
    pub output: Option<T>,
}

/// A batch pipeline. See `docs/architecture.md`, "How to add a pipeline".
pub trait Study: Sync {
    /// Name in manifests, progress lines and `neuropop config print NAME`.
    const NAME: &'static str;
    /// Configuration (TOML).
    type Config: StudyConfig;
    /// One loaded session.
    type Session: Send;
    /// What one session yields.
    type SessionOutput: Send;
    /// Everything the run produced (rows of every table, summaries, what figures need).
    type Output: Send;

    /// Whether `--shard` splits the sessions (true) or the study applies the shard itself in
    /// [`Study::combine`] (false, e.g. when every shard needs all sessions).
    const SHARD_SESSIONS: bool = true;

    /// Reads one input (file or folder) into its sessions, in order; a session that cannot be
    /// read is an `Err` of its own (recorded as failed) so it does not hide the others.
    ///
    /// # Errors
    /// The loader's error: the whole input is recorded as failed.
    fn load(&self, input: &Path, config: &Self::Config) -> Result<Vec<Result<Self::Session>>>;

    /// A session's id for logs and the manifest.
    fn session_id(&self, session: &Self::Session) -> String;

    /// Analyses one session (global index `index`).
    ///
    /// # Errors
    /// Any error: the session is recorded as failed and the run goes on.
    fn analyse(
        &self,
        session: &Self::Session,
        index: usize,
        config: &Self::Config,
    ) -> Result<Analysed<Self::SessionOutput>>;

    /// Combines the sessions (in session order) into the run's output.
    ///
    /// # Errors
    /// Errors of the cross-session analyses (the run fails).
    fn combine(
        &self,
        sessions: Vec<SessionRecord<Self::SessionOutput>>,
        config: &Self::Config,
        shard: Option<Shard>,
    ) -> Result<Self::Output>;

    /// Writes the output's tables into `dir` (see [`super::table::write_table`]).
    ///
    /// # Errors
    /// Table or write errors.
    fn write_tables(&self, output: &Self::Output, dir: &Path) -> Result<()>;

    /// Reads the tables of shard outputs and recomputes the cross-session summaries
    /// (`merge`).
    ///
    /// # Errors
    /// An unreadable or inconsistent part.
    fn read_parts(&self, dirs: &[PathBuf], config: &Self::Config) -> Result<Self::Output>;

    /// Writes the figures into `dir/figures/`; a figure that fails is recorded, not fatal.
    /// `sessions` says where each session came from (for figures that re-read data).
    fn figures(
        &self,
        output: &Self::Output,
        dir: &Path,
        config: &Self::Config,
        sessions: &[SessionStatus],
    ) -> FiguresReport;

    /// Counts for the manifest and the closing log line (rows per table, skipped items, …).
    fn counts(&self, output: &Self::Output) -> BTreeMap<String, serde_json::Value>;

    /// The study's sections of `report.html` (the framework adds provenance).
    ///
    /// # Errors
    /// An unreadable figure.
    fn report_sections(&self, run: &RunSummary<Self::Output>) -> Result<Vec<Section>>;
}

/// Options of one run (not part of the study's config: they do not change any number).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Write into a non-empty output directory.
    pub force: bool,
    /// Process only this shard.
    pub shard: Option<Shard>,
    /// No progress output.
    pub quiet: bool,
    /// Rayon threads (None: rayon's default).
    pub threads: Option<usize>,
}

/// Everything a run (or merge) produced; also written to its output directory.
#[derive(Debug)]
pub struct RunSummary<O> {
    /// Output directory.
    pub out_dir: PathBuf,
    /// The study's output.
    pub output: O,
    /// Per-session status (after a merge: the parts' statuses).
    pub sessions: Vec<SessionStatus>,
    /// Failed sessions or inputs.
    pub n_failures: usize,
    /// Figures written and failed.
    pub figures: FiguresReport,
    /// The manifest written.
    pub manifest: Manifest,
}

impl<O> RunSummary<O> {
    /// Whether any session or input failed.
    pub fn has_failures(&self) -> bool {
        self.n_failures > 0
    }

    /// A one-line account: counts, skips, failures, where.
    pub fn line(&self) -> String {
        let counts: Vec<String> = self
            .manifest
            .counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!(
            "{}: {}; {} failed -> {}",
            self.manifest.pipeline,
            counts.join(", "),
            self.n_failures,
            self.out_dir.display()
        )
    }

    /// `Err` naming the failures when any session or input failed (the CLI's exit status).
    ///
    /// # Errors
    /// [`Error::Invalid`] with the number of failures and the first reasons.
    pub fn ok_or_failures(&self) -> Result<()> {
        if !self.has_failures() {
            return Ok(());
        }
        let reasons: Vec<String> = self
            .sessions
            .iter()
            .filter(|s| s.status == Status::Failed)
            .take(3)
            .map(|s| {
                format!(
                    "{}{}: {}",
                    s.file.display(),
                    s.session.map_or(String::new(), |i| format!(" session {i}")),
                    s.detail.as_deref().unwrap_or("")
                )
            })
            .collect();
        Err(Error::invalid(
            format!("{} pipeline", self.manifest.pipeline),
            "every session to succeed",
            format!(
                "{} failed (see manifest.json){}{}",
                self.n_failures,
                if reasons.is_empty() { "" } else { ": " },
                reasons.join("; ")
            ),
        ))
    }
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    b.build()
        .map_err(|e| Error::config("threads", e.to_string()))
}

/// Runs `study` on `inputs` (sessions numbered across inputs in order) into `out`: tables,
/// figures and `manifest.json`. A failing input or session is recorded (manifest,
/// [`RunSummary::n_failures`]) and the others still complete.
///
/// # Errors
/// Invalid config, a non-empty `out` without `force`, a thread-pool failure, a failing
/// cross-session step or a write failure.
pub fn run<S: Study>(
    study: &S,
    inputs: &[PathBuf],
    out: &Path,
    config: &S::Config,
    opts: &RunOptions,
) -> Result<RunSummary<S::Output>> {
    config.check()?;
    crate::output::prepare_dir(out, opts.force)?;
    let pool = thread_pool(opts.threads)?;
    pool.install(|| run_inner(study, inputs, out, config, opts, pool.current_num_threads()))
}

fn run_inner<S: Study>(
    study: &S,
    inputs: &[PathBuf],
    out: &Path,
    config: &S::Config,
    opts: &RunOptions,
    threads: usize,
) -> Result<RunSummary<S::Output>> {
    let t_all = Instant::now();
    let progress = crate::progress::Progress::new(S::NAME, opts.quiet);
    let mut bar = progress.stage("sessions", 0);
    let mut stages: BTreeMap<String, f64> = BTreeMap::new();
    // Inputs are hashed on their own thread while sessions are read and analysed: readers
    // are mostly single-threaded, so the hash runs on otherwise idle time.
    let hasher = {
        let files = inputs.to_vec();
        std::thread::spawn(move || {
            let t = Instant::now();
            let hashes: Vec<Result<(u64, String)>> =
                files.iter().map(|p| sha256_input(p)).collect();
            (hashes, t.elapsed().as_secs_f64())
        })
    };
    let mut input_records: Vec<InputFile> = inputs.iter().map(|p| InputFile::new(p)).collect();
    let (mut t_load, mut t_analyse) = (0.0, 0.0);
    let mut records = Vec::new();
    let mut statuses = Vec::new();
    let mut n_failures = 0;
    let mut g = 0usize;
    let shard = opts.shard.filter(|_| S::SHARD_SESSIONS);
    for (fi, path) in inputs.iter().enumerate() {
        let t = Instant::now();
        let loaded = study.load(path, config);
        t_load += t.elapsed().as_secs_f64();
        let sessions = match loaded {
            Ok(v) => v,
            Err(e) => {
                n_failures += 1;
                bar.note(&format!("{}: failed: {e}", path.display()));
                input_records[fi].error = Some(e.to_string());
                statuses.push(SessionStatus {
                    session: None,
                    file: path.clone(),
                    index_in_file: None,
                    id: None,
                    status: Status::Failed,
                    detail: Some(e.to_string()),
                });
                continue;
            }
        };
        input_records[fi].n_sessions = Some(sessions.len());
        bar.add_total(sessions.len() as u64);
        for (k, session) in sessions.into_iter().enumerate() {
            let index = g;
            g += 1;
            if let Some(s) = shard
                && !s.contains(index)
            {
                bar.inc(&format!("session {index}: other shard"));
                continue;
            }
            let id = session.as_ref().ok().map(|s| study.session_id(s));
            let t = Instant::now();
            let result = session.and_then(|s| study.analyse(&s, index, config));
            t_analyse += t.elapsed().as_secs_f64();
            let (status, detail, output) = match result {
                Ok(Analysed::Done(o)) => (Status::Ok, None, Some(o)),
                Ok(Analysed::Skipped(reason)) => (Status::Skipped, Some(reason), None),
                Err(e) => {
                    n_failures += 1;
                    bar.note(&format!("session {index} failed: {e}"));
                    (Status::Failed, Some(e.to_string()), None)
                }
            };
            bar.inc(&format!(
                "session {index} {}: {}",
                id.as_deref().unwrap_or(""),
                match status {
                    Status::Ok => "ok",
                    Status::Skipped => "skipped",
                    Status::Failed => "failed",
                }
            ));
            let status = SessionStatus {
                session: Some(index),
                file: path.clone(),
                index_in_file: Some(k),
                id,
                status,
                detail,
            };
            statuses.push(status.clone());
            records.push(SessionRecord {
                index,
                status,
                output,
            });
        }
    }
    bar.finish();
    let t = Instant::now();
    match hasher.join() {
        Ok((hashes, t_hash)) => {
            for (input, h) in input_records.iter_mut().zip(hashes) {
                match h {
                    Ok((size, hex)) => {
                        input.size_bytes = Some(size);
                        input.sha256 = Some(hex);
                    }
                    // An input that could not be hashed was also reported by the reader
                    // unless it changed in between; keep the first error.
                    Err(e) => {
                        input.error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            stages.insert("hash_inputs_s".into(), t_hash);
        }
        Err(_) => {
            for input in &mut input_records {
                input
                    .error
                    .get_or_insert_with(|| "hashing thread panicked".into());
            }
        }
    }
    stages.insert("hash_wait_s".into(), t.elapsed().as_secs_f64());
    stages.insert("load_s".into(), t_load);
    stages.insert("analyse_s".into(), t_analyse);
    let t = Instant::now();
    let output = study.combine(records, config, opts.shard)?;
    stages.insert("summaries_s".into(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    study.write_tables(&output, out)?;
    stages.insert("write_tables_s".into(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let figures = study.figures(&output, out, config, &statuses);
    for f in &figures.failures {
        progress.log(&format!("figure {} not written: {}", f.figure, f.error));
    }
    stages.insert("figures_s".into(), t.elapsed().as_secs_f64());
    stages.insert("total_s".into(), t_all.elapsed().as_secs_f64());
    let manifest = Manifest {
        pipeline: S::NAME.to_string(),
        neuropop_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(),
        config: config_value(config)?,
        seed: config.seed(),
        shard: opts.shard,
        threads,
        inputs: input_records,
        sessions: statuses.clone(),
        parts: Vec::new(),
        counts: study.counts(&output),
        n_failures,
        figures: figures.clone(),
        stage_wall_time_s: stages,
    };
    manifest.write(out)?;
    let summary = RunSummary {
        out_dir: out.to_path_buf(),
        output,
        sessions: statuses,
        n_failures,
        figures,
        manifest,
    };
    progress.log(&summary.line());
    Ok(summary)
}

fn config_value<C: Serialize>(config: &C) -> Result<serde_json::Value> {
    serde_json::to_value(config)
        .map_err(|e| Error::invalid("config", "serialisable", e.to_string()))
}

/// Merges the outputs of sharded runs into `out`: the study reads their tables and recomputes
/// the cross-session summaries; figures and a manifest listing the parts are written.
///
/// # Errors
/// Unreadable parts, a non-empty `out` without `force`, or write failures.
pub fn merge<S: Study>(
    study: &S,
    dirs: &[PathBuf],
    out: &Path,
    config: &S::Config,
    force: bool,
) -> Result<RunSummary<S::Output>> {
    config.check()?;
    let output = study.read_parts(dirs, config)?;
    let mut parts = Vec::new();
    let mut sessions = Vec::new();
    let mut n_failures = 0;
    for d in dirs {
        let m = Manifest::read(d).ok();
        if let Some(m) = &m {
            sessions.extend(m.sessions.iter().cloned());
            n_failures += m.n_failures;
        }
        parts.push(Part {
            dir: d.clone(),
            manifest: m.map(|m| config_value(&m)).transpose()?,
        });
    }
    sessions.sort_by_key(|s| s.session);
    crate::output::prepare_dir(out, force)?;
    study.write_tables(&output, out)?;
    let figures = study.figures(&output, out, config, &sessions);
    let manifest = Manifest {
        pipeline: format!("{}-merge", S::NAME),
        neuropop_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: git_commit(),
        config: config_value(config)?,
        seed: config.seed(),
        shard: None,
        threads: rayon::current_num_threads(),
        inputs: Vec::new(),
        sessions: sessions.clone(),
        parts,
        counts: study.counts(&output),
        n_failures,
        figures: figures.clone(),
        stage_wall_time_s: BTreeMap::new(),
    };
    manifest.write(out)?;
    Ok(RunSummary {
        out_dir: out.to_path_buf(),
        output,
        sessions,
        n_failures,
        figures,
        manifest,
    })
}

/// The provenance sections of a run's report: pipeline, version, commit, seed, threads, input
/// hashes and stage wall times from its manifest.
pub fn provenance_sections(m: &Manifest) -> Vec<Section> {
    use crate::report::Table;
    let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
    let mut s = vec![Section::Heading {
        level: 3,
        text: "Provenance (manifest.json)".into(),
    }];
    s.push(Section::Table(Table {
        caption: None,
        header: vec!["item".into(), "value".into()],
        rows: vec![
            vec!["pipeline".into(), m.pipeline.clone()],
            vec!["neuropop_version".into(), m.neuropop_version.clone()],
            vec!["git_commit".into(), or_unknown(m.git_commit.clone())],
            vec!["seed".into(), m.seed.to_string()],
            vec!["threads".into(), m.threads.to_string()],
        ],
        note: None,
    }));
    if !m.inputs.is_empty() {
        s.push(Section::Table(Table {
            caption: Some("Input files".into()),
            header: ["path", "bytes", "SHA-256", "sessions"]
                .map(String::from)
                .to_vec(),
            rows: m
                .inputs
                .iter()
                .map(|i| {
                    vec![
                        i.path.display().to_string(),
                        or_unknown(i.size_bytes.map(|v| v.to_string())),
                        or_unknown(i.sha256.clone()),
                        or_unknown(i.n_sessions.map(|v| v.to_string())),
                    ]
                })
                .collect(),
            note: None,
        }));
    }
    if !m.stage_wall_time_s.is_empty() {
        s.push(Section::Table(Table {
            caption: Some("Wall time per stage".into()),
            header: vec!["stage".into(), "seconds".into()],
            rows: m
                .stage_wall_time_s
                .iter()
                .map(|(k, v)| vec![k.trim_end_matches("_s").to_string(), format!("{v:.3}")])
                .collect(),
            note: None,
        }));
    }
    s
}
