//! One-command replication of the published Steinmetz "Shesha" analysis
//! (see `docs/pipelines.md` and `tests/fixtures/steinmetz/SCRIPT_NOTES.md`).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::config::SteinmetzConfig;
use super::summary::{self, CouplingRow, RegionalRow};
use super::tangling::tangling;
use crate::data::Recording;
use crate::error::{Error, Result};
use crate::io::pickle::PyValue;
use crate::io::steinmetz_npz;
use crate::rsa::rdm::Rdm;
use crate::rsa::shesha::{
    CentroidDriftOptions, CrossValidatedRsaOptions, Folds, SplitHalfOptions,
    TemporalStabilityOptions, WhitenedSplitHalfOptions, centroid_drift, cross_validated_rsa,
    split_half, temporal_stability, tertile_stability, whitened_split_half,
};
use crate::stats::correlation::spearman;
use crate::stats::rng::derive_seed;

/// Columns of `area_sessions.csv`, in order.
pub const AREA_SESSION_COLUMNS: [&str; 22] = [
    "session",
    "area",
    "region_coarse",
    "n_neurons",
    "n_trials",
    "n_conditions",
    "shesha",
    "wuc",
    "rsa_cv",
    "shesha_temporal",
    "centroid_drift",
    "null_mean_drift",
    "null_std_drift",
    "z_score_drift",
    "stability_early_mid",
    "stability_mid_late",
    "tangling",
    "trial_neural_behavior_corr",
    "acc_early",
    "acc_late",
    "acc_change",
    "mean_accuracy",
];

/// One kept area in one session.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct AreaSessionRow {
    pub session: usize,
    pub area: String,
    pub region_coarse: String,
    pub n_neurons: usize,
    pub n_trials: usize,
    pub n_conditions: usize,
    pub shesha: f64,
    pub wuc: f64,
    pub rsa_cv: f64,
    pub shesha_temporal: f64,
    pub centroid_drift: f64,
    pub null_mean_drift: f64,
    pub null_std_drift: f64,
    pub z_score_drift: f64,
    pub stability_early_mid: f64,
    pub stability_mid_late: f64,
    pub tangling: f64,
    pub trial_neural_behavior_corr: f64,
    pub acc_early: f64,
    pub acc_late: f64,
    pub acc_change: f64,
    pub mean_accuracy: f64,
}

impl AreaSessionRow {
    fn floats(&self) -> [f64; 16] {
        [
            self.shesha,
            self.wuc,
            self.rsa_cv,
            self.shesha_temporal,
            self.centroid_drift,
            self.null_mean_drift,
            self.null_std_drift,
            self.z_score_drift,
            self.stability_early_mid,
            self.stability_mid_late,
            self.tangling,
            self.trial_neural_behavior_corr,
            self.acc_early,
            self.acc_late,
            self.acc_change,
            self.mean_accuracy,
        ]
    }
}

/// A skipped session (`area` empty) or area, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skip {
    /// Global session index.
    pub session: usize,
    /// Area, empty for a whole session.
    pub area: String,
    /// Why.
    pub reason: String,
}

/// What happened to one session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionStatus {
    /// Global session index (None when a whole file could not be read).
    pub session: Option<usize>,
    /// Input file.
    pub file: PathBuf,
    /// Index within the file.
    pub index_in_file: Option<usize>,
    /// `<mouse>_<date>` when known.
    pub id: Option<String>,
    /// `ok`, `skipped` or `failed`.
    pub status: String,
    /// Reason of a skip or the error of a failure.
    pub detail: Option<String>,
}

/// Options of one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Write into a non-empty output directory.
    pub force: bool,
    /// `(i, n)`: process only sessions with `index % n == i`.
    pub shard: Option<(usize, usize)>,
    /// No progress output.
    pub quiet: bool,
    /// Rayon threads (None: rayon's default).
    pub threads: Option<usize>,
}

