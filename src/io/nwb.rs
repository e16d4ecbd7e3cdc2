//! NWB 2.x reader (schema 2.0 onwards): units (spike times, regions) and the trials table.
//!
//! What is read, how each unit's region is resolved, and what is skipped are described in
//! `docs/formats/nwb.md`. In short: `/units/spike_times` + `/units/spike_times_index` become
//! [`SpikeTrains`]; the region of a unit is its own `location` column, else the `location` of the
//! electrodes-table ROW its first `electrodes` entry points to, else the `location` attribute of
//! the unit's own `electrode_group`, else that of the first electrode's group; `/intervals/trials`
//! becomes the [`TrialTable`] (ragged columns are skipped and reported in [`Meta`]). A file
//! without `/units` (LFP, imaging, behaviour) reads as a recording with no units whose
//! `info.contents` lists what the file holds.

use super::h5util::{H5File, ValueKind};
use crate::data::{Recording, SessionInfo, SourceObject, SpikeTrains, TrialTable, UnitTable};
use crate::result::Meta;
use crate::{Error, Result};
use polars::prelude::{Column, DataFrame};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

const ELECTRODES: &str = "/general/extracellular_ephys/electrodes";
const TRIALS: &str = "/intervals/trials";

/// Options of [`read_with`].
///
/// ```
/// let o = neuropop::io::nwb::NwbOptions { chunk_values: 4096 };
/// assert_eq!(neuropop::io::nwb::NwbOptions::default().chunk_values, 1 << 20);
/// # let _ = o;
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NwbOptions {
    /// Spike times are read in hyperslabs of at most this many values (bounds the temporary
    /// buffer libhdf5 decompresses into). Default 1 048 576.
    pub chunk_values: usize,
}

impl Default for NwbOptions {
    fn default() -> Self {
        NwbOptions {
            chunk_values: 1 << 20,
        }
    }
}

/// Reads an NWB file with default options, discarding the diagnostics.
///
/// # Errors
/// As [`read_with`].
///
/// ```
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/units_location.nwb");
/// let rec = neuropop::io::nwb::read(&p).unwrap();
/// assert_eq!(rec.units.regions, vec!["vlPFC", "dPM", "IO"]);
/// ```
pub fn read(path: &Path) -> Result<Recording> {
    read_with(path, &NwbOptions::default()).map(|(rec, _)| rec)
}

/// Reads an NWB file; the [`Meta`] counts the units (`n_requested` = `n_used`: every unit is
/// imported), lists what was not imported and why (ragged or multi-dimensional trial columns,
/// unit columns neuropop has no place for) and warnings (units without a region, no units table,
/// no trials table).
///
/// A valid NWB file without `/units` (LFP, imaging or behaviour only) is read too: 0 units,
/// `spikes: None`, the trials as usual, and `info.contents` listing what the file holds;
/// commands that need units refuse it through [`Recording::require_units`].
///
/// # Errors
/// [`Error::Io`] if unreadable; [`Error::Format`] if not HDF5/truncated, or if the units table is
/// inconsistent (index past the end of `spike_times`, decreasing index, unsorted or non-finite
/// spike times — naming the unit row and id, lengths disagreeing with `id`); [`Error::Missing`]
/// naming `/units/spike_times`, `/identifier`, ... when absent.
///
/// ```
/// use neuropop::io::nwb::{read_with, NwbOptions};
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/units_electrodes.nwb");
/// let (rec, meta) = read_with(&p, &NwbOptions::default()).unwrap();
/// assert_eq!(rec.units.regions, vec!["LGd", "VISp", "MOs"]);
/// assert!(meta.dropped.iter().any(|d| d.item == "trials column 'licks'"));
/// ```
pub fn read_with(path: &Path, options: &NwbOptions) -> Result<(Recording, Meta)> {
    let f = H5File::open(path)?;
    let mut meta = Meta::default();
    if f.attr_kind("/", "nwb_version")?.is_none() {
        meta.warn("the root has no 'nwb_version' attribute; reading it as NWB 2.x anyway");
    }
    let id = f.read_scalar_string("/identifier")?;
    let contents = list_contents(&f)?;
    let (units, spikes) = if f.exists("/units") {
        f.group("/units")?;
        let ids = f.read_i64("/units/id")?;
        let spikes = read_spikes(&f, &ids, options)?;
        let regions = resolve_regions(&f, &ids, &mut meta)?;
        report_other_unit_columns(&f, &mut meta)?;
        let mut units =
            UnitTable::new(ids, regions).map_err(|e| f.format_err("/units", e.to_string()))?;
        units.obs_intervals = read_obs_intervals(&f, units.len())?;
        (units, Some(spikes))
    } else {
        let holds: Vec<String> = contents.iter().map(|o| o.to_string()).collect();
        meta.warn(format!(
            "no /units table: the file holds no sorted units (0 units, no spike times){}",
            if holds.is_empty() {
                String::new()
            } else {
                format!("; it holds {}", holds.join(", "))
            }
        ));
        (UnitTable::default(), None)
    };
    meta.n_requested = units.len();
    meta.n_used = units.len();
    let trials = read_trials(&f, &mut meta)?;

    let subject = if f.exists("/general/subject/subject_id") {
        Some(f.read_scalar_string("/general/subject/subject_id")?)
    } else {
        None
    };
    let start_time = if f.exists("/session_start_time") {
        Some(f.read_scalar_string("/session_start_time")?)
    } else {
        None
    };
    let rec = Recording {
        info: SessionInfo {
            id,
            subject,
            source: Some(path.to_path_buf()),
            format: "nwb".into(),
            start_time,
            contents,
        },
        units,
        spikes,
        trials,
        steps: None,
        maze: None,
        binned: None,
    };
    rec.validate()
        .map_err(|e| f.format_err("/", e.to_string()))?;
    Ok((rec, meta))
}

