//! Readers and writers for the file formats neuropop loads.
//!
//! * [`npy`] — numpy `.npy` arrays (format versions 1.0, 2.0 and 3.0) and the typed,
//!   owned [`npy::NdArray`] value used across the crate.
//! * [`pickle`] — a data-only unpickler for numpy object arrays (it never imports or calls
//!   anything; see `docs/formats/npy-npz.md` for the safety story).
//! * `value` (re-exported by `npy` and `pickle`) and `dtype` — the array and Python value types
//!   both of them build, and the dtype decoding they share.
//! * [`npz`] — numpy `.npz` archives (zip files of `.npy` members, stored or deflated).
//! * [`arrays`] — an array input by path (`X.npy`, `F.npz:member`) as a matrix or labels.
//! * [`steinmetz_npz`], [`steinmetz_alf`], [`nwb`], [`maze`] — one module per dataset format,
//!   each with `read_with(path, &Options) -> (recording(s), Meta)` and `read(path)`; [`open`]
//!   detects the format and returns the same shape for all of them.
//!
//! All readers stream from their input, check every size a file claims against the bytes
//! actually present before allocating, and report failures as [`crate::Error`] values that
//! name the file, the location inside it and what was expected versus found.

pub mod arrays;
mod dtype;
pub mod h5util;
pub mod maze;
pub mod npy;
pub mod npz;
pub mod nwb;
pub mod open;
pub mod pickle;
pub mod pickle_write;
pub mod steinmetz_alf;
pub mod steinmetz_npz;
mod value;

pub use open::{
    Format, OpenOptions, Overview, SessionOverview, detect, open, open_as, open_with, overview,
};

#[cfg(test)]
mod test_support;
