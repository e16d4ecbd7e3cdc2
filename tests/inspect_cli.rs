//! `neuropop inspect` on every format's fixture prints exactly one JSON object with the schema
//! of the loaders issue, and bad input exits non-zero with one message (no panic).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn inspect(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_neuropop"))
        .arg("inspect")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

/// Checks the exact key set and types of the JSON object, returns it.
fn schema(stdout: &str) -> Value {
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one JSON object: {stdout}"
    );
    let v: Value = serde_json::from_str(stdout).unwrap();
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, vec!["format", "sessions"]);
    for s in v["sessions"].as_array().unwrap() {
        let mut keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "bin_size_s",
                "binned",
                "id",
                "n_bins",
                "n_trials",
                "n_units",
                "regions",
                "trial_columns"
            ]
        );
        assert!(s["id"].is_string() && s["binned"].is_boolean());
        assert!(s["n_units"].is_u64() && s["n_trials"].is_u64());
        let total: u64 = s["regions"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(total, s["n_units"].as_u64().unwrap());
        assert!(
            s["trial_columns"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
        if s["binned"].as_bool().unwrap() {
            assert!(s["n_bins"].is_u64() && s["bin_size_s"].is_f64());
        } else {
            assert!(s["n_bins"].is_null() && s["bin_size_s"].is_null());
        }
    }
    v
}

#[test]
fn steinmetz_npz() {
    let p = fixture("steinmetz/nma_part0.npz");
    let (ok, out, err) = inspect(&[p.to_str().unwrap(), "--json"]);
    assert!(ok, "{err}");
    let v = schema(&out);
    assert_eq!(v["format"], "steinmetz-npz");
    let s = &v["sessions"][0];
    assert_eq!(s["n_units"], 58);
    assert_eq!(s["n_trials"], 96);
    assert_eq!(s["n_bins"], 250);
    assert_eq!(s["bin_size_s"], 0.01);
    assert_eq!(s["regions"]["VISp"], 16);
    assert_eq!(s["regions"]["root"], 4);
    assert!(
        s["trial_columns"]
            .as_array()
            .unwrap()
            .contains(&"feedback_type".into())
    );
    // The same through the loader: the summary path agrees with a full read.
    let (full, meta) = neuropop::io::open(&p).unwrap();
    assert_eq!(
        meta.n_used,
        full.iter().map(|r| r.units.len()).sum::<usize>()
    );
    assert_eq!(v["sessions"].as_array().unwrap().len(), full.len());
    let o = neuropop::io::SessionOverview::of(&full[0]);
    assert_eq!(serde_json::to_value(&o).unwrap(), *s);
    // Human summary without --json.
    let (ok, text, _) = inspect(&[p.to_str().unwrap()]);
    assert!(ok && text.contains("steinmetz-npz") && text.contains("VISp 16"));
}

#[test]
fn steinmetz_alf_nwb_maze() {
    let cases = [
        ("alf/Tiny_2016-12-14", "steinmetz-alf", 5, 10),
        ("nwb/units_electrodes.nwb", "nwb", 3, 3),
        ("maze/session_small.maze.h5", "maze", 3, 3),
    ];
    for (rel, format, units, trials) in cases {
        let p = fixture(rel);
        let (ok, out, err) = inspect(&[p.to_str().unwrap(), "--json"]);
        assert!(ok, "{rel}: {err}");
        let v = schema(&out);
        assert_eq!(v["format"], format, "{rel}");
        assert_eq!(v["sessions"][0]["n_units"], units, "{rel}");
        assert_eq!(v["sessions"][0]["n_trials"], trials, "{rel}");
        assert_eq!(v["sessions"][0]["binned"], false, "{rel}");
        // An explicit --format gives the same answer as detection.
        let (ok2, out2, _) = inspect(&[p.to_str().unwrap(), "--format", format, "--json"]);
        assert!(ok2);
        assert_eq!(out, out2);
    }
    let (_, out, _) = inspect(&[
        fixture("nwb/units_electrodes.nwb").to_str().unwrap(),
        "--json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sessions"][0]["regions"]["LGd"], 1);
    assert_eq!(v["sessions"][0]["trial_columns"][0], "start_time");
}

#[test]
fn bad_input_exits_non_zero_with_one_message() {
    let cases = [
        ("alf/expected.json", "unknown format"),
        ("nwb/bad_index.nwb", "points past /units/spike_times"),
        ("nwb/nan_spike.nwb", "NaN"),
        ("nwb/not_nwb.h5", "missing dataset '/identifier'"),
        ("does/not/exist.nwb", "exist.nwb"),
    ];
    for (rel, needle) in cases {
        let p = fixture(rel);
        let (ok, out, err) = inspect(&[p.to_str().unwrap(), "--json"]);
        assert!(!ok, "{rel} should fail");
        assert!(out.is_empty(), "{rel}: nothing on stdout");
        assert!(err.contains(needle), "{rel}: {err}");
        assert!(!err.contains("panicked"), "{rel}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{rel}: {err}");
    }
    // A format forced onto the wrong file is an error too, not a panic.
    let p = fixture("maze/session_small.maze.h5");
    let (ok, _, err) = inspect(&[p.to_str().unwrap(), "--format", "steinmetz-npz"]);
    assert!(!ok && !err.contains("panicked"), "{err}");
}

#[test]
fn cli_array_inputs_may_be_npz_members() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.npy");
    let x = fixture("npy/savez_compressed.npz:y"); // 1 × 2 int64, deflated member
    let o = Command::new(env!("CARGO_BIN_EXE_neuropop"))
        .args(["rsa", "rdm", "--metric", "euclidean", "--x"])
        .arg(&x)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = neuropop::io::npy::read_npy(&out).unwrap();
    assert_eq!(
        (r.shape.clone(), r.to_f64_c_order().unwrap()),
        (vec![1, 1], vec![0.0])
    );
    // Several members and none chosen: a clear error listing them.
    let o = Command::new(env!("CARGO_BIN_EXE_neuropop"))
        .args(["rsa", "rdm", "--metric", "euclidean", "--x"])
        .arg(fixture("npy/savez.npz"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("FILE.npz:MEMBER"),
        "{err}"
    );
}

#[test]
fn nwb_without_units_reports_zero_units_and_what_the_file_holds() {
    let cases = [
        (
            "nwb/timeseries_only.nwb",
            3,
            "/acquisition/running_speed  TimeSeries  data 100",
        ),
        (
            "nwb/lfp_only.nwb",
            0,
            "/processing/ecephys/LFP/ElectricalSeries  ElectricalSeries  data 200 × 4",
        ),
        (
            "nwb/extension_ns.nwb",
            2,
            "/acquisition/tether  TetherSeries [ndx-neuropop-test]  data 20",
        ),
    ];
    for (rel, trials, line) in cases {
        let p = fixture(rel);
        let (ok, out, err) = inspect(&[p.to_str().unwrap(), "--json"]);
        assert!(ok, "{rel}: {err}");
        // The JSON contract is unchanged: same keys, 0 units, no regions.
        let v = schema(&out);
        assert_eq!(v["format"], "nwb", "{rel}");
        let s = &v["sessions"][0];
        assert_eq!(s["n_units"], 0, "{rel}");
        assert_eq!(s["regions"], serde_json::json!({}), "{rel}");
        assert_eq!(s["n_trials"], trials, "{rel}");
        // The text says there are no units and lists what the file holds.
        let (ok, text, _) = inspect(&[p.to_str().unwrap()]);
        assert!(ok, "{rel}");
        assert!(text.contains(": 0 units, "), "{rel}: {text}");
        assert!(text.contains("no sorted units"), "{rel}: {text}");
        assert!(text.contains("the file also holds:"), "{rel}: {text}");
        assert!(text.contains(line), "{rel}: {text}");
    }
    let p = fixture("nwb/timeseries_only.nwb");
    let (_, text, _) = inspect(&[p.to_str().unwrap()]);
    for line in [
        "/processing/behavior/BehavioralTimeSeries/pupil_area  TimeSeries  data 50",
        "/intervals/epochs  TimeIntervals  2 rows",
        "/intervals/trials  TimeIntervals  3 rows",
    ] {
        assert!(text.contains(line), "{text}");
    }
}