/// Groups whose typed objects [`list_contents`] lists, in this order.
const CONTENT_ROOTS: [&str; 6] = [
    "/acquisition",
    "/processing",
    "/stimulus",
    "/analysis",
    "/scratch",
    "/intervals",
];
/// A container with more typed members than this is listed as one object ("N objects"), so
/// a file with thousands of images or ROIs does not flood `inspect`.
const MAX_LISTED_MEMBERS: usize = 20;
/// Namespaces of the NWB standard itself; types of any other namespace are extensions.
const STANDARD_NAMESPACES: [&str; 3] = ["core", "hdmf-common", "hdmf-experimental"];

/// What the file holds under [`CONTENT_ROOTS`]: every object with a `neurodata_type` that has
/// data (a `data` or `timestamps` dataset), is a table (a `colnames` attribute) or is a typed
/// dataset. Containers (processing modules, `LFP`, `BehavioralTimeSeries`, ...) are walked into,
/// not listed; untyped groups (`/stimulus/presentation`) too.
fn list_contents(f: &H5File) -> Result<Vec<SourceObject>> {
    let mut out = Vec::new();
    for root in CONTENT_ROOTS {
        if f.exists(root) && f.is_group(root)? {
            walk_contents(f, root, 0, &mut out)?;
        }
    }
    Ok(out)
}

fn walk_contents(f: &H5File, group: &str, depth: usize, out: &mut Vec<SourceObject>) -> Result<()> {
    for name in f.member_names(group)? {
        let path = format!("{group}/{name}");
        let Ok(is_group) = f.is_group(&path) else {
            // A dangling external or soft link: say it is there rather than fail the read.
            out.push(SourceObject {
                path,
                type_name: "link that cannot be opened".into(),
                size: String::new(),
            });
            continue;
        };
        let Some(type_name) = type_name(f, &path)? else {
            if is_group && depth < 8 {
                walk_contents(f, &path, depth + 1, out)?;
            }
            continue;
        };
        if !is_group {
            let size = dims(&f.shape(&path)?);
            out.push(SourceObject {
                path,
                type_name,
                size,
            });
            continue;
        }
        let data = format!("{path}/data");
        let timestamps = format!("{path}/timestamps");
        let size = if f.exists(&data) && !f.is_group(&data)? {
            Some(format!("data {}", dims(&f.shape(&data)?)))
        } else if f.attr_kind(&path, "colnames")?.is_some() {
            let id = format!("{path}/id");
            Some(if f.exists(&id) {
                format!("{} rows", f.len_1d(&id)?)
            } else {
                String::new()
            })
        } else if f.exists(&timestamps) && !f.is_group(&timestamps)? {
            Some(format!("timestamps {}", dims(&f.shape(&timestamps)?)))
        } else {
            None
        };
        if let Some(size) = size {
            out.push(SourceObject {
                path,
                type_name,
                size,
            });
            continue;
        }
        let n_typed = f
            .member_names(&path)?
            .iter()
            .filter(|m| {
                let p = format!("{path}/{m}");
                f.attr_kind(&p, "neurodata_type").ok().flatten().is_some()
            })
            .count();
        if n_typed == 0 || n_typed > MAX_LISTED_MEMBERS || depth >= 8 {
            out.push(SourceObject {
                path,
                type_name,
                size: format!("{n_typed} objects"),
            });
        } else {
            walk_contents(f, &path, depth + 1, out)?;
        }
    }
    Ok(())
}

