//! Every public constructor and validator fed malformed input returns an error that says what
//! was expected and what was found — never a panic. (File-format bad input is covered by the
//! loader tests; this file covers the in-memory data model, RSA inputs and configs.)

use ndarray::{Array2, Array3, array};
use neuropop::Error;
use neuropop::data::*;
use neuropop::rsa::Rdm;
use neuropop::rsa::shesha::{SplitHalfOptions, split_half};
use polars::prelude::*;

/// The error's message mentions every fragment (what, expected, found).
fn says(e: Error, fragments: &[&str]) {
    let m = e.to_string();
    for f in fragments {
        assert!(m.contains(f), "message {m:?} lacks {f:?}");
    }
}

#[test]
fn unit_table() {
    says(
        UnitTable::new(vec![1, 2, 3], vec!["VISp".into()]).unwrap_err(),
        &["regions", "3", "1"],
    );
    let mut u = UnitTable::new(vec![1, 2], vec!["A".into(), "B".into()]).unwrap();
    u.depth_um = Some(vec![10.0]);
    says(u.validate().unwrap_err(), &["depth_um", "2", "1"]);
    u.depth_um = None;
    u.ccf = Some(Array2::zeros((2, 2)));
    assert!(u.validate().is_err(), "CCF needs 3 columns");
    u.ccf = None;
    u.quality = Some(vec!["good".into(); 3]);
    says(u.validate().unwrap_err(), &["quality"]);
    let ok = UnitTable::new(vec![1], vec!["A".into()]).unwrap();
    says(ok.select(&[4]).unwrap_err(), &["4"]);
}

#[test]
fn spike_trains() {
    says(
        SpikeTrains::new(vec![0.1, 0.2], vec![1, 2]).unwrap_err(),
        &["offsets[0]", "0"],
    );
    says(
        SpikeTrains::new(vec![0.1, 0.2], vec![0, 3]).unwrap_err(),
        &["2 (number of spikes)", "3"],
    );
    says(
        SpikeTrains::new(vec![0.1, 0.2, 0.3], vec![0, 2, 1, 3]).unwrap_err(),
        &["non-decreasing", "2 then 1"],
    );
    says(
        SpikeTrains::new(vec![0.1, f64::NAN], vec![0, 2]).unwrap_err(),
        &["unit 0", "finite", "NaN"],
    );
    says(
        SpikeTrains::new(vec![0.1, f64::INFINITY], vec![0, 2]).unwrap_err(),
        &["finite", "inf"],
    );
    says(
        SpikeTrains::from_units(vec![vec![0.1], vec![0.5, 0.2]]).unwrap_err(),
        &["unit 1", "sorted", "0.2 after 0.5"],
    );
    assert!(
        SpikeTrains::new(vec![], vec![]).is_err(),
        "offsets need a leading 0"
    );
}

#[test]
fn trial_table() {
    assert!(
        TrialTable::from_f64_columns(&[("a", vec![1.0, 2.0]), ("b", vec![1.0])], "s1").is_err()
    );
    let mut t = TrialTable::from_f64_columns(&[("start_time", vec![0.0, 1.0])], "s1").unwrap();
    says(
        t.set_column(Column::new("x".into(), &[1.0, 2.0, 3.0]))
            .unwrap_err(),
        &["s1", "x"],
    );
    t.set_column(Column::new("name".into(), &["a", "b"]))
        .unwrap();
    says(t.f64("missing").unwrap_err(), &["s1", "column", "missing"]);
    says(t.f64("name").unwrap_err(), &["name"]);
    says(t.bool("name").unwrap_err(), &["name"]);
    assert!(t.select(&[5]).is_err());
    assert!(t.labels(&["start_time", "nope"]).is_err());
}

#[test]
fn population_tensor_and_binning_spec() {
    let units = UnitTable::new(vec![1, 2], vec!["A".into(), "B".into()]).unwrap();
    let trials = TrialTable::with_rows(3, "s");
    let new = |v: Array3<f64>, centres: Vec<f64>, width: f64| {
        PopulationTensor::new(
            v,
            centres,
            width,
            "stim",
            ValueKind::Counts,
            trials.clone(),
            units.clone(),
        )
    };
    assert!(new(Array3::zeros((4, 3, 2)), vec![0.0; 4], 0.01).is_ok());
    says(
        new(Array3::zeros((4, 3, 2)), vec![0.0; 5], 0.01).unwrap_err(),
        &["4", "5"],
    );
    says(
        new(Array3::zeros((4, 2, 2)), vec![0.0; 4], 0.01).unwrap_err(),
        &["3", "2"],
    );
    says(
        new(Array3::zeros((4, 3, 5)), vec![0.0; 4], 0.01).unwrap_err(),
        &["2", "5"],
    );
    assert!(new(Array3::zeros((4, 3, 2)), vec![0.0; 4], 0.0).is_err());
    assert!(new(Array3::zeros((4, 3, 2)), vec![0.0; 4], f64::NAN).is_err());
    says(
        new(
            Array3::zeros((4, 3, 2)),
            vec![0.0, 1.0, f64::NAN, 2.0],
            0.01,
        )
        .unwrap_err(),
        &["bin centres", "NaN"],
    );
    says(
        BinSpec::new(0.0, 1.0, -1.0).left_edges().unwrap_err(),
        &["positive"],
    );
    says(
        BinSpec::new(0.0, 0.001, 0.01).left_edges().unwrap_err(),
        &["at least one bin"],
    );
}

