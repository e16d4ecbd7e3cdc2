//! A recording session: metadata, units, spikes, trials, optional steps and binned activity.

use super::{PopulationTensor, SpikeTrains, StepTable, TrialTable, UnitTable};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Session metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Session identifier (e.g. `Cori_2016-12-14`, an NWB identifier, a maze session id).
    pub id: String,
    /// Subject identifier, when known.
    pub subject: Option<String>,
    /// The file or folder it was read from.
    pub source: Option<PathBuf>,
    /// Format name: `steinmetz-npz`, `steinmetz-alf`, `nwb`, `maze`, `simulated`.
    pub format: String,
    /// Session start time as the source states it (ISO 8601 for NWB).
    pub start_time: Option<String>,
    /// What else the source holds, as its loader listed it (NWB: the series and tables under
    /// acquisition, processing, stimulus, analysis, scratch and intervals); empty for loaders
    /// that list nothing. `inspect` prints it, and [`Recording::require_units`] names it when a
    /// file has no units.
    #[serde(default)]
    pub contents: Vec<SourceObject>,
}

/// One object a source file holds, by path and type: what `neuropop inspect` lists and what
/// the error for a file without sorted units names instead.
///
/// ```
/// let o = neuropop::data::SourceObject {
///     path: "/processing/ecephys/LFP/ElectricalSeries".into(),
///     type_name: "ElectricalSeries".into(),
///     size: "data 200 × 4".into(),
/// };
/// assert_eq!(o.to_string(), "/processing/ecephys/LFP/ElectricalSeries (ElectricalSeries, data 200 × 4)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceObject {
    /// Path inside the source, e.g. `/acquisition/running_speed`.
    pub path: String,
    /// Type as the source names it (NWB `neurodata_type`), followed by its namespace in
    /// brackets when that is an extension: `TetherSeries [ndx-tether]`.
    pub type_name: String,
    /// Size in words (`data 200 × 4`, `3 rows`, `25 objects`); empty when not known.
    pub size: String,
}

impl std::fmt::Display for SourceObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.size.is_empty() {
            write!(f, "{} ({})", self.path, self.type_name)
        } else {
            write!(f, "{} ({}, {})", self.path, self.type_name, self.size)
        }
    }
}

/// Grid geometry of a maze task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MazeGeometry {
    /// Grid width.
    pub width: i64,
    /// Grid height.
    pub height: i64,
    /// Start x.
    pub start_x: i64,
    /// Start y.
    pub start_y: i64,
}

/// Everything recorded in one session.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// Metadata.
    pub info: SessionInfo,
    /// Units (one row per neuron).
    pub units: UnitTable,
    /// Spike times; `None` when the source is already binned (Steinmetz NMA files).
    pub spikes: Option<SpikeTrains>,
    /// Trials.
    pub trials: TrialTable,
    /// Choice steps of multi-step tasks.
    pub steps: Option<StepTable>,
    /// Maze geometry of multi-step tasks.
    pub maze: Option<MazeGeometry>,
    /// Activity already binned by the source.
    pub binned: Option<PopulationTensor>,
}

impl Recording {
    /// Refuses a recording without sorted units — an NWB file holding only LFP, imaging or
    /// behaviour — with one error that names the file and lists what it holds instead. Every
    /// command that analyses units calls this (or [`Recording::require_spikes`]) first.
    ///
    /// # Errors
    /// [`Error::NoUnits`] when the unit table is empty.
    ///
    /// ```
    /// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/lfp_only.nwb");
    /// let rec = neuropop::io::nwb::read(&p).unwrap();
    /// let msg = rec.require_units().unwrap_err().to_string();
    /// assert!(msg.contains("lfp_only.nwb") && msg.contains("no sorted units"));
    /// assert!(msg.contains("/processing/ecephys/LFP/ElectricalSeries (ElectricalSeries"));
    /// ```
    pub fn require_units(&self) -> Result<()> {
        if !self.units.is_empty() {
            return Ok(());
        }
        let file = match &self.info.source {
            Some(p) => p.display().to_string(),
            None => format!("session {}", self.info.id),
        };
        let mut holds: Vec<String> = self.info.contents.iter().map(|o| o.to_string()).collect();
        if self.trials.n_trials() > 0 {
            holds.push(format!("{} trials", self.trials.n_trials()));
        }
        let holds = if holds.is_empty() {
            "nothing else neuropop can list".to_string()
        } else {
            holds.join(", ")
        };
        Err(Error::NoUnits {
            file,
            session: self.info.id.clone(),
            holds,
        })
    }

    /// The spike trains of a recording that has sorted units and spike times: commands that
    /// bin spikes call this first.
    ///
    /// # Errors
    /// [`Error::NoUnits`] as [`Recording::require_units`]; [`Error::Invalid`] when the source
    /// holds binned counts only (the Steinmetz NMA files: use `binned`).
    ///
    /// ```
    /// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/units_location.nwb");
    /// let rec = neuropop::io::nwb::read(&p).unwrap();
    /// assert_eq!(rec.require_spikes().unwrap().n_units(), 3);
    /// ```
    pub fn require_spikes(&self) -> Result<&SpikeTrains> {
        self.require_units()?;
        self.spikes.as_ref().ok_or_else(|| {
            Error::invalid(
                format!("session {}", self.info.id),
                "spike times",
                "binned counts only (the source stores no spike times)",
            )
        })
    }

    /// Checks the parts agree with each other (unit counts, trial counts, step trial indices).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the disagreeing part.
    pub fn validate(&self) -> Result<()> {
        self.units.validate()?;
        let ctx = |what: &str| format!("session {}: {what}", self.info.id);
        if let Some(s) = &self.spikes
            && s.n_units() != self.units.len()
        {
            return Err(Error::invalid(
                ctx("spike trains"),
                format!("{} units (as the unit table)", self.units.len()),
                s.n_units().to_string(),
            ));
        }
        if let Some(b) = &self.binned {
            if b.n_units() != self.units.len() {
                return Err(Error::invalid(
                    ctx("binned units"),
                    self.units.len().to_string(),
                    b.n_units().to_string(),
                ));
            }
            if b.n_trials() != self.trials.n_trials() {
                return Err(Error::invalid(
                    ctx("binned trials"),
                    self.trials.n_trials().to_string(),
                    b.n_trials().to_string(),
                ));
            }
        }
        if let Some(st) = &self.steps {
            st.validate()?;
            let n = self.trials.n_trials();
            if let Some(&t) = st.trial.iter().find(|&&t| t >= n) {
                return Err(Error::invalid(
                    ctx("steps/trial"),
                    format!("trial index < {n}"),
                    t.to_string(),
                ));
            }
        }
        Ok(())
    }
}
