//! Statistics: seeded RNG streams, ranks, correlations with p-values, bootstrap, permutation, FDR.

pub mod rng;
