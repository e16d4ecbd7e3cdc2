#![no_main]
//! Arbitrary bytes as a pickle stream.

use libfuzzer_sys::fuzz_target;
use neuropop_fuzz::io::pickle::unpickle;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = unpickle(data, Path::new("fuzz.pkl"));
});
