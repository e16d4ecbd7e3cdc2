//! Known answers, degenerate input, statistical agreement of seeded randomised estimators
//! with numpy-seeded runs, and bit-identical results across thread counts.

use ndarray::{Array2, array};
use neuropop::rsa::shesha::{self, CentroidDriftOptions, FeatureSplitOptions, SplitHalfOptions};
use neuropop::rsa::{Metric, rdm};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/rsa/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn mat(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    let (n, p) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, p), rows.into_iter().flatten().collect()).unwrap()
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt(),
    )
}

/// Three conditions on orthogonal axes with different lengths: known cosine and Euclidean RDMs,
/// and identical halves give split-half exactly 1.
#[test]
fn three_conditions_known_answer() {
    let x = array![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 0.0]];
    let cos = rdm(x.view(), Metric::Cosine).unwrap();
    let expected = [1.0, 1.0 - 1.0 / 2f64.sqrt(), 1.0 - 1.0 / 2f64.sqrt()];
    for (a, b) in cos.upper().iter().zip(expected) {
        assert!((a - b).abs() < 1e-15);
    }
    let euc = rdm(x.view(), Metric::SqEuclidean).unwrap();
    assert_eq!(euc.upper(), &[5.0, 1.0, 2.0]);

    // Trials: each condition repeated 4 times without noise, interleaved.
    let trials = Array2::from_shape_fn((12, 3), |(t, j)| {
        x[[t % 3, j]] + if j == 2 { 1.0 } else { 0.0 }
    });
    let conditions: Vec<usize> = (0..12).map(|t| t % 3).collect();
    // Condition RDM of the (shifted) patterns is [a, b, b]: ranks are tied, Spearman defined.
    let r = shesha::split_half(trials.view(), &conditions, &Default::default()).unwrap();
    assert!((r.estimate - 1.0).abs() < 1e-12, "{}", r.estimate);
    let r = shesha::split_half(
        trials.view(),
        &conditions,
        &SplitHalfOptions::default().with_random_splits(10),
    )
    .unwrap();
    assert!(r.split_scores.iter().all(|s| (s - 1.0).abs() < 1e-12));
    assert_eq!(r.n_valid_splits, Some(10));
}

#[test]
fn degenerate_inputs_give_nan_with_reasons_never_panic() {
    // Fewer than 3 conditions.
    let x = Array2::from_shape_fn((8, 3), |(t, j)| (t + j) as f64);
    let two: Vec<usize> = (0..8).map(|t| t % 2).collect();
    let r = shesha::split_half(x.view(), &two, &Default::default()).unwrap();
    assert!(r.estimate.is_nan() && r.meta.warnings[0].contains("usable conditions"));
    assert!(
        shesha::whitened_split_half(x.view(), &two, &Default::default())
            .unwrap()
            .estimate
            .is_nan()
    );
    assert!(
        shesha::temporal_stability(x.view(), &two, &Default::default())
            .unwrap()
            .estimate
            .is_nan()
    );
    assert!(
        shesha::cross_validated_rsa(x.view(), &two, &Default::default())
            .unwrap()
            .estimate
            .is_nan()
    );

    // A constant RDM: all condition means on one ray under cosine.
    // (5 conditions over 20 trials, so each condition has trials at even and odd positions.)
    let ray = Array2::from_shape_fn((20, 2), |(t, _)| (t % 5 + 1) as f64);
    let five: Vec<usize> = (0..20).map(|t| t % 5).collect();
    let r = shesha::split_half(ray.view(), &five, &Default::default()).unwrap();
    assert!(
        r.estimate.is_nan() && r.meta.warnings.iter().any(|w| w.contains("constant")),
        "{r:?}"
    );

    // A zero condition mean: NaN distances, NaN estimate with a reason.
    let mut z = Array2::from_shape_fn((20, 3), |(t, j)| ((t % 5) * 3 + j * j + 1) as f64);
    for t in (0..20).filter(|t| t % 5 == 0) {
        z.row_mut(t).fill(0.0);
    }
    let r = shesha::split_half(z.view(), &five, &Default::default()).unwrap();
    assert!(
        r.estimate.is_nan()
            && r.meta
                .warnings
                .iter()
                .any(|w| w.contains("undefined distances"))
    );

    // Empty halves, empty input, single trials.
    let one = Array2::<f64>::zeros((1, 3));
    assert!(
        shesha::centroid_drift(
            one.view(),
            &CentroidDriftOptions {
                n_permutations: 5,
                seed: 0
            }
        )
        .unwrap()
        .similarity
        .is_nan()
    );
    assert!(
        shesha::tertile_stability(one.view())
            .unwrap()
            .early_mid
            .is_nan()
    );
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(
        shesha::split_half(empty.view(), &[], &Default::default())
            .unwrap()
            .estimate
            .is_nan()
    );

    // Bad arguments are errors naming the argument.
    assert!(
        shesha::split_half(x.view(), &two[..5], &Default::default())
            .unwrap_err()
            .to_string()
            .contains("conditions")
    );
    let mut nan = x.clone();
    nan[[2, 1]] = f64::NAN;
    assert!(
        shesha::split_half(nan.view(), &two, &Default::default())
            .unwrap_err()
            .to_string()
            .contains("[2, 1]")
    );
    assert!(shesha::feature_split(nan.view(), &Default::default()).is_err());
    let fs =
        shesha::feature_split(Array2::<f64>::ones((3, 10)).view(), &Default::default()).unwrap();
    assert!(fs.estimate.is_nan() && fs.meta.warnings[0].contains("at least 4 samples"));
}

