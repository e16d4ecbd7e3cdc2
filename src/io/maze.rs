//! Maze v1: neuropop's documented HDF5 layout for multi-step maze sessions (one file per session).
//!
//! The schema, dtypes and every check are described in `docs/formats/maze.md`. [`read`] and
//! [`write`] run the same validation, so a file written by neuropop is always readable and a
//! file a lab exports with h5py is rejected with the dataset path of the first inconsistency.

use super::h5util::{H5File, ValueKind};
use crate::data::{
    MazeGeometry, Move, Recording, SessionInfo, SpikeTrains, StepTable, TrialTable, UnitTable,
};
use crate::result::Meta;
use crate::{Error, Result};
use hdf5::types::VarLenUnicode;
use polars::prelude::Column;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The format name stored in the root attribute `format`.
pub const FORMAT_NAME: &str = "maze";
/// The only layout version this module reads and writes.
pub const FORMAT_VERSION: i64 = 1;

/// Spike-time vectors longer than this are written chunked and gzip-compressed.
const COMPRESS_ABOVE: usize = 65_536;

const F64_TRIAL_COLUMNS: [&str; 3] = ["start_time", "stop_time", "goal_cue_time"];
const I64_TRIAL_COLUMNS: [&str; 4] = ["goal", "goal_x", "goal_y", "route_length"];

/// All columns of a maze file, as stored (before conversion to the data model).
struct MazeColumns {
    session_id: String,
    subject: String,
    maze: MazeGeometry,
    unit_ids: Vec<i64>,
    regions: Vec<String>,
    spike_times: Vec<f64>,
    /// Exclusive end offset of each unit's spikes (`/units/spike_times_index`).
    spike_ends: Vec<usize>,
    trial_f64: [Vec<f64>; 3],
    trial_i64: [Vec<i64>; 4],
    correct: Vec<bool>,
    step_trial: Vec<i64>,
    step_number: Vec<i64>,
    step_x: Vec<i64>,
    step_y: Vec<i64>,
    step_move: Vec<i64>,
    options_time: Vec<f64>,
    saccade_time: Vec<f64>,
}

/// True if `path` is an HDF5 file whose root attribute `format` is `"maze"` (any version).
///
/// ```
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5");
/// assert!(neuropop::io::maze::is_maze(&p));
/// assert!(!neuropop::io::maze::is_maze(std::path::Path::new("Cargo.toml")));
/// ```
pub fn is_maze(path: &Path) -> bool {
    matches!(super::h5util::sniff(path), Ok(Some("maze")))
}

/// Options of [`read_with`].
///
/// ```
/// assert_eq!(neuropop::io::maze::MazeOptions::default().chunk_values, 1 << 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MazeOptions {
    /// Spike times are read in hyperslabs of at most this many values (bounds the temporary
    /// buffer libhdf5 decompresses into). Default 1 048 576.
    pub chunk_values: usize,
}

impl Default for MazeOptions {
    fn default() -> Self {
        MazeOptions {
            chunk_values: 1 << 20,
        }
    }
}

/// Groups and datasets of maze v1 (`docs/formats/maze.md`), by group; anything else in a file
/// is listed in the [`Meta`] of [`read_with`] as not imported.
const LAYOUT: [(&str, &[&str]); 5] = [
    ("/", &["maze", "units", "trials", "steps"]),
    ("/maze", &["width", "height", "start_x", "start_y"]),
    (
        "/units",
        &["id", "region", "spike_times", "spike_times_index"],
    ),
    (
        "/trials",
        &[
            "start_time",
            "stop_time",
            "goal_cue_time",
            "goal",
            "goal_x",
            "goal_y",
            "route_length",
            "correct",
        ],
    ),
    (
        "/steps",
        &[
            "trial",
            "step",
            "x",
            "y",
            "move",
            "options_time",
            "saccade_time",
        ],
    ),
];

/// Reads a maze-v1 session with default options, discarding the diagnostics.
///
/// The trial table has `start_time`, `stop_time`, `goal_cue_time` (f64), `goal`, `goal_x`,
/// `goal_y`, `route_length` (i64) and `correct` (bool); `spikes`, `steps` and `maze` are `Some`.
///
/// # Errors
/// As [`read_with`].
///
/// ```
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5");
/// let rec = neuropop::io::maze::read(&p).unwrap();
/// assert_eq!(rec.units.ids, vec![7, 12, 30]);
/// assert_eq!(rec.trials.n_trials(), 3);
/// ```
pub fn read(path: &Path) -> Result<Recording> {
    read_with(path, &MazeOptions::default()).map(|(rec, _)| rec)
}

