//! Format detection and one entry point for every loader: [`open`] reads whatever a user points
//! at (an NMA npz, an ALF session folder, an NWB file, a maze file) into [`Recording`]s and a
//! [`Meta`] of what was left out, the same shape for every format.

use super::maze::MazeOptions;
use super::nwb::NwbOptions;
use super::steinmetz_alf::AlfOptions;
use super::steinmetz_npz::NpzOptions;
use crate::data::{Recording, SourceObject};
use crate::result::Meta;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

/// The formats neuropop reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Format {
    /// Neuromatch condensed Steinmetz npz (`steinmetz_part0.npz`, ...).
    SteinmetzNpz,
    /// Original Steinmetz release: one ALF session folder.
    SteinmetzAlf,
    /// NWB 2.x (HDF5).
    Nwb,
    /// neuropop's maze v1 HDF5 layout.
    Maze,
}

impl Format {
    /// The name used on the command line and in `SessionInfo::format`.
    ///
    /// ```
    /// assert_eq!(neuropop::io::Format::SteinmetzNpz.name(), "steinmetz-npz");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::SteinmetzNpz => "steinmetz-npz",
            Format::SteinmetzAlf => "steinmetz-alf",
            Format::Nwb => "nwb",
            Format::Maze => "maze",
        }
    }

    /// Parses a command-line name (`auto` is handled by the caller).
    ///
    /// # Errors
    /// [`Error::Invalid`] listing the known names.
    ///
    /// ```
    /// use neuropop::io::Format;
    /// assert_eq!(Format::parse("nwb").unwrap(), Format::Nwb);
    /// assert!(Format::parse("csv").is_err());
    /// ```
    pub fn parse(name: &str) -> Result<Format> {
        [
            Format::SteinmetzNpz,
            Format::SteinmetzAlf,
            Format::Nwb,
            Format::Maze,
        ]
        .into_iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            Error::invalid(
                "format",
                "one of auto, steinmetz-npz, steinmetz-alf, nwb, maze",
                name.to_string(),
            )
        })
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// Detects the format of `path`: a directory holding `spikes.times.npy` is an ALF session; a
/// zip is an NMA npz; an HDF5 file is maze (root attribute `format = "maze"`) or NWB (root
/// attribute `nwb_version`).
///
/// # Errors
/// [`Error::Io`] if unreadable, [`Error::Format`] naming what was found when no format matches.
pub fn detect(path: &Path) -> Result<Format> {
    if path.is_dir() {
        if super::steinmetz_alf::looks_like_alf(path) {
            return Ok(Format::SteinmetzAlf);
        }
        return Err(Error::format(
            path,
            "directory",
            "not an ALF session folder (no spikes.times.npy)",
        ));
    }
    let mut head = [0u8; 8];
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let n = f.read(&mut head).map_err(|e| Error::io(path, e))?;
    let head = &head[..n];
    if head.starts_with(ZIP_MAGIC) {
        return Ok(Format::SteinmetzNpz);
    }
    if head.starts_with(HDF5_MAGIC) {
        return match super::h5util::sniff(path)? {
            Some("maze") => Ok(Format::Maze),
            Some("nwb") => Ok(Format::Nwb),
            _ => Err(Error::format(
                path,
                "/",
                "an HDF5 file that is neither NWB (no nwb_version attribute) nor maze (no format = \"maze\" attribute)",
            )),
        };
    }
    Err(Error::format(
        path,
        "byte 0",
        format!(
            "unknown format: expected a zip (npz), HDF5 (NWB, maze) or an ALF folder, found leading bytes {head:02x?}"
        ),
    ))
}

/// Options of every format reader, for [`open_with`]; each field is used only by its format.
///
/// ```
/// let o = neuropop::io::OpenOptions::default();
/// assert_eq!(o.steinmetz_alf.min_phy_annotation, 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenOptions {
    /// NMA Steinmetz npz files.
    pub steinmetz_npz: NpzOptions,
    /// ALF session folders.
    pub steinmetz_alf: AlfOptions,
    /// NWB files.
    pub nwb: NwbOptions,
    /// maze v1 files.
    pub maze: MazeOptions,
}