/// neuropop's seeded feature split vs 20 numpy-seeded shesha-geometry runs: same distribution
/// of per-partition scores (means within 4 standard errors).
#[test]
fn feature_split_seeded_runs_agree_statistically() {
    let s = load("shesha.json");
    let x = mat(&s["x"]);
    let py: Vec<f64> = s["feature_split_seeds"]["split_scores"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    let ours: Vec<f64> = (0..20u64)
        .flat_map(|seed| {
            shesha::feature_split(
                x.view(),
                &FeatureSplitOptions {
                    seed,
                    ..Default::default()
                },
            )
            .unwrap()
            .split_scores
        })
        .collect();
    let (mp, sp) = mean_sd(&py);
    let (mo, so) = mean_sd(&ours);
    let se = (sp * sp / py.len() as f64 + so * so / ours.len() as f64).sqrt();
    assert!(
        (mp - mo).abs() < 4.0 * se,
        "python {mp} ± {sp}, neuropop {mo} ± {so}"
    );
    assert!(
        (sp - so).abs() < 0.35 * sp.max(so),
        "spread: python {sp}, neuropop {so}"
    );
}

/// Random split-half (neuropop streams) vs a numpy loop of the same definition.
#[test]
fn random_split_half_agrees_statistically_with_numpy() {
    let s = load("steinmetz.json");
    let x = mat(&s["x"]);
    let conds: Vec<usize> = s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let py: Vec<f64> = s["random_split_half"]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let r = shesha::split_half(
        x.view(),
        &conds,
        &SplitHalfOptions::default()
            .with_random_splits(400)
            .with_seed(5),
    )
    .unwrap();
    let (mp, sp) = mean_sd(&py);
    let (mo, so) = mean_sd(&r.split_scores);
    let se = (sp * sp / py.len() as f64 + so * so / 400.0).sqrt();
    assert!(
        (mp - mo).abs() < 4.0 * se,
        "numpy {mp} ± {sp}, neuropop {mo} ± {so}"
    );
    assert!((r.monte_carlo_se - so / 20.0).abs() < 1e-12);
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn random_estimators_are_bit_identical_across_thread_counts() {
    let s = load("steinmetz.json");
    let x = mat(&s["x"]);
    let conds: Vec<usize> = s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let opts = SplitHalfOptions::default()
        .with_random_splits(300)
        .with_seed(42);
    let a = in_pool(1, || shesha::split_half(x.view(), &conds, &opts).unwrap());
    let b = in_pool(4, || shesha::split_half(x.view(), &conds, &opts).unwrap());
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.split_scores), bits(&b.split_scores));
    assert_eq!(a.estimate.to_bits(), b.estimate.to_bits());
    // Repetition k draws from its own stream: asking for fewer splits (a different batching
    // of the work) gives the same first scores.
    let fewer = shesha::split_half(x.view(), &conds, &opts.clone().with_random_splits(37)).unwrap();
    assert_eq!(bits(&fewer.split_scores), bits(&a.split_scores[..37]));

    let d = CentroidDriftOptions {
        n_permutations: 300,
        seed: 42,
    };
    let a = in_pool(1, || shesha::centroid_drift(x.view(), &d).unwrap());
    let b = in_pool(4, || shesha::centroid_drift(x.view(), &d).unwrap());
    assert_eq!(bits(&a.permutation.null), bits(&b.permutation.null));
    assert_eq!(
        a.permutation.z_score.to_bits(),
        b.permutation.z_score.to_bits()
    );

    let big = Array2::from_shape_fn((150, 20), |(i, j)| {
        ((i * 31 + j * 17) % 23) as f64 + (i as f64).sin()
    });
    let a = in_pool(1, || rdm(big.view(), Metric::Correlation).unwrap());
    let b = in_pool(4, || rdm(big.view(), Metric::Correlation).unwrap());
    assert_eq!(bits(a.upper()), bits(b.upper()));

    let fs = FeatureSplitOptions {
        n_splits: 12,
        seed: 9,
        target_mc_se: Some(0.001),
        max_splits: Some(70),
        ..Default::default()
    };
    let a = in_pool(1, || shesha::feature_split(big.view(), &fs).unwrap());
    let b = in_pool(4, || shesha::feature_split(big.view(), &fs).unwrap());
    assert_eq!(bits(&a.split_scores), bits(&b.split_scores));
    assert_eq!(a.converged, b.converged);
}

#[test]
fn centroid_drift_null_is_centred_on_exchangeable_data() {
    // Trials drawn from one distribution in random order: no drift, |z| small.
    use rand::Rng as _;
    let mut r = neuropop::stats::rng::stream(3, 0);
    let x = Array2::from_shape_fn((120, 15), |_| r.random::<f64>() * 4.0);
    let d = shesha::centroid_drift(
        x.view(),
        &CentroidDriftOptions {
            n_permutations: 400,
            seed: 7,
        },
    )
    .unwrap();
    let p = &d.permutation;
    assert!(p.z_score.abs() < 4.0, "z = {}", p.z_score);
    assert!(p.p_value > 0.001);
    assert_eq!(p.null.len(), 400);
    // The published z-score differs from the crate's only by the script's 1e-10.
    let (_, std, z) = d.published_summary();
    assert!((z - p.z_score * std / (std + 1e-10)).abs() < 1e-12);
}