/// Reads a maze-v1 session; the [`Meta`] counts the units (`n_requested` = `n_used`: every
/// unit is imported) and lists every group or dataset of the file that is not part of maze v1
/// (not imported).
///
/// # Errors
/// [`Error::Io`] if unreadable; [`Error::Format`] if not HDF5 or truncated, if the root
/// `format`/`format_version` attributes are not `"maze"`/1, or if any invariant fails (the
/// message names the dataset, e.g. `/units/spike_times`, `/steps/x`); [`Error::Missing`] naming
/// an absent dataset.
///
/// ```
/// use neuropop::io::maze::{read_with, MazeOptions};
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5");
/// let (rec, meta) = read_with(&p, &MazeOptions { chunk_values: 2 }).unwrap();
/// assert_eq!((meta.n_requested, meta.n_used), (3, 3));
/// assert!(meta.dropped.is_empty());
/// assert_eq!(rec.spikes.unwrap().n_spikes(), 7);
/// ```
pub fn read_with(path: &Path, options: &MazeOptions) -> Result<(Recording, Meta)> {
    let f = H5File::open(path)?;
    let cols = read_columns(&f, options)?;
    validate(path, &cols)?;
    let mut meta = Meta::default();
    report_other_members(&f, &mut meta)?;
    let rec = into_recording(path, cols)?;
    meta.n_requested = rec.units.len();
    meta.n_used = rec.units.len();
    Ok((rec, meta))
}

/// Lists in `meta.dropped` every member of the maze-v1 groups that the layout does not define
/// (a lab's extra columns, say), so nothing in the file is ignored silently.
fn report_other_members(f: &H5File, meta: &mut Meta) -> Result<()> {
    for (group, known) in LAYOUT {
        for name in f.member_names(group)? {
            if !known.contains(&name.as_str()) {
                let path = if group == "/" {
                    format!("/{name}")
                } else {
                    format!("{group}/{name}")
                };
                meta.drop_item(path, "not part of maze v1: not imported");
            }
        }
    }
    Ok(())
}

/// Writes `rec` as a maze-v1 file at `path` (via a temporary file in the same directory that is
/// renamed into place, so a failed write never leaves a half-written file under `path`; created
/// with mode 0666 minus the umask by [`crate::output::OutputFile`]).
///
/// # Errors
/// [`Error::Missing`] if the recording lacks spikes, steps, the maze geometry or a required trial
/// column; [`Error::Format`] (naming `path` and the dataset) if the data break a maze-v1
/// invariant; [`Error::Io`]/[`Error::Hdf5`] if the file cannot be written.
///
/// ```
/// let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5");
/// let rec = neuropop::io::maze::read(&src).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("copy.maze.h5");
/// neuropop::io::maze::write(&out, &rec).unwrap();
/// assert_eq!(neuropop::io::maze::read(&out).unwrap().units, rec.units);
/// ```
pub fn write(path: &Path, rec: &Recording) -> Result<()> {
    let cols = from_recording(path, rec)?;
    validate(path, &cols)?;
    let out = crate::output::OutputFile::create(path)?;
    write_columns(out.temp_path(), &cols).map_err(|e| match e {
        // Report the destination, not the temporary name the user never asked for.
        Error::Hdf5 {
            location, message, ..
        } => Error::hdf5(path, location, message),
        other => other,
    })?;
    out.commit()
}

