//! Maze v1 reader/writer: golden values from an h5py-written file, round trips, and rejection of
//! each kind of bad input with an error naming the file and the dataset.

use std::path::{Path, PathBuf};

use neuropop::data::{
    MazeGeometry, Move, Recording, SessionInfo, SpikeTrains, StepTable, TrialTable, UnitTable,
};
use neuropop::io::maze;
use polars::prelude::Column;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")
}

/// A copy of the h5py fixture in a fresh temporary directory.
fn copy_fixture(dir: &tempfile::TempDir) -> PathBuf {
    let p = dir.path().join("session.maze.h5");
    std::fs::copy(fixture(), &p).unwrap();
    p
}

/// Replaces (or creates) a 1-D dataset in an existing file.
fn replace<T: hdf5::H5Type>(path: &Path, obj: &str, data: &[T]) {
    let f = hdf5::File::open_rw(path).unwrap();
    if f.link_exists(obj) {
        f.unlink(obj).unwrap();
    }
    f.new_dataset_builder().with_data(data).create(obj).unwrap();
}

fn remove(path: &Path, obj: &str) {
    hdf5::File::open_rw(path).unwrap().unlink(obj).unwrap();
}

/// The error message of reading `path`, which must fail.
fn read_err(path: &Path) -> String {
    match maze::read(path) {
        Ok(_) => panic!("{} should have been rejected", path.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_names(msg: &str, path: &Path, dataset: &str) {
    assert!(
        msg.contains(&path.display().to_string()),
        "message does not name the file: {msg}"
    );
    assert!(
        msg.contains(dataset),
        "message does not name {dataset}: {msg}"
    );
}

#[test]
fn golden_h5py_fixture() {
    let p = fixture();
    let rec = maze::read(&p).unwrap();
    assert_eq!(rec.info.id, "M1_2021-03-04");
    assert_eq!(rec.info.subject.as_deref(), Some("M1"));
    assert_eq!(rec.info.format, "maze");
    assert_eq!(rec.info.source.as_deref(), Some(p.as_path()));
    assert_eq!(rec.units.ids, vec![7, 12, 30]);
    assert_eq!(rec.units.regions, vec!["vlPFC", "dPM", "IO"]);
    let s = rec.spikes.as_ref().unwrap();
    assert_eq!(s.unit(0), &[0.1, 0.5, 4.2]);
    assert!(s.unit(1).is_empty());
    assert_eq!(s.unit(2), &[1.0, 2.5, 10.5, 12.25]);
    assert_eq!(
        rec.maze,
        Some(MazeGeometry {
            width: 5,
            height: 5,
            start_x: 2,
            start_y: 2
        })
    );
    let t = &rec.trials;
    assert_eq!(
        t.column_names(),
        vec![
            "start_time",
            "stop_time",
            "goal_cue_time",
            "goal",
            "goal_x",
            "goal_y",
            "route_length",
            "correct"
        ]
    );
    assert_eq!(t.f64("start_time").unwrap(), vec![0.0, 4.0, 10.0]);
    assert_eq!(t.f64("stop_time").unwrap(), vec![3.0, 9.0, 13.0]);
    assert_eq!(t.f64("goal_cue_time").unwrap(), vec![0.2, 4.2, 10.2]);
    assert_eq!(t.i64("goal").unwrap(), vec![0, 1, 2]);
    assert_eq!(t.i64("goal_x").unwrap(), vec![2, 4, 2]);
    assert_eq!(t.i64("goal_y").unwrap(), vec![4, 2, 0]);
    assert_eq!(t.i64("route_length").unwrap(), vec![2, 4, 2]);
    assert!(t.frame().column("correct").unwrap().bool().is_ok());
    assert_eq!(t.bool("correct").unwrap(), vec![true, true, false]);
    let st = rec.steps.as_ref().unwrap();
    assert_eq!(st.trial, vec![0, 0, 1, 1, 1, 1, 2, 2]);
    assert_eq!(st.step, vec![1, 2, 1, 2, 3, 4, 1, 2]);
    assert_eq!(st.x, vec![2, 2, 2, 2, 3, 3, 2, 1]);
    assert_eq!(st.y, vec![2, 3, 2, 3, 3, 2, 2, 2]);
    use Move::*;
    assert_eq!(st.moves, vec![Up, Up, Up, Right, Down, Right, Left, Down]);
    assert_eq!(st.options_time_s[5], 7.5);
    assert_eq!(st.saccade_time_s[7], 11.8);
    // Trial 1 ends on its goal (4, 2).
    assert_eq!(st.position_after(5), (4, 2));
    assert_eq!(neuropop::io::h5util::sniff(&p).unwrap(), Some("maze"));
}

/// A small valid session built in memory (2 trials, 3 units, `n_extra` spikes appended to unit 2).
fn small_recording(n_extra: usize) -> Recording {
    let mut u2: Vec<f64> = vec![0.05, 5.5];
    u2.extend((0..n_extra).map(|i| 6.0 + i as f64 * 1e-5));
    let spikes = SpikeTrains::from_units(vec![vec![0.1, 0.2, 1.7], vec![], u2]).unwrap();
    let mut trials = TrialTable::with_rows(2, "test");
    for (name, v) in [
        ("start_time", vec![0.0, 5.0]),
        ("stop_time", vec![2.0, 8.0]),
        ("goal_cue_time", vec![0.1, 5.1]),
    ] {
        trials.set_column(Column::new(name.into(), &v)).unwrap();
    }
    for (name, v) in [
        ("goal", vec![3i64, 1]),
        ("goal_x", vec![0, 2]),
        ("goal_y", vec![1, 3]),
        ("route_length", vec![2, 2]),
    ] {
        trials.set_column(Column::new(name.into(), &v)).unwrap();
    }
    trials
        .set_column(Column::new("correct".into(), &[true, false]))
        .unwrap();
    Recording {
        info: SessionInfo {
            id: "sim-1".into(),
            subject: Some("Ünë".into()),
            source: None,
            format: "maze".into(),
            start_time: None,
            contents: Vec::new(),
        },
        units: UnitTable::new(
            vec![1, 2, 40],
            vec!["dmPFC".into(), "".into(), "insula/OFC".into()],
        )
        .unwrap(),
        spikes: Some(spikes),
        trials,
        // 3 × 4 grid from (1, 1). Trial 0: up, left -> (0, 2), which is NOT its goal (0, 1) until
        // `fix_goal`; trial 1 (incorrect): right, up -> (2, 2).
        steps: Some(StepTable {
            trial: vec![0, 0, 1, 1],
            step: vec![1, 2, 1, 2],
            x: vec![1, 1, 1, 2],
            y: vec![1, 2, 1, 1],
            moves: vec![Move::Up, Move::Left, Move::Right, Move::Up],
            options_time_s: vec![0.5, 1.0, 5.5, 6.5],
            saccade_time_s: vec![0.7, 1.2, 5.7, 8.0],
        }),
        maze: Some(MazeGeometry {
            width: 3,
            height: 4,
            start_x: 1,
            start_y: 1,
        }),
        binned: None,
    }
}

fn fix_goal(mut rec: Recording) -> Recording {
    // Trial 0 (correct) goes up then left from (1, 1): it ends on (0, 2).
    rec.trials
        .set_column(Column::new("goal_y".into(), &[2i64, 3]))
        .unwrap();
    rec
}

#[test]
fn round_trip_small() {
    let rec = fix_goal(small_recording(0));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rt.maze.h5");
    maze::write(&p, &rec).unwrap();
    let back = maze::read(&p).unwrap();
    assert_eq!(back.info.id, rec.info.id);
    assert_eq!(back.info.subject, rec.info.subject);
    assert_eq!(back.info.format, "maze");
    assert_eq!(back.units, rec.units);
    assert_eq!(back.spikes, rec.spikes);
    assert_eq!(back.trials, rec.trials);
    assert_eq!(back.steps, rec.steps);
    assert_eq!(back.maze, rec.maze);
    // Exactly the schema's dtypes.
    let f = hdf5::File::open(&p).unwrap();
    let td = |obj: &str| {
        f.dataset(obj)
            .unwrap()
            .dtype()
            .unwrap()
            .to_descriptor()
            .unwrap()
    };
    use hdf5::types::{IntSize, TypeDescriptor as T};
    assert_eq!(td("/trials/correct"), T::Unsigned(IntSize::U1));
    assert_eq!(td("/units/spike_times_index"), T::Integer(IntSize::U8));
    assert_eq!(td("/steps/move"), T::Integer(IntSize::U8));
    assert_eq!(td("/units/region"), T::VarLenUnicode);
    assert!(f.dataset("/maze/width").unwrap().is_scalar());
    // Only the destination file is left (the temporary was renamed).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn round_trip_large_spikes_are_compressed() {
    let rec = fix_goal(small_recording(70_000));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.maze.h5");
    maze::write(&p, &rec).unwrap();
    let f = hdf5::File::open(&p).unwrap();
    let ds = f.dataset("/units/spike_times").unwrap();
    assert!(ds.is_chunked());
    assert!(!ds.filters().is_empty());
    drop(ds);
    drop(f);
    let back = maze::read(&p).unwrap();
    assert_eq!(back.spikes.as_ref().unwrap().n_spikes(), 70_005);
    assert_eq!(back.spikes, rec.spikes);
}

#[test]
fn write_rejects_incomplete_or_inconsistent_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("out.maze.h5");
    let mut rec = fix_goal(small_recording(0));
    rec.steps = None;
    let msg = maze::write(&p, &rec).unwrap_err().to_string();
    assert!(
        msg.contains("steps") && msg.contains("out.maze.h5"),
        "{msg}"
    );

    let mut rec = fix_goal(small_recording(0));
    rec.trials = TrialTable::from_f64_columns(
        &[
            ("start_time", vec![0.0, 5.0]),
            ("stop_time", vec![2.0, 8.0]),
        ],
        "t",
    )
    .unwrap();
    let msg = maze::write(&p, &rec).unwrap_err().to_string();
    assert!(
        msg.contains("goal_cue_time") && msg.contains("correct"),
        "{msg}"
    );

    // Correct trial 0 does not end on its goal (0, 1).
    let rec = small_recording(0);
    let msg = maze::write(&p, &rec).unwrap_err().to_string();
    assert_names(&msg, &p, "/steps/move");
    assert!(msg.contains("(0, 1)") && msg.contains("(0, 2)"), "{msg}");
    assert!(!p.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn truncated_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.maze.h5");
    let bytes = std::fs::read(fixture()).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let msg = read_err(&p);
    assert!(msg.contains(&p.display().to_string()), "{msg}");
    assert!(msg.contains("not a readable HDF5 file"), "{msg}");
}

#[test]
fn wrong_format_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let p = copy_fixture(&dir);
    {
        let f = hdf5::File::open_rw(&p).unwrap();
        f.delete_attr("format").unwrap();
        let v: hdf5::types::VarLenUnicode = "nwb".parse().unwrap();
        f.new_attr::<hdf5::types::VarLenUnicode>()
            .shape(())
            .create("format")
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    }
    let msg = read_err(&p);
    assert_names(&msg, &p, "attribute 'format'");
    assert!(msg.contains("expected \"maze\", found \"nwb\""), "{msg}");
}

#[test]
fn missing_datasets() {
    for obj in ["/units/spike_times", "/steps/move"] {
        let dir = tempfile::tempdir().unwrap();
        let p = copy_fixture(&dir);
        remove(&p, obj);
        let err = maze::read(&p).unwrap_err();
        assert!(matches!(err, neuropop::Error::Missing { .. }), "{err:?}");
        assert_names(&err.to_string(), &p, obj);
    }
}

/// Applies `edit` to a fresh copy of the fixture and returns the read error message and path.
fn broken(edit: impl FnOnce(&Path)) -> (String, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let p = copy_fixture(&dir);
    edit(&p);
    (read_err(&p), p, dir)
}

#[test]
fn unsorted_and_nan_spike_times() {
    let (msg, p, _d) = broken(|p| {
        replace(
            p,
            "/units/spike_times",
            &[0.1, 0.5, 4.2, 1.0, 10.5, 2.5, 12.25],
        )
    });
    assert_names(&msg, &p, "/units/spike_times");
    assert!(
        msg.contains("unit 2 (id 30)") && msg.contains("2.5 after 10.5"),
        "{msg}"
    );

    let (msg, p, _d) = broken(|p| {
        replace(
            p,
            "/units/spike_times",
            &[0.1, f64::NAN, 4.2, 1.0, 2.5, 10.5, 12.25],
        )
    });
    assert_names(&msg, &p, "/units/spike_times");
    assert!(
        msg.contains("unit 0 (id 7)") && msg.contains("NaN"),
        "{msg}"
    );
}

#[test]
fn offset_past_spike_times() {
    let (msg, p, _d) = broken(|p| replace(p, "/units/spike_times_index", &[3i64, 3, 9]));
    assert_names(&msg, &p, "/units/spike_times_index");
    assert!(
        msg.contains("entry 2 = 9 points past /units/spike_times (length 7)"),
        "{msg}"
    );
}

#[test]
fn step_numbering_gap() {
    let (msg, p, _d) = broken(|p| replace(p, "/steps/step", &[1i64, 3, 1, 2, 3, 4, 1, 2]));
    assert_names(&msg, &p, "/steps/step");
    assert!(
        msg.contains("row 1 (trial 0): expected step 2, found 3"),
        "{msg}"
    );
}

#[test]
fn move_inconsistent_with_next_position() {
    // Row 0 moves right from (2, 2), but row 1 starts at (2, 3).
    let (msg, p, _d) = broken(|p| replace(p, "/steps/move", &[1i64, 0, 0, 1, 2, 1, 3, 2]));
    assert_names(&msg, &p, "/steps/x, /steps/y");
    assert!(
        msg.contains("expected position (3, 2)") && msg.contains("found (2, 3)"),
        "{msg}"
    );
}

#[test]
fn saccade_outside_trial() {
    let (msg, p, _d) = broken(|p| {
        replace(
            p,
            "/steps/saccade_time",
            &[0.8, 3.5, 4.8, 5.8, 6.8, 7.8, 10.8, 11.8],
        )
    });
    assert_names(&msg, &p, "/steps/saccade_time");
    assert!(
        msg.contains("row 1 (trial 0, step 2)") && msg.contains("[0, 3]"),
        "{msg}"
    );
}

#[test]
fn correct_trial_not_ending_on_goal() {
    let (msg, p, _d) = broken(|p| replace(p, "/trials/goal_x", &[3i64, 4, 2]));
    assert_names(&msg, &p, "/steps/move");
    assert!(
        msg.contains("trial 0 is marked correct") && msg.contains("(3, 4)"),
        "{msg}"
    );
}

#[test]
fn move_code_out_of_range() {
    let (msg, p, _d) = broken(|p| replace(p, "/steps/move", &[0i64, 0, 0, 1, 2, 1, 3, 7]));
    assert_names(&msg, &p, "/steps/move");
    assert!(msg.contains("found 7"), "{msg}");
}

#[test]
fn read_with_lists_what_is_not_maze_v1_and_reads_in_any_chunk_size() {
    use neuropop::io::maze::{MazeOptions, read_with};
    let dir = tempfile::tempdir().unwrap();
    let p = copy_fixture(&dir);
    let (rec, meta) = read_with(&p, &MazeOptions::default()).unwrap();
    assert_eq!((meta.n_requested, meta.n_used), (3, 3));
    assert!(
        meta.dropped.is_empty() && meta.warnings.is_empty(),
        "{meta:?}"
    );
    // A lab's extra column and an extra group are reported, not silently ignored.
    replace(&p, "/units/quality", &[1i64, 2, 2]);
    hdf5::File::open_rw(&p)
        .unwrap()
        .create_group("notes")
        .unwrap();
    let (rec2, meta) = read_with(&p, &MazeOptions { chunk_values: 2 }).unwrap();
    let items: Vec<&str> = meta.dropped.iter().map(|d| d.item.as_str()).collect();
    assert_eq!(items, vec!["/notes", "/units/quality"]);
    assert!(meta.dropped[0].reason.contains("not part of maze v1"));
    assert_eq!(rec2.units, rec.units);
    assert_eq!(rec2.spikes, rec.spikes);
}
