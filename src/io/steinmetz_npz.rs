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
//! [`read`] returns one [`Recording`] per session; [`read_sessions`] returns one result per
//! session so that a bad session does not hide the others; [`summarize`] gives the counts.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3};
use polars::prelude::Column;
use serde::Serialize;

use crate::data::{PopulationTensor, Recording, SessionInfo, TrialTable, UnitTable, ValueKind};
use crate::error::{Error, Result};
use crate::io::npy::{NdArray, NpyData};
use crate::io::npz;
use crate::io::pickle::PyValue;

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

/// Reads every session of an NMA Steinmetz `.npz` file.
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
    read_sessions(path)?.into_iter().collect()
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

/// Calls `$body` with `$v` bound to the typed elements of a numeric `NpyData` and `$conv` to
/// their conversion to f64; `$other` for non-numeric data. One dispatch for every reader of
/// `spks`.
macro_rules! with_numeric {
    ($data:expr, |$v:ident, $conv:ident| $body:expr, $other:ident => $fallback:expr) => {
        match $data {
            NpyData::U8($v) => {
                let $conv = f64::from;
                $body
            }
            NpyData::I8($v) => {
                let $conv = f64::from;
                $body
            }
            NpyData::U16($v) => {
                let $conv = f64::from;
                $body
            }
            NpyData::I16($v) => {
                let $conv = f64::from;
                $body
            }
            NpyData::U32($v) => {
                let $conv = f64::from;
                $body
            }
            NpyData::I32($v) => {
                let $conv = f64::from;
                $body
            }
            NpyData::U64($v) => {
                let $conv = |x: u64| x as f64;
                $body
            }
            NpyData::I64($v) => {
                let $conv = |x: i64| x as f64;
                $body
            }
            NpyData::F32($v) => {
                let $conv = f64::from;
                $body
            }
            NpyData::F64($v) => {
                let $conv = |x: f64| x;
                $body
            }
            $other => $fallback,
        }
    };
}

/// `spks` (neurons × trials × bins, any numeric dtype, C or Fortran order) → f64
/// `[bin, trial, unit]` for the bins in `bins`, converting element by element (no
/// intermediate f64 copy of the whole array). Trials are converted in parallel: for each
/// (unit, trial) the run of bins is contiguous in C order, and its values go to one slot in
/// each of the bins' output rows, which stay in cache while the unit index advances.
fn spks_to_tensor(
    spks: &NdArray,
    (nu, nt, nb): (usize, usize, usize),
    bins: std::ops::Range<usize>,
) -> Result<Array3<f64>> {
    fn fill<T: Copy + Sync>(
        src: &[T],
        fortran: bool,
        (nu, nt, nb): (usize, usize, usize),
        bins: std::ops::Range<usize>,
        conv: impl Fn(T) -> f64 + Sync,
    ) -> Array3<f64> {
        use ndarray::Axis;
        use rayon::prelude::*;
        let nbins = bins.len();
        let mut out = Array3::<f64>::zeros((nbins, nt, nu));
        let index = |u: usize, t: usize, b: usize| {
            if fortran {
                u + nu * (t + nt * b)
            } else {
                (u * nt + t) * nb + b
            }
        };
        out.axis_iter_mut(Axis(1))
            .into_par_iter()
            .enumerate()
            .for_each(|(t, mut plane)| {
                // plane[bin, unit]: one output row per bin, contiguous over units.
                let mut rows: Vec<&mut [f64]> = plane
                    .outer_iter_mut()
                    .map(|r| r.into_slice().expect("the unit axis is contiguous"))
                    .collect();
                // Eight units at a time: their runs of bins are gathered, then each bin's
                // row receives eight adjacent values (one cache line) at once.
                const U: usize = 8;
                let mut block = vec![[0.0f64; U]; nbins];
                let mut u0 = 0;
                while u0 < nu {
                    let w = U.min(nu - u0);
                    for j in 0..w {
                        let first = index(u0 + j, t, bins.start);
                        if fortran {
                            for (k, b) in block.iter_mut().enumerate() {
                                b[j] = conv(src[first + k * nu * nt]);
                            }
                        } else {
                            for (b, &v) in block.iter_mut().zip(&src[first..first + nbins]) {
                                b[j] = conv(v);
                            }
                        }
                    }
                    if w == U {
                        // Fixed-size copies compile to vector moves (a slice copy of run-time
                        // length would call memmove for every 64 bytes).
                        for (row, b) in rows.iter_mut().zip(&block) {
                            if let Some(dst) = row.get_mut(u0..u0 + U)
                                && let Ok(dst) = <&mut [f64; U]>::try_from(dst)
                            {
                                *dst = *b;
                            }
                        }
                    } else {
                        for (row, b) in rows.iter_mut().zip(&block) {
                            row[u0..u0 + w].copy_from_slice(&b[..w]);
                        }
                    }
                    u0 += w;
                }
            });
        out
    }
    let dims = (nu, nt, nb);
    if spks.len() != nu * nt * nb {
        return Err(Error::invalid(
            "spks",
            format!("{} elements", nu * nt * nb),
            spks.len().to_string(),
        ));
    }
    let f = spks.fortran_order;
    Ok(
        with_numeric!(&spks.data, |v, conv| fill(v, f, dims, bins, conv), other => {
            return Err(Error::invalid(
                "spks",
                "a numeric array",
                format!("dtype {}", other.dtype_name()),
            ));
        }),
    )
}

