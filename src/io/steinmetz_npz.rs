//! Loader for the Neuromatch Academy condensed Steinmetz et al. (2019) files
//! (`steinmetz_part{0,1,2}.npz`).
//!
//! Each file is an `.npz` archive with one member, `dat.npy`: a 1-D object array of dicts, one
//! per session, holding `mouse_name`, `date_exp`, `spks` (neurons × trials × bins spike counts,
//! 10-ms bins, bin 50 = stimulus onset), `brain_area`, `ccf`, `contrast_left`,
//! `contrast_right`, `response`, `response_time`, `gocue`, `feedback_time`, `feedback_type`,
//! `bin_size`, and more. The pickle inside is decoded by neuropop's data-only unpickler: no
//! code from the file is ever run.
//!
//! [`read_with`] returns one [`Recording`] per session and a [`Meta`] of what was left out
//! ([`read`] without it); [`read_sessions`] returns one result per session so that a bad session
//! does not hide the others; [`summarize`] gives the counts; [`write`] writes recordings in
//! the same layout (the demo's simulated files).

use std::path::{Path, PathBuf};

use ndarray::Array2;
use polars::prelude::Column;
use serde::{Deserialize, Serialize};

use crate::data::counts::{CountSlice, CountTensor, CountValues, CountView};
use crate::data::{PopulationTensor, Recording, SessionInfo, TrialTable, UnitTable, ValueKind};
use crate::error::{Error, Result};
use crate::io::npy::{NdArray, NpyData};
use crate::io::npz;
use crate::io::pickle::PyValue;
use crate::result::Meta;

/// Index of the bin that starts at stimulus onset in the NMA files.
pub const ONSET_BIN: usize = 50;
/// Bin width used when a session has no `bin_size` key.
pub const DEFAULT_BIN_SIZE_S: f64 = 0.01;

/// Trial-vector keys copied into the trial table (each of length n_trials, shape (n,) or (n, 1)).
pub const TRIAL_KEYS: [&str; 7] = [
    "contrast_left",
    "contrast_right",
    "response",
    "response_time",
    "gocue",
    "feedback_time",
    "feedback_type",
];

/// Counts of one session, without building its tensor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionSummary {
    /// Session index within the file (0-based).
    pub index: usize,
    /// `<mouse_name>_<date_exp>`.
    pub id: String,
    /// Number of (active) trials.
    pub n_trials: usize,
    /// Number of neurons.
    pub n_units: usize,
    /// Number of time bins.
    pub n_bins: usize,
    /// Neurons per brain area, sorted by area name.
    pub region_counts: Vec<(String, usize)>,
    /// Bin width (s): the file's `bin_size`, or 0.01 s when absent.
    pub bin_size_s: f64,
    /// The trial-table columns [`session_recording`] builds (every trial key present, plus
    /// `stim_onset`).
    pub trial_columns: Vec<String>,
}

/// The session dicts of a file: decodes `dat.npy` and returns its elements in order.
///
/// # Errors
/// [`Error::Io`]/[`Error::Format`] for an unreadable archive, [`Error::Missing`] without a
/// `dat` member, [`Error::Invalid`] when `dat` is not an object array (or list) of sessions.
pub fn session_values(path: &Path) -> Result<Vec<PyValue>> {
    let members = npz::list_members(path)?;
    if !members.iter().any(|m| m == "dat") {
        return Err(Error::missing(
            path.display().to_string(),
            "npz member",
            "dat.npy",
        ));
    }
    // Mapped: the sessions' uint8 spike counts stay in the page cache instead of being copied.
    let dat = npz::read_member_mapped(path, "dat")?;
    let ctx = format!("{}: dat.npy", path.display());
    match dat.data {
        NpyData::Object(items) => {
            if dat.shape.len() > 1 {
                return Err(Error::invalid(
                    ctx,
                    "a 1-D object array of session dicts",
                    format!("shape {:?}", dat.shape),
                ));
            }
            // A 0-d object array may hold a list of dicts.
            if dat.shape.is_empty()
                && items.len() == 1
                && let Some(PyValue::List(v) | PyValue::Tuple(v)) = items.first()
            {
                return Ok(v.clone());
            }
            Ok(items)
        }
        other => Err(Error::invalid(
            ctx,
            "an object array of session dicts",
            format!("dtype {}", other.dtype_name()),
        )),
    }
}