/// Everything a run produced (also written to the output directory).
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// Output directory.
    pub out_dir: PathBuf,
    /// Area-session rows, ordered by session then area.
    pub rows: Vec<AreaSessionRow>,
    /// Skipped sessions and areas.
    pub skipped: Vec<Skip>,
    /// Per-session status.
    pub sessions: Vec<SessionStatus>,
    /// Regional summary.
    pub regional: Vec<RegionalRow>,
    /// Behaviour coupling.
    pub coupling: Vec<CouplingRow>,
    /// Number of failed sessions or files.
    pub n_failures: usize,
    /// Figures written to `figures/` (and figures that failed).
    pub figures: super::figures::FiguresReport,
    /// The odd/even split-half RDMs of every area-session with a defined split (`run` only;
    /// empty after `merge`), labelled by contrast pair.
    #[serde(skip)]
    pub split_half_rdms: super::figures::SplitHalfCache,
}

impl RunSummary {
    /// Whether any session or file failed.
    pub fn has_failures(&self) -> bool {
        self.n_failures > 0
    }
}

/// The shard `(SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT)` from the environment, if both
/// are set and valid.
pub fn shard_from_slurm() -> Option<(usize, usize)> {
    let id: usize = std::env::var("SLURM_ARRAY_TASK_ID")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let n: usize = std::env::var("SLURM_ARRAY_TASK_COUNT")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (n > 0 && id < n).then_some((id, n))
}

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

/// The odd/even split-half RDMs of one area-session, labelled `L<contrast_left>/R<contrast_right>`.
pub(crate) type SplitHalfRdms = (Rdm, Rdm);

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
        null_mean_drift: drift.null_mean,
        null_std_drift: drift.null_std,
        z_score_drift: drift.z_score,
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
type SessionResult = (Vec<(AreaSessionRow, Option<SplitHalfRdms>)>, Vec<Skip>);

/// Analyses one session: its rows and skipped areas.
fn analyse_session(
    rec: &Recording,
    (value, path, index): (&PyValue, &Path, usize),
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
                area: (*area).to_string(),
                reason: format!("n_neurons={} < {}", idx.len(), config.min_neurons),
            });
        } else {
            jobs.push((*area, idx));
        }
    }
    // Trial epoch means and condition time courses straight from the stored counts (no f64
    // tensor: the pipeline would only reduce it).
    let (x, courses) = steinmetz_npz::epoch_summaries(
        value,
        path,
        index,
        config.epoch_start_bin..config.epoch_stop_bin,
        &codes,
    )?;
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

#[derive(Serialize)]
struct InputFile {
    path: PathBuf,
    size_bytes: Option<u64>,
    sha256: Option<String>,
    n_sessions: Option<usize>,
    error: Option<String>,
}

/// Size and SHA-256 of a file, hashed from a memory map (no copies through a read buffer);
/// falls back to reading when the file cannot be mapped (e.g. a pipe).
fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    // SAFETY: read-only map of an input file; inputs must not be rewritten during a run
    // (the loader maps them too, see `npz::read_member_mapped`).
    let size = match unsafe { memmap2::MmapOptions::new().populate().map(&f) } {
        Ok(map) => {
            h.update(&map[..]);
            map.len() as u64
        }
        Err(_) => {
            let mut buf = vec![0u8; 1 << 20];
            let mut size = 0u64;
            loop {
                let k = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
                if k == 0 {
                    break;
                }
                size += k as u64;
                h.update(&buf[..k]);
            }
            size
        }
    };
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, hex))
}

fn fmt_f(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// `area_sessions.csv` text.
pub fn area_sessions_csv(rows: &[AreaSessionRow]) -> String {
    let mut s = AREA_SESSION_COLUMNS.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&format!(
            "{},{},{},{},{},{}",
            r.session, r.area, r.region_coarse, r.n_neurons, r.n_trials, r.n_conditions
        ));
        for v in r.floats() {
            s.push(',');
            s.push_str(&fmt_f(v));
        }
        s.push('\n');
    }
    s
}

