//! End-to-end Steinmetz pipeline on the NMA fixtures against the reference outputs.

use std::path::{Path, PathBuf};

use neuropop::pipeline::steinmetz::{merge, run};
use neuropop::pipeline::{RunOptions, Shard, SteinmetzConfig};

fn fx(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/steinmetz")
        .join(name)
}

fn files() -> Vec<PathBuf> {
    vec![fx("nma_part0.npz"), fx("nma_part1.npz")]
}

fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        ..RunOptions::default()
    }
}

fn cfg() -> SteinmetzConfig {
    // Fewer bootstraps keep the test fast; means and rho/p do not depend on them.
    SteinmetzConfig {
        n_bootstrap: 2000,
        ..SteinmetzConfig::default()
    }
}

fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    (
        header,
        lines
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').map(String::from).collect())
            .collect(),
    )
}

fn num(s: &str) -> f64 {
    if s.is_empty() {
        f64::NAN
    } else {
        s.parse().unwrap()
    }
}

#[test]
fn matches_reference_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let summary = run(&files(), &out, &cfg(), &quiet()).unwrap();
    assert!(!summary.has_failures());
    let (h, got) = csv(&out.join("area_sessions.csv"));
    let (he, exp) = csv(&fx("expected_area_sessions.csv"));
    assert_eq!(h, he);
    assert_eq!(got.len(), exp.len());
    for (g, e) in got.iter().zip(&exp) {
        assert_eq!(g[..6], e[..6], "keys/counts");
        for k in 6..h.len() {
            let (a, b) = (num(&g[k]), num(&e[k]));
            assert_eq!(a.is_nan(), b.is_nan(), "NaN at {} {} {}", g[0], g[1], h[k]);
            if a.is_nan() {
                continue;
            }
            match h[k].as_str() {
                "null_mean_drift" => {
                    let sd = num(&e[k + 1]);
                    assert!(
                        (a - b).abs() < 4.0 * sd / 500f64.sqrt() + 1e-4,
                        "{} {} null_mean {a} vs {b}",
                        g[0],
                        g[1]
                    );
                }
                "null_std_drift" => assert!((a - b).abs() < 0.25 * b + 1e-4, "null_std {a} vs {b}"),
                "z_score_drift" => assert!((a - b).abs() < 1.0, "z {a} vs {b}"),
                _ => assert!(
                    (a - b).abs() < 1e-6,
                    "{} {} {}: {a} vs {b}",
                    g[0],
                    g[1],
                    h[k]
                ),
            }
        }
    }
    let (_, sk) = csv(&out.join("skipped.csv"));
    let (_, ske) = csv(&fx("expected_skipped.csv"));
    assert_eq!(sk, ske);
    let (_, rg) = csv(&out.join("regional_summary.csv"));
    let (_, rge) = csv(&fx("expected_regional.csv"));
    assert_eq!(rg.len(), rge.len());
    for (g, e) in rg.iter().zip(&rge) {
        assert_eq!(g[..3], e[..3]);
        assert!((num(&g[3]) - num(&e[3])).abs() < 1e-9);
        assert!((num(&g[4]) - num(&e[4])).abs() < 0.05 && (num(&g[5]) - num(&e[5])).abs() < 0.05);
    }
    let (_, cp) = csv(&out.join("behavior_coupling.csv"));
    let (_, cpe) = csv(&fx("expected_behavior_coupling.csv"));
    // Expected rows: script-tangling rows are replaced by the neuropop-tangling ones.
    let exp: Vec<&Vec<String>> = cpe.iter().filter(|r| r[9] != "script").collect();
    assert_eq!(cp.len(), exp.len());
    for g in &cp {
        let e = exp.iter().find(|e| e[0] == g[0] && e[2] == g[1]).unwrap();
        assert!((num(&g[2]) - num(&e[3])).abs() < 1e-9, "rho {g:?}");
        assert!((num(&g[5]) - num(&e[6])).abs() < 1e-9, "p {g:?}");
        assert_eq!(g[6], e[7]);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    // Refuses a non-empty directory without force.
    assert!(run(&files(), &out, &cfg(), &quiet()).is_err());
}