/// Options of [`read_with`].
///
/// ```
/// assert!(!neuropop::io::steinmetz_npz::NpzOptions::default().skip_bad_sessions);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpzOptions {
    /// Leave out a session that cannot be read (listed in `Meta.dropped` with its error)
    /// instead of failing the whole file. Default `false`: the first bad session is the error.
    pub skip_bad_sessions: bool,
}

/// Session keys read into a [`Recording`]; any other key is reported as not imported.
const READ_KEYS: [&str; 5] = ["mouse_name", "date_exp", "spks", "brain_area", "ccf"];

/// Reads every session of an NMA Steinmetz `.npz` file with default options.
///
/// # Errors
/// The first failing session's error (see [`read_sessions`] to keep the others).
///
/// # Example
/// ```no_run
/// let sessions = neuropop::io::steinmetz_npz::read(std::path::Path::new("steinmetz_part0.npz"))?;
/// println!("{} sessions, first has {} trials", sessions.len(), sessions[0].trials.n_trials());
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn read(path: &Path) -> Result<Vec<Recording>> {
    read_with(path, &NpzOptions::default()).map(|(recs, _)| recs)
}

/// Reads every session of an NMA Steinmetz `.npz` file. The [`Meta`] counts the neurons of
/// the sessions read (`n_requested` = `n_used`: every neuron is imported), lists each session
/// left out with its error (with [`NpzOptions::skip_bad_sessions`]) and each session key that
/// is not imported (`wheel`, `pupil`, `lfp`, the passive trials, ...) with the number of
/// sessions holding it, and warns about sessions without `bin_size`.
///
/// # Errors
/// File-level failures (see [`session_values`]); without `skip_bad_sessions`, the first failing
/// session's error.
///
/// ```
/// use neuropop::io::steinmetz_npz::{read_with, NpzOptions};
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/steinmetz/nma_part1.npz");
/// let (recs, meta) = read_with(&p, &NpzOptions::default())?;
/// assert_eq!(recs.len(), 2);
/// assert_eq!(meta.n_used, 12 + 40); // neurons of the two sessions
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn read_with(path: &Path, options: &NpzOptions) -> Result<(Vec<Recording>, Meta)> {
    let values = session_values(path)?;
    let mut meta = Meta::default();
    let mut recs = Vec::with_capacity(values.len());
    // Key name → number of sessions holding it, in order of first appearance.
    let mut other_keys: Vec<(String, usize)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match build_recording(v, path, i, Some(None)) {
            Ok((rec, warning)) => {
                if let Some(w) = warning {
                    meta.warn(w);
                }
                recs.push(rec);
            }
            Err(e) if options.skip_bad_sessions => {
                meta.drop_item(format!("session {i}"), e.to_string());
                continue;
            }
            Err(e) => return Err(e),
        }
        if let PyValue::Dict(items) = v {
            for (k, _) in items {
                let Some(k) = k.as_str() else { continue };
                if READ_KEYS.contains(&k) || TRIAL_KEYS.contains(&k) || k == "bin_size" {
                    continue;
                }
                match other_keys.iter_mut().find(|(name, _)| name == k) {
                    Some((_, n)) => *n += 1,
                    None => other_keys.push((k.to_string(), 1)),
                }
            }
        }
    }
    for (k, n) in other_keys {
        let reason = if k == "stim_onset" {
            format!(
                "not read (present in {n} of the sessions read): the trial column stim_onset is the NMA files' fixed 0.5 s, bin {ONSET_BIN}"
            )
        } else {
            format!("not imported (present in {n} of the sessions read)")
        };
        meta.drop_item(format!("session key '{k}'"), reason);
    }
    let n_units: usize = recs.iter().map(|r| r.units.len()).sum();
    meta.n_requested = n_units;
    meta.n_used = n_units;
    Ok((recs, meta))
}

/// Reads every session of a file, one result per session.
///
/// # Errors
/// File-level failures only (see [`session_values`]); session failures are in the vector.
pub fn read_sessions(path: &Path) -> Result<Vec<Result<Recording>>> {
    let values = session_values(path)?;
    Ok(values
        .iter()
        .enumerate()
        .map(|(i, v)| session_recording(v, path, i))
        .collect())
}

