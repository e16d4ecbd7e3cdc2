//! Data-model tests against hand-computed values: binning (spikes exactly on bin edges),
//! alignment to per-trial events, sliding windows, smoothing, epoch and condition means,
//! normalisation, pseudo-populations, and thread-count determinism.
//!
//! Times are multiples of 1/8 s or 1/4 s so every bin edge is exact in binary floating point
//! and "exactly on the edge" means exactly.

use ndarray::{Array2, Array3, array};
use neuropop::data::pseudo::{PseudoOptions, pseudo_population};
use neuropop::data::tensor::{bin_spikes, condition_means};
use neuropop::data::*;
use polars::prelude::*;

fn one_unit_setup(spikes: Vec<f64>, events: Vec<f64>) -> (SpikeTrains, UnitTable, TrialTable) {
    let s = SpikeTrains::from_units(vec![spikes]).unwrap();
    let u = UnitTable::new(vec![11], vec!["VISp".into()]).unwrap();
    let t = TrialTable::from_f64_columns(&[("stim", events)], "test").unwrap();
    (s, u, t)
}

#[test]
fn binning_counts_spikes_on_edges_in_the_right_bin() {
    // Bins of 0.25 s over [0, 1) relative to an event at 10 s: [10, 10.25) [10.25, 10.5) ...
    // Spikes: 10.0 (left edge of bin 0) → bin 0; 10.25 (right edge of bin 0) → bin 1;
    // 10.375 → bin 1; 10.5 → bin 2; 11.0 (right edge of the last bin) → outside;
    // 9.875 before the window → outside.
    let (s, u, t) = one_unit_setup(vec![9.875, 10.0, 10.25, 10.375, 10.5, 11.0], vec![10.0]);
    let p = bin_spikes(&s, &u, &t, "stim", &BinSpec::new(0.0, 1.0, 0.25)).unwrap();
    assert_eq!(p.values.dim(), (4, 1, 1));
    let counts: Vec<f64> = (0..4).map(|b| p.values[[b, 0, 0]]).collect();
    assert_eq!(counts, vec![1.0, 2.0, 1.0, 0.0]);
    assert_eq!(p.bin_centres_s, vec![0.125, 0.375, 0.625, 0.875]);
    assert_eq!(p.kind, ValueKind::Counts);
    assert_eq!(p.align_event, "stim");
}

#[test]
fn binning_aligns_each_trial_to_its_own_event() {
    // Two units, three trials with events at 1, 2.5 and NaN (missing event → NaN row).
    let s = SpikeTrains::from_units(vec![
        vec![0.75, 1.125, 2.5, 2.625, 2.875],
        vec![1.0, 1.25, 3.0],
    ])
    .unwrap();
    let u = UnitTable::new(vec![1, 2], vec!["CA1".into(), "LP".into()]).unwrap();
    let t = TrialTable::from_f64_columns(&[("go", vec![1.0, 2.5, f64::NAN])], "test").unwrap();
    // Window [−0.25, 0.5) in 0.25-s bins: three bins.
    let p = bin_spikes(&s, &u, &t, "go", &BinSpec::new(-0.25, 0.5, 0.25)).unwrap();
    assert_eq!(p.values.dim(), (3, 3, 2));
    // Trial 0 (event 1.0): unit 0 bins [0.75,1) [1,1.25) [1.25,1.5) → 1, 1, 0;
    //                      unit 1 → 0, 1 (1.0), 1 (1.25).
    // Trial 1 (event 2.5): unit 0 bins [2.25,2.5) [2.5,2.75) [2.75,3) → 0, 2, 1;
    //                      unit 1 → 0, 0, 0 (3.0 is the right edge of the window).
    let expect = [
        [[1.0, 0.0], [0.0, 0.0]],
        [[1.0, 1.0], [2.0, 0.0]],
        [[0.0, 1.0], [1.0, 0.0]],
    ];
    for (b, per_bin) in expect.iter().enumerate() {
        for (tr, per_trial) in per_bin.iter().enumerate() {
            for (un, &v) in per_trial.iter().enumerate() {
                assert_eq!(p.values[[b, tr, un]], v, "bin {b} trial {tr} unit {un}");
            }
        }
        assert!(p.values[[b, 2, 0]].is_nan() && p.values[[b, 2, 1]].is_nan());
    }
}

