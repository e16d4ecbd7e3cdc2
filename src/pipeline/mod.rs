//! Batch pipelines: from input files to tables, figures, a report section and a manifest.
//!
//! The framework is written once ([`study`]): a pipeline implements [`Study`] — how an input
//! becomes sessions, what one session yields, how sessions combine into tables, its figures
//! and report section — and [`study::run`] / [`study::merge`] do the rest: output-directory
//! safety, threads, input SHA-256, per-session status, shards ([`Shard`], Slurm arrays),
//! progress, stage timings, tables as CSV and Parquet ([`table`]), figures ([`figures`]) and
//! `manifest.json` ([`manifest`]).
//!
//! Studies:
//! * [`steinmetz`] — the published Steinmetz "Shesha" geometric-stability analysis
//!   (`neuropop shesha steinmetz`).

pub mod figures;
pub mod manifest;
pub mod shard;
pub mod steinmetz;
pub mod study;
pub mod table;

pub use shard::Shard;
pub use steinmetz::SteinmetzConfig;
pub use study::{RunOptions, RunSummary, Study, StudyConfig};
