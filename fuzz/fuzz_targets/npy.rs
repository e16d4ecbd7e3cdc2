#![no_main]
//! Arbitrary bytes as an `.npy` stream, with and without a known length.

use libfuzzer_sys::fuzz_target;
use neuropop_fuzz::io::npy::parse_npy;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = parse_npy(data, Some(data.len() as u64), Path::new("fuzz.npy"), "");
    let _ = parse_npy(data, None, Path::new("fuzz.npy"), "member.npy");
});
