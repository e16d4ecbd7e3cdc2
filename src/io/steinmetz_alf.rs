//! Loader for one session folder of the original Steinmetz et al. (2019) release
//! (figshare doi:10.6084/m9.figshare.9598406), whose files follow the ALF naming
//! `object.attribute.npy` / `.tsv`.
//!
//! What is read (see `docs/formats/steinmetz-alf.md` for the full account and its sources):
//!
//! * `spikes.times` (seconds) and `spikes.clusters` (0-based row of the `clusters.*` arrays);
//! * `clusters._phy_annotation` (quality; units are the clusters with annotation ≥
//!   [`AlfOptions::min_phy_annotation`], 2 by default), `clusters.peakChannel` (a **1-based**
//!   channel number: row `peakChannel − 1` of `channels.brainLocation.tsv`), `clusters.depths`
//!   when present;
//! * `channels.brainLocation.tsv` (columns `ccf_ap`, `ccf_dv`, `ccf_lr`, `allen_ontology`);
//! * every `trials.*.npy` array, one trial-table column each.
//!
//! Everything else in the folder (wheel, eye, face, passive stimuli, LFP timestamps, waveform
//! templates, ...) is not part of a [`Recording`] and is listed in the returned [`Meta`].

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use polars::prelude::{Column, CsvParseOptions, CsvReadOptions, DataFrame, SerReader};
use serde::{Deserialize, Serialize};

use crate::data::{Recording, SessionInfo, SpikeTrains, TrialTable, UnitTable};
use crate::error::{Error, Result};
use crate::io::npy::{NdArray, NpyData, read_npy};
use crate::result::Meta;

/// Files a session folder must contain.
pub const REQUIRED_FILES: [&str; 6] = [
    "spikes.times.npy",
    "spikes.clusters.npy",
    "clusters._phy_annotation.npy",
    "clusters.peakChannel.npy",
    "channels.brainLocation.tsv",
    "trials.intervals.npy",
];

/// ALF trial attributes renamed to the column names of the NMA loader
/// ([`crate::io::steinmetz_npz::TRIAL_KEYS`]); other attributes keep their ALF name.
///
/// Event times keep the session clock of the release (seconds, like the spike times), whereas
/// the NMA files store them relative to stimulus onset.
pub const TRIAL_RENAMES: [(&str, &str); 9] = [
    ("visualStim_contrastLeft", "contrast_left"),
    ("visualStim_contrastRight", "contrast_right"),
    ("visualStim_times", "stim_on"),
    ("goCue_times", "gocue"),
    ("response_choice", "response"),
    ("response_times", "response_time"),
    ("feedbackType", "feedback_type"),
    ("feedback_times", "feedback_time"),
    ("included", "included"),
];

/// Options of [`read_with`].
///
/// ```
/// let o = neuropop::io::steinmetz_alf::AlfOptions::default();
/// assert_eq!(o.min_phy_annotation, 2); // "good" and better, as in the paper
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlfOptions {
    /// Keep clusters whose `clusters._phy_annotation` is at least this value. The release codes
    /// 0 = noise, 1 = multi-unit activity, 2 = good, 3 = unsorted; the paper (and the NMA
    /// files) use ≥ 2.
    pub min_phy_annotation: i64,
}

impl Default for AlfOptions {
    fn default() -> Self {
        AlfOptions {
            min_phy_annotation: 2,
        }
    }
}

impl AlfOptions {
    /// Sets [`AlfOptions::min_phy_annotation`].
    ///
    /// ```
    /// let o = neuropop::io::steinmetz_alf::AlfOptions::default().with_min_phy_annotation(1);
    /// assert_eq!(o.min_phy_annotation, 1);
    /// ```
    pub fn with_min_phy_annotation(mut self, value: i64) -> Self {
        self.min_phy_annotation = value;
        self
    }
}

/// True when `dir` is a directory holding `spikes.times.npy` (an ALF spike-sorting folder).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// assert!(!neuropop::io::steinmetz_alf::looks_like_alf(dir.path()));
/// std::fs::write(dir.path().join("spikes.times.npy"), b"")?;
/// assert!(neuropop::io::steinmetz_alf::looks_like_alf(dir.path()));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn looks_like_alf(dir: &Path) -> bool {
    dir.is_dir() && dir.join("spikes.times.npy").is_file()
}