fn read_columns(f: &H5File, options: &MazeOptions) -> Result<MazeColumns> {
    let format = match f.attr_kind("/", "format")? {
        Some(ValueKind::Str) => f.attr_string("/", "format")?,
        Some(other) => Some(format!("a non-string attribute ({other:?})")),
        None => None,
    };
    if format.as_deref() != Some(FORMAT_NAME) {
        return Err(f.format_err(
            "/ attribute 'format'",
            format!(
                "expected \"{FORMAT_NAME}\", found {}",
                format.map_or("no attribute".into(), |s| format!("\"{s}\""))
            ),
        ));
    }
    let version = f.attr_i64("/", "format_version")?;
    if version != Some(FORMAT_VERSION) {
        return Err(f.format_err(
            "/ attribute 'format_version'",
            format!(
                "expected {FORMAT_VERSION}, found {}",
                version.map_or("no attribute".into(), |v| v.to_string())
            ),
        ));
    }
    let attr_str = |name: &str| -> Result<String> {
        f.attr_string("/", name)?
            .ok_or_else(|| Error::missing(f.path().display().to_string(), "attribute", name))
    };
    let maze = MazeGeometry {
        width: f.read_scalar_i64("/maze/width")?,
        height: f.read_scalar_i64("/maze/height")?,
        start_x: f.read_scalar_i64("/maze/start_x")?,
        start_y: f.read_scalar_i64("/maze/start_y")?,
    };
    let correct = match f.kind("/trials/correct")? {
        ValueKind::Bool => f.read_bool("/trials/correct")?,
        _ => {
            let raw = f.read_i64("/trials/correct")?;
            if let Some((i, v)) = raw.iter().enumerate().find(|(_, v)| !(0..=1).contains(*v)) {
                return Err(f.format_err(
                    "/trials/correct",
                    format!("trial {i}: expected 0 or 1, found {v}"),
                ));
            }
            raw.into_iter().map(|v| v == 1).collect()
        }
    };
    Ok(MazeColumns {
        session_id: attr_str("session_id")?,
        subject: attr_str("subject")?,
        maze,
        unit_ids: f.read_i64("/units/id")?,
        regions: f.read_strings("/units/region")?,
        spike_times: f.read_f64_chunked("/units/spike_times", options.chunk_values)?,
        spike_ends: f.read_usize("/units/spike_times_index")?,
        trial_f64: [
            f.read_f64("/trials/start_time")?,
            f.read_f64("/trials/stop_time")?,
            f.read_f64("/trials/goal_cue_time")?,
        ],
        trial_i64: [
            f.read_i64("/trials/goal")?,
            f.read_i64("/trials/goal_x")?,
            f.read_i64("/trials/goal_y")?,
            f.read_i64("/trials/route_length")?,
        ],
        correct,
        step_trial: f.read_i64("/steps/trial")?,
        step_number: f.read_i64("/steps/step")?,
        step_x: f.read_i64("/steps/x")?,
        step_y: f.read_i64("/steps/y")?,
        step_move: f.read_i64("/steps/move")?,
        options_time: f.read_f64("/steps/options_time")?,
        saccade_time: f.read_f64("/steps/saccade_time")?,
    })
}

