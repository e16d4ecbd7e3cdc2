//! The io modules of neuropop, compiled standalone for fuzzing.
//!
//! `src/io/{npy,pickle,npz}.rs` depend only on `crate::error` and on each other, so they are
//! included here by path with the same module layout (`crate::error`, `crate::io::*`). This
//! keeps the fuzz build small: no polars, hdf5 or BLAS under the sanitizer.

#[path = "../../src/error.rs"]
pub mod error;

pub use error::{Error, Result};

/// Same layout as `neuropop::io` (see `io.rs`).
pub mod io;