/// Reads a session folder with the default options (clusters with annotation ≥ 2).
///
/// # Errors
/// As [`read_with`].
///
/// # Example
/// ```
/// // A release folder such as allData/Cori_2016-12-14; here the test fixture.
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alf/Tiny_2016-12-14");
/// let rec = neuropop::io::steinmetz_alf::read(&dir)?;
/// assert_eq!((rec.units.len(), rec.trials.n_trials()), (5, 10));
/// assert_eq!(rec.units.regions[0], "VISp");
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn read(dir: &Path) -> Result<Recording> {
    read_with(dir, &AlfOptions::default()).map(|(rec, _)| rec)
}

/// Reads a session folder; the [`Meta`] counts the clusters offered (`n_requested`) and kept
/// (`n_used`), lists the clusters dropped by quality, kept clusters without spikes, spike
/// trains that had to be sorted, and every file that was not read.
///
/// # Errors
/// [`Error::Missing`] naming the folder and file for a missing required file
/// ([`REQUIRED_FILES`]) or TSV column; [`Error::Invalid`] naming the file for a wrong shape,
/// mismatched lengths, a cluster index or peak channel out of range, a non-finite spike time;
/// [`Error::Io`]/[`Error::Format`] for unreadable files.
///
/// # Example
/// ```
/// use neuropop::io::steinmetz_alf::{read_with, AlfOptions};
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alf/Tiny_2016-12-14");
/// let (rec, meta) = read_with(&dir, &AlfOptions::default())?;
/// assert_eq!(rec.info.format, "steinmetz-alf");
/// assert_eq!(rec.info.subject.as_deref(), Some("Tiny"));
/// assert_eq!((meta.n_requested, meta.n_used), (6, 5));
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn read_with(dir: &Path, opts: &AlfOptions) -> Result<(Recording, Meta)> {
    let folder = Folder::open(dir)?;
    let mut meta = Meta::default();

    let clusters = folder.read_clusters()?;
    let channels = folder.read_channels()?;
    check_peak_channels(&folder, &clusters.peak_channel, channels.regions.len())?;
    let spikes = folder.read_spikes(clusters.annotation.len())?;

    let kept: Vec<usize> = (0..clusters.annotation.len())
        .filter(|&c| clusters.annotation[c] >= opts.min_phy_annotation)
        .collect();
    meta.n_requested = clusters.annotation.len();
    meta.n_used = kept.len();
    report_quality_drops(&clusters.annotation, opts.min_phy_annotation, &mut meta);

    let units = unit_table(&kept, &clusters, &channels)?;
    let trains = spike_trains(&kept, &spikes, clusters.annotation.len(), &mut meta)?;
    let trials = folder.read_trials(&mut meta)?;
    report_unread_files(&folder, &mut meta);

    let name = folder.session_name();
    let (subject, date) = match parse_session_name(&name) {
        Some((s, d)) => (Some(s), Some(d)),
        None => (None, None),
    };
    let rec = Recording {
        info: SessionInfo {
            id: name,
            subject,
            source: Some(dir.to_path_buf()),
            format: "steinmetz-alf".into(),
            start_time: date,
            contents: Vec::new(),
        },
        units,
        spikes: Some(trains),
        trials,
        steps: None,
        maze: None,
        binned: None,
    };
    rec.validate()?;
    Ok((rec, meta))
}

/// Splits a release folder name `Subject_YYYY-MM-DD` into subject and date.
fn parse_session_name(name: &str) -> Option<(String, String)> {
    let (subject, date) = name.rsplit_once('_')?;
    let b = date.as_bytes();
    let is_date = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    (is_date && !subject.is_empty()).then(|| (subject.to_string(), date.to_string()))
}

/// The session folder, its file names, and which of them were read.
struct Folder {
    dir: PathBuf,
    files: Vec<String>,
    read: std::cell::RefCell<Vec<String>>,
}

