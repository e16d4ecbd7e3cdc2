//! `--json` prints the library's result structs as they serialise: every field, CIs and `meta`
//! included, NaN as null; defaults come from the options structs; `config print` round-trips.

use ndarray::Array2;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn neuropop(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_neuropop"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

fn write(dir: &Path, name: &str, a: &Array2<f64>) -> String {
    let p = dir.join(name);
    neuropop::io::npy::write_npy_f64(&p, &a.clone().into_dyn()).unwrap();
    p.display().to_string()
}

fn json(stdout: &str) -> Value {
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one JSON object: {stdout}"
    );
    serde_json::from_str(stdout).unwrap()
}

/// Condition means with noise: 8 conditions × 30 features, two replicates.
fn replicates() -> (Array2<f64>, Array2<f64>) {
    let a = Array2::from_shape_fn((8, 30), |(i, j)| {
        ((i * 5 + j * 3) % 11) as f64 + 0.1 * j as f64
    });
    let b = Array2::from_shape_fn((8, 30), |(i, j)| a[[i, j]] + ((i * 7 + j) % 3) as f64 * 0.2);
    (a, b)
}

#[test]
fn replicate_json_carries_the_bootstrap_ci_and_meta() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = replicates();
    let (pa, pb) = (
        write(dir.path(), "a.npy", &a),
        write(dir.path(), "b.npy", &b),
    );
    let (ok, out, err) = neuropop(&[
        "shesha",
        "replicate",
        "--a",
        &pa,
        "--b",
        &pb,
        "--n-bootstrap",
        "200",
        "--seed",
        "4",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v = json(&out);
    let lib = neuropop::rsa::shesha::replicate_stability(
        a.view(),
        b.view(),
        &neuropop::rsa::shesha::ReplicateOptions {
            bootstrap: neuropop::rsa::shesha::Bootstrap::Seeded {
                n_resamples: 200,
                seed: 4,
            },
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(v["estimate"].as_f64().unwrap(), lib.estimate);
    assert_eq!(v["ci_low"].as_f64().unwrap(), lib.ci_low);
    assert_eq!(v["ci_high"].as_f64().unwrap(), lib.ci_high);
    assert!(lib.ci_low < lib.estimate && lib.estimate < lib.ci_high);
    assert_eq!(v["ci_level"].as_f64().unwrap(), 0.95);
    assert_eq!(
        v["bootstrap_draws"].as_array().unwrap().len(),
        lib.bootstrap_draws.len()
    );
    assert!(v["meta"]["warnings"].is_array());
}

#[test]
fn split_half_json_is_the_result_with_compute_time() {
    let dir = tempfile::tempdir().unwrap();
    let x = Array2::from_shape_fn((60, 12), |(t, j)| {
        ((t % 6 + 1) as f64 * (j as f64 + 0.5)).cos() + 0.05 * ((t * 13 + j * 7) % 5) as f64
    });
    let c = Array2::from_shape_fn((60, 1), |(t, _)| (t % 6) as f64);
    let px = write(dir.path(), "x.npy", &x);
    let pc = dir.path().join("c.npy");
    neuropop::io::npy::write_npy_f64(&pc, &c.into_shape_with_order(60).unwrap().into_dyn())
        .unwrap();
    let (ok, out, err) = neuropop(&[
        "shesha",
        "split-half",
        "--x",
        &px,
        "--conditions",
        pc.to_str().unwrap(),
        "--split",
        "random",
        "--n-splits",
        "20",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert!(v["compute_s"].as_f64().unwrap() >= 0.0);
    assert_eq!(v["split_scores"].as_array().unwrap().len(), 20);
    assert_eq!(v["n_valid_splits"], 20);
    assert_eq!(v["conditions"].as_array().unwrap().len(), 6);
    assert!(v["partition_sd"].as_f64().unwrap() >= 0.0);
    // No bootstrap: the CI is null, not a made-up number.
    assert!(v["ci_low"].is_null() && v["ci_high"].is_null());
    assert!(v["meta"].is_object());
}

#[test]
fn config_print_round_trips_and_unknown_keys_are_refused() {
    let (ok, out, err) = neuropop(&["config", "print", "steinmetz"]);
    assert!(ok, "{err}");
    let c = neuropop::pipeline::SteinmetzConfig::from_toml_str(&out).unwrap();
    assert_eq!(c, neuropop::pipeline::SteinmetzConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "min_trails = 5\n").unwrap();
    let (ok, _, err) = neuropop(&[
        "shesha",
        "steinmetz",
        "--data",
        "x.npz",
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("bad.toml") && err.contains("min_trails"),
        "{err}"
    );
}

#[test]
fn a_pipeline_with_a_failed_session_exits_non_zero_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("corrupt.npz");
    std::fs::write(&bad, b"not a zip").unwrap();
    let (ok, out, err) = neuropop(&[
        "shesha",
        "steinmetz",
        "--data",
        bad.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
        "--quiet",
    ]);
    assert!(!ok);
    assert!(out.contains("1 failed"), "{out}");
    assert!(
        err.contains("corrupt.npz") && err.contains("1 failed"),
        "{err}"
    );
}