/// Checks every maze-v1 invariant; errors name `path` and the offending dataset.
fn validate(path: &Path, c: &MazeColumns) -> Result<()> {
    let bad = |location: &str, message: String| Error::format(path, location, message);
    let same_len = |location: &str, len: usize, n: usize, of: &str| {
        if len == n {
            Ok(())
        } else {
            Err(bad(
                location,
                format!("expected {n} entries (as {of}), found {len}"),
            ))
        }
    };

    let m = c.maze;
    if m.width < 1 || m.height < 1 {
        return Err(bad(
            "/maze/width, /maze/height",
            format!(
                "expected a grid of at least 1 × 1, found {} × {}",
                m.width, m.height
            ),
        ));
    }
    let on_grid = |x: i64, y: i64| (0..m.width).contains(&x) && (0..m.height).contains(&y);
    if !on_grid(m.start_x, m.start_y) {
        return Err(bad(
            "/maze/start_x, /maze/start_y",
            format!(
                "expected a position inside the {} × {} grid, found ({}, {})",
                m.width, m.height, m.start_x, m.start_y
            ),
        ));
    }

    // Units and spikes.
    let n_units = c.unit_ids.len();
    same_len("/units/region", c.regions.len(), n_units, "/units/id")?;
    same_len(
        "/units/spike_times_index",
        c.spike_ends.len(),
        n_units,
        "/units/id",
    )?;
    let n_spikes = c.spike_times.len();
    let mut begin = 0usize;
    for (u, &end) in c.spike_ends.iter().enumerate() {
        if end < begin {
            return Err(bad(
                "/units/spike_times_index",
                format!("entry {u}: expected non-decreasing offsets, found {end} after {begin}"),
            ));
        }
        if end > n_spikes {
            return Err(bad(
                "/units/spike_times_index",
                format!("entry {u} = {end} points past /units/spike_times (length {n_spikes})"),
            ));
        }
        let times = &c.spike_times[begin..end];
        let id = c.unit_ids[u];
        if let Some(i) = times.iter().position(|t| !t.is_finite()) {
            return Err(bad(
                "/units/spike_times",
                format!(
                    "unit {u} (id {id}), spike {i} (row {}): expected a finite time, found {}",
                    begin + i,
                    times[i]
                ),
            ));
        }
        if let Some(i) = times.windows(2).position(|w| w[1] < w[0]) {
            return Err(bad(
                "/units/spike_times",
                format!(
                    "unit {u} (id {id}), spike {} (row {}): expected times sorted ascending, found {} after {}",
                    i + 1,
                    begin + i + 1,
                    times[i + 1],
                    times[i]
                ),
            ));
        }
        begin = end;
    }
    if begin != n_spikes {
        return Err(bad(
            "/units/spike_times_index",
            format!(
                "expected the last offset to be {n_spikes} (the length of /units/spike_times), found {begin}: {} spikes belong to no unit",
                n_spikes - begin
            ),
        ));
    }

    // Trials.
    let n_trials = c.trial_f64[0].len();
    for (name, col) in F64_TRIAL_COLUMNS.iter().zip(&c.trial_f64).skip(1) {
        same_len(
            &format!("/trials/{name}"),
            col.len(),
            n_trials,
            "/trials/start_time",
        )?;
    }
    for (name, col) in I64_TRIAL_COLUMNS.iter().zip(&c.trial_i64) {
        same_len(
            &format!("/trials/{name}"),
            col.len(),
            n_trials,
            "/trials/start_time",
        )?;
    }
    same_len(
        "/trials/correct",
        c.correct.len(),
        n_trials,
        "/trials/start_time",
    )?;
    let [start, stop, cue] = &c.trial_f64;
    let [_, goal_x, goal_y, _] = &c.trial_i64;
    let inside = |t: f64, i: usize| t >= start[i] && t <= stop[i];
    for i in 0..n_trials {
        if !(start[i].is_finite() && stop[i].is_finite() && start[i] <= stop[i]) {
            return Err(bad(
                "/trials/stop_time",
                format!(
                    "trial {i}: expected finite start_time ≤ stop_time, found {} and {}",
                    start[i], stop[i]
                ),
            ));
        }
        if !inside(cue[i], i) {
            return Err(bad(
                "/trials/goal_cue_time",
                format!(
                    "trial {i}: expected a time within the trial [{}, {}], found {}",
                    start[i], stop[i], cue[i]
                ),
            ));
        }
        if !on_grid(goal_x[i], goal_y[i]) {
            return Err(bad(
                "/trials/goal_x, /trials/goal_y",
                format!(
                    "trial {i}: expected a position inside the {} × {} grid, found ({}, {})",
                    m.width, m.height, goal_x[i], goal_y[i]
                ),
            ));
        }
    }

    // Steps.
    let n_steps = c.step_trial.len();
    for (name, len) in [
        ("step", c.step_number.len()),
        ("x", c.step_x.len()),
        ("y", c.step_y.len()),
        ("move", c.step_move.len()),
        ("options_time", c.options_time.len()),
        ("saccade_time", c.saccade_time.len()),
    ] {
        same_len(&format!("/steps/{name}"), len, n_steps, "/steps/trial")?;
    }
    // The last step row of each trial, to check correct trials end on their goal.
    let mut last_step: Vec<Option<usize>> = vec![None; n_trials];
    for r in 0..n_steps {
        let t = c.step_trial[r];
        let ti = usize::try_from(t).ok().filter(|&ti| ti < n_trials);
        let Some(ti) = ti else {
            return Err(bad(
                "/steps/trial",
                format!("row {r}: expected a trial index in 0..{n_trials}, found {t}"),
            ));
        };
        let step = c.step_number[r];
        let first_of_trial = r == 0 || c.step_trial[r - 1] != t;
        if first_of_trial {
            if r > 0 && c.step_trial[r - 1] > t {
                return Err(bad(
                    "/steps/trial",
                    format!(
                        "row {r}: expected rows ordered by trial, found trial {t} after trial {}",
                        c.step_trial[r - 1]
                    ),
                ));
            }
            if step != 1 {
                return Err(bad(
                    "/steps/step",
                    format!(
                        "row {r} (trial {t}): expected step 1 at the start of a trial, found {step}"
                    ),
                ));
            }
        } else if step != c.step_number[r - 1] + 1 {
            return Err(bad(
                "/steps/step",
                format!(
                    "row {r} (trial {t}): expected step {}, found {step}",
                    c.step_number[r - 1] + 1
                ),
            ));
        }
        let code = c.step_move[r];
        let mv = Move::from_code(code).map_err(|_| {
            bad(
                "/steps/move",
                format!("row {r} (trial {t}, step {step}): expected 0 (up), 1 (right), 2 (down) or 3 (left), found {code}"),
            )
        })?;
        let (x, y) = (c.step_x[r], c.step_y[r]);
        if !on_grid(x, y) {
            return Err(bad(
                "/steps/x, /steps/y",
                format!(
                    "row {r} (trial {t}, step {step}): expected a position inside the {} × {} grid, found ({x}, {y})",
                    m.width, m.height
                ),
            ));
        }
        let (dx, dy) = mv.delta();
        let (nx, ny) = (x + dx, y + dy);
        if !on_grid(nx, ny) {
            return Err(bad(
                "/steps/move",
                format!(
                    "row {r} (trial {t}, step {step}): move {mv:?} from ({x}, {y}) leaves the {} × {} grid (to ({nx}, {ny}))",
                    m.width, m.height
                ),
            ));
        }
        let next_in_trial = r + 1 < n_steps && c.step_trial[r + 1] == t;
        if next_in_trial && (c.step_x[r + 1], c.step_y[r + 1]) != (nx, ny) {
            return Err(bad(
                "/steps/x, /steps/y",
                format!(
                    "row {} (trial {t}, step {}): expected position ({nx}, {ny}) after move {mv:?} from ({x}, {y}) at step {step}, found ({}, {})",
                    r + 1,
                    c.step_number[r + 1],
                    c.step_x[r + 1],
                    c.step_y[r + 1]
                ),
            ));
        }
        for (name, time) in [
            ("options_time", c.options_time[r]),
            ("saccade_time", c.saccade_time[r]),
        ] {
            if !inside(time, ti) {
                return Err(bad(
                    &format!("/steps/{name}"),
                    format!(
                        "row {r} (trial {t}, step {step}): expected a time within the trial [{}, {}], found {time}",
                        start[ti], stop[ti]
                    ),
                ));
            }
        }
        last_step[ti] = Some(r);
    }
    for (i, last) in last_step.iter().enumerate() {
        if !c.correct[i] {
            continue;
        }
        let goal = (goal_x[i], goal_y[i]);
        let end = match last {
            Some(r) => {
                // The move code was checked above.
                let (dx, dy) = Move::from_code(c.step_move[*r])
                    .map(Move::delta)
                    .unwrap_or((0, 0));
                (c.step_x[*r] + dx, c.step_y[*r] + dy)
            }
            None => {
                return Err(bad(
                    "/steps/trial",
                    format!("trial {i} is marked correct but has no steps"),
                ));
            }
        };
        if end != goal {
            return Err(bad(
                "/steps/move",
                format!(
                    "trial {i} is marked correct (/trials/correct = 1): expected its last move to end on the goal {goal:?}, found {end:?}"
                ),
            ));
        }
    }
    Ok(())
}

