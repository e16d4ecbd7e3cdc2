//! Simulators with planted, known structure: the built-in data of `neuropop demo`, the tests and
//! the benchmarks (the real datasets cannot be shipped). Each simulator returns the data together
//! with the truth it planted, so tests can assert that analyses recover it.

pub mod maze;
pub mod steinmetz;