/// `neurodata_type` of `obj`, with `[namespace]` appended for extension types; `None` when the
/// object has no `neurodata_type` (or a non-string one).
fn type_name(f: &H5File, obj: &str) -> Result<Option<String>> {
    if f.attr_kind(obj, "neurodata_type")? != Some(ValueKind::Str) {
        return Ok(None);
    }
    let Some(t) = f.attr_string(obj, "neurodata_type")? else {
        return Ok(None);
    };
    let namespace = match f.attr_kind(obj, "namespace")? {
        Some(ValueKind::Str) => f.attr_string(obj, "namespace")?,
        _ => None,
    };
    Ok(Some(match namespace {
        Some(ns) if !STANDARD_NAMESPACES.contains(&ns.as_str()) => format!("{t} [{ns}]"),
        _ => t,
    }))
}

/// `200 × 4`; `scalar` for a 0-d dataset.
fn dims(shape: &[usize]) -> String {
    if shape.is_empty() {
        return "scalar".into();
    }
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(" × ")
}

fn read_spikes(f: &H5File, ids: &[i64], options: &NwbOptions) -> Result<SpikeTrains> {
    let index = f.read_usize("/units/spike_times_index")?;
    if index.len() != ids.len() {
        return Err(f.format_err(
            "/units/spike_times_index",
            format!(
                "expected {} entries (one per row of /units/id), found {}",
                ids.len(),
                index.len()
            ),
        ));
    }
    let n_spikes = f.len_1d("/units/spike_times")?;
    // Check the index before reading the (possibly large) spike times.
    let mut begin = 0usize;
    for (k, &end) in index.iter().enumerate() {
        if end > n_spikes {
            return Err(f.format_err(
                "/units/spike_times_index",
                format!("entry {k} = {end} points past /units/spike_times (length {n_spikes})"),
            ));
        }
        if end < begin {
            return Err(f.format_err(
                "/units/spike_times_index",
                format!("entry {k}: expected non-decreasing offsets, found {end} after {begin}"),
            ));
        }
        begin = end;
    }
    if begin != n_spikes {
        return Err(f.format_err(
            "/units/spike_times_index",
            format!(
                "expected the last entry to be {n_spikes} (the length of /units/spike_times), found {begin}: {} spike times belong to no unit",
                n_spikes - begin
            ),
        ));
    }
    let times = f.read_f64_chunked("/units/spike_times", options.chunk_values)?;
    let mut begin = 0usize;
    for (u, &end) in index.iter().enumerate() {
        let t = &times[begin..end];
        let id = ids[u];
        if let Some(i) = t.iter().position(|x| !x.is_finite()) {
            return Err(f.format_err(
                "/units/spike_times",
                format!(
                    "unit row {u} (id {id}), spike {i} (element {}): expected a finite time, found {}",
                    begin + i,
                    t[i]
                ),
            ));
        }
        if let Some(i) = t.windows(2).position(|w| w[1] < w[0]) {
            return Err(f.format_err(
                "/units/spike_times",
                format!(
                    "unit row {u} (id {id}), spike {} (element {}): expected times sorted ascending, found {} after {}",
                    i + 1,
                    begin + i + 1,
                    t[i + 1],
                    t[i]
                ),
            ));
        }
        begin = end;
    }
    let mut offsets = Vec::with_capacity(index.len() + 1);
    offsets.push(0);
    offsets.extend_from_slice(&index);
    SpikeTrains::new(times, offsets).map_err(|e| f.format_err("/units/spike_times", e.to_string()))
}

/// A location value that says something: not blank, not "unknown" and not "none" (any case).
/// pynwb requires a location for every electrode, so writers that do not know one put
/// "unknown" or "none".
fn usable(location: &str) -> bool {
    let t = location.trim();
    !t.is_empty() && !t.eq_ignore_ascii_case("unknown") && !t.eq_ignore_ascii_case("none")
}