fn into_recording(path: &Path, c: MazeColumns) -> Result<Recording> {
    let source = path.display().to_string();
    let as_format = |location: &str, e: Error| Error::format(path, location, e.to_string());
    let mut offsets = Vec::with_capacity(c.spike_ends.len() + 1);
    offsets.push(0);
    offsets.extend_from_slice(&c.spike_ends);
    let spikes =
        SpikeTrains::new(c.spike_times, offsets).map_err(|e| as_format("/units/spike_times", e))?;
    let units = UnitTable::new(c.unit_ids, c.regions).map_err(|e| as_format("/units", e))?;

    let n_trials = c.correct.len();
    let mut trials = TrialTable::with_rows(n_trials, source.clone());
    for (name, col) in F64_TRIAL_COLUMNS.iter().zip(&c.trial_f64) {
        trials.set_column(Column::new((*name).into(), col))?;
    }
    for (name, col) in I64_TRIAL_COLUMNS.iter().zip(&c.trial_i64) {
        trials.set_column(Column::new((*name).into(), col))?;
    }
    trials.set_column(Column::new("correct".into(), &c.correct))?;

    // Ranges were checked by `validate`; the conversions cannot fail on validated data.
    let step_trials = c
        .step_trial
        .iter()
        .map(|&t| {
            usize::try_from(t).map_err(|_| {
                as_format(
                    "/steps/trial",
                    Error::invalid("/steps/trial", "a trial index ≥ 0", t.to_string()),
                )
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let step_numbers = c
        .step_number
        .iter()
        .map(|&s| {
            u32::try_from(s).map_err(|_| {
                as_format(
                    "/steps/step",
                    Error::invalid("/steps/step", "1..=u32::MAX", s.to_string()),
                )
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    let steps = StepTable {
        trial: step_trials,
        step: step_numbers,
        x: c.step_x,
        y: c.step_y,
        moves: c
            .step_move
            .iter()
            .map(|&m| Move::from_code(m).map_err(|e| as_format("/steps/move", e)))
            .collect::<Result<Vec<Move>>>()?,
        options_time_s: c.options_time,
        saccade_time_s: c.saccade_time,
    };
    steps.validate().map_err(|e| as_format("/steps", e))?;

    let rec = Recording {
        info: SessionInfo {
            id: c.session_id,
            subject: (!c.subject.is_empty()).then_some(c.subject),
            source: Some(path.to_path_buf()),
            format: FORMAT_NAME.into(),
            start_time: None,
            contents: Vec::new(),
        },
        units,
        spikes: Some(spikes),
        trials,
        steps: Some(steps),
        maze: Some(c.maze),
        binned: None,
    };
    rec.validate().map_err(|e| as_format("/", e))?;
    Ok(rec)
}

fn from_recording(path: &Path, rec: &Recording) -> Result<MazeColumns> {
    let what = format!("{}: recording to write as maze v1", path.display());
    let need = |field: &'static str| Error::missing(what.clone(), "field", field);
    let spikes = rec.spikes.as_ref().ok_or_else(|| need("spikes"))?;
    let steps = rec.steps.as_ref().ok_or_else(|| need("steps"))?;
    let maze = rec.maze.ok_or_else(|| need("maze"))?;
    let required = F64_TRIAL_COLUMNS
        .iter()
        .chain(&I64_TRIAL_COLUMNS)
        .chain(&["correct"]);
    let absent: Vec<&str> = required
        .copied()
        .filter(|name| !rec.trials.has(name))
        .collect();
    if !absent.is_empty() {
        return Err(Error::missing(what, "trial column", absent.join(", ")));
    }
    let f64_col = |name: &str| rec.trials.f64(name);
    let i64_col = |name: &str| rec.trials.i64(name);
    Ok(MazeColumns {
        session_id: rec.info.id.clone(),
        subject: rec.info.subject.clone().unwrap_or_default(),
        maze,
        unit_ids: rec.units.ids.clone(),
        regions: rec.units.regions.clone(),
        spike_times: spikes.times_s().to_vec(),
        spike_ends: spikes.offsets().iter().skip(1).copied().collect(),
        trial_f64: [
            f64_col("start_time")?,
            f64_col("stop_time")?,
            f64_col("goal_cue_time")?,
        ],
        trial_i64: [
            i64_col("goal")?,
            i64_col("goal_x")?,
            i64_col("goal_y")?,
            i64_col("route_length")?,
        ],
        correct: rec.trials.bool("correct")?,
        step_trial: steps
            .trial
            .iter()
            .map(|&t| i64::try_from(t).unwrap_or(i64::MAX))
            .collect(),
        step_number: steps.step.iter().map(|&s| i64::from(s)).collect(),
        step_x: steps.x.clone(),
        step_y: steps.y.clone(),
        step_move: steps.moves.iter().map(|m| m.code()).collect(),
        options_time: steps.options_time_s.clone(),
        saccade_time: steps.saccade_time_s.clone(),
    })
}

fn write_columns(tmp: &Path, c: &MazeColumns) -> Result<()> {
    let h5 = |location: &str| {
        let location = location.to_string();
        move |e: hdf5::Error| Error::hdf5(tmp, location.clone(), e)
    };
    let file = hdf5::File::create(tmp).map_err(h5("/"))?;
    let vstr = |location: &str, s: &str| -> Result<VarLenUnicode> {
        s.parse::<VarLenUnicode>().map_err(|e| {
            Error::invalid(
                format!("{location} value {s:?}"),
                "a string without NUL characters",
                e.to_string(),
            )
        })
    };
    for (name, value) in [
        ("format", FORMAT_NAME),
        ("session_id", c.session_id.as_str()),
        ("subject", c.subject.as_str()),
    ] {
        let v = vstr(&format!("/ attribute '{name}'"), value)?;
        file.new_attr::<VarLenUnicode>()
            .shape(())
            .create(name)
            .and_then(|a| a.write_scalar(&v))
            .map_err(h5(&format!("/ attribute '{name}'")))?;
    }
    file.new_attr::<i64>()
        .shape(())
        .create("format_version")
        .and_then(|a| a.write_scalar(&FORMAT_VERSION))
        .map_err(h5("/ attribute 'format_version'"))?;

    let maze = file.create_group("maze").map_err(h5("/maze"))?;
    for (name, v) in [
        ("width", c.maze.width),
        ("height", c.maze.height),
        ("start_x", c.maze.start_x),
        ("start_y", c.maze.start_y),
    ] {
        maze.new_dataset::<i64>()
            .shape(())
            .create(name)
            .and_then(|d| d.write_scalar(&v))
            .map_err(h5(&format!("/maze/{name}")))?;
    }

    let units = file.create_group("units").map_err(h5("/units"))?;
    write_1d(&units, "id", &c.unit_ids).map_err(h5("/units/id"))?;
    let regions = c
        .regions
        .iter()
        .map(|r| vstr("/units/region", r))
        .collect::<Result<Vec<_>>>()?;
    write_1d(&units, "region", &regions).map_err(h5("/units/region"))?;
    if c.spike_times.len() > COMPRESS_ABOVE {
        units
            .new_dataset_builder()
            .chunk(COMPRESS_ABOVE)
            .deflate(4)
            .with_data(c.spike_times.as_slice())
            .create("spike_times")
            .map_err(h5("/units/spike_times"))?;
    } else {
        write_1d(&units, "spike_times", &c.spike_times).map_err(h5("/units/spike_times"))?;
    }
    let ends: Vec<i64> = c
        .spike_ends
        .iter()
        .map(|&e| i64::try_from(e).unwrap_or(i64::MAX))
        .collect();
    write_1d(&units, "spike_times_index", &ends).map_err(h5("/units/spike_times_index"))?;

    let trials = file.create_group("trials").map_err(h5("/trials"))?;
    for (name, col) in F64_TRIAL_COLUMNS.iter().zip(&c.trial_f64) {
        write_1d(&trials, name, col).map_err(h5(&format!("/trials/{name}")))?;
    }
    for (name, col) in I64_TRIAL_COLUMNS.iter().zip(&c.trial_i64) {
        write_1d(&trials, name, col).map_err(h5(&format!("/trials/{name}")))?;
    }
    let correct: Vec<u8> = c.correct.iter().map(|&b| u8::from(b)).collect();
    write_1d(&trials, "correct", &correct).map_err(h5("/trials/correct"))?;

    let steps = file.create_group("steps").map_err(h5("/steps"))?;
    for (name, col) in [
        ("trial", &c.step_trial),
        ("step", &c.step_number),
        ("x", &c.step_x),
        ("y", &c.step_y),
        ("move", &c.step_move),
    ] {
        write_1d(&steps, name, col).map_err(h5(&format!("/steps/{name}")))?;
    }
    for (name, col) in [
        ("options_time", &c.options_time),
        ("saccade_time", &c.saccade_time),
    ] {
        write_1d(&steps, name, col).map_err(h5(&format!("/steps/{name}")))?;
    }
    file.flush().map_err(h5("/"))?;
    Ok(())
}

fn write_1d<T: hdf5::H5Type>(group: &hdf5::Group, name: &str, data: &[T]) -> hdf5::Result<()> {
    group
        .new_dataset_builder()
        .with_data(data)
        .create(name)
        .map(|_| ())
}