/// Counts of every session of a file (trials, neurons, bins, neurons per area).
///
/// # Errors
/// As [`read`].
pub fn summarize(path: &Path) -> Result<Vec<SessionSummary>> {
    let values = session_values(path)?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = Session::new(v, path, i)?;
            let spks = s.array("spks")?;
            let shape = spks_shape(&s, spks)?;
            let regions = s.strings("brain_area")?;
            let units = UnitTable::new((0..regions.len() as i64).collect(), regions)?;
            Ok(SessionSummary {
                index: i,
                id: s.id()?,
                n_trials: shape.1,
                n_units: shape.0,
                n_bins: shape.2,
                region_counts: units.region_counts(),
                bin_size_s: s.bin_size()?.unwrap_or(DEFAULT_BIN_SIZE_S),
                trial_columns: TRIAL_KEYS
                    .iter()
                    .map(|k| k.to_string())
                    .chain(std::iter::once("stim_onset".to_string()))
                    .collect(),
            })
        })
        .collect()
}

/// A session dict with its location, for error messages.
struct Session<'a> {
    value: &'a PyValue,
    path: &'a Path,
    index: usize,
}

impl<'a> Session<'a> {
    fn new(value: &'a PyValue, path: &'a Path, index: usize) -> Result<Self> {
        if !matches!(value, PyValue::Dict(_)) {
            return Err(Error::invalid(
                format!("{}: session {index}", path.display()),
                "a dict",
                value.type_name(),
            ));
        }
        Ok(Session { value, path, index })
    }

    fn ctx(&self, key: &str) -> String {
        format!(
            "{}: session {} key '{key}'",
            self.path.display(),
            self.index
        )
    }

    fn get(&self, key: &str) -> Result<&'a PyValue> {
        self.value.get(key).ok_or_else(|| {
            Error::missing(
                format!("{}: session {}", self.path.display(), self.index),
                "key",
                key,
            )
        })
    }

    fn array(&self, key: &str) -> Result<&'a NdArray> {
        let v = self.get(key)?;
        v.as_array()
            .ok_or_else(|| Error::invalid(self.ctx(key), "a numpy array", v.type_name()))
    }

    fn text(&self, key: &str) -> Result<String> {
        let v = self.get(key)?;
        if let Some(s) = v.as_str() {
            return Ok(s.to_string());
        }
        if let Some(a) = v.as_array()
            && a.len() == 1
            && let Ok(s) = a.strings()
            && let Some(first) = s.into_iter().next()
        {
            return Ok(first);
        }
        Err(Error::invalid(self.ctx(key), "a string", v.type_name()))
    }

    fn id(&self) -> Result<String> {
        Ok(format!(
            "{}_{}",
            self.text("mouse_name")?,
            self.text("date_exp")?
        ))
    }

    fn strings(&self, key: &str) -> Result<Vec<String>> {
        let a = self.array(key)?;
        if a.ndim() != 1 {
            return Err(Error::invalid(
                self.ctx(key),
                "a 1-D array of strings",
                format!("shape {:?}", a.shape),
            ));
        }
        a.strings()
            .map_err(|e| Error::invalid(self.ctx(key), "strings", e.to_string()))
    }

    /// A per-trial vector of length `n`, accepting shapes (n,) and (n, 1).
    fn trial_vector(&self, key: &str, n: usize) -> Result<Vec<f64>> {
        let a = self.array(key)?;
        let ok_shape = match a.shape.as_slice() {
            [m] => *m == n,
            [m, 1] => *m == n,
            _ => false,
        };
        if !ok_shape {
            return Err(Error::invalid(
                self.ctx(key),
                format!("shape ({n},) or ({n}, 1) (one value per trial of spks)"),
                format!("shape {:?}", a.shape),
            ));
        }
        a.to_f64_c_order()
            .map_err(|e| Error::invalid(self.ctx(key), "a numeric array", e.to_string()))
    }

    fn bin_size(&self) -> Result<Option<f64>> {
        match self.value.get("bin_size") {
            None => Ok(None),
            Some(v) => {
                let b = v
                    .as_f64()
                    .or_else(|| {
                        v.as_array()
                            .filter(|a| a.len() == 1)
                            .and_then(|a| a.to_f64_c_order().ok())
                            .and_then(|x| x.first().copied())
                    })
                    .ok_or_else(|| {
                        Error::invalid(self.ctx("bin_size"), "a number", v.type_name())
                    })?;
                if !(b.is_finite() && b > 0.0) {
                    return Err(Error::invalid(
                        self.ctx("bin_size"),
                        "a positive finite number of seconds",
                        b.to_string(),
                    ));
                }
                Ok(Some(b))
            }
        }
    }
}

