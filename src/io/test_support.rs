//! Shared helpers of the io tests: fixture paths and comparison against the values numpy
//! wrote to `tests/fixtures/npy/expected.json` (see `make_npy_fixtures.py` for the encoding).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::io::npy::{NdArray, NpyData};
use crate::io::pickle::PyValue;

/// Path of a fixture file.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npy")
        .join(name)
}

/// The value of an `Option` the test cannot go on without (test code only: panics with `what`).
pub(crate) fn req<T>(value: Option<T>, what: &str) -> T {
    match value {
        Some(v) => v,
        None => panic!("test fixture problem: {what}"),
    }
}

/// The expected values of all fixtures, keyed by file name.
pub(crate) fn expected() -> serde_json::Map<String, Value> {
    let text = req(
        std::fs::read_to_string(fixture("expected.json")).ok(),
        "expected.json is readable",
    );
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => map,
        other => panic!("expected.json is not a JSON object: {other:?}"),
    }
}

fn float_of(v: &Value) -> f64 {
    match v {
        Value::String(s) => req(s.parse().ok(), "float string"),
        other => req(other.as_f64(), "a number"),
    }
}

fn same_float(a: f64, b: f64) -> bool {
    // serde_json's default float parser may be off by one ulp; numpy's values are exact.
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= f64::EPSILON * b.abs()
}

/// Asserts that an array matches its JSON description (dtype, shape, C-order values).
pub(crate) fn check_array(a: &NdArray, e: &Value, ctx: &str) {
    assert_eq!(e["t"], "ndarray", "{ctx}: expected {e}, found an ndarray");
    assert_eq!(Some(a.dtype_name()), e["dtype"].as_str(), "{ctx}: dtype");
    let shape: Vec<usize> = req(e["shape"].as_array(), "shape")
        .iter()
        .map(|d| req(d.as_u64(), "dim") as usize)
        .collect();
    assert_eq!(a.shape, shape, "{ctx}: shape");
    let values = req(e["v"].as_array(), "values");
    assert_eq!(a.len(), values.len(), "{ctx}: element count");
    match &a.data {
        NpyData::Str(_) => {
            let got = req(a.strings().ok(), "strings");
            let want: Vec<&str> = values.iter().map(|v| req(v.as_str(), "str")).collect();
            assert_eq!(got, want, "{ctx}: strings");
        }
        NpyData::Object(_) => {
            let (s, f) = (&a.shape[..], a.fortran_order);
            let NpyData::Object(items) = &a.data else {
                unreachable!()
            };
            let ordered = req(
                crate::io::value::c_order_map(s, f, items, |x| Ok(x.clone())).ok(),
                "order",
            );
            for (i, (item, want)) in ordered.iter().zip(values).enumerate() {
                check_value(item, want, &format!("{ctx}[{i}]"));
            }
        }
        NpyData::Bool(_) => {
            let got = req(a.to_i64_c_order().ok(), "bools");
            let want: Vec<i64> = values
                .iter()
                .map(|v| i64::from(req(v.as_bool(), "bool")))
                .collect();
            assert_eq!(got, want, "{ctx}: bools");
        }
        NpyData::U64(v) => {
            let ordered = req(
                crate::io::value::c_order_map(&a.shape, a.fortran_order, v, |x| Ok(*x)).ok(),
                "order",
            );
            let want: Vec<u64> = values.iter().map(|v| req(v.as_u64(), "u64")).collect();
            assert_eq!(ordered, want, "{ctx}: u64 values");
        }
        NpyData::F32(_) | NpyData::F64(_) => {
            let got = req(a.to_f64_c_order().ok(), "floats");
            for (i, (g, w)) in got.iter().zip(values).enumerate() {
                assert!(same_float(*g, float_of(w)), "{ctx}[{i}]: {g} != {w}");
            }
        }
        _ => {
            let got = req(a.to_i64_c_order().ok(), "ints");
            let want: Vec<i64> = values.iter().map(|v| req(v.as_i64(), "i64")).collect();
            assert_eq!(got, want, "{ctx}: ints");
        }
    }
}

/// Asserts that a decoded Python value matches its JSON description.
pub(crate) fn check_value(v: &PyValue, e: &Value, ctx: &str) {
    let t = e["t"].as_str().unwrap_or_default();
    match (v, t) {
        (PyValue::None, "none") => {}
        (PyValue::Bool(b), "bool") => assert_eq!(Some(*b), e["v"].as_bool(), "{ctx}"),
        (PyValue::Int(i), "int") => assert_eq!(Some(*i), e["v"].as_i64(), "{ctx}"),
        (PyValue::Float(x), "float") => assert!(
            same_float(*x, float_of(&e["v"])),
            "{ctx}: {x} != {}",
            e["v"]
        ),
        (PyValue::Str(s), "str") => assert_eq!(Some(s.as_str()), e["v"].as_str(), "{ctx}"),
        (PyValue::Bytes(b), "bytes") => {
            let want: Vec<u8> = req(e["v"].as_array(), "bytes")
                .iter()
                .map(|x| req(x.as_u64(), "byte") as u8)
                .collect();
            assert_eq!(b, &want, "{ctx}");
        }
        (PyValue::List(items), "list") | (PyValue::Tuple(items), "tuple") => {
            let want = req(e["v"].as_array(), "items");
            assert_eq!(items.len(), want.len(), "{ctx}: length");
            for (i, (item, w)) in items.iter().zip(want).enumerate() {
                check_value(item, w, &format!("{ctx}[{i}]"));
            }
        }
        (PyValue::Dict(pairs), "dict") => {
            let want = req(e["v"].as_array(), "pairs");
            assert_eq!(pairs.len(), want.len(), "{ctx}: dict size");
            for ((k, val), w) in pairs.iter().zip(want) {
                check_value(k, &w[0], &format!("{ctx} key"));
                check_value(val, &w[1], &format!("{ctx}[{}]", w[0]["v"]));
            }
        }
        (PyValue::Array(a), "ndarray") => check_array(a, e, ctx),
        (other, _) => panic!("{ctx}: found {} {other:?}, expected {e}", other.type_name()),
    }
}
