//! Statistics: seeded RNG streams, ranks, correlations with p-values, bootstrap, permutation, FDR.

pub(crate) mod bitonic;
pub mod bootstrap;
pub mod correlation;
pub mod covariance;
pub mod fdr;
pub mod gram;
pub mod mt19937;
pub mod percentile;
pub mod permutation;
pub mod rank;
pub mod rng;

pub use percentile::{percentile, percentile_sorted};
