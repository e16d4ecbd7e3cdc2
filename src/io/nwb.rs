//! NWB 2.x reader: units (spike times, regions) and the trials table.
//!
//! What is read, how each unit's region is resolved, and what is skipped are described in
//! `docs/formats/nwb.md`. In short: `/units/spike_times` + `/units/spike_times_index` become
//! [`SpikeTrains`]; the region of a unit is its own `location` column, else the `location` of the
//! electrodes-table ROW its first `electrodes` entry points to, else that electrode's group's
//! `location` attribute; `/intervals/trials` becomes the [`TrialTable`] (ragged columns are
//! skipped and reported in [`Meta`]).

use super::h5util::{H5File, ValueKind};
use crate::data::{Recording, SessionInfo, SpikeTrains, TrialTable, UnitTable};
use crate::result::Meta;
use crate::{Error, Result};
use polars::prelude::{Column, DataFrame};
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
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Reads an NWB file; the [`Meta`] lists what was not imported and why (ragged or
/// multi-dimensional trial columns, unit columns neuropop has no place for) and warnings (units
/// without a region).
///
/// # Errors
/// [`Error::Io`] if unreadable; [`Error::Format`] if not HDF5/truncated, or if the units table is
/// inconsistent (index past the end of `spike_times`, decreasing index, unsorted or non-finite
/// spike times — naming the unit row and id, lengths disagreeing with `id`); [`Error::Missing`]
/// naming `/units`, `/units/spike_times`, `/identifier`, ... when absent.
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
    f.group("/units")?;
    let ids = f.read_i64("/units/id")?;
    let spikes = read_spikes(&f, &ids, options)?;
    let regions = resolve_regions(&f, &ids, &mut meta)?;
    report_other_unit_columns(&f, &mut meta)?;
    let mut units =
        UnitTable::new(ids, regions).map_err(|e| f.format_err("/units", e.to_string()))?;
    units.obs_intervals = read_obs_intervals(&f, units.len())?;
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
            id: f.read_scalar_string("/identifier")?,
            subject,
            source: Some(path.to_path_buf()),
            format: "nwb".into(),
            start_time,
        },
        units,
        spikes: Some(spikes),
        trials,
        steps: None,
        maze: None,
        binned: None,
    };
    rec.validate()
        .map_err(|e| f.format_err("/", e.to_string()))?;
    Ok((rec, meta))
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

/// A location value that says something: not blank and not "unknown" (pynwb requires a location
/// for every electrode, so writers that do not know one put "unknown").
fn usable(location: &str) -> bool {
    let t = location.trim();
    !t.is_empty() && !t.eq_ignore_ascii_case("unknown")
}

/// Region per unit: unit `location` column, else the first electrode row's `location`, else that
/// electrode's group `location` attribute, else "" (counted in a warning).
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
        let from_electrode = match first_rows.as_ref().and_then(|rows| rows[u]) {
            Some(row) => electrodes.location(row)?,
            None => None,
        };
        match from_electrode {
            Some(r) => regions.push(r),
            None => {
                unresolved.push(ids[u]);
                regions.push(String::new());
            }
        }
    }
    if !unresolved.is_empty() {
        meta.warn(format!(
            "{} unit(s) without a region (no usable location on the unit, its first electrode or that electrode's group), ids {:?}; region set to \"\"",
            unresolved.len(),
            unresolved
        ));
    }
    Ok(regions)
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

/// Lazily read columns of the electrodes table, for the rows units point to.
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

    fn location(&mut self, row: usize) -> Result<Option<String>> {
        let f = self.f;
        if row >= self.n_rows {
            return Err(f.format_err(
                "/units/electrodes",
                format!(
                    "row {row} of {ELECTRODES} does not exist (the table has {} rows; entries of /units/electrodes are row indices)",
                    self.n_rows
                ),
            ));
        }
        let loc_path = format!("{ELECTRODES}/location");
        if self.location.is_none() && f.exists(&loc_path) {
            self.location = Some(self.column_strings(&loc_path)?);
        }
        if let Some(loc) = &self.location
            && usable(&loc[row])
        {
            return Ok(Some(loc[row].trim().to_string()));
        }
        if self.group_paths.is_none() {
            self.group_paths = Some(self.read_group_paths()?);
        }
        let Some(group) = self.group_paths.as_ref().map(|g| g[row].clone()) else {
            return Ok(None);
        };
        if group.is_empty() {
            return Ok(None);
        }
        if let Some(cached) = self.group_location.get(&group) {
            return Ok(cached.clone());
        }
        let value = if f.exists(&group) {
            f.attr_string(&group, "location")?
                .filter(|s| usable(s))
                .map(|s| s.trim().to_string())
        } else {
            None
        };
        self.group_location.insert(group, value.clone());
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