#[test]
fn sliding_windows_overlap_by_the_step() {
    // Width 0.5 s, step 0.25 s over [0, 1): windows [0,.5) [.25,.75) [.5,1).
    let (s, u, t) = one_unit_setup(vec![0.125, 0.25, 0.5, 0.625, 0.875], vec![0.0]);
    let spec = BinSpec {
        start_s: 0.0,
        stop_s: 1.0,
        width_s: 0.5,
        step_s: 0.25,
    };
    let p = bin_spikes(&s, &u, &t, "stim", &spec).unwrap();
    let counts: Vec<f64> = (0..p.n_bins()).map(|b| p.values[[b, 0, 0]]).collect();
    assert_eq!(counts, vec![2.0, 3.0, 3.0]);
    assert_eq!(p.bin_centres_s, vec![0.25, 0.5, 0.75]);
}

#[test]
fn binning_rejects_bad_specs_and_columns() {
    let (s, u, t) = one_unit_setup(vec![0.5], vec![0.0]);
    for spec in [
        BinSpec::new(0.0, 1.0, 0.0),
        BinSpec::new(0.0, 1.0, -0.1),
        BinSpec::new(1.0, 0.0, 0.1),
        BinSpec::new(0.0, f64::NAN, 0.1),
    ] {
        assert!(bin_spikes(&s, &u, &t, "stim", &spec).is_err(), "{spec:?}");
    }
    let e = bin_spikes(&s, &u, &t, "nope", &BinSpec::new(0.0, 1.0, 0.5)).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let two = UnitTable::new(vec![1, 2], vec!["A".into(), "B".into()]).unwrap();
    assert!(bin_spikes(&s, &two, &t, "stim", &BinSpec::new(0.0, 1.0, 0.5)).is_err());
}

fn tensor(values: Array3<f64>, width: f64) -> PopulationTensor {
    let (nb, nt, nu) = values.dim();
    let centres = (0..nb).map(|b| (b as f64 + 0.5) * width).collect();
    PopulationTensor::new(
        values,
        centres,
        width,
        "stim",
        ValueKind::Counts,
        TrialTable::with_rows(nt, "test"),
        UnitTable::new((0..nu as i64).collect(), vec!["A".into(); nu]).unwrap(),
    )
    .unwrap()
}

#[test]
fn gaussian_smoothing_matches_the_hand_computed_kernel() {
    // An impulse in bin 10 of 21 bins of 10 ms, σ = 10 ms (1 bin): kernel half-width 4 bins,
    // weights exp(−k²/2) normalised over k = −4..4 (bins 6..=14 see their whole kernel).
    let mut v = Array3::<f64>::zeros((21, 1, 1));
    v[[10, 0, 0]] = 1.0;
    let p = tensor(v, 0.01).smooth_gaussian(0.01).unwrap();
    let z: f64 = (-4..=4).map(|k: i32| (-0.5 * f64::from(k * k)).exp()).sum();
    assert_eq!(p.values[[5, 0, 0]], 0.0);
    for k in -4i32..=4 {
        let got = p.values[[(10 + k) as usize, 0, 0]];
        let want = (-0.5 * f64::from(k * k)).exp() / z;
        assert!((got - want).abs() < 1e-15, "k={k}: {got} vs {want}");
    }
    let mut v = Array3::<f64>::zeros((11, 1, 1));
    v[[5, 0, 0]] = 1.0;
    let p = tensor(v, 0.01).smooth_gaussian(0.01).unwrap();
    // Near the edge the kernel is renormalised over the bins that exist: at bin 1 the
    // kernel reaches bins 0..=5 (k = −1..=4), and the impulse sits at k = 4.
    assert_eq!(p.values[[0, 0, 0]], 0.0); // bin 5 is 5 bins away: outside the 4σ kernel
    let wsum1: f64 = (-1..=4).map(|k: i32| (-0.5 * f64::from(k * k)).exp()).sum();
    let want1 = (-8.0f64).exp() / wsum1;
    assert!(
        (p.values[[1, 0, 0]] - want1).abs() < 1e-15,
        "{} vs {want1}",
        p.values[[1, 0, 0]]
    );
    // A constant signal stays constant everywhere, edges included.
    let c = tensor(Array3::from_elem((7, 2, 3), 4.0), 0.01)
        .smooth_gaussian(0.02)
        .unwrap();
    assert!(c.values.iter().all(|&x| (x - 4.0).abs() < 1e-12));
    assert!(
        tensor(Array3::zeros((3, 1, 1)), 0.01)
            .smooth_gaussian(0.0)
            .is_err()
    );
}