fn area_sessions_frame(rows: &[AreaSessionRow]) -> Result<DataFrame> {
    let opt = |f: &dyn Fn(&AreaSessionRow) -> f64| -> Vec<Option<f64>> {
        rows.iter()
            .map(|r| {
                let v = f(r);
                v.is_finite().then_some(v)
            })
            .collect()
    };
    let mut cols: Vec<Column> = vec![
        Column::new(
            "session".into(),
            rows.iter().map(|r| r.session as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "area".into(),
            rows.iter().map(|r| r.area.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "region_coarse".into(),
            rows.iter()
                .map(|r| r.region_coarse.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "n_neurons".into(),
            rows.iter().map(|r| r.n_neurons as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "n_trials".into(),
            rows.iter().map(|r| r.n_trials as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "n_conditions".into(),
            rows.iter()
                .map(|r| r.n_conditions as u64)
                .collect::<Vec<_>>(),
        ),
    ];
    for (k, name) in AREA_SESSION_COLUMNS[6..].iter().enumerate() {
        cols.push(Column::new((*name).into(), opt(&|r| r.floats()[k])));
    }
    DataFrame::new_infer_height(cols).map_err(|e| Error::table("area_sessions table", e))
}

fn read_area_sessions_parquet(path: &Path) -> Result<Vec<AreaSessionRow>> {
    let f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let df = ParquetReader::new(f)
        .finish()
        .map_err(|e| Error::table(path.display().to_string(), e))?;
    let ctx = |e: PolarsError| Error::table(path.display().to_string(), e);
    let u = |name: &str| -> Result<Vec<usize>> {
        let c = df
            .column(name)
            .map_err(ctx)?
            .cast(&DataType::UInt64)
            .map_err(ctx)?;
        Ok(c.u64()
            .map_err(ctx)?
            .iter()
            .map(|v| v.unwrap_or(0) as usize)
            .collect())
    };
    let st = |name: &str| -> Result<Vec<String>> {
        let c = df.column(name).map_err(ctx)?;
        Ok(c.str()
            .map_err(ctx)?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect())
    };
    let f = |name: &str| -> Result<Vec<f64>> {
        let c = df
            .column(name)
            .map_err(ctx)?
            .cast(&DataType::Float64)
            .map_err(ctx)?;
        Ok(c.f64()
            .map_err(ctx)?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    };
    let (session, area, region, nn, nt, nc) = (
        u("session")?,
        st("area")?,
        st("region_coarse")?,
        u("n_neurons")?,
        u("n_trials")?,
        u("n_conditions")?,
    );
    let fl: Vec<Vec<f64>> = AREA_SESSION_COLUMNS[6..]
        .iter()
        .map(|n| f(n))
        .collect::<Result<_>>()?;
    Ok((0..df.height())
        .map(|i| AreaSessionRow {
            session: session[i],
            area: area[i].clone(),
            region_coarse: region[i].clone(),
            n_neurons: nn[i],
            n_trials: nt[i],
            n_conditions: nc[i],
            shesha: fl[0][i],
            wuc: fl[1][i],
            rsa_cv: fl[2][i],
            shesha_temporal: fl[3][i],
            centroid_drift: fl[4][i],
            null_mean_drift: fl[5][i],
            null_std_drift: fl[6][i],
            z_score_drift: fl[7][i],
            stability_early_mid: fl[8][i],
            stability_mid_late: fl[9][i],
            tangling: fl[10][i],
            trial_neural_behavior_corr: fl[11][i],
            acc_early: fl[12][i],
            acc_late: fl[13][i],
            acc_change: fl[14][i],
            mean_accuracy: fl[15][i],
        })
        .collect())
}

fn csv_text(header: &str, lines: impl Iterator<Item = String>) -> String {
    let mut s = format!("{header}\n");
    for l in lines {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

fn write_tables(
    out: &Path,
    rows: &[AreaSessionRow],
    skipped: &[Skip],
    regional: &[RegionalRow],
    coupling: &[CouplingRow],
) -> Result<()> {
    crate::output::write_atomic(out, "area_sessions.csv", area_sessions_csv(rows).as_bytes())?;
    let mut df = area_sessions_frame(rows)?;
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| Error::table("area_sessions.parquet", e))?;
    crate::output::write_atomic(out, "area_sessions.parquet", &buf)?;
    let sk = csv_text(
        "session,area,reason",
        skipped
            .iter()
            .map(|s| format!("{},{},{}", s.session, s.area, s.reason)),
    );
    crate::output::write_atomic(out, "skipped.csv", sk.as_bytes())?;
    let rg = csv_text(
        "region,metric,n,mean,ci_low,ci_high",
        regional.iter().map(|r| {
            format!(
                "{},{},{},{},{},{}",
                r.region,
                r.metric,
                r.n,
                fmt_f(r.mean),
                fmt_f(r.ci_low),
                fmt_f(r.ci_high)
            )
        }),
    );
    crate::output::write_atomic(out, "regional_summary.csv", rg.as_bytes())?;
    let cp = csv_text(
        "ground_truth,metric,rho,ci_low,ci_high,p_value,n",
        coupling.iter().map(|r| {
            format!(
                "{},{},{},{},{},{},{}",
                r.ground_truth,
                r.metric,
                fmt_f(r.rho),
                fmt_f(r.ci_low),
                fmt_f(r.ci_high),
                fmt_f(r.p_value),
                r.n
            )
        }),
    );
    crate::output::write_atomic(out, "behavior_coupling.csv", cp.as_bytes())?;
    Ok(())
}

/// The commit the binary was built from (recorded by build.rs), if built from a git checkout.
fn git_commit() -> Option<String> {
    option_env!("NEUROPOP_GIT_COMMIT").map(str::to_string)
}

/// Runs the Steinmetz pipeline on `files` (sessions numbered across files in order) and writes
/// `area_sessions.{csv,parquet}`, `skipped.csv`, `regional_summary.csv`,
/// `behavior_coupling.csv` and `manifest.json` into `out`.
///
/// A failing file or session is recorded (manifest, [`RunSummary::n_failures`]) and the
/// others still complete.
///
/// # Errors
/// Invalid config, a non-empty `out` without `force`, an invalid shard, or a write failure.
pub fn run(
    files: &[PathBuf],
    out: &Path,
    config: &SteinmetzConfig,
    run_opts: &RunOptions,
) -> Result<RunSummary> {
    config.check()?;
    if let Some((i, n)) = run_opts.shard
        && (n == 0 || i >= n)
    {
        return Err(Error::invalid(
            "shard",
            "i < n with n >= 1",
            format!("{i} of {n}"),
        ));
    }
    crate::output::prepare_dir(out, run_opts.force)?;
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(t) = run_opts.threads {
            b = b.num_threads(t);
        }
        b.build()
            .map_err(|e| Error::config("threads", e.to_string()))?
    };
    pool.install(|| run_inner(files, out, config, run_opts, pool.current_num_threads()))
}

fn run_inner(
    files: &[PathBuf],
    out: &Path,
    config: &SteinmetzConfig,
    run_opts: &RunOptions,
    threads: usize,
) -> Result<RunSummary> {
    let t_all = Instant::now();
    let progress = crate::progress::Progress::new("steinmetz", run_opts.quiet);
    let mut bar = progress.stage("sessions", 0);
    let mut stages: BTreeMap<String, f64> = BTreeMap::new();
    // Inputs are hashed on their own thread while the sessions are read and analysed: the
    // reader is single-threaded, so the hash mostly runs on otherwise idle time.
    let hasher = {
        let files = files.to_vec();
        std::thread::spawn(move || {
            let t = Instant::now();
            let hashes: Vec<Result<(u64, String)>> = files.iter().map(|p| sha256_file(p)).collect();
            (hashes, t.elapsed().as_secs_f64())
        })
    };
    let mut inputs: Vec<InputFile> = files
        .iter()
        .map(|p| InputFile {
            path: p.clone(),
            size_bytes: None,
            sha256: None,
            n_sessions: None,
            error: None,
        })
        .collect();

    let mut t_load = 0.0;
    let mut t_analyse = 0.0;
    let mut rows = Vec::new();
    let mut split_half_rdms = super::figures::SplitHalfCache::new();
    let mut skipped = Vec::new();
    let mut sessions = Vec::new();
    let mut n_failures = 0;
    let mut g = 0usize;
    for (fi, path) in files.iter().enumerate() {
        let t = Instant::now();
        let values = match steinmetz_npz::session_values(path) {
            Ok(v) => v,
            Err(e) => {
                n_failures += 1;
                bar.note(&format!("{}: failed: {e}", path.display()));
                inputs[fi].error = Some(e.to_string());
                sessions.push(SessionStatus {
                    session: None,
                    file: path.clone(),
                    index_in_file: None,
                    id: None,
                    status: "failed".into(),
                    detail: Some(e.to_string()),
                });
                continue;
            }
        };
        inputs[fi].n_sessions = Some(values.len());
        bar.add_total(values.len() as u64);
        t_load += t.elapsed().as_secs_f64();
        for (k, v) in values.iter().enumerate() {
            let session = g;
            g += 1;
            if let Some((i, n)) = run_opts.shard
                && session % n != i
            {
                bar.inc(&format!("session {session}: other shard"));
                continue;
            }
            let t = Instant::now();
            // Trials, units and metadata; the counts are reduced by `analyse_session`.
            let rec = steinmetz_npz::session_recording_meta(v, path, k);
            t_load += t.elapsed().as_secs_f64();
            let mut status = SessionStatus {
                session: Some(session),
                file: path.clone(),
                index_in_file: Some(k),
                id: None,
                status: "ok".into(),
                detail: None,
            };
            match rec {
                Err(e) => {
                    n_failures += 1;
                    status.status = "failed".into();
                    status.detail = Some(e.to_string());
                }
                Ok(rec) => {
                    status.id = Some(rec.info.id.clone());
                    let n = rec.trials.n_trials();
                    if n < config.min_trials {
                        let reason = format!("n_trials={n} < {}", config.min_trials);
                        skipped.push(Skip {
                            session,
                            area: String::new(),
                            reason: reason.clone(),
                        });
                        status.status = "skipped".into();
                        status.detail = Some(reason);
                    } else {
                        let t = Instant::now();
                        match analyse_session(&rec, (v, path, k), session, config) {
                            Ok((r, s)) => {
                                for (row, rdms) in r {
                                    if let Some(rdms) = rdms {
                                        split_half_rdms.insert((session, row.area.clone()), rdms);
                                    }
                                    rows.push(row);
                                }
                                skipped.extend(s);
                            }
                            Err(e) => {
                                n_failures += 1;
                                status.status = "failed".into();
                                status.detail = Some(e.to_string());
                            }
                        }
                        t_analyse += t.elapsed().as_secs_f64();
                    }
                }
            }
            if status.status == "failed" {
                bar.note(&format!(
                    "session {session} failed: {}",
                    status.detail.clone().unwrap_or_default()
                ));
            }
            bar.inc(&format!(
                "session {session} {}: {}",
                status.id.as_deref().unwrap_or(""),
                status.status
            ));
            sessions.push(status);
        }
    }
    bar.finish();
    let t = Instant::now();
    match hasher.join() {
        Ok((hashes, t_hash)) => {
            for (input, h) in inputs.iter_mut().zip(hashes) {
                match h {
                    Ok((size, hex)) => {
                        input.size_bytes = Some(size);
                        input.sha256 = Some(hex);
                    }
                    // A file that could not be hashed was also reported by the reader unless
                    // it changed in between; keep the first error.
                    Err(e) => {
                        input.error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            stages.insert("hash_inputs_s".into(), t_hash);
        }
        Err(_) => {
            for input in &mut inputs {
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
    let regional = summary::regional(&rows, config)?;
    let coupling = summary::coupling(&rows, config)?;
    stages.insert("summaries_s".into(), t.elapsed().as_secs_f64());

    let t = Instant::now();
    write_tables(out, &rows, &skipped, &regional, &coupling)?;
    stages.insert("write_tables_s".into(), t.elapsed().as_secs_f64());
    let t = Instant::now();
    let sources = super::figures::sources_from_statuses(&sessions);
    let figures = super::figures::write_figures(
        out,
        &rows,
        &regional,
        &coupling,
        &sources,
        &split_half_rdms,
        config,
    );
    for f in &figures.failures {
        progress.log(&format!("figure {} not written: {}", f.figure, f.error));
    }
    stages.insert("figures_s".into(), t.elapsed().as_secs_f64());
    stages.insert("total_s".into(), t_all.elapsed().as_secs_f64());
    let manifest = serde_json::json!({
        "pipeline": "steinmetz",
        "neuropop_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(),
        "config": config,
        "seed": config.seed,
        "shard": run_opts.shard.map(|(i, n)| serde_json::json!({"index": i, "count": n})),
        "threads": threads,
        "inputs": inputs,
        "sessions": sessions,
        "skipped": skipped,
        "n_area_sessions": rows.len(),
        "n_failures": n_failures,
        "figures": figures,
        "stage_wall_time_s": stages,
    });
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::invalid("manifest.json", "serialisable", e.to_string()))?;
    crate::output::write_atomic(out, "manifest.json", text.as_bytes())?;
    progress.log(&format!(
        "{} area-sessions, {} skipped, {n_failures} failed sessions -> {}",
        rows.len(),
        skipped.len(),
        out.display()
    ));
    Ok(RunSummary {
        out_dir: out.to_path_buf(),
        rows,
        skipped,
        sessions,
        regional,
        coupling,
        n_failures,
        figures,
        split_half_rdms,
    })
}

fn read_skipped(path: &Path) -> Result<Vec<Skip>> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let mut it = line.splitn(3, ',');
        let (Some(s), Some(a), Some(r)) = (it.next(), it.next(), it.next()) else {
            return Err(Error::format(
                path,
                format!("line {}", i + 1),
                "expected 3 fields",
            ));
        };
        let session = s
            .parse()
            .map_err(|_| Error::format(path, format!("line {}", i + 1), "bad session index"))?;
        out.push(Skip {
            session,
            area: a.to_string(),
            reason: r.to_string(),
        });
    }
    Ok(out)
}

/// Merges the partial outputs of sharded runs: concatenates their area-session tables and
/// skipped lists (sorted by session, then area), recomputes the regional summary and behaviour
/// coupling with `config`, and writes everything (and a manifest listing the parts) to `out`.
///
/// # Errors
/// Unreadable parts, a non-empty `out` without `force`, or write failures.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    config: &SteinmetzConfig,
    force: bool,
) -> Result<RunSummary> {
    config.check()?;
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut parts = Vec::new();
    for d in dirs {
        rows.extend(read_area_sessions_parquet(
            &d.join("area_sessions.parquet"),
        )?);
        skipped.extend(read_skipped(&d.join("skipped.csv"))?);
        let m = fs::read_to_string(d.join("manifest.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        parts.push(serde_json::json!({"dir": d, "manifest": m}));
    }
    crate::output::prepare_dir(out, force)?;
    // Stable sorts keep each session's area order.
    rows.sort_by_key(|r| r.session);
    skipped.sort_by_key(|s| s.session);
    let regional = summary::regional(&rows, config)?;
    let coupling = summary::coupling(&rows, config)?;
    write_tables(out, &rows, &skipped, &regional, &coupling)?;
    let mut sources = super::figures::SessionSources::new();
    for p in &parts {
        sources.extend(super::figures::sources_from_manifest(&p["manifest"]));
    }
    let figures = super::figures::write_figures(
        out,
        &rows,
        &regional,
        &coupling,
        &sources,
        &super::figures::SplitHalfCache::new(),
        config,
    );
    let n_failures: usize = parts
        .iter()
        .filter_map(|p| p["manifest"]["n_failures"].as_u64())
        .sum::<u64>() as usize;
    let manifest = serde_json::json!({
        "pipeline": "steinmetz-merge",
        "neuropop_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(),
        "config": config,
        "parts": parts,
        "n_area_sessions": rows.len(),
        "n_failures": n_failures,
        "figures": figures,
    });
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::invalid("manifest.json", "serialisable", e.to_string()))?;
    crate::output::write_atomic(out, "manifest.json", text.as_bytes())?;
    Ok(RunSummary {
        out_dir: out.to_path_buf(),
        rows,
        skipped,
        sessions: Vec::new(),
        regional,
        coupling,
        n_failures,
        figures,
        split_half_rdms: super::figures::SplitHalfCache::new(),
    })
}