#[test]
fn shards_merge_to_single_run_and_threads_agree() {
    let dir = tempfile::tempdir().unwrap();
    let c = cfg();
    let _one = run(
        &files(),
        &dir.path().join("one"),
        &c,
        &RunOptions {
            threads: Some(1),
            ..quiet()
        },
    )
    .unwrap();
    let four = run(
        &files(),
        &dir.path().join("four"),
        &c,
        &RunOptions {
            threads: Some(4),
            ..quiet()
        },
    )
    .unwrap();
    let read = |d: &str| std::fs::read(dir.path().join(d).join("area_sessions.csv")).unwrap();
    assert_eq!(read("one"), read("four"));
    let mut parts = Vec::new();
    for i in 0..3 {
        let d = dir.path().join(format!("shard{i}"));
        run(
            &files(),
            &d,
            &c,
            &RunOptions {
                shard: Some(Shard::new(i, 3).unwrap()),
                ..quiet()
            },
        )
        .unwrap();
        parts.push(d);
    }
    let merged = merge(&parts, &dir.path().join("merged"), &c, false).unwrap();
    assert_eq!(read("merged"), read("one"));
    for f in [
        "regional_summary.csv",
        "behavior_coupling.csv",
        "skipped.csv",
    ] {
        let a = std::fs::read(dir.path().join("merged").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("one").join(f)).unwrap();
        assert_eq!(a, b, "{f}");
    }
    assert_eq!(merged.output.rows.len(), four.output.rows.len());
}

#[test]
fn corrupt_file_is_recorded_and_others_complete() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("corrupt.npz");
    std::fs::write(&bad, b"\x00garbage bytes that are not a zip archive").unwrap();
    let mut f = files();
    f.push(bad);
    let out = dir.path().join("out");
    let s = run(&f, &out, &cfg(), &quiet()).unwrap();
    assert!(s.has_failures());
    assert_eq!(s.output.rows.len(), 14);
    let m = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(m.contains("corrupt.npz") && m.contains("\"failed\""));
}

/// The tables of the refactored pipeline are byte-identical to those the pipeline wrote before
/// the framework existed (`golden/fixture`, written by neuropop at commit ec74232 with the
/// default config), for 1 and 4 threads: the house was rebuilt without changing any number.
#[test]
fn tables_are_byte_identical_to_the_pre_framework_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    for threads in [1, 4] {
        let out = dir.path().join(format!("t{threads}"));
        run(
            &files(),
            &out,
            &SteinmetzConfig::default(),
            &RunOptions {
                threads: Some(threads),
                ..quiet()
            },
        )
        .unwrap();
        for f in [
            "area_sessions.csv",
            "skipped.csv",
            "regional_summary.csv",
            "behavior_coupling.csv",
        ] {
            let got = std::fs::read(out.join(f)).unwrap();
            let want = std::fs::read(fx("golden/fixture").join(f)).unwrap();
            assert!(
                got == want,
                "{f} ({threads} threads) differs from golden/fixture/{f}"
            );
        }
    }
}

/// The same for the demo's simulated sessions (`neuropop demo --small`, seed 2019):
/// `golden/demo_small` holds the tables the pre-framework pipeline wrote for them.
#[test]
fn demo_tables_are_byte_identical_to_the_pre_framework_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    neuropop::demo::run(&out, true, false, neuropop::demo::DEFAULT_SEED, true).unwrap();
    for f in [
        "area_sessions.csv",
        "skipped.csv",
        "regional_summary.csv",
        "behavior_coupling.csv",
    ] {
        let got = std::fs::read(out.join("shesha_steinmetz").join(f)).unwrap();
        let want = std::fs::read(fx("golden/demo_small").join(f)).unwrap();
        assert!(got == want, "demo {f} differs from golden/demo_small/{f}");
    }
}