#[test]
fn epoch_mean_and_window_selection() {
    // values[b, t, u] = b + 10 t + 100 u, 6 bins of 0.1 s (centres 0.05 .. 0.55).
    let v = Array3::from_shape_fn((6, 2, 2), |(b, t, u)| (b + 10 * t + 100 * u) as f64);
    let p = tensor(v, 0.1);
    // Bins 2..5 → mean bin index 3.
    let m = p.epoch_mean_bins(2, 5).unwrap();
    assert_eq!(m, array![[3.0, 103.0], [13.0, 113.0]]);
    // Window [0.2, 0.5) s holds centres 0.25, 0.35, 0.45 = bins 2, 3, 4.
    assert_eq!(p.epoch_mean(0.2, 0.5).unwrap(), m);
    assert!(p.epoch_mean_bins(3, 3).is_err());
    assert!(p.epoch_mean_bins(0, 7).is_err());
    assert!(p.epoch_mean(5.0, 6.0).is_err());
}

#[test]
fn condition_means_grouped_by_two_columns() {
    let mut trials =
        TrialTable::from_f64_columns(&[("contrast_left", vec![0.0, 0.5, 0.0, 0.5, 0.0])], "test")
            .unwrap();
    trials
        .set_column(Column::new("side".into(), &["L", "L", "R", "L", "L"]))
        .unwrap();
    let labels = trials.labels(&["contrast_left", "side"]).unwrap();
    assert_eq!(labels.n_levels(), 3);
    let x = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0]];
    let (m, n) = condition_means(x.view(), &labels).unwrap();
    // Levels sort as (0, "L"), (0, "R"), (0.5, "L"): trials {0, 4}, {2}, {1, 3}.
    assert_eq!(n, vec![2, 1, 2]);
    assert_eq!(m, array![[5.0, 6.0], [5.0, 6.0], [5.0, 6.0]]);
    assert_eq!(labels.level(2).to_string(), "(0.5, L)");
    let x2 = array![[1.0], [0.0], [3.0], [4.0], [5.0]];
    let (m2, _) = condition_means(x2.view(), &labels).unwrap();
    assert_eq!(m2, array![[3.0], [3.0], [2.0]]);
    assert!(condition_means(x.slice(ndarray::s![..4, ..]), &labels).is_err());
    assert!(trials.labels(&["missing"]).is_err());
}

#[test]
fn zscore_and_soft_normalisation_by_hand() {
    // One unit with counts 0, 1, 2, 3 over 4 bins (10 ms): mean 1.5, population sd √1.25.
    let v = Array3::from_shape_vec((4, 1, 1), vec![0.0, 1.0, 2.0, 3.0]).unwrap();
    let p = tensor(v, 0.01);
    let z = p.zscore();
    let sd = 1.25f64.sqrt();
    for (b, x) in [0.0, 1.0, 2.0, 3.0].iter().enumerate() {
        assert!((z.values[[b, 0, 0]] - (x - 1.5) / sd).abs() < 1e-15);
    }
    assert_eq!(z.kind, ValueKind::ZScore);
    // Soft-normalisation in Hz: rates 0..300 Hz, range 300, constant 5 → divide by 305.
    let s = p.soft_normalise(5.0);
    for (b, x) in [0.0, 100.0, 200.0, 300.0].iter().enumerate() {
        assert!((s.values[[b, 0, 0]] - x / 305.0).abs() < 1e-15);
    }
    // A silent unit z-scores to 0, not NaN.
    let silent = tensor(Array3::zeros((3, 2, 1)), 0.01).zscore();
    assert!(silent.values.iter().all(|&x| x == 0.0));
}

#[test]
fn region_rate_and_trial_selection() {
    let v = Array3::from_shape_fn((2, 3, 3), |(b, t, u)| (b + t + u) as f64);
    let units = UnitTable::new(
        vec![5, 6, 7],
        vec!["CA1".into(), "VISp".into(), "CA1".into()],
    )
    .unwrap();
    let trials =
        TrialTable::from_f64_columns(&[("contrast_left", vec![0.0, 0.5, 1.0])], "t").unwrap();
    let p = PopulationTensor::new(
        v,
        vec![0.005, 0.015],
        0.01,
        "stim",
        ValueKind::Counts,
        trials,
        units,
    )
    .unwrap();
    let ca1 = p.select_region("CA1").unwrap();
    assert_eq!(ca1.units.ids, vec![5, 7]);
    assert_eq!(ca1.values[[1, 2, 1]], (1 + 2 + 2) as f64);
    // Mean counts per unit: unit u → 1.5 + u spikes per 10-ms bin = 150 + 100u Hz.
    let fast = p.select_min_rate(250.0).unwrap();
    assert_eq!(fast.units.ids, vec![6, 7]);
    let keep = p.trials.where_(|i| i != 1);
    let sel = p.select_trials(&keep).unwrap();
    assert_eq!(sel.trials.f64("contrast_left").unwrap(), vec![0.0, 1.0]);
    assert_eq!(sel.values[[0, 1, 0]], 2.0);
    assert!(p.select_units(&[3]).is_err());
    assert!(p.select_trials(&[9]).is_err());
}