/// Reads every session of `path` in the given format (`None`: detect it) with the format
/// readers' `read_with`. The [`Meta`] is the reader's: `n_requested`/`n_used` count the units
/// (neurons, clusters) offered and imported, `dropped` lists what was left out with the reason
/// (clusters below the quality threshold, sessions that failed, file parts and columns not
/// imported), `warnings` the rest.
///
/// # Errors
/// Detection failures and the format reader's errors.
///
/// ```
/// use neuropop::io::{open_with, Format, OpenOptions};
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alf/Tiny_2016-12-14");
/// let mut o = OpenOptions::default();
/// o.steinmetz_alf.min_phy_annotation = 1;
/// let (format, recs, meta) = open_with(&p, None, &o)?;
/// assert_eq!((format, recs.len()), (Format::SteinmetzAlf, 1));
/// assert_eq!(meta.n_requested, 6);
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn open_with(
    path: &Path,
    format: Option<Format>,
    options: &OpenOptions,
) -> Result<(Format, Vec<Recording>, Meta)> {
    let format = match format {
        Some(f) => f,
        None => detect(path)?,
    };
    let one = |(rec, meta): (Recording, Meta)| (vec![rec], meta);
    let (recs, meta) = match format {
        Format::SteinmetzNpz => super::steinmetz_npz::read_with(path, &options.steinmetz_npz)?,
        Format::SteinmetzAlf => one(super::steinmetz_alf::read_with(
            path,
            &options.steinmetz_alf,
        )?),
        Format::Nwb => one(super::nwb::read_with(path, &options.nwb)?),
        Format::Maze => one(super::maze::read_with(path, &options.maze)?),
    };
    Ok((format, recs, meta))
}

/// Reads every session of `path` in the given format (`None`: detect it) with default options.
///
/// # Errors
/// As [`open_with`].
///
/// ```
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/units_location.nwb");
/// let (format, recs, meta) = neuropop::io::open_as(&p, Some(neuropop::io::Format::Nwb))?;
/// assert_eq!((format.name(), recs[0].units.len(), meta.n_used), ("nwb", 3, 3));
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn open_as(path: &Path, format: Option<Format>) -> Result<(Format, Vec<Recording>, Meta)> {
    open_with(path, format, &OpenOptions::default())
}

/// Reads every session of `path`, detecting its format, with default options.
///
/// # Errors
/// As [`open_with`].
///
/// ```
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5");
/// let (recs, meta) = neuropop::io::open(&p)?;
/// assert_eq!((recs.len(), meta.n_used), (1, 3));
/// # Ok::<(), neuropop::Error>(())
/// ```
pub fn open(path: &Path) -> Result<(Vec<Recording>, Meta)> {
    open_as(path, None).map(|(_, recs, meta)| (recs, meta))
}

/// What `neuropop inspect` reports about one session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionOverview {
    /// Session id.
    pub id: String,
    /// Number of units.
    pub n_units: usize,
    /// Number of trials.
    pub n_trials: usize,
    /// Units per region, by region name.
    pub regions: BTreeMap<String, usize>,
    /// True when the source is already binned.
    pub binned: bool,
    /// Number of bins of binned sources.
    pub n_bins: Option<usize>,
    /// Bin width of binned sources (s).
    pub bin_size_s: Option<f64>,
    /// Trial-table columns, in table order.
    pub trial_columns: Vec<String>,
    /// What else the file holds ([`crate::data::SessionInfo::contents`]); printed by
    /// [`Overview::to_text`], not part of the JSON, whose keys stay those above.
    #[serde(skip)]
    pub contents: Vec<SourceObject>,
}

/// The overview of a file: its format and one entry per session.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    /// Format name.
    pub format: &'static str,
    /// Sessions in file order.
    pub sessions: Vec<SessionOverview>,
}