fn spks_shape(s: &Session<'_>, spks: &NdArray) -> Result<(usize, usize, usize)> {
    match spks.shape.as_slice() {
        [u, t, b] => {
            if matches!(
                spks.data,
                NpyData::Str(_) | NpyData::Object(_) | NpyData::Bool(_)
            ) {
                return Err(Error::invalid(
                    s.ctx("spks"),
                    "an integer or float array",
                    format!("dtype {}", spks.dtype_name()),
                ));
            }
            Ok((*u, *t, *b))
        }
        _ => Err(Error::invalid(
            s.ctx("spks"),
            "a 3-D array (neurons × trials × bins)",
            format!("shape {:?}", spks.shape),
        )),
    }
}

/// The stored `spks` as counts (borrowed): the one place that maps its dtype to
/// [`CountSlice`], so every reduction reads it in its stored layout.
fn count_view<'a>(
    s: &Session<'_>,
    spks: &'a NdArray,
    shape: (usize, usize, usize),
) -> Result<CountView<'a>> {
    let values = match &spks.data {
        NpyData::U8(v) => CountSlice::U8(v),
        NpyData::I8(v) => CountSlice::I8(v),
        NpyData::U16(v) => CountSlice::U16(v),
        NpyData::I16(v) => CountSlice::I16(v),
        NpyData::U32(v) => CountSlice::U32(v),
        NpyData::I32(v) => CountSlice::I32(v),
        NpyData::U64(v) => CountSlice::U64(v),
        NpyData::I64(v) => CountSlice::I64(v),
        NpyData::F32(v) => CountSlice::F32(v),
        NpyData::F64(v) => CountSlice::F64(v),
        other => {
            return Err(Error::invalid(
                s.ctx("spks"),
                "a numeric array",
                format!("dtype {}", other.dtype_name()),
            ));
        }
    };
    CountView::new(values, shape, spks.fortran_order).map_err(|e| {
        Error::invalid(
            s.ctx("spks"),
            "neurons × trials × bins values",
            e.to_string(),
        )
    })
}

/// The stored `spks`, moved out of its array without a copy.
fn count_values(data: NpyData) -> Option<CountValues> {
    Some(match data {
        NpyData::U8(v) => CountValues::U8(Box::new(v)),
        NpyData::I8(v) => CountValues::I8(v),
        NpyData::U16(v) => CountValues::U16(v),
        NpyData::I16(v) => CountValues::I16(v),
        NpyData::U32(v) => CountValues::U32(v),
        NpyData::I32(v) => CountValues::I32(v),
        NpyData::U64(v) => CountValues::U64(v),
        NpyData::I64(v) => CountValues::I64(v),
        NpyData::F32(v) => CountValues::F32(v),
        NpyData::F64(v) => CountValues::F64(v),
        _ => return None,
    })
}

/// Centre of stored bin `k` relative to stimulus onset (s).
fn bin_centre_s(k: usize, bin_size: f64) -> f64 {
    (k as f64 - ONSET_BIN as f64 + 0.5) * bin_size
}

/// Every session of `path` as [`session_with_counts`] gives it, one result per session (a
/// bad session does not hide the others).
///
/// # Errors
/// A file that cannot be read as an NMA npz (see [`session_values`]).
pub fn read_with_counts(path: &Path) -> Result<Vec<Result<(Recording, CountTensor)>>> {
    Ok(session_values(path)?
        .into_iter()
        .enumerate()
        .map(|(k, v)| session_with_counts(v, path, k))
        .collect())
}