#[test]
fn steps_and_recordings() {
    says(Move::from_code(4).unwrap_err(), &["4"]);
    assert!(Move::from_code(-1).is_err());
    let good = StepTable {
        trial: vec![0, 0],
        step: vec![1, 2],
        x: vec![2, 3],
        y: vec![2, 2],
        moves: vec![Move::Right, Move::Up],
        options_time_s: vec![1.0, 2.0],
        saccade_time_s: vec![1.2, 2.2],
    };
    assert!(good.validate().is_ok());
    let mut skip = good.clone();
    skip.step = vec![1, 3];
    says(skip.validate().unwrap_err(), &["step"]);
    let mut jump = good.clone();
    jump.x = vec![2, 4]; // a right move from x = 2 ends at 3, not 4
    assert!(jump.validate().is_err());
    let mut short = good.clone();
    short.y.pop();
    says(short.validate().unwrap_err(), &["steps/y", "2 rows", "1"]);

    let mut rec = Recording {
        info: SessionInfo {
            id: "s7".into(),
            ..Default::default()
        },
        units: UnitTable::new(vec![1], vec!["A".into()]).unwrap(),
        spikes: Some(SpikeTrains::from_units(vec![vec![0.1], vec![0.2]]).unwrap()),
        trials: TrialTable::with_rows(1, "s7"),
        ..Default::default()
    };
    says(
        rec.validate().unwrap_err(),
        &["s7", "spike trains", "1", "2"],
    );
    rec.spikes = None;
    rec.steps = Some(StepTable {
        trial: vec![1, 1], // the session has one trial (index 0)
        ..good
    });
    says(rec.validate().unwrap_err(), &["s7", "steps/trial"]);
}

#[test]
fn rdms_and_shesha_inputs() {
    says(Rdm::new(4, vec![1.0; 5]).unwrap_err(), &["6", "5"]);
    says(
        Rdm::from_square(Array2::zeros((2, 3)).view()).unwrap_err(),
        &["square", "2 × 3"],
    );
    assert!(
        Rdm::new(2, vec![1.0])
            .unwrap()
            .with_labels(vec!["a".into()])
            .is_err()
    );
    let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
    says(
        split_half(x.view(), &[0, 1], &SplitHalfOptions::default()).unwrap_err(),
        &["3", "2"],
    );
    assert!(
        split_half(
            x.view(),
            &[0, 1, 2],
            &SplitHalfOptions::default().with_random_splits(0)
        )
        .is_err()
    );
    // Too few conditions is not an error but a NaN estimate with the reason recorded.
    let r = split_half(x.view(), &[0, 0, 1], &SplitHalfOptions::default()).unwrap();
    assert!(r.estimate.is_nan());
    assert!(!r.meta.warnings.is_empty() || !r.meta.dropped.is_empty());
}

#[test]
fn configs_and_simulator_options() {
    use neuropop::pipeline::SteinmetzConfig;
    assert!(SteinmetzConfig::from_toml_str("min_trials = \"sixty\"").is_err());
    assert!(SteinmetzConfig::from_toml_str("no_such_key = 1").is_err());
    assert!(SteinmetzConfig::from_toml_str("[[[").is_err());
    let mut o = neuropop::sim::steinmetz::SteinmetzSimOptions::small();
    o.trials = (10, 5);
    assert!(neuropop::sim::steinmetz::simulate(&o).is_err());
    o.trials = (0, 0);
    assert!(neuropop::sim::steinmetz::simulate(&o).is_err());
}

#[test]
fn pseudo_population_and_labels() {
    use neuropop::data::pseudo::{PseudoOptions, pseudo_population};
    let a = Array2::<f64>::zeros((3, 2));
    says(
        pseudo_population(
            &[(a.view(), vec![Key::Int(0); 2])],
            &PseudoOptions::default(),
        )
        .unwrap_err(),
        &["session 0", "3", "2"],
    );
    assert!(tensor::condition_means(a.view(), &Labels::from_ints(&[0, 1])).is_err());
}