impl SessionOverview {
    /// The overview of a loaded recording.
    pub fn of(rec: &Recording) -> SessionOverview {
        SessionOverview {
            id: rec.info.id.clone(),
            n_units: rec.units.len(),
            n_trials: rec.trials.n_trials(),
            regions: rec.units.region_counts().into_iter().collect(),
            binned: rec.binned.is_some(),
            n_bins: rec.binned.as_ref().map(|b| b.n_bins()),
            bin_size_s: rec.binned.as_ref().map(|b| b.bin_width_s),
            trial_columns: rec.trials.column_names(),
            contents: rec.info.contents.clone(),
        }
    }
}

/// Summarises `path` without keeping its data: NMA files are only decoded (native dtypes, no
/// conversion to f64 tensors), other formats are read in full.
///
/// # Errors
/// As [`open_as`].
pub fn overview(path: &Path, format: Option<Format>) -> Result<Overview> {
    let format = match format {
        Some(f) => f,
        None => detect(path)?,
    };
    let sessions = if format == Format::SteinmetzNpz {
        super::steinmetz_npz::summarize(path)?
            .into_iter()
            .map(|s| SessionOverview {
                id: s.id,
                n_units: s.n_units,
                n_trials: s.n_trials,
                regions: s.region_counts.into_iter().collect(),
                binned: true,
                n_bins: Some(s.n_bins),
                bin_size_s: Some(s.bin_size_s),
                trial_columns: s.trial_columns,
                contents: Vec::new(),
            })
            .collect()
    } else {
        open_as(path, Some(format))?
            .1
            .iter()
            .map(SessionOverview::of)
            .collect()
    };
    Ok(Overview {
        format: format.name(),
        sessions,
    })
}

impl Overview {
    /// The human-readable summary `neuropop inspect` prints.
    ///
    /// ```
    /// let o = neuropop::io::Overview { format: "maze", sessions: vec![] };
    /// assert!(o.to_text(std::path::Path::new("x.h5")).contains("0 sessions"));
    /// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/lfp_only.nwb");
    /// let text = neuropop::io::overview(&p, None).unwrap().to_text(&p);
    /// assert!(text.contains("0 units") && text.contains("no sorted units"));
    /// assert!(text.contains("/processing/ecephys/LFP/ElectricalSeries  ElectricalSeries  data 200 × 4"));
    /// ```
    pub fn to_text(&self, path: &Path) -> String {
        use std::fmt::Write as _;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{}: {} ({} sessions)",
            path.display(),
            self.format,
            self.sessions.len()
        );
        for s in &self.sessions {
            let bins = match (s.n_bins, s.bin_size_s) {
                (Some(n), Some(w)) => format!(", {n} bins of {} ms", w * 1e3),
                _ => String::new(),
            };
            let _ = writeln!(
                t,
                "  {}: {} units, {} trials{}{}",
                s.id,
                s.n_units,
                s.n_trials,
                match (s.binned, s.n_units) {
                    (true, _) => ", binned",
                    (false, 0) => "",
                    (false, _) => ", spike times",
                },
                bins
            );
            let regions: Vec<String> = s.regions.iter().map(|(r, n)| format!("{r} {n}")).collect();
            let regions = if regions.is_empty() {
                "none".to_string()
            } else {
                regions.join(", ")
            };
            let _ = writeln!(t, "    regions: {regions}");
            let _ = writeln!(t, "    trial columns: {}", s.trial_columns.join(", "));
            if s.n_units == 0 {
                let _ = writeln!(
                    t,
                    "    no sorted units: commands that analyse units will refuse this session"
                );
            }
            if !s.contents.is_empty() {
                let _ = writeln!(t, "    the file also holds:");
                for o in &s.contents {
                    let size = if o.size.is_empty() {
                        String::new()
                    } else {
                        format!("  {}", o.size)
                    };
                    let _ = writeln!(t, "      {}  {}{size}", o.path, o.type_name);
                }
            }
        }
        t
    }
}
