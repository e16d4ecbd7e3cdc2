//! `neuropop::io`, by path. Paths here are relative to this file's directory (`fuzz/src`).

#[path = "../../src/io/npy.rs"]
pub mod npy;
#[path = "../../src/io/npz.rs"]
pub mod npz;
#[path = "../../src/io/pickle.rs"]
pub mod pickle;