impl Folder {
    fn open(dir: &Path) -> Result<Folder> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            if let Some(name) = entry.file_name().to_str()
                && !name.starts_with('.')
            {
                files.push(name.to_string());
            }
        }
        files.sort();
        for required in REQUIRED_FILES {
            if !files.iter().any(|f| f == required) {
                return Err(Error::missing(dir.display().to_string(), "file", required));
            }
        }
        Ok(Folder {
            dir: dir.to_path_buf(),
            files,
            read: Default::default(),
        })
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn has(&self, file: &str) -> bool {
        self.files.iter().any(|f| f == file)
    }

    fn session_name(&self) -> String {
        let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
        name(&self.dir)
            .or_else(|| self.dir.canonicalize().ok().as_deref().and_then(name))
            .unwrap_or_else(|| self.dir.display().to_string())
    }

    fn npy(&self, file: &str) -> Result<NdArray> {
        self.read.borrow_mut().push(file.to_string());
        read_npy(&self.path(file))
    }

    /// A per-item vector stored as shape (n,) or (n, 1).
    fn column(&self, file: &str) -> Result<NdArray> {
        let a = self.npy(file)?;
        match a.shape.as_slice() {
            [_] | [_, 1] => Ok(a),
            _ => Err(Error::invalid(
                self.path(file).display().to_string(),
                "shape (n,) or (n, 1)",
                format!("shape {:?}", a.shape),
            )),
        }
    }

    fn f64_column(&self, file: &str) -> Result<Vec<f64>> {
        let a = self.column(file)?;
        a.to_f64_c_order().map_err(|e| self.not_numeric(file, e))
    }

    fn i64_column(&self, file: &str) -> Result<Vec<i64>> {
        let a = self.column(file)?;
        a.to_i64_c_order().map_err(|e| self.not_numeric(file, e))
    }

    fn not_numeric(&self, file: &str, e: Error) -> Error {
        Error::invalid(
            self.path(file).display().to_string(),
            "integer values",
            e.to_string(),
        )
    }

    fn read_clusters(&self) -> Result<Clusters> {
        let annotation = self.i64_column("clusters._phy_annotation.npy")?;
        let n = annotation.len();
        let peak_channel = self.i64_column("clusters.peakChannel.npy")?;
        self.check_len(
            "clusters.peakChannel.npy",
            peak_channel.len(),
            n,
            "clusters._phy_annotation.npy",
        )?;
        let depths = if self.has("clusters.depths.npy") {
            let d = self.f64_column("clusters.depths.npy")?;
            self.check_len(
                "clusters.depths.npy",
                d.len(),
                n,
                "clusters._phy_annotation.npy",
            )?;
            Some(d)
        } else {
            None
        };
        Ok(Clusters {
            annotation,
            peak_channel,
            depths,
        })
    }

    fn check_len(&self, file: &str, found: usize, expected: usize, like: &str) -> Result<()> {
        if found == expected {
            return Ok(());
        }
        Err(Error::invalid(
            self.path(file).display().to_string(),
            format!("{expected} rows (as {like})"),
            format!("{found} rows"),
        ))
    }

    fn read_channels(&self) -> Result<Channels> {
        let file = "channels.brainLocation.tsv";
        self.read.borrow_mut().push(file.to_string());
        let path = self.path(file);
        let df = read_tsv(&path)?;
        let ctx = path.display().to_string();
        let regions: Vec<String> = tsv_strings(&df, "allen_ontology", &ctx)?
            .into_iter()
            .map(|s| s.trim().to_string())
            .collect();
        let ccf_names = ["ccf_ap", "ccf_dv", "ccf_lr"];
        let ccf = if ccf_names.iter().all(|c| df.column(c).is_ok()) {
            let mut a = Array2::from_elem((regions.len(), 3), f64::NAN);
            for (j, name) in ccf_names.iter().enumerate() {
                for (i, s) in tsv_strings(&df, name, &ctx)?.iter().enumerate() {
                    let s = s.trim();
                    // An empty cell is an unknown coordinate, not an error.
                    if !s.is_empty() {
                        a[[i, j]] = s.parse().map_err(|_| {
                            Error::invalid(
                                format!("{ctx}: column '{name}', data row {}", i + 1),
                                "a number",
                                format!("'{s}'"),
                            )
                        })?;
                    }
                }
            }
            Some(a)
        } else {
            None
        };
        Ok(Channels { regions, ccf })
    }

    fn read_spikes(&self, n_clusters: usize) -> Result<Spikes> {
        let times = self.f64_column("spikes.times.npy")?;
        let clusters = self.i64_column("spikes.clusters.npy")?;
        self.check_len(
            "spikes.clusters.npy",
            clusters.len(),
            times.len(),
            "spikes.times.npy",
        )?;
        if let Some(i) = times.iter().position(|t| !t.is_finite()) {
            return Err(Error::invalid(
                format!("{}: spike {i}", self.path("spikes.times.npy").display()),
                "a finite time in seconds",
                times[i].to_string(),
            ));
        }
        let mut index = Vec::with_capacity(clusters.len());
        for (i, &c) in clusters.iter().enumerate() {
            match usize::try_from(c) {
                Ok(u) if u < n_clusters => index.push(u),
                _ => {
                    return Err(Error::invalid(
                        format!("{}: spike {i}", self.path("spikes.clusters.npy").display()),
                        format!(
                            "a cluster index in 0..{n_clusters} (rows of clusters._phy_annotation.npy)"
                        ),
                        c.to_string(),
                    ));
                }
            }
        }
        Ok(Spikes {
            times,
            clusters: index,
        })
    }

    fn read_trials(&self, meta: &mut Meta) -> Result<TrialTable> {
        let intervals_file = "trials.intervals.npy";
        let intervals = self.npy(intervals_file)?;
        let n = match intervals.shape.as_slice() {
            [n, 2] => *n,
            _ => {
                return Err(Error::invalid(
                    self.path(intervals_file).display().to_string(),
                    "shape (n_trials, 2): start and stop times",
                    format!("shape {:?}", intervals.shape),
                ));
            }
        };
        let mut table = TrialTable::with_rows(n, self.dir.display().to_string());
        let trial_files: Vec<&String> = self
            .files
            .iter()
            .filter(|f| f.starts_with("trials.") && f.ends_with(".npy"))
            .collect();
        // intervals first so that start_time/stop_time lead the table.
        let ordered = std::iter::once(intervals_file).chain(
            trial_files
                .iter()
                .map(|s| s.as_str())
                .filter(|f| *f != intervals_file),
        );
        for file in ordered {
            let attribute = &file["trials.".len()..file.len() - ".npy".len()];
            let array = if file == intervals_file {
                intervals.clone()
            } else {
                self.npy(file)?
            };
            let path = self.path(file);
            match trial_columns(attribute, &array, &path, n)? {
                TrialColumns::Columns(cols) => {
                    for col in cols {
                        if table.has(col.name()) {
                            return Err(Error::invalid(
                                path.display().to_string(),
                                "a trial attribute whose column name is not already taken",
                                format!("column '{}' defined twice", col.name()),
                            ));
                        }
                        table.set_column(col)?;
                    }
                }
                TrialColumns::Skipped(reason) => meta.drop_item(file.to_string(), reason),
            }
        }
        Ok(table)
    }
}

