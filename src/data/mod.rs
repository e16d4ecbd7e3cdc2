//! The central types every loader produces and every analysis consumes.
//!
//! ```text
//! loader (io) ──► Recording { SessionInfo, UnitTable, SpikeTrains?, TrialTable, StepTable?, binned? }
//!                     │  bin_spikes / binned
//!                     ▼
//!               PopulationTensor  [bin, trial, unit]  ── epoch_mean / condition_means ──► analysis
//! ```
//! See `docs/architecture.md` for the whole flow and the layout choice.

pub mod counts;
pub mod labels;
pub mod pseudo;
pub mod recording;
pub mod spikes;
pub mod steps;
pub mod tensor;
pub mod trials;
pub mod units;

pub use labels::{Key, Labels};
pub use recording::{MazeGeometry, Recording, SessionInfo, SourceObject};
pub use spikes::SpikeTrains;
pub use steps::{Move, StepTable};
pub use tensor::{BinSpec, PopulationTensor, ValueKind};
pub use trials::TrialTable;
pub use units::UnitTable;
