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