/// Region per unit, first usable value of: the unit's `location` column; the `location` of the
/// electrodes-table row of its first `electrodes` entry; the `location` attribute of the unit's
/// own `electrode_group`; that of the first electrode's group. Else "" (counted in a warning).
fn resolve_regions(f: &H5File, ids: &[i64], meta: &mut Meta) -> Result<Vec<String>> {
    let n = ids.len();
    let own: Option<Vec<String>> = if f.exists("/units/location") {
        let v = f.read_strings("/units/location")?;
        if v.len() != n {
            return Err(f.format_err(
                "/units/location",
                format!("expected {n} entries (one per unit), found {}", v.len()),
            ));
        }
        Some(v)
    } else {
        None
    };
    let first_rows = first_electrode_rows(f, n)?;
    let unit_groups = unit_electrode_groups(f, n)?;
    let mut electrodes = ElectrodeLocations::new(f)?;
    let mut regions = Vec::with_capacity(n);
    let mut unresolved = Vec::new();
    for u in 0..n {
        if let Some(own) = &own
            && usable(&own[u])
        {
            regions.push(own[u].trim().to_string());
            continue;
        }
        let row = first_rows.as_ref().and_then(|rows| rows[u]);
        let mut region = match row {
            Some(row) => electrodes.row_location(row)?,
            None => None,
        };
        if region.is_none()
            && let Some(groups) = &unit_groups
        {
            region = electrodes.group_location(&groups[u])?;
        }
        if region.is_none()
            && let Some(row) = row
        {
            region = electrodes.row_group_location(row)?;
        }
        match region {
            Some(r) => regions.push(r),
            None => {
                unresolved.push(ids[u]);
                regions.push(String::new());
            }
        }
    }
    if !unresolved.is_empty() {
        meta.warn(format!(
            "{} unit(s) without a region (no usable location on the unit, its first electrode, its electrode_group or that electrode's group), ids {:?}; region set to \"\"",
            unresolved.len(),
            unresolved
        ));
    }
    Ok(regions)
}

/// The path of each unit's own electrode group (`/units/electrode_group`, object references),
/// or `None` if the units table has no such column.
fn unit_electrode_groups(f: &H5File, n_units: usize) -> Result<Option<Vec<String>>> {
    const COLUMN: &str = "/units/electrode_group";
    if !f.exists(COLUMN) {
        return Ok(None);
    }
    let kind = f.kind(COLUMN)?;
    if kind != ValueKind::Reference {
        return Err(f.format_err(
            COLUMN,
            format!("expected object references to electrode groups, found {kind:?} values"),
        ));
    }
    let paths = f.read_reference_paths(COLUMN)?;
    if paths.len() != n_units {
        return Err(f.format_err(
            COLUMN,
            format!(
                "expected {n_units} entries (one per unit), found {}",
                paths.len()
            ),
        ));
    }
    Ok(Some(paths))
}

/// The electrodes-table row of each unit's first `electrodes` entry (`None` for a unit with no
/// electrodes), or `None` if the units table has no `electrodes` column.
fn first_electrode_rows(f: &H5File, n_units: usize) -> Result<Option<Vec<Option<usize>>>> {
    if !f.exists("/units/electrodes") {
        return Ok(None);
    }
    let rows = f.read_usize("/units/electrodes")?;
    let index = if f.exists("/units/electrodes_index") {
        f.read_usize("/units/electrodes_index")?
    } else {
        // Not ragged: exactly one electrode row per unit.
        (1..=rows.len()).collect()
    };
    if index.len() != n_units {
        return Err(f.format_err(
            "/units/electrodes_index",
            format!(
                "expected {n_units} entries (one per unit), found {}",
                index.len()
            ),
        ));
    }
    let mut begin = 0usize;
    let mut out = Vec::with_capacity(n_units);
    for (k, &end) in index.iter().enumerate() {
        if end > rows.len() || end < begin {
            return Err(f.format_err(
                "/units/electrodes_index",
                format!(
                    "entry {k} = {end}: expected non-decreasing offsets ≤ {} (the length of /units/electrodes)",
                    rows.len()
                ),
            ));
        }
        out.push((end > begin).then(|| rows[begin]));
        begin = end;
    }
    Ok(Some(out))
}

/// Lazily read columns of the electrodes table, for the rows units point to, and the location
/// attributes of electrode groups.
struct ElectrodeLocations<'a> {
    f: &'a H5File,
    n_rows: usize,
    location: Option<Vec<String>>,
    /// Path of each row's electrode group (from `group` references or `group_name`).
    group_paths: Option<Vec<String>>,
    group_location: HashMap<String, Option<String>>,
}