fn check_bins(s: &Session<'_>, bins: &std::ops::Range<usize>, nb: usize) -> Result<()> {
    if bins.start >= bins.end || bins.end > nb {
        return Err(Error::invalid(
            s.ctx("spks"),
            format!(
                "at least {} bins (bins {}..{} requested)",
                bins.end, bins.start, bins.end
            ),
            format!("{nb} bins"),
        ));
    }
    Ok(())
}

fn nan0(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v }
}

/// Epoch means and group time courses of session `index`'s `spks`.
pub type EpochSummaries = (Array2<f64>, Vec<Array2<f64>>);

/// `spks` reduced over the bins `bins` in one pass over its stored layout, without building
/// the float64 tensor: the mean over the bins of every (trial, unit) — `trials × units`, NaN
/// counts → 0, bins summed in order from 0.0, the mean NaN → 0 — and, for every group with at
/// least two trials (`groups[t]` is trial `t`'s group), its mean time course — `bins × units`,
/// NaN counts → 0, trials added in session order — in group order. These are exactly (to the
/// bit) the same reductions of the `[bin, trial, unit]` tensor of [`session_recording_bins`],
/// which a whole-dataset pipeline would otherwise write and read back (8 bytes per count).
///
/// # Errors
/// As [`session_recording`] for `spks`; [`Error::Invalid`] when `bins` is empty or past the
/// session's bins, or `groups` does not have one entry per trial.
///
/// ```no_run
/// # use std::path::Path;
/// let path = Path::new("steinmetz_part0.npz");
/// let sessions = neuropop::io::steinmetz_npz::session_values(path)?;
/// let (x, courses) = neuropop::io::steinmetz_npz::epoch_summaries(&sessions[0], path, 0, 50..100, &[0; 214])?;
/// assert_eq!(courses.len(), 1); // one group of 214 trials
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn epoch_summaries(
    value: &PyValue,
    path: &Path,
    index: usize,
    bins: std::ops::Range<usize>,
    groups: &[usize],
) -> Result<EpochSummaries> {
    let s = Session::new(value, path, index)?;
    let spks = s.array("spks")?;
    let (nu, nt, nb) = spks_shape(&s, spks)?;
    check_bins(&s, &bins, nb)?;
    if spks.len() != nu * nt * nb {
        return Err(Error::invalid(
            s.ctx("spks"),
            format!("{} elements", nu * nt * nb),
            spks.len().to_string(),
        ));
    }
    if groups.len() != nt {
        return Err(Error::invalid(
            s.ctx("groups"),
            format!("one group per trial ({nt})"),
            groups.len().to_string(),
        ));
    }
    let f = spks.fortran_order;
    let d = (nu, nt, nb);
    Ok(
        with_numeric!(&spks.data, |v, conv| reduce_epoch(v, f, d, bins, groups, conv), other => {
            return Err(Error::invalid(
                s.ctx("spks"),
                "a numeric array",
                format!("dtype {}", other.dtype_name()),
            ));
        }),
    )
}