#[test]
fn pseudo_population_draws_only_same_condition_trials_of_each_session() {
    // Session a: trials encode (condition, trial) as 100·cond + trial in one unit.
    let a = Array2::from_shape_vec((6, 1), vec![0.0, 1.0, 2.0, 100.0, 101.0, 200.0]).unwrap();
    let ka: Vec<Key> = [0, 0, 0, 1, 1, 2].iter().map(|&c| Key::Int(c)).collect();
    // Session b: two units, conditions 0 and 1 only (condition 2 must be dropped, reported).
    let b = Array2::from_shape_vec(
        (4, 2),
        vec![0.5, -0.5, 1.5, -1.5, 100.5, -100.5, 101.5, -101.5],
    )
    .unwrap();
    let kb: Vec<Key> = [0, 0, 1, 1].iter().map(|&c| Key::Int(c)).collect();
    let opts = PseudoOptions {
        trials_per_condition: 50,
        seed: 7,
    };
    let p = pseudo_population(&[(a.view(), ka.clone()), (b.view(), kb.clone())], &opts).unwrap();
    assert_eq!(p.x.dim(), (100, 3));
    assert_eq!(p.meta.n_used, 2);
    assert_eq!(p.meta.dropped.len(), 1);
    assert!(p.meta.dropped[0].item.contains('2'));
    let mut seen_a = std::collections::BTreeSet::new();
    for (row, &code) in p.x.rows().into_iter().zip(p.labels.codes()) {
        let cond = match p.labels.level(code) {
            Key::Int(c) => *c as f64,
            k => panic!("unexpected key {k}"),
        };
        // Each session's value comes from a trial of the same condition...
        assert_eq!((row[0] / 100.0).floor(), cond);
        assert_eq!((row[1] / 100.0).floor(), cond);
        // ...and the two units of session b come from the same trial.
        assert_eq!(row[1], -row[2]);
        seen_a.insert(row[0] as i64);
    }
    // With 50 draws per condition every trial of session a is drawn at least once.
    assert_eq!(
        seen_a.into_iter().collect::<Vec<_>>(),
        vec![0, 1, 2, 100, 101]
    );
    // Same seed → same bits; another seed → different draws.
    let again =
        pseudo_population(&[(a.view(), ka.clone()), (b.view(), kb.clone())], &opts).unwrap();
    assert_eq!(again.x, p.x);
    let other = pseudo_population(
        &[(a.view(), ka.clone()), (b.view(), kb.clone())],
        &PseudoOptions {
            seed: 8,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_ne!(other.x, p.x);
    // Mismatched keys are an error, as is having no shared condition.
    assert!(pseudo_population(&[(a.view(), kb.clone())], &opts).is_err());
    let kc: Vec<Key> = vec![Key::Int(9); 4];
    assert!(pseudo_population(&[(a.view(), ka), (b.view(), kc)], &opts).is_err());
}

#[test]
fn binning_and_pseudo_population_are_identical_for_any_thread_count() {
    let units: Vec<Vec<f64>> = (0..40)
        .map(|u| {
            (0..200)
                .map(|k| k as f64 * 0.05 + u as f64 * 1e-3)
                .collect()
        })
        .collect();
    let s = SpikeTrains::from_units(units).unwrap();
    let u = UnitTable::new((0..40).collect(), vec!["MOs".into(); 40]).unwrap();
    let t =
        TrialTable::from_f64_columns(&[("stim", (0..20).map(|i| 0.4 * i as f64).collect())], "t")
            .unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let p = bin_spikes(&s, &u, &t, "stim", &BinSpec::new(0.0, 0.4, 0.02))
                .unwrap()
                .smooth_gaussian(0.02)
                .unwrap();
            let x = p.epoch_mean_bins(0, 20).unwrap();
            let keys: Vec<Key> = (0..20).map(|i| Key::Int(i % 4)).collect();
            let pp = pseudo_population(
                &[(x.view(), keys)],
                &PseudoOptions {
                    trials_per_condition: 10,
                    seed: 3,
                },
            )
            .unwrap();
            (p.values, pp.x)
        })
    };
    let (v1, x1) = run(1);
    let (v4, x4) = run(4);
    assert!(v1.iter().zip(&v4).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(x1.iter().zip(&x4).all(|(a, b)| a.to_bits() == b.to_bits()));
}