impl<'a> ElectrodeLocations<'a> {
    fn new(f: &'a H5File) -> Result<Self> {
        let present = f.exists(ELECTRODES);
        let n_rows = if present && f.exists(&format!("{ELECTRODES}/id")) {
            f.len_1d(&format!("{ELECTRODES}/id"))?
        } else {
            0
        };
        Ok(ElectrodeLocations {
            f,
            n_rows,
            location: None,
            group_paths: None,
            group_location: HashMap::new(),
        })
    }

    fn check_row(&self, row: usize) -> Result<()> {
        if row >= self.n_rows {
            return Err(self.f.format_err(
                "/units/electrodes",
                format!(
                    "row {row} of {ELECTRODES} does not exist (the table has {} rows; entries of /units/electrodes are row indices)",
                    self.n_rows
                ),
            ));
        }
        Ok(())
    }

    /// The usable `location` of electrode row `row`.
    fn row_location(&mut self, row: usize) -> Result<Option<String>> {
        self.check_row(row)?;
        let loc_path = format!("{ELECTRODES}/location");
        if self.location.is_none() && self.f.exists(&loc_path) {
            self.location = Some(self.column_strings(&loc_path)?);
        }
        Ok(self
            .location
            .as_ref()
            .map(|loc| &loc[row])
            .filter(|l| usable(l))
            .map(|l| l.trim().to_string()))
    }

    /// The usable `location` attribute of the group of electrode row `row`.
    fn row_group_location(&mut self, row: usize) -> Result<Option<String>> {
        self.check_row(row)?;
        if self.group_paths.is_none() {
            self.group_paths = Some(self.read_group_paths()?);
        }
        let group = match &self.group_paths {
            Some(g) => g[row].clone(),
            None => return Ok(None),
        };
        self.group_location(&group)
    }

    /// The usable `location` attribute of the electrode group at `group` ("" or a missing
    /// group: none).
    fn group_location(&mut self, group: &str) -> Result<Option<String>> {
        let f = self.f;
        if group.is_empty() {
            return Ok(None);
        }
        if let Some(cached) = self.group_location.get(group) {
            return Ok(cached.clone());
        }
        let value = if f.exists(group) {
            f.attr_string(group, "location")?
                .filter(|s| usable(s))
                .map(|s| s.trim().to_string())
        } else {
            None
        };
        self.group_location.insert(group.to_string(), value.clone());
        Ok(value)
    }

    fn column_strings(&self, obj: &str) -> Result<Vec<String>> {
        let v = self.f.read_strings(obj)?;
        if v.len() != self.n_rows {
            return Err(self.f.format_err(
                obj,
                format!(
                    "expected {} entries (as {ELECTRODES}/id), found {}",
                    self.n_rows,
                    v.len()
                ),
            ));
        }
        Ok(v)
    }

    /// Group path per row: dereferenced `group` column if it holds references, else
    /// `/general/extracellular_ephys/<group_name>`, else empty paths.
    fn read_group_paths(&self) -> Result<Vec<String>> {
        let f = self.f;
        let group = format!("{ELECTRODES}/group");
        if f.exists(&group) && f.kind(&group)? == ValueKind::Reference {
            let paths = f.read_reference_paths(&group)?;
            if paths.len() != self.n_rows {
                return Err(f.format_err(
                    &group,
                    format!(
                        "expected {} entries (as {ELECTRODES}/id), found {}",
                        self.n_rows,
                        paths.len()
                    ),
                ));
            }
            return Ok(paths);
        }
        let names = format!("{ELECTRODES}/group_name");
        if f.exists(&names) {
            return Ok(self
                .column_strings(&names)?
                .into_iter()
                .map(|n| format!("/general/extracellular_ephys/{n}"))
                .collect());
        }
        Ok(vec![String::new(); self.n_rows])
    }
}

