//! NWB reader against files written by pynwb (tests/fixtures/nwb/make_nwb_fixtures.py): the
//! values in expected.json, the three region rules, compressed spike times, trial column types,
//! skipped columns, and rejection of broken files with errors naming the file and dataset.

use std::path::{Path, PathBuf};

use neuropop::io::nwb::{self, NwbOptions};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nwb")
        .join(name)
}

fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all[name].clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Compares a file's units, spikes and session info with expected.json.
fn check_common(
    name: &str,
    options: &NwbOptions,
) -> (neuropop::data::Recording, neuropop::result::Meta) {
    let p = fixture(name);
    let e = expected(name);
    let (rec, meta) = nwb::read_with(&p, options).unwrap();
    assert_eq!(rec.info.id, e["identifier"].as_str().unwrap());
    assert_eq!(rec.info.subject.as_deref(), e["subject"].as_str());
    assert_eq!(rec.info.start_time.as_deref(), e["start_time"].as_str());
    assert_eq!(rec.info.format, "nwb");
    assert_eq!(rec.info.source.as_deref(), Some(p.as_path()));
    let ids: Vec<i64> = e["unit_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(rec.units.ids, ids);
    assert_eq!(rec.units.regions, strings(&e["regions"]));
    let s = rec.spikes.as_ref().unwrap();
    assert!(rec.binned.is_none());
    for u in 0..ids.len() {
        let t = s.unit(u);
        assert_eq!(t.len() as u64, e["spike_counts"][u].as_u64().unwrap());
        assert_eq!(t.first().copied(), e["first_spike"][u].as_f64());
        assert_eq!(t.last().copied(), e["last_spike"][u].as_f64());
    }
    assert_eq!(
        rec.trials.n_trials() as u64,
        e["trials"]["n"].as_u64().unwrap()
    );
    for skipped in strings(&e["trials"]["skipped"]) {
        let item = format!("trials column '{skipped}'");
        assert!(
            meta.dropped
                .iter()
                .any(|d| d.item == item && d.reason.contains("ragged")),
            "{item} not reported: {meta:?}"
        );
    }
    (rec, meta)
}

#[test]
fn electrodes_table_rows_give_regions_and_trial_columns_are_typed() {
    let (rec, meta) = check_common("units_electrodes.nwb", &NwbOptions::default());
    let e = expected("units_electrodes.nwb");
    let t = &rec.trials;
    let te = &e["trials"];
    assert_eq!(
        t.column_names(),
        vec![
            "start_time",
            "stop_time",
            "contrast",
            "choice",
            "rewarded",
            "stim"
        ]
    );
    assert_eq!(t.f64("start_time").unwrap(), f64s(&te["start_time"]));
    assert_eq!(t.f64("stop_time").unwrap(), f64s(&te["stop_time"]));
    assert_eq!(t.f64("contrast").unwrap(), f64s(&te["contrast"]));
    let frame = t.frame();
    assert!(frame.column("choice").unwrap().i64().is_ok());
    assert_eq!(t.i64("choice").unwrap(), vec![-1, 1, 0]);
    assert!(frame.column("rewarded").unwrap().bool().is_ok());
    assert_eq!(t.bool("rewarded").unwrap(), vec![true, false, true]);
    assert_eq!(t.str("stim").unwrap(), strings(&te["stim"]));
    // obs_intervals as make_nwb_fixtures.py wrote them (h5py: rows [0,10] [0,5] [6,10]
    // [0,10], index [1, 3, 4]): unit 9 was observed in two pieces.
    assert_eq!(
        rec.units.obs_intervals.as_ref().unwrap(),
        &vec![
            vec![(0.0, 10.0)],
            vec![(0.0, 5.0), (6.0, 10.0)],
            vec![(0.0, 10.0)]
        ]
    );
    assert!(
        !meta
            .dropped
            .iter()
            .any(|d| d.item.contains("obs_intervals")),
        "{meta:?}"
    );
    assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
    assert_eq!((meta.n_requested, meta.n_used), (3, 3));
}

#[test]
fn compressed_spike_times_and_group_locations() {
    // A hyperslab smaller than the 256-value chunks and not dividing 3500 exercises the
    // piecewise reads of a gzip-compressed dataset.
    let small = NwbOptions { chunk_values: 97 };
    let (rec, meta) = check_common("compressed_groups.nwb", &small);
    assert_eq!(rec.spikes.as_ref().unwrap().n_spikes(), 3500);
    let (rec2, _) = check_common("compressed_groups.nwb", &NwbOptions::default());
    assert_eq!(rec.spikes, rec2.spikes);
    // Unit id 2 has no electrodes: region "" and one warning naming it.
    let region_warnings: Vec<&String> = meta
        .warnings
        .iter()
        .filter(|w| w.contains("without a region"))
        .collect();
    assert_eq!(region_warnings.len(), 1, "{:?}", meta.warnings);
    assert!(
        region_warnings[0].contains("ids [2]"),
        "{}",
        region_warnings[0]
    );
    assert_eq!(
        expected("compressed_groups.nwb")["n_warnings_region"].as_u64(),
        Some(1)
    );
}

#[test]
fn units_location_column_and_small_index_dtype() {
    assert_eq!(
        expected("units_location.nwb")["index_dtype"].as_str(),
        Some("uint8")
    );
    let (rec, meta) = check_common("units_location.nwb", &NwbOptions::default());
    assert_eq!(rec.spikes.as_ref().unwrap().unit(0), &[0.2, 0.4, 0.9]);
    // No trials table in this file: an empty table and a warning.
    assert_eq!(rec.trials.n_trials(), 0);
    assert!(
        meta.warnings
            .iter()
            .any(|w| w.contains("/intervals/trials"))
    );
    assert_eq!(
        neuropop::io::h5util::sniff(&fixture("units_location.nwb")).unwrap(),
        Some("nwb")
    );
}

fn read_err(p: &Path) -> String {
    match nwb::read(p) {
        Ok(_) => panic!("{} should have been rejected", p.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_names(msg: &str, p: &Path, dataset: &str) {
    assert!(msg.contains(&p.display().to_string()), "no file in: {msg}");
    assert!(msg.contains(dataset), "no {dataset} in: {msg}");
}

#[test]
fn index_past_spike_times() {
    let p = fixture("bad_index.nwb");
    let msg = read_err(&p);
    assert_names(&msg, &p, "/units/spike_times_index");
    assert!(
        msg.contains("entry 2 = 11 points past /units/spike_times (length 6)"),
        "{msg}"
    );
}

#[test]
fn unsorted_spike_times_name_the_unit() {
    let p = fixture("unsorted.nwb");
    let msg = read_err(&p);
    assert_names(&msg, &p, "/units/spike_times");
    assert!(
        msg.contains("unit row 0 (id 0)") && msg.contains("0.4 after 0.9"),
        "{msg}"
    );
}

#[test]
fn nan_spike_time_names_the_unit() {
    let p = fixture("nan_spike.nwb");
    let msg = read_err(&p);
    assert_names(&msg, &p, "/units/spike_times");
    assert!(
        msg.contains("unit row 2 (id 2)") && msg.contains("NaN"),
        "{msg}"
    );
}

#[test]
fn truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.nwb");
    let bytes = std::fs::read(fixture("units_electrodes.nwb")).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let msg = read_err(&p);
    assert!(msg.contains(&p.display().to_string()), "{msg}");
    assert!(msg.contains("not a readable HDF5 file"), "{msg}");
}

#[test]
fn hdf5_without_units_is_missing_units() {
    let p = fixture("not_nwb.h5");
    let err = nwb::read(&p).unwrap_err();
    assert!(matches!(err, neuropop::Error::Missing { .. }), "{err:?}");
    let msg = err.to_string();
    assert_names(&msg, &p, "'/units'");
}

#[test]
fn missing_file_is_an_io_error() {
    let err = nwb::read(Path::new("/nonexistent/x.nwb")).unwrap_err();
    assert!(matches!(err, neuropop::Error::Io { .. }), "{err:?}");
}
