//! NWB reader against files written by pynwb (tests/fixtures/nwb/make_nwb_fixtures.py and, for
//! schema versions 2.0.2-2.5.0, make_old_schema_fixtures.py): the values in expected.json and
//! expected_old.json, every step of the region chain, compressed spike times, trial column
//! types, skipped columns, files without units, and rejection of broken files with errors
//! naming the file and dataset.

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
fn hdf5_file_that_is_not_nwb_is_missing_its_identifier() {
    // not_nwb.h5 claims an nwb_version but holds none of NWB's required datasets.
    let p = fixture("not_nwb.h5");
    let err = nwb::read(&p).unwrap_err();
    assert!(matches!(err, neuropop::Error::Missing { .. }), "{err:?}");
    let msg = err.to_string();
    assert_names(&msg, &p, "'/identifier'");
}

/// `[path, neurodata_type]` pairs of expected.json's `contents`.
fn contents(e: &Value) -> Vec<(String, String)> {
    e["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn files_without_units_read_with_no_units_and_list_what_they_hold() {
    for name in ["timeseries_only.nwb", "lfp_only.nwb", "extension_ns.nwb"] {
        let p = fixture(name);
        let e = expected(name);
        let (rec, meta) = nwb::read_with(&p, &NwbOptions::default())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(rec.info.id, e["identifier"].as_str().unwrap(), "{name}");
        assert_eq!(rec.info.subject.as_deref(), e["subject"].as_str(), "{name}");
        assert_eq!(rec.units.len(), 0, "{name}");
        assert!(rec.units.region_counts().is_empty(), "{name}");
        assert!(rec.spikes.is_none() && rec.binned.is_none(), "{name}");
        assert_eq!(
            rec.trials.n_trials() as u64,
            e["trials"]["n"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            rec.trials.column_names(),
            strings(&e["trials"]["columns"]),
            "{name}"
        );
        assert_eq!((meta.n_requested, meta.n_used), (0, 0), "{name}");
        assert!(
            meta.warnings
                .iter()
                .any(|w| w.starts_with("no /units table")),
            "{name}: {:?}",
            meta.warnings
        );
        // The listing names every typed object with data, and each table, as h5py sees them
        // (extension types carry their namespace in brackets).
        let listed: Vec<(String, String)> = rec
            .info
            .contents
            .iter()
            .map(|o| {
                let bare = o.type_name.split(" [").next().unwrap().to_string();
                (o.path.clone(), bare)
            })
            .collect();
        assert_eq!(listed, contents(&e), "{name}");
    }
    let (rec, _) = nwb::read_with(&fixture("timeseries_only.nwb"), &NwbOptions::default()).unwrap();
    assert_eq!(rec.trials.f64("contrast").unwrap(), vec![0.5, 1.0, 0.0]);
    let sizes: Vec<&str> = rec.info.contents.iter().map(|o| o.size.as_str()).collect();
    assert_eq!(sizes, vec!["data 100", "data 50", "2 rows", "3 rows"]);
    let (rec, _) = nwb::read_with(&fixture("lfp_only.nwb"), &NwbOptions::default()).unwrap();
    assert_eq!(rec.info.contents[0].size, "data 200 × 4");
    assert!(
        rec.trials.n_trials() == 0 && rec.trials.column_names().is_empty(),
        "no trials table: an empty trial table"
    );
}

#[test]
fn extension_types_are_listed_with_their_namespace() {
    let p = fixture("extension_ns.nwb");
    let rec = nwb::read(&p).unwrap();
    let ns = expected("extension_ns.nwb")["namespace"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(rec.info.contents[0].path, "/acquisition/tether");
    assert_eq!(
        rec.info.contents[0].type_name,
        format!("TetherSeries [{ns}]")
    );
    assert_eq!(rec.info.contents[0].size, "data 20");
    // Standard types carry no namespace.
    assert_eq!(rec.info.contents[1].type_name, "TimeIntervals");
}

#[test]
fn commands_needing_units_refuse_a_file_without_them() {
    let p = fixture("lfp_only.nwb");
    let rec = nwb::read(&p).unwrap();
    let err = rec.require_spikes().unwrap_err();
    assert!(matches!(err, neuropop::Error::NoUnits { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&p.display().to_string()), "{msg}");
    assert!(
        msg.contains("session 'fixture-e' has no sorted units"),
        "{msg}"
    );
    assert!(
        msg.contains("the file holds /processing/ecephys/LFP/ElectricalSeries (ElectricalSeries, data 200 × 4)"),
        "{msg}"
    );
    let msg = nwb::read(&fixture("timeseries_only.nwb"))
        .unwrap()
        .require_units()
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("/acquisition/running_speed (TimeSeries, data 100)")
            && msg.contains("/intervals/trials (TimeIntervals, 3 rows)")
            && msg.ends_with("3 trials"),
        "{msg}"
    );
    // A file with units passes, and hands back its spike trains.
    let rec = nwb::read(&fixture("units_electrodes.nwb")).unwrap();
    rec.require_units().unwrap();
    assert_eq!(rec.require_spikes().unwrap().n_units(), 3);
    // Files with units list their other contents too.
    assert!(
        rec.info
            .contents
            .iter()
            .any(|o| o.path == "/intervals/trials")
    );
}

#[test]
fn region_chain_unit_location_electrode_row_unit_group_electrode_group() {
    let name = "units_electrode_group.nwb";
    let (rec, meta) = check_common(name, &NwbOptions::default());
    let e = expected(name);
    let regions = strings(&e["regions"]);
    let steps: Vec<Option<u64>> = e["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::as_u64)
        .collect();
    // Each step of the chain decides at least one unit.
    for step in 1..=4 {
        assert!(
            steps.contains(&Some(step)),
            "no unit decided by step {step}"
        );
    }
    for (u, step) in steps.iter().enumerate() {
        let id = rec.units.ids[u];
        match step {
            // 1: the unit's location column beats its electrode (CA3) and group (RSP).
            Some(1) => assert_eq!((id, rec.units.regions[u].as_str()), (24, "VISp")),
            // 2: the first electrode row's location beats the unit's group (RSP).
            Some(2) => assert_eq!((id, rec.units.regions[u].as_str()), (21, "CA3")),
            // 3: an electrode location "none" (or no electrodes at all) falls through to the
            // unit's own electrode_group, before the electrode's group (ACA).
            Some(3) => assert!(
                [(20, "RSP"), (23, "MOp")].contains(&(id, rec.units.regions[u].as_str())),
                "unit {id}: {}",
                rec.units.regions[u]
            ),
            // 4: electrode location "" and the unit's group "unknown": the electrode's group.
            Some(4) => assert_eq!((id, rec.units.regions[u].as_str()), (22, "ACA")),
            _ => assert_eq!((id, rec.units.regions[u].as_str()), (25, "")),
        }
        assert_eq!(rec.units.regions[u], regions[u]);
    }
    // Only unit 25 (electrode "NONE", groups "unknown") has no region.
    let w: Vec<&String> = meta
        .warnings
        .iter()
        .filter(|w| w.contains("without a region"))
        .collect();
    assert_eq!(w.len(), 1, "{:?}", meta.warnings);
    assert!(
        w[0].contains("ids [25]") && w[0].contains("electrode_group"),
        "{}",
        w[0]
    );
    // electrode_group is used, so it is not reported as a column left out.
    assert!(
        !meta
            .dropped
            .iter()
            .any(|d| d.item.contains("electrode_group")),
        "{:?}",
        meta.dropped
    );
}

#[test]
fn units_with_only_an_electrode_group_take_its_location() {
    // As SpikeInterface and Kilosort/phy converters write units: no electrodes column.
    let (rec, meta) = check_common("units_group_only.nwb", &NwbOptions::default());
    assert_eq!(rec.units.regions, vec!["LGd", "VISp", "LGd"]);
    assert!(
        !meta.warnings.iter().any(|w| w.contains("without a region")),
        "{:?}",
        meta.warnings
    );
}

#[test]
fn files_of_older_schema_versions_read() {
    let text = std::fs::read_to_string(fixture("expected_old.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let files = all.as_object().unwrap();
    let versions: Vec<&str> = files
        .values()
        .map(|e| e["nwb_version"].as_str().unwrap())
        .collect();
    for v in ["2.0.2", "2.1.0", "2.2.5", "2.3.0", "2.4.0", "2.5.0"] {
        assert!(versions.contains(&v), "no fixture of schema {v}");
    }
    for (name, e) in files {
        let p = fixture(name);
        let (rec, meta) = nwb::read_with(&p, &NwbOptions::default())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let h5 = neuropop::io::h5util::H5File::open(&p).unwrap();
        assert_eq!(
            h5.attr_string("/", "nwb_version").unwrap().as_deref(),
            e["nwb_version"].as_str(),
            "{name}"
        );
        assert_eq!(rec.info.id, e["identifier"].as_str().unwrap(), "{name}");
        let ids: Vec<i64> = e["unit_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(rec.units.ids, ids, "{name}");
        assert_eq!(rec.units.regions, strings(&e["regions"]), "{name}");
        let s = rec.spikes.as_ref().unwrap();
        for u in 0..ids.len() {
            assert_eq!(
                s.unit(u).len() as u64,
                e["spike_counts"][u].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                s.unit(u).last().copied(),
                e["last_spike"][u].as_f64(),
                "{name}"
            );
        }
        let t = &rec.trials;
        assert_eq!(
            t.column_names(),
            vec!["start_time", "stop_time", "contrast", "choice"],
            "{name}"
        );
        assert_eq!(
            t.f64("contrast").unwrap(),
            f64s(&e["trials"]["contrast"]),
            "{name}"
        );
        let choice: Vec<i64> = e["trials"]["choice"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(t.i64("choice").unwrap(), choice, "{name}");
        assert!(meta.warnings.is_empty(), "{name}: {:?}", meta.warnings);
        assert!(
            rec.info
                .contents
                .iter()
                .any(|o| o.path == "/acquisition/speed" && o.type_name == "TimeSeries"),
            "{name}: {:?}",
            rec.info.contents
        );
    }
}

#[test]
fn missing_file_is_an_io_error() {
    let err = nwb::read(Path::new("/nonexistent/x.nwb")).unwrap_err();
    assert!(matches!(err, neuropop::Error::Io { .. }), "{err:?}");
}