/// `/units/obs_intervals` (rows of [start, stop]) split per unit by
/// `/units/obs_intervals_index`, when present.
fn read_obs_intervals(
    f: &H5File,
    n_units: usize,
) -> Result<Option<crate::data::units::ObsIntervals>> {
    const DATA: &str = "/units/obs_intervals";
    const INDEX: &str = "/units/obs_intervals_index";
    if !f.exists(DATA) {
        return Ok(None);
    }
    let shape = f.shape(DATA)?;
    if shape.len() != 2 || shape[1] != 2 {
        return Err(f.format_err(
            DATA,
            format!("expected shape (n, 2) of [start, stop] rows, found {shape:?}"),
        ));
    }
    let flat: Vec<f64> = f
        .dataset(DATA)?
        .read_raw::<f64>()
        .map_err(|e| f.h5err(DATA, e))?;
    let index = f.read_usize(INDEX)?;
    if index.len() != n_units {
        return Err(f.format_err(
            INDEX,
            format!(
                "expected {n_units} entries (one per unit), found {}",
                index.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(n_units);
    let mut start = 0;
    for (k, &end) in index.iter().enumerate() {
        if end < start || end > shape[0] {
            return Err(f.format_err(
                INDEX,
                format!(
                    "entry {k} = {end}: expected non-decreasing offsets ≤ {} (rows of {DATA})",
                    shape[0]
                ),
            ));
        }
        let unit: Vec<(f64, f64)> = (start..end)
            .map(|r| (flat[2 * r], flat[2 * r + 1]))
            .collect();
        if let Some(&(a, b)) = unit
            .iter()
            .find(|(a, b)| !(a.is_finite() && b.is_finite() && a <= b))
        {
            return Err(f.format_err(
                DATA,
                format!(
                    "unit row {k}: expected finite intervals with start ≤ stop, found [{a}, {b}]"
                ),
            ));
        }
        out.push(unit);
        start = end;
    }
    Ok(Some(out))
}

/// Units columns neuropop does not import are listed in `meta.dropped`.
fn report_other_unit_columns(f: &H5File, meta: &mut Meta) -> Result<()> {
    let used = [
        "id",
        "spike_times",
        "spike_times_index",
        "electrodes",
        "electrodes_index",
        "location",
        "electrode_group",
        "obs_intervals",
    ];
    for name in f.member_names("/units")? {
        if used.contains(&name.as_str()) || name.ends_with("_index") {
            continue;
        }
        meta.drop_item(
            format!("units column '{name}'"),
            "not imported (the unit table holds ids, regions and spike times)",
        );
    }
    Ok(())
}

/// Trial columns in `colnames` order (else sorted by name). Ragged and multi-dimensional columns
/// and references are skipped and reported.
fn read_trials(f: &H5File, meta: &mut Meta) -> Result<TrialTable> {
    let source = f.path().display().to_string();
    if !f.exists(TRIALS) {
        meta.warn(format!("no {TRIALS} table: the trial table is empty"));
        return Ok(TrialTable::with_rows(0, source));
    }
    let members = f.member_names(TRIALS)?;
    let names: Vec<String> = match f.attr_strings(TRIALS, "colnames")? {
        Some(c) => c,
        None => members
            .iter()
            .filter(|m| m.as_str() != "id" && !m.ends_with("_index"))
            .cloned()
            .collect(),
    };
    let id_path = format!("{TRIALS}/id");
    let n = f.len_1d(&id_path)?;
    let mut columns = Vec::with_capacity(names.len());
    for name in names {
        let obj = format!("{TRIALS}/{name}");
        let item = format!("trials column '{name}'");
        if members.contains(&format!("{name}_index")) {
            meta.drop_item(
                item,
                format!("ragged (has {name}_index); ragged trial columns are not imported"),
            );
            continue;
        }
        if !f.exists(&obj) {
            return Err(Error::missing(source.clone(), "dataset", obj));
        }
        let shape = f.shape(&obj)?;
        if shape.len() != 1 {
            meta.drop_item(
                item,
                format!("shape {shape:?}: only one value per trial is imported"),
            );
            continue;
        }
        if shape[0] != n {
            return Err(f.format_err(
                &obj,
                format!("expected {n} rows (as {id_path}), found {}", shape[0]),
            ));
        }
        let col = match f.kind(&obj)? {
            ValueKind::Float => Column::new(name.as_str().into(), f.read_f64(&obj)?),
            ValueKind::Int => Column::new(name.as_str().into(), f.read_i64(&obj)?),
            ValueKind::Bool => Column::new(name.as_str().into(), f.read_bool(&obj)?),
            ValueKind::Str => Column::new(name.as_str().into(), f.read_strings(&obj)?),
            other => {
                meta.drop_item(item, format!("values of type {other:?} are not imported"));
                continue;
            }
        };
        columns.push(col);
    }
    let df =
        DataFrame::new(n, columns).map_err(|e| Error::table(format!("{source}: trials"), e))?;
    Ok(TrialTable::new(df, source))
}