/// Session `index` of `path` as its [`Recording`] without a tensor (trials, units, metadata;
/// checked as by [`session_recording`]) and its `spks` as stored counts, moved out of the
/// decoded dict without a copy. An analysis that reduces the counts (epoch means, condition
/// time courses) takes them from the [`CountTensor`] without building the float64 tensor.
///
/// # Errors
/// As [`session_recording`].
///
/// ```no_run
/// # use std::path::Path;
/// let path = Path::new("steinmetz_part0.npz");
/// let value = neuropop::io::steinmetz_npz::session_values(path)?.remove(0);
/// let (rec, counts) = neuropop::io::steinmetz_npz::session_with_counts(value, path, 0)?;
/// let (epoch_means, _) = counts.view()?.epoch_summaries(50..100, &vec![0; rec.trials.n_trials()])?;
/// assert_eq!(epoch_means.dim(), (rec.trials.n_trials(), rec.units.len()));
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn session_with_counts(
    mut value: PyValue,
    path: &Path,
    index: usize,
) -> Result<(Recording, CountTensor)> {
    let rec = build_recording(&value, path, index, None).map(print_warning)?;
    let bin_size = Session::new(&value, path, index)?
        .bin_size()?
        .unwrap_or(DEFAULT_BIN_SIZE_S);
    let spks = match value.remove("spks") {
        Some(PyValue::Array(a)) => a,
        _ => {
            return Err(Error::missing(
                format!("{}: session {index}", path.display()),
                "key",
                "spks",
            ));
        }
    };
    let shape = match spks.shape.as_slice() {
        [u, t, b] => (*u, *t, *b),
        _ => unreachable!("build_recording checked that spks is 3-D"),
    };
    let fortran = spks.fortran_order;
    let values = count_values(spks.data).ok_or_else(|| {
        Error::invalid(
            format!("{}: session {index} key 'spks'", path.display()),
            "a numeric array",
            "a non-numeric array",
        )
    })?;
    let counts = CountTensor {
        values,
        shape,
        fortran,
        bin_centres_s: (0..shape.2).map(|k| bin_centre_s(k, bin_size)).collect(),
        bin_width_s: bin_size,
        align_event: "stim_onset".into(),
    };
    counts.view()?;
    Ok((rec, counts))
}

/// Builds the [`Recording`] of session `index` of `path` from its dict.
///
/// # Errors
/// [`Error::Missing`] for a missing key, [`Error::Invalid`] for a wrong type or shape, each
/// naming the file, the session index and the key.
pub fn session_recording(value: &PyValue, path: &Path, index: usize) -> Result<Recording> {
    session_recording_bins(value, path, index, None)
}

/// [`session_recording`] keeping only the bins `bins` of `spks` (all bins with `None`). Bin
/// centres stay relative to stimulus onset, so the tensor knows where it lies; an analysis
/// that reads one epoch (the Steinmetz pipeline reads bins 50–99) needs a fifth of the memory
/// and of the conversion time.
///
/// # Errors
/// As [`session_recording`], and [`Error::Invalid`] when `bins` is empty or extends past the
/// session's bins.
pub fn session_recording_bins(
    value: &PyValue,
    path: &Path,
    index: usize,
    bins: Option<std::ops::Range<usize>>,
) -> Result<Recording> {
    build_recording(value, path, index, Some(bins)).map(print_warning)
}

/// The recording of a per-session reader, its warning (if any) on stderr: these readers
/// return no [`Meta`] ([`read_with`] puts the warning there instead).
fn print_warning((rec, warning): (Recording, Option<String>)) -> Recording {
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    rec
}

/// The session's [`Recording`] without the spike-count tensor (`binned: None`): trials, units
/// and metadata, checked as by [`session_recording`], for callers that reduce `spks` in its
/// stored layout themselves (see [`session_with_counts`]).
///
/// # Errors
/// As [`session_recording`].
///
/// ```no_run
/// # use std::path::Path;
/// let path = Path::new("steinmetz_part0.npz");
/// let sessions = neuropop::io::steinmetz_npz::session_values(path)?;
/// let rec = neuropop::io::steinmetz_npz::session_recording_meta(&sessions[0], path, 0)?;
/// assert!(rec.binned.is_none());
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn session_recording_meta(value: &PyValue, path: &Path, index: usize) -> Result<Recording> {
    build_recording(value, path, index, None).map(print_warning)
}