/// [`epoch_summaries`] on the raw elements: units are split into chunks reduced in parallel,
/// each reading its units' runs of bins once.
fn reduce_epoch<T: Copy + Sync>(
    src: &[T],
    fortran: bool,
    (nu, nt, nb): (usize, usize, usize),
    bins: std::ops::Range<usize>,
    groups: &[usize],
    conv: impl Fn(T) -> f64 + Sync,
) -> EpochSummaries {
    use rayon::prelude::*;
    let n_groups = groups.iter().copied().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; n_groups];
    for &g in groups {
        sizes[g] += 1;
    }
    let mut slot = vec![None; n_groups];
    let mut kept = Vec::new();
    for (g, &k) in sizes.iter().enumerate() {
        if k >= 2 {
            slot[g] = Some(kept.len());
            kept.push(k);
        }
    }
    let trial_slot: Vec<Option<usize>> = groups.iter().map(|&g| slot[g]).collect();
    let nbins = bins.len();
    let index = |u: usize, t: usize, b: usize| {
        if fortran {
            u + nu * (t + nt * b)
        } else {
            (u * nt + t) * nb + b
        }
    };
    const CHUNK: usize = 32;
    let parts: Vec<(usize, Vec<f64>, Vec<Vec<f64>>)> = (0..nu.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let u0 = c * CHUNK;
            let w = CHUNK.min(nu - u0);
            // x[t · w + j] and course[s][k · w + j] for unit u0 + j.
            let mut x = vec![0.0; nt * w];
            let mut courses = vec![vec![0.0; nbins * w]; kept.len()];
            for j in 0..w {
                for t in 0..nt {
                    let mut acc = 0.0;
                    let sl = trial_slot[t];
                    for (k, b) in bins.clone().enumerate() {
                        let v = nan0(conv(src[index(u0 + j, t, b)]));
                        acc += v;
                        if let Some(s) = sl {
                            courses[s][k * w + j] += v;
                        }
                    }
                    x[t * w + j] = acc;
                }
            }
            (u0, x, courses)
        })
        .collect();
    let mut x = Array2::<f64>::zeros((nt, nu));
    let mut courses = vec![Array2::<f64>::zeros((nbins, nu)); kept.len()];
    for (u0, xp, cp) in &parts {
        let w = xp.len() / nt.max(1);
        for t in 0..nt {
            for j in 0..w {
                x[[t, u0 + j]] = xp[t * w + j];
            }
        }
        for (s, c) in cp.iter().enumerate() {
            for k in 0..nbins {
                for j in 0..w {
                    courses[s][[k, u0 + j]] = c[k * w + j];
                }
            }
        }
    }
    let nb_f = nbins as f64;
    x.mapv_inplace(|v| nan0(v / nb_f));
    let courses = courses
        .into_iter()
        .zip(&kept)
        .map(|(m, &k)| m / k as f64)
        .collect();
    (x, courses)
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
    build_recording(value, path, index, Some(bins))
}

/// The session's [`Recording`] without the spike-count tensor (`binned: None`): trials, units
/// and metadata, checked as by [`session_recording`], for callers that reduce `spks` in its
/// stored layout themselves (see [`epoch_summaries`]).
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
    build_recording(value, path, index, None)
}

