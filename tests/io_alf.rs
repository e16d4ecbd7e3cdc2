//! The Steinmetz original-release (ALF) loader against a session folder written by numpy
//! (tests/fixtures/alf/make_alf_fixture.py), plus bad inputs made by overwriting one file of a
//! copy of that folder.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use neuropop::Error;
use neuropop::io::npy::{write_npy_f64, write_npy_i64};
use neuropop::io::steinmetz_alf::{AlfOptions, looks_like_alf, read, read_with};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alf/Tiny_2016-12-14")
}

fn expected() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alf/expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// A writable copy of the fixture folder, under the release's folder name.
fn copy_fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Tiny_2016-12-14");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    (tmp, dir)
}

fn column_f64(values: &[f64]) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(&[values.len(), 1]), values.to_vec()).unwrap()
}

fn column_i64(values: &[i64]) -> ArrayD<i64> {
    ArrayD::from_shape_vec(IxDyn(&[values.len(), 1]), values.to_vec()).unwrap()
}

fn spike_times() -> Vec<f64> {
    neuropop::io::npy::read_npy(&fixture_dir().join("spikes.times.npy"))
        .unwrap()
        .to_f64_c_order()
        .unwrap()
}

#[test]
fn golden_session_matches_numpy() {
    let e = expected();
    let (rec, meta) = read_with(&fixture_dir(), &AlfOptions::default()).unwrap();

    assert_eq!(rec.info.id, "Tiny_2016-12-14");
    assert_eq!(rec.info.subject.as_deref(), Some("Tiny"));
    assert_eq!(rec.info.start_time.as_deref(), Some("2016-12-14"));
    assert_eq!(rec.info.format, "steinmetz-alf");
    assert_eq!(rec.info.source.as_deref(), Some(fixture_dir().as_path()));
    assert!(rec.binned.is_none());

    let units = e["units"].as_array().unwrap();
    let ids: Vec<i64> = units.iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(rec.units.ids, ids);
    assert_eq!(ids, vec![0, 1, 3, 4, 5]);
    let regions: Vec<&str> = units
        .iter()
        .map(|u| u["region"].as_str().unwrap())
        .collect();
    assert_eq!(rec.units.regions, regions);
    assert_eq!(regions, vec!["VISp", "CA1", "MOs", "CA1", "LGd"]);
    let quality: Vec<String> = units
        .iter()
        .map(|u| u["quality"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rec.units.quality.as_ref().unwrap(), &quality);
    let depth = rec.units.depth_um.as_ref().unwrap();
    let ccf = rec.units.ccf.as_ref().unwrap();
    assert_eq!(ccf.dim(), (5, 3));
    let spikes = rec.spikes.as_ref().unwrap();
    assert_eq!(spikes.n_units(), 5);
    for (k, u) in units.iter().enumerate() {
        assert!(close(depth[k], u["depth_um"].as_f64().unwrap()));
        let want = floats(&u["ccf"]);
        for j in 0..3 {
            assert!(close(ccf[[k, j]], want[j]), "ccf unit {k} axis {j}");
        }
        let train = spikes.unit(k);
        assert_eq!(train.len() as u64, u["n_spikes"].as_u64().unwrap());
        if let (Some(first), Some(last)) = (u["first"].as_f64(), u["last"].as_f64()) {
            assert_eq!(train[0], first);
            assert_eq!(train[train.len() - 1], last);
        }
        let sum: f64 = train.iter().sum();
        assert!(close(sum, u["sum"].as_f64().unwrap()), "unit {k} sum");
    }
    // 100 spikes, 17 of them in the dropped MUA cluster 2 (numpy's bincount: 27 25 17 23 0 8).
    let kept_spikes: u64 = units.iter().map(|u| u["n_spikes"].as_u64().unwrap()).sum();
    assert_eq!(spikes.n_spikes() as u64, kept_spikes);
    assert_eq!(spikes.n_spikes(), 83);

    let n = e["n_trials"].as_u64().unwrap() as usize;
    assert_eq!(rec.trials.n_trials(), n);
    let names = rec.trials.column_names();
    assert_eq!(&names[..2], ["start_time", "stop_time"]);
    for (name, values) in e["trial_columns"].as_object().unwrap() {
        assert_eq!(
            rec.trials.f64(name).unwrap(),
            floats(values),
            "column {name}"
        );
    }
    let included: Vec<bool> = e["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    assert_eq!(rec.trials.bool("included").unwrap(), included);
    // The ALF names of renamed attributes are not also present.
    assert!(!rec.trials.has("goCue_times") && !rec.trials.has("intervals_0"));
    assert_eq!(names.len(), 2 + 11 + 1);

    assert_eq!((meta.n_requested, meta.n_used), (6, 5));
    let quality_drop = meta
        .dropped
        .iter()
        .find(|d| d.item.contains("_phy_annotation"))
        .unwrap();
    assert_eq!(quality_drop.item, "1 cluster with _phy_annotation 1");
    assert!(quality_drop.reason.contains("min_phy_annotation 2"));
    assert_eq!(e["dropped_by_quality"]["1"], 1);
    assert_eq!(e["no_spike_clusters"], serde_json::json!([4]));
    assert_eq!(meta.warnings.len(), 1, "{:?}", meta.warnings);
    assert!(meta.warnings[0].contains("no spikes") && meta.warnings[0].ends_with(": 4"));
    let unread: Vec<&str> = meta.dropped.iter().map(|d| d.item.as_str()).collect();
    for file in [
        "wheel.position.npy",
        "spikes.amps.npy",
        "channels.site.npy",
        "clusters.probes.npy",
    ] {
        assert!(unread.contains(&file), "{file} not reported: {unread:?}");
    }
    assert_eq!(meta.dropped.len(), 5);
}

#[test]
fn read_is_read_with_defaults() {
    let rec = read(&fixture_dir()).unwrap();
    assert_eq!(rec.units.len(), 5);
    assert!(looks_like_alf(&fixture_dir()));
    assert!(!looks_like_alf(fixture_dir().parent().unwrap()));
}

#[test]
fn lower_quality_threshold_keeps_the_mua_cluster() {
    let opts = AlfOptions::default().with_min_phy_annotation(1);
    let (rec, meta) = read_with(&fixture_dir(), &opts).unwrap();
    let want: Vec<i64> = expected()["units_min1"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(rec.units.ids, want);
    assert_eq!(rec.units.ids, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(rec.units.regions[2], "LGd"); // peak channel 5 → row 4
    assert_eq!(rec.units.quality.as_ref().unwrap()[2], "1");
    assert_eq!(rec.spikes.as_ref().unwrap().n_spikes(), 100);
    assert_eq!((meta.n_requested, meta.n_used), (6, 6));
    assert!(
        !meta
            .dropped
            .iter()
            .any(|d| d.item.contains("_phy_annotation"))
    );
}

fn err_text(dir: &Path) -> String {
    match read(dir) {
        Ok(_) => panic!("expected an error for {}", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn peak_channel_out_of_range_is_an_error() {
    let (_tmp, dir) = copy_fixture();
    let file = dir.join("clusters.peakChannel.npy");
    write_npy_f64(&file, &column_f64(&[1.0, 3.0, 5.0, 9.0, 4.0, 6.0])).unwrap();
    let e = err_text(&dir);
    assert!(
        e.contains("clusters.peakChannel.npy")
            && e.contains("cluster 3")
            && e.contains("found 9")
            && e.contains("1..=8")
            && e.contains("8 rows in channels.brainLocation.tsv"),
        "{e}"
    );
    // A 0 means a 0-based file: refused rather than silently shifted.
    write_npy_f64(&file, &column_f64(&[0.0, 3.0, 5.0, 8.0, 4.0, 6.0])).unwrap();
    let e = err_text(&dir);
    assert!(e.contains("cluster 0") && e.contains("found 0"), "{e}");
}

#[test]
fn missing_required_file_is_named() {
    for file in [
        "trials.intervals.npy",
        "channels.brainLocation.tsv",
        "clusters._phy_annotation.npy",
    ] {
        let (_tmp, dir) = copy_fixture();
        std::fs::remove_file(dir.join(file)).unwrap();
        match read(&dir) {
            Err(Error::Missing {
                source_name,
                what,
                name,
            }) => {
                assert_eq!(name, file);
                assert_eq!(what, "file");
                assert!(source_name.ends_with("Tiny_2016-12-14"), "{source_name}");
            }
            other => panic!("expected Missing for {file}, got {other:?}"),
        }
    }
}

#[test]
fn trial_arrays_of_different_lengths_are_an_error() {
    let (_tmp, dir) = copy_fixture();
    write_npy_f64(&dir.join("trials.goCue_times.npy"), &column_f64(&[1.0; 9])).unwrap();
    let e = err_text(&dir);
    assert!(
        e.contains("trials.goCue_times.npy") && e.contains("10 rows") && e.contains("9 rows"),
        "{e}"
    );
}

#[test]
fn spike_arrays_of_different_lengths_are_an_error() {
    let (_tmp, dir) = copy_fixture();
    write_npy_i64(&dir.join("spikes.clusters.npy"), &column_i64(&[0; 99])).unwrap();
    let e = err_text(&dir);
    assert!(
        e.contains("spikes.clusters.npy")
            && e.contains("100 rows (as spikes.times.npy)")
            && e.contains("99 rows"),
        "{e}"
    );
}

#[test]
fn cluster_index_out_of_range_is_an_error() {
    let (_tmp, dir) = copy_fixture();
    let mut clusters = vec![0i64; 100];
    clusters[42] = 6;
    write_npy_i64(&dir.join("spikes.clusters.npy"), &column_i64(&clusters)).unwrap();
    let e = err_text(&dir);
    assert!(
        e.contains("spikes.clusters.npy: spike 42") && e.contains("0..6") && e.contains("found 6"),
        "{e}"
    );
}

#[test]
fn nan_spike_time_is_an_error() {
    let (_tmp, dir) = copy_fixture();
    let mut times = spike_times();
    times[17] = f64::NAN;
    write_npy_f64(&dir.join("spikes.times.npy"), &column_f64(&times)).unwrap();
    let e = err_text(&dir);
    assert!(
        e.contains("spikes.times.npy: spike 17") && e.contains("NaN"),
        "{e}"
    );
}

#[test]
fn tsv_without_allen_ontology_is_an_error() {
    let (_tmp, dir) = copy_fixture();
    let path = dir.join("channels.brainLocation.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("allen_ontology", "region");
    std::fs::write(&path, text).unwrap();
    match read(&dir) {
        Err(Error::Missing {
            source_name, name, ..
        }) => {
            assert_eq!(name, "allen_ontology");
            assert!(source_name.ends_with("channels.brainLocation.tsv"));
        }
        other => panic!("expected a missing column, got {other:?}"),
    }
}

#[test]
fn non_numeric_ccf_is_an_error() {
    let (_tmp, dir) = copy_fixture();
    let path = dir.join("channels.brainLocation.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("8937.5", "far", 1);
    std::fs::write(&path, text).unwrap();
    let e = err_text(&dir);
    assert!(
        e.contains("column 'ccf_ap', data row 1") && e.contains("'far'"),
        "{e}"
    );
}

#[test]
fn unsorted_spikes_are_sorted_with_a_warning() {
    let (_tmp, dir) = copy_fixture();
    let mut times = spike_times();
    times.reverse();
    write_npy_f64(&dir.join("spikes.times.npy"), &column_f64(&times)).unwrap();
    let (rec, meta) = read_with(&dir, &AlfOptions::default()).unwrap();
    let spikes = rec.spikes.unwrap();
    for u in 0..spikes.n_units() {
        assert!(spikes.unit(u).windows(2).all(|w| w[0] <= w[1]));
    }
    assert!(
        meta.warnings
            .iter()
            .any(|w| w.contains("not in time order") && w.contains("4 cluster(s)")),
        "{:?}",
        meta.warnings
    );
}
