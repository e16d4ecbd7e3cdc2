//! End-to-end pipelines: from input files to tables, with a manifest for reproducibility.
//!
//! * [`steinmetz`] — the published Steinmetz "Shesha" geometric-stability analysis
//!   (`neuropop steinmetz`), configured by [`SteinmetzConfig`]; its figures are made by
//!   [`figures`].

pub mod config;
pub mod figures;
pub mod steinmetz;
pub mod summary;
pub mod tangling;

pub use config::{SteinmetzConfig, default_toml};
pub use steinmetz::{RunOptions, RunSummary, merge, run, shard_from_slurm};