/// The session's recording (with the tensor of `tensor`'s bins when `Some`) and a warning for a
/// session without `bin_size`.
fn build_recording(
    value: &PyValue,
    path: &Path,
    index: usize,
    tensor: Option<Option<std::ops::Range<usize>>>,
) -> Result<(Recording, Option<String>)> {
    let s = Session::new(value, path, index)?;
    let mouse = s.text("mouse_name")?;
    let id = s.id()?;
    let spks = s.array("spks")?;
    let (nu, nt, nb) = spks_shape(&s, spks)?;
    let regions = s.strings("brain_area")?;
    if regions.len() != nu {
        return Err(Error::invalid(
            s.ctx("brain_area"),
            format!("{nu} entries (one per neuron of spks)"),
            regions.len().to_string(),
        ));
    }
    let mut units = UnitTable::new((0..nu as i64).collect(), regions)?;
    if let Some(PyValue::Array(ccf)) = value.get("ccf")
        && ccf.shape.len() == 2
        && ccf.shape[0] == nu
        && let Ok(v) = ccf.to_f64_c_order()
        && let Ok(a) = Array2::from_shape_vec((nu, ccf.shape[1]), v)
    {
        units.ccf = Some(a);
    }

    let source = format!("{}: session {index} ({id})", path.display());
    let mut trials = TrialTable::with_rows(nt, source.clone());
    for key in TRIAL_KEYS {
        let v = s.trial_vector(key, nt)?;
        trials.set_column(Column::new(key.into(), v))?;
    }
    trials.set_column(Column::new("stim_onset".into(), vec![0.5f64; nt]))?;

    let (bin_size, warning) = match s.bin_size()? {
        Some(b) => (b, None),
        None => (
            DEFAULT_BIN_SIZE_S,
            Some(format!(
                "{}: session {index}: no 'bin_size', assuming {DEFAULT_BIN_SIZE_S} s",
                path.display()
            )),
        ),
    };
    let binned = match tensor {
        None => None,
        Some(bins) => {
            let bins = bins.unwrap_or(0..nb);
            let values = count_view(&s, spks, (nu, nt, nb))?
                .to_values(bins.clone())
                .map_err(|e| Error::invalid(s.ctx("spks"), "the requested bins", e.to_string()))?;
            let centres: Vec<f64> = bins.map(|k| bin_centre_s(k, bin_size)).collect();
            Some(PopulationTensor::new(
                values,
                centres,
                bin_size,
                "stim_onset",
                ValueKind::Counts,
                trials.clone(),
                units.clone(),
            )?)
        }
    };
    let rec = Recording {
        info: SessionInfo {
            id,
            subject: Some(mouse),
            source: Some(PathBuf::from(path)),
            format: "steinmetz-npz".into(),
            start_time: None,
            contents: Vec::new(),
        },
        units,
        spikes: None,
        trials,
        steps: None,
        maze: None,
        binned,
    };
    rec.validate()?;
    Ok((rec, warning))
}

/// The session as a Neuromatch-Academy-style dict (`spks` neurons × trials × bins as int16,
/// clamped to 0..=32767, `brain_area`, the trial vectors of [`TRIAL_KEYS`] — `response_time`,
/// `gocue` and `feedback_time` as trials × 1 like the real files — `bin_size`, `stim_onset`,
/// `mouse_name` and `date_exp` from an id `mouse_date`), the layout [`read`] reads back.
///
/// # Errors
/// [`Error::Missing`] if the recording has no binned counts or lacks a trial column.
///
/// ```
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/steinmetz/nma_part1.npz");
/// let rec = &neuropop::io::steinmetz_npz::read(&p)?[0];
/// let d = neuropop::io::steinmetz_npz::to_nma_dict(rec)?;
/// assert_eq!(d.get("spks").unwrap().as_array().unwrap().shape, vec![12, 42, 250]);
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn to_nma_dict(rec: &Recording) -> Result<PyValue> {
    let t = rec
        .binned
        .as_ref()
        .ok_or_else(|| Error::missing(&rec.info.id, "field", "binned counts"))?;
    let (nb, nt, nu) = t.values.dim();
    let mut spks = Vec::with_capacity(nb * nt * nu);
    for u in 0..nu {
        for i in 0..nt {
            for b in 0..nb {
                spks.push(t.values[[b, i, u]].clamp(0.0, i16::MAX as f64) as i16);
            }
        }
    }
    let arr = |shape: Vec<usize>, data: NpyData| {
        PyValue::Array(NdArray {
            shape,
            fortran_order: false,
            data,
        })
    };
    let col =
        |name: &str| -> Result<PyValue> { Ok(arr(vec![nt], NpyData::F64(rec.trials.f64(name)?))) };
    let col2 = |name: &str| -> Result<PyValue> {
        Ok(arr(vec![nt, 1], NpyData::F64(rec.trials.f64(name)?)))
    };
    let (mouse, date) = rec
        .info
        .id
        .split_once('_')
        .unwrap_or((rec.info.id.as_str(), ""));
    let key = |k: &str| PyValue::Str(k.to_string());
    Ok(PyValue::Dict(vec![
        (key("spks"), arr(vec![nu, nt, nb], NpyData::I16(spks))),
        (
            key("brain_area"),
            arr(vec![nu], NpyData::Str(rec.units.regions.clone())),
        ),
        (key("contrast_left"), col("contrast_left")?),
        (key("contrast_right"), col("contrast_right")?),
        (key("response"), col("response")?),
        (key("response_time"), col2("response_time")?),
        (key("gocue"), col2("gocue")?),
        (key("feedback_time"), col2("feedback_time")?),
        (key("feedback_type"), col("feedback_type")?),
        (key("bin_size"), PyValue::Float(t.bin_width_s)),
        (key("stim_onset"), PyValue::Float(0.5)),
        (key("mouse_name"), PyValue::Str(mouse.to_string())),
        (key("date_exp"), PyValue::Str(date.to_string())),
    ]))
}

