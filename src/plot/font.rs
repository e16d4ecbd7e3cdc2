//! The font embedded in the binary (DejaVu Sans, `assets/LICENSE-DejaVu.txt`), registered with
//! plotters as `sans-serif`, so figures render the same on a machine without system fonts
//! (a cluster node, a container).

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::error::{Error, Result};

/// DejaVu Sans, regular (covers Greek, ≥, ±, – used in figure text).
pub static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Registers [`DEJAVU_SANS`] as plotters' `sans-serif` family (once per process; later calls
/// return the first outcome). Every figure function calls this before drawing.
///
/// Only the regular style is registered: plotters falls back to it for bold or italic, so
/// figures never ask for a style that is missing.
///
/// # Errors
/// [`Error::Invalid`] if the embedded bytes are not a usable font (a corrupted build).
///
/// ```
/// neuropop::plot::font::ensure_registered().unwrap();
/// neuropop::plot::font::ensure_registered().unwrap(); // idempotent
/// ```
pub fn ensure_registered() -> Result<()> {
    REGISTERED
        .get_or_init(|| {
            register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "embedded DejaVuSans.ttf could not be parsed".to_string())
        })
        .clone()
        .map_err(|m| Error::invalid("plot font", "a valid TrueType font", m))
}