/// The `clusters.*` arrays neuropop uses, one entry per cluster.
struct Clusters {
    annotation: Vec<i64>,
    peak_channel: Vec<i64>,
    depths: Option<Vec<f64>>,
}

/// `channels.brainLocation.tsv`, one entry per channel row.
struct Channels {
    regions: Vec<String>,
    ccf: Option<Array2<f64>>,
}

/// Spike times with their (validated) cluster row.
struct Spikes {
    times: Vec<f64>,
    clusters: Vec<usize>,
}

fn read_tsv(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // Every column as text: the numbers are parsed below with errors naming the cell, and the
    // region acronyms must never be coerced.
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(CsvParseOptions::default().with_separator(b'\t'))
        .into_reader_with_file_handle(file)
        .finish()
        .map_err(|e| Error::format(path, "tab-separated table", e.to_string()))
}

fn tsv_strings(df: &DataFrame, name: &str, ctx: &str) -> Result<Vec<String>> {
    let col = df
        .column(name)
        .map_err(|_| Error::missing(ctx.to_string(), "column", name))?;
    let ca = col.str().map_err(|_| {
        Error::invalid(
            format!("{ctx}: column '{name}'"),
            "text",
            col.dtype().to_string(),
        )
    })?;
    Ok(ca.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

/// Every peak channel must be a 1-based row of `channels.brainLocation.tsv`.
fn check_peak_channels(folder: &Folder, peak: &[i64], n_channels: usize) -> Result<()> {
    let bad = peak
        .iter()
        .position(|&p| p < 1 || usize::try_from(p).is_ok_and(|p| p > n_channels));
    match bad {
        None => Ok(()),
        Some(c) => Err(Error::invalid(
            format!(
                "{}: cluster {c}",
                folder.path("clusters.peakChannel.npy").display()
            ),
            format!(
                "a 1-based channel number in 1..={n_channels} ({n_channels} rows in channels.brainLocation.tsv)"
            ),
            peak[c].to_string(),
        )),
    }
}

fn report_quality_drops(annotation: &[i64], min: i64, meta: &mut Meta) {
    let mut below: BTreeMap<i64, usize> = BTreeMap::new();
    for &a in annotation.iter().filter(|&&a| a < min) {
        *below.entry(a).or_default() += 1;
    }
    for (value, count) in below {
        let s = if count == 1 { "" } else { "s" };
        meta.drop_item(
            format!("{count} cluster{s} with _phy_annotation {value}"),
            format!("quality below min_phy_annotation {min}"),
        );
    }
}

fn unit_table(kept: &[usize], clusters: &Clusters, channels: &Channels) -> Result<UnitTable> {
    // check_peak_channels proved 1 <= peak <= n_channels for every cluster.
    let row = |c: usize| (clusters.peak_channel[c] - 1) as usize;
    let mut units = UnitTable::new(
        kept.iter().map(|&c| c as i64).collect(),
        kept.iter()
            .map(|&c| channels.regions[row(c)].clone())
            .collect(),
    )?;
    units.depth_um = clusters
        .depths
        .as_ref()
        .map(|d| kept.iter().map(|&c| d[c]).collect());
    units.ccf = channels.ccf.as_ref().map(|ccf| {
        let rows: Vec<usize> = kept.iter().map(|&c| row(c)).collect();
        ccf.select(ndarray::Axis(0), &rows)
    });
    units.quality = Some(
        kept.iter()
            .map(|&c| clusters.annotation[c].to_string())
            .collect(),
    );
    Ok(units)
}

/// Groups the kept clusters' spikes into per-unit trains (a stable counting sort, so each train
/// keeps the file's order), sorting a train only if the file had it out of time order.
fn spike_trains(
    kept: &[usize],
    spikes: &Spikes,
    n_clusters: usize,
    meta: &mut Meta,
) -> Result<SpikeTrains> {
    let mut unit_of = vec![usize::MAX; n_clusters];
    for (u, &c) in kept.iter().enumerate() {
        unit_of[c] = u;
    }
    let mut offsets = vec![0usize; kept.len() + 1];
    for &c in &spikes.clusters {
        if unit_of[c] != usize::MAX {
            offsets[unit_of[c] + 1] += 1;
        }
    }
    for u in 0..kept.len() {
        offsets[u + 1] += offsets[u];
    }
    let mut cursor = offsets.clone();
    let mut times = vec![0.0; offsets[kept.len()]];
    for (&t, &c) in spikes.times.iter().zip(&spikes.clusters) {
        let u = unit_of[c];
        if u != usize::MAX {
            times[cursor[u]] = t;
            cursor[u] += 1;
        }
    }
    let mut unsorted = Vec::new();
    let mut empty = Vec::new();
    for (u, &c) in kept.iter().enumerate() {
        let train = &mut times[offsets[u]..offsets[u + 1]];
        if train.is_empty() {
            empty.push(c.to_string());
        } else if train.windows(2).any(|w| w[1] < w[0]) {
            train.sort_by(f64::total_cmp);
            unsorted.push(c.to_string());
        }
    }
    if !empty.is_empty() {
        meta.warn(format!(
            "{} kept cluster(s) have no spikes and are units with empty trains: {}",
            empty.len(),
            empty.join(", ")
        ));
    }
    if !unsorted.is_empty() {
        meta.warn(format!(
            "spikes.times.npy is not in time order within {} cluster(s); their trains were sorted: {}",
            unsorted.len(),
            unsorted.join(", ")
        ));
    }
    SpikeTrains::new(times, offsets)
}

/// The columns one `trials.*` array contributes, or why it is skipped.
enum TrialColumns {
    Columns(Vec<Column>),
    Skipped(String),
}

fn trial_column_name(attribute: &str) -> String {
    TRIAL_RENAMES
        .iter()
        .find(|(alf, _)| *alf == attribute)
        .map_or_else(|| attribute.to_string(), |(_, ours)| ours.to_string())
}

fn trial_columns(attribute: &str, a: &NdArray, path: &Path, n: usize) -> Result<TrialColumns> {
    let (rows, k) = match a.shape.as_slice() {
        [m] => (*m, 1),
        [m, k] => (*m, *k),
        _ => {
            return Ok(TrialColumns::Skipped(format!(
                "shape {:?} is not one row per trial (n or n × k)",
                a.shape
            )));
        }
    };
    if rows != n {
        return Err(Error::invalid(
            path.display().to_string(),
            format!("{n} rows (one per trial, as trials.intervals.npy)"),
            format!("{rows} rows (shape {:?})", a.shape),
        ));
    }
    if k == 0 {
        return Ok(TrialColumns::Skipped("no columns (shape n × 0)".into()));
    }
    let names: Vec<String> = match (attribute, k) {
        ("intervals", 2) => vec!["start_time".into(), "stop_time".into()],
        (_, 1) => vec![trial_column_name(attribute)],
        _ => (0..k).map(|j| format!("{attribute}_{j}")).collect(),
    };
    let ctx = || path.display().to_string();
    let pick = |j: usize, i: usize| i * k + j;
    let columns = match &a.data {
        NpyData::Object(_) => {
            return Ok(TrialColumns::Skipped(
                "object arrays are not trial columns".into(),
            ));
        }
        NpyData::Str(_) => {
            let s = a
                .strings()
                .map_err(|e| Error::invalid(ctx(), "text", e.to_string()))?;
            names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let v: Vec<&str> = (0..n).map(|i| s[pick(j, i)].as_str()).collect();
                    Column::new(name.as_str().into(), v)
                })
                .collect()
        }
        data => {
            let v = a
                .to_f64_c_order()
                .map_err(|e| Error::invalid(ctx(), "a numeric array", e.to_string()))?;
            let as_bool = matches!(data, NpyData::Bool(_)) || attribute == "included";
            let mut cols = Vec::with_capacity(k);
            for (j, name) in names.iter().enumerate() {
                let x: Vec<f64> = (0..n).map(|i| v[pick(j, i)]).collect();
                if as_bool {
                    if let Some(i) = x.iter().position(|&b| b != 0.0 && b != 1.0) {
                        return Err(Error::invalid(
                            format!("{}: trial {i}", ctx()),
                            "a boolean (0 or 1)",
                            x[i].to_string(),
                        ));
                    }
                    let b: Vec<bool> = x.iter().map(|&b| b == 1.0).collect();
                    cols.push(Column::new(name.as_str().into(), b));
                } else {
                    // Numbers become f64, as in the NMA loader, so that condition labels built
                    // from either loader compare equal.
                    cols.push(Column::new(name.as_str().into(), x));
                }
            }
            cols
        }
    };
    Ok(TrialColumns::Columns(columns))
}