fn build_recording(
    value: &PyValue,
    path: &Path,
    index: usize,
    tensor: Option<Option<std::ops::Range<usize>>>,
) -> Result<Recording> {
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

    let bin_size = match s.bin_size()? {
        Some(b) => b,
        None => {
            eprintln!(
                "warning: {}: session {index}: no 'bin_size', assuming {DEFAULT_BIN_SIZE_S} s",
                path.display()
            );
            DEFAULT_BIN_SIZE_S
        }
    };
    let binned = match tensor {
        None => None,
        Some(bins) => {
            let bins = bins.unwrap_or(0..nb);
            check_bins(&s, &bins, nb)?;
            let values = spks_to_tensor(spks, (nu, nt, nb), bins.clone())
                .map_err(|e| Error::invalid(s.ctx("spks"), "a numeric array", e.to_string()))?;
            let centres: Vec<f64> = bins
                .map(|k| (k as f64 - ONSET_BIN as f64 + 0.5) * bin_size)
                .collect();
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
        },
        units,
        spikes: None,
        trials,
        steps: None,
        maze: None,
        binned,
    };
    rec.validate()?;
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/steinmetz")
            .join(name)
    }

    /// The one-pass reductions equal, bit for bit, the same reductions of the f64 tensor; and
    /// the metadata-only recording is the full one without its tensor.
    #[test]
    fn epoch_summaries_equal_the_tensor_reductions() {
        let path = fixture("nma_part0.npz");
        let values = session_values(&path).unwrap();
        for (k, v) in values.iter().enumerate() {
            let rec = session_recording_bins(v, &path, k, Some(40..90)).unwrap();
            let meta = session_recording_meta(v, &path, k).unwrap();
            assert!(meta.binned.is_none());
            assert_eq!(meta.trials.n_trials(), rec.trials.n_trials());
            let t = rec.binned.unwrap().values;
            let (nb, nt, nu) = t.dim();
            // Groups 0..3 by trial; group 3 gets a single trial and has no time course.
            let mut groups: Vec<usize> = (0..nt).map(|i| i % 3).collect();
            groups[0] = 3;
            let (x, courses) = epoch_summaries(v, &path, k, 40..90, &groups).unwrap();
            assert_eq!(courses.len(), 3);
            for tr in 0..nt {
                for u in 0..nu {
                    let mut acc = 0.0;
                    for b in 0..nb {
                        acc += nan0(t[[b, tr, u]]);
                    }
                    assert_eq!(x[[tr, u]].to_bits(), nan0(acc / nb as f64).to_bits());
                }
            }
            for (g, c) in courses.iter().enumerate() {
                let members: Vec<usize> = (0..nt).filter(|&i| groups[i] == g).collect();
                for b in 0..nb {
                    for u in 0..nu {
                        let mut acc = 0.0;
                        for &tr in &members {
                            acc += nan0(t[[b, tr, u]]);
                        }
                        assert_eq!(c[[b, u]].to_bits(), (acc / members.len() as f64).to_bits());
                    }
                }
            }
            assert!(epoch_summaries(v, &path, k, 200..300, &groups).is_err());
            assert!(epoch_summaries(v, &path, k, 40..90, &groups[1..]).is_err());
        }
        // Fortran order reads the same counts as C order.
        let mut fdata = vec![0u8; 24];
        for u in 0..2 {
            for t in 0..3 {
                for b in 0..4 {
                    fdata[u + 2 * (t + 3 * b)] = ((u * 3 + t) * 4 + b) as u8;
                }
            }
        }
        let c_order: Vec<u8> = (0..24).collect();
        let (xc, cc) = reduce_epoch(&c_order, false, (2, 3, 4), 1..4, &[0, 0, 1], f64::from);
        let (xf, cf) = reduce_epoch(&fdata, true, (2, 3, 4), 1..4, &[0, 0, 1], f64::from);
        assert_eq!((xc.clone(), cc.clone()), (xf, cf));
        // Unit 1, trial 2: bins 1..4 of ((1·3 + 2)·4 + b) = 21, 22, 23.
        assert_eq!(xc[[2, 1]], 22.0);
        assert_eq!(cc.len(), 1);
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
        // Fortran-ordered spks give the same tensor as C-ordered ones.
        let a = NdArray {
            shape: vec![2, 3, 4],
            fortran_order: false,
            data: NpyData::U8((0..24).collect()),
        };
        let mut fdata = vec![0u8; 24];
        for u in 0..2 {
            for t in 0..3 {
                for b in 0..4 {
                    fdata[u + 2 * (t + 3 * b)] = ((u * 3 + t) * 4 + b) as u8;
                }
            }
        }
        let fa = NdArray {
            shape: vec![2, 3, 4],
            fortran_order: true,
            data: NpyData::U8(fdata.into()),
        };
        let x = spks_to_tensor(&a, (2, 3, 4), 1..4).unwrap();
        assert_eq!(x, spks_to_tensor(&fa, (2, 3, 4), 1..4).unwrap());
        assert_eq!(x[[0, 2, 1]], ((3 + 2) * 4 + 1) as f64); // bin 1, trial 2, unit 1
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
    fn garbage_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.npz");
        std::fs::write(&p, b"garbage bytes, not a zip").unwrap();
        assert!(read(&p).is_err());
    }
}
