#![no_main]
//! Arbitrary bytes as an `.npz` (zip) archive.

use libfuzzer_sys::fuzz_target;
use neuropop_fuzz::io::npz::read_all_from;
use std::io::Cursor;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = read_all_from(Cursor::new(data), Path::new("fuzz.npz"));
});