/// Lists, per ALF object, the files of the folder that were not read.
fn report_unread_files(folder: &Folder, meta: &mut Meta) {
    let read = folder.read.borrow();
    let mut by_object: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in &folder.files {
        if !read.contains(f) {
            let object = f.split('.').next().unwrap_or(f);
            by_object.entry(object).or_default().push(f);
        }
    }
    for (object, files) in by_object {
        let reason = match object {
            "spikes" | "clusters" | "channels" | "trials" => {
                "attribute not used by neuropop's Recording"
            }
            _ => "object not part of neuropop's Recording",
        };
        meta.drop_item(files.join(", "), reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names() {
        assert_eq!(
            parse_session_name("Cori_2016-12-14"),
            Some(("Cori".into(), "2016-12-14".into()))
        );
        assert_eq!(
            parse_session_name("Two_Part_2017-01-08"),
            Some(("Two_Part".into(), "2017-01-08".into()))
        );
        assert_eq!(parse_session_name("Cori"), None);
        assert_eq!(parse_session_name("_2016-12-14"), None);
        assert_eq!(parse_session_name("Cori_2016-1-140"), None);
    }

    #[test]
    fn renames_follow_nma_names() {
        assert_eq!(trial_column_name("goCue_times"), "gocue");
        assert_eq!(trial_column_name("repNum"), "repNum");
        for (_, ours) in TRIAL_RENAMES {
            assert!(
                crate::io::steinmetz_npz::TRIAL_KEYS.contains(&ours)
                    || ["stim_on", "included"].contains(&ours),
                "{ours}"
            );
        }
    }

    #[test]
    fn two_column_arrays_split() {
        let a = NdArray::new(vec![2, 2], NpyData::F64(vec![1.0, 2.0, 3.0, 4.0])).unwrap();
        let TrialColumns::Columns(c) = trial_columns("window", &a, Path::new("t.npy"), 2).unwrap()
        else {
            panic!("expected columns")
        };
        assert_eq!(c[0].name().as_str(), "window_0");
        assert_eq!(
            c[1].f64().unwrap().iter().collect::<Vec<_>>(),
            vec![Some(2.0), Some(4.0)]
        );
        let three_d = NdArray::new(vec![2, 1, 1], NpyData::F64(vec![1.0, 2.0])).unwrap();
        assert!(matches!(
            trial_columns("x", &three_d, Path::new("t.npy"), 2).unwrap(),
            TrialColumns::Skipped(_)
        ));
    }
}
