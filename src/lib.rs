//! # neuropop — neural population analysis, fast and reproducible
//!
//! Data flows one way: a loader ([`io`]) produces [`data::Recording`]s, binning turns them into a
//! [`data::PopulationTensor`], an analysis ([`rsa`], ...) returns a result struct, and tables
//! ([`pipeline`]) and figures ([`plot`]) are made from results.

pub mod cli;
pub mod data;
pub mod demo;
pub mod error;
pub mod io;
mod mem;
pub mod output;
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod report;
pub mod result;
pub mod rsa;
pub mod sim;
pub mod stats;
pub mod temporal;

pub use error::{Error, Result};