/// Writes recordings as an NMA Steinmetz `.npz` (member `dat.npy`, one dict per session as
/// [`to_nma_dict`] builds it, deflate-compressed), through a temporary file and a rename.
///
/// # Errors
/// As [`to_nma_dict`]; [`Error::Io`] if the file cannot be written.
///
/// ```
/// use neuropop::io::steinmetz_npz;
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/steinmetz/nma_part1.npz");
/// let recs = steinmetz_npz::read(&p)?;
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("copy.npz");
/// steinmetz_npz::write(&out, &recs)?;
/// let back = steinmetz_npz::read(&out)?;
/// assert_eq!(back[1].binned.as_ref().unwrap().values, recs[1].binned.as_ref().unwrap().values);
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn write(path: &Path, recordings: &[Recording]) -> Result<()> {
    let dicts = recordings
        .iter()
        .map(to_nma_dict)
        .collect::<Result<Vec<_>>>()?;
    crate::io::pickle_write::write_object_npz(path, "dat", dicts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/steinmetz")
            .join(name)
    }

    /// The stored counts moved out of a session give, bit for bit, the reductions of the
    /// session's f64 tensor; the recording beside them is the full one without its tensor.
    #[test]
    fn session_counts_reduce_to_the_tensor_reductions() {
        let path = fixture("nma_part0.npz");
        let values = session_values(&path).unwrap();
        for (k, v) in values.into_iter().enumerate() {
            let rec = session_recording_bins(&v, &path, k, Some(40..90)).unwrap();
            let (meta, counts) = session_with_counts(v, &path, k).unwrap();
            assert!(meta.binned.is_none());
            assert_eq!(meta.trials.n_trials(), rec.trials.n_trials());
            let tensor = rec.binned.unwrap();
            assert_eq!(counts.bin_centres_s[40..90], tensor.bin_centres_s[..]);
            let view = counts.view().unwrap();
            assert_eq!(view.to_values(40..90).unwrap(), tensor.values);
            let nt = tensor.n_trials();
            let groups: Vec<usize> = (0..nt).map(|i| i % 3).collect();
            let (x, courses) = view.epoch_summaries(40..90, &groups).unwrap();
            let mean = tensor.epoch_mean_bins(0, 50).unwrap();
            assert!(x.iter().zip(&mean).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert_eq!(courses.len(), 3);
        }
    }

    #[test]
    fn epoch_only_tensor_equals_the_slice_of_the_full_one() {
        let path = fixture("nma_part0.npz");
        let values = session_values(&path).unwrap();
        let full = session_recording(&values[0], &path, 0).unwrap();
        let cut = session_recording_bins(&values[0], &path, 0, Some(50..100)).unwrap();
        let (f, c) = (full.binned.unwrap(), cut.binned.unwrap());
        assert_eq!(c.values, f.values.slice(ndarray::s![50..100, .., ..]));
        assert_eq!(c.bin_centres_s, f.bin_centres_s[50..100]);
        assert!(session_recording_bins(&values[0], &path, 0, Some(200..300)).is_err());
    }

    #[test]
    fn reads_fixture_sessions() {
        let p0 = read(&fixture("nma_part0.npz")).unwrap();
        let p1 = read(&fixture("nma_part1.npz")).unwrap();
        let trials: Vec<usize> = p0.iter().chain(&p1).map(|r| r.trials.n_trials()).collect();
        assert_eq!(trials, vec![96, 120, 60, 42, 64]);
        let units: Vec<usize> = p0.iter().chain(&p1).map(|r| r.units.len()).collect();
        assert_eq!(units, vec![58, 58, 34, 12, 40]);
        let s0 = &p0[0];
        assert_eq!(s0.info.format, "steinmetz-npz");
        assert!(s0.info.id.contains('_'));
        let counts = s0.units.region_counts();
        let get = |a: &str| counts.iter().find(|(r, _)| r == a).map(|x| x.1);
        assert_eq!(get("VISp"), Some(16));
        assert_eq!(get("SCm"), Some(6));
        assert_eq!(get("root"), Some(4));
        let b = s0.binned.as_ref().unwrap();
        assert_eq!(b.values.dim(), (250, 96, 58));
        assert!((b.bin_centres_s[50] - 0.005).abs() < 1e-12);
        assert_eq!(s0.trials.f64("feedback_type").unwrap().len(), 96);
        assert!(s0.units.ccf.is_some());
    }

    #[test]
    fn summarize_matches_read() {
        let s = summarize(&fixture("nma_part1.npz")).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].n_trials, 42);
        assert_eq!(s[1].n_units, 40);
        assert_eq!(s[1].n_bins, 250);
    }

    #[test]
    fn bad_session_is_reported_with_key() {
        let p = Path::new("mem.npz");
        let d = PyValue::Dict(vec![(
            PyValue::Str("mouse_name".into()),
            PyValue::Str("M".into()),
        )]);
        let e = session_recording(&d, p, 3).unwrap_err().to_string();
        assert!(e.contains("session 3") && e.contains("date_exp"), "{e}");
        let e = session_recording(&PyValue::Int(1), p, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("dict"), "{e}");
    }

    #[test]
    fn read_with_counts_units_lists_keys_and_skips_bad_sessions_on_request() {
        let p = fixture("nma_part0.npz");
        let (recs, meta) = read_with(&p, &NpzOptions::default()).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!((meta.n_requested, meta.n_used), (150, 150));
        let item = |k: &str| {
            meta.dropped
                .iter()
                .find(|d| d.item == format!("session key '{k}'"))
        };
        assert!(item("wheel").unwrap().reason.contains("present in 3"));
        assert!(item("spks_passive").is_some());
        assert!(item("stim_onset").unwrap().reason.contains("fixed 0.5 s"));
        for used in [
            "spks",
            "brain_area",
            "ccf",
            "bin_size",
            "contrast_left",
            "mouse_name",
        ] {
            assert!(item(used).is_none(), "{used} is read");
        }
        assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);

        // A file whose second session lacks date_exp and has no bin_size.
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.npz");
        let values = session_values(&p).unwrap();
        let PyValue::Dict(mut broken) = values[1].clone() else {
            panic!("a dict")
        };
        broken.retain(|(k, _)| !matches!(k.as_str(), Some("date_exp")));
        let PyValue::Dict(mut no_bin) = values[2].clone() else {
            panic!("a dict")
        };
        no_bin.retain(|(k, _)| !matches!(k.as_str(), Some("bin_size")));
        crate::io::pickle_write::write_object_npz(
            &bad,
            "dat",
            vec![
                values[0].clone(),
                PyValue::Dict(broken),
                PyValue::Dict(no_bin),
            ],
        )
        .unwrap();
        let err = read_with(&bad, &NpzOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("session 1") && err.contains("date_exp"),
            "{err}"
        );
        let skip = NpzOptions {
            skip_bad_sessions: true,
        };
        let (recs, meta) = read_with(&bad, &skip).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(meta.n_used, 58 + 34);
        assert_eq!(meta.dropped[0].item, "session 1");
        assert!(
            meta.dropped[0].reason.contains("date_exp"),
            "{:?}",
            meta.dropped
        );
        // The missing bin_size is a warning in the Meta (not only on stderr).
        assert_eq!(meta.warnings.len(), 1, "{:?}", meta.warnings);
        assert!(meta.warnings[0].contains("session 2: no 'bin_size'"));
    }

    #[test]
    fn written_sessions_read_back() {
        let p = fixture("nma_part1.npz");
        let recs = read(&p).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("copy.npz");
        write(&out, &recs).unwrap();
        let back = read(&out).unwrap();
        for (a, b) in recs.iter().zip(&back) {
            assert_eq!(a.info.id, b.info.id);
            assert_eq!(a.units.regions, b.units.regions);
            assert_eq!(
                a.binned.as_ref().unwrap().values,
                b.binned.as_ref().unwrap().values
            );
            assert_eq!(
                a.trials.f64("response_time").unwrap(),
                b.trials.f64("response_time").unwrap()
            );
        }
        let mut unbinned = recs[0].clone();
        unbinned.binned = None;
        assert!(to_nma_dict(&unbinned).is_err());
    }

    #[test]
    fn garbage_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.npz");
        std::fs::write(&p, b"garbage bytes, not a zip").unwrap();
        assert!(read(&p).is_err());
    }
}
