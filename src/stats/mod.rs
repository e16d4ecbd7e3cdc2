//! Statistics: seeded RNG streams, ranks, correlations with p-values, bootstrap, permutation, FDR;
//! and the numeric kernels under them (Gram products, sums of squared differences, sorting
//! networks) with their one SIMD switch ([`simd`]).

pub(crate) mod bitonic;
pub mod bootstrap;
pub mod correlation;
pub mod covariance;
pub mod fdr;
pub mod gram;
pub mod mt19937;
mod pearson;
pub mod percentile;
pub mod permutation;
pub mod rank;
pub mod rng;
pub mod simd;
pub(crate) mod sqdiff;

pub use percentile::{percentile, percentile_sorted};
