//! Parity with scipy, scikit-learn, rsatoolbox and shesha-geometry on the golden values of
//! `tests/fixtures/rsa/make_rsa_fixtures.py` (JSON; NaN stored as null). Deterministic
//! quantities must agree to 1e-9 absolute; randomised shesha-geometry estimators are fed the
//! partitions / resamples the Python run drew.

use ndarray::Array2;
use neuropop::rsa::shesha::{self, Bootstrap, CorrelationMethod, NanPolicy};
use neuropop::rsa::{self, CompareMethod, Metric, Noise, ZeroNorm};
use neuropop::stats;
use serde_json::Value;

const TOL: f64 = 1e-9;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/rsa/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture exists"))
        .expect("valid JSON")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn vec_f(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

fn vec_u(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("index") as usize)
        .collect()
}

fn mat(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().expect("matrix").iter().map(vec_f).collect();
    let (n, p) = (rows.len(), rows.first().map_or(0, Vec::len));
    Array2::from_shape_vec((n, p), rows.into_iter().flatten().collect()).expect("rectangular")
}

/// Both NaN, or within `tol`; returns the absolute difference (0 for matching NaN).
#[track_caller]
fn close(a: f64, b: f64, tol: f64, what: &str) -> f64 {
    if a.is_nan() && b.is_nan() {
        return 0.0;
    }
    let d = (a - b).abs();
    assert!(
        d <= tol,
        "{what}: neuropop {a} vs reference {b} (|diff| {d:e})"
    );
    d
}

#[track_caller]
fn close_all(a: &[f64], b: &[f64], tol: f64, what: &str) -> f64 {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    a.iter()
        .zip(b)
        .map(|(x, y)| close(*x, *y, tol, what))
        .fold(0.0, f64::max)
}

#[test]
fn scipy_correlations_ranks_fdr_percentile() {
    let s = load("stats.json");
    let mut worst = 0.0f64;
    for c in s["correlations"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (x, y) = (vec_f(&c["x"]), vec_f(&c["y"]));
        let p = stats::correlation::pearson(&x, &y).unwrap();
        let sp = stats::correlation::spearman(&x, &y).unwrap();
        let kb = stats::correlation::kendall_tau_b(&x, &y).unwrap();
        let ka = stats::correlation::kendall_tau_a(&x, &y).unwrap();
        worst = worst.max(close(
            p.value,
            f(&c["pearson"][0]),
            TOL,
            &format!("{name} pearson r"),
        ));
        worst = worst.max(close(
            p.p_value,
            f(&c["pearson"][1]),
            TOL,
            &format!("{name} pearson p"),
        ));
        worst = worst.max(close(
            sp.value,
            f(&c["spearman"][0]),
            TOL,
            &format!("{name} spearman rho"),
        ));
        worst = worst.max(close(
            sp.p_value,
            f(&c["spearman"][1]),
            TOL,
            &format!("{name} spearman p"),
        ));
        worst = worst.max(close(
            kb.value,
            f(&c["kendall_b"][0]),
            TOL,
            &format!("{name} tau-b"),
        ));
        worst = worst.max(close(
            kb.p_value,
            f(&c["kendall_b"][1]),
            TOL,
            &format!("{name} tau-b p"),
        ));
        worst = worst.max(close(
            ka.value,
            f(&c["kendall_a"]),
            TOL,
            &format!("{name} tau-a"),
        ));
        worst = worst.max(close_all(
            &stats::rank::rankdata(&x),
            &vec_f(&c["rank_x"]),
            0.0,
            &format!("{name} ranks"),
        ));
    }
    let p = vec_f(&s["fdr"]["p"]);
    let bh = stats::fdr::false_discovery_control(&p, stats::fdr::FdrMethod::Bh).unwrap();
    let by = stats::fdr::false_discovery_control(&p, stats::fdr::FdrMethod::By).unwrap();
    worst = worst.max(close_all(&bh, &vec_f(&s["fdr"]["bh"]), 1e-15, "BH"));
    worst = worst.max(close_all(&by, &vec_f(&s["fdr"]["by"]), 1e-15, "BY"));
    let v = vec_f(&s["percentile"]["values"]);
    for (q, e) in vec_f(&s["percentile"]["q"])
        .iter()
        .zip(vec_f(&s["percentile"]["expected"]))
    {
        worst = worst.max(close(
            stats::percentile(&v, *q),
            e,
            1e-15,
            &format!("percentile {q}"),
        ));
    }
    println!("stats parity: max abs error {worst:e}");
}

#[test]
fn pdist_compare_noise_ledoit_wolf() {
    let r = load("rdm.json");
    let x = mat(&r["x"]);
    let mut worst = 0.0f64;
    for (name, metric) in [
        ("euclidean", Metric::Euclidean),
        ("sqeuclidean", Metric::SqEuclidean),
        ("cosine", Metric::Cosine),
        ("correlation", Metric::Correlation),
    ] {
        let ours = rsa::rdm(x.view(), metric).unwrap();
        let expected = vec_f(&r["pdist"][name]);
        // ≤ 1e-12 relative (scaled by the largest distance) and ≤ 1e-9 absolute.
        let scale = expected.iter().copied().fold(0.0, f64::max);
        worst = worst.max(close_all(
            ours.upper(),
            &expected,
            1e-12 * scale,
            &format!("pdist {name}"),
        ));
    }
    let z = mat(&r["zero_row"]["x"]);
    for (name, metric) in [
        ("cosine", Metric::Cosine),
        ("correlation", Metric::Correlation),
    ] {
        let ours = rsa::rdm_with(z.view(), metric, ZeroNorm::Nan).unwrap();
        worst = worst.max(close_all(
            ours.upper(),
            &vec_f(&r["zero_row"][name]),
            1e-12,
            &format!("zero row {name}"),
        ));
        assert!(
            rsa::rdm(z.view(), metric)
                .unwrap_err()
                .to_string()
                .contains("row 2")
        );
    }
    let c = mat(&r["constant_row"]["x"]);
    let ours = rsa::rdm_with(c.view(), Metric::Correlation, ZeroNorm::Nan).unwrap();
    close_all(
        ours.upper(),
        &vec_f(&r["constant_row"]["correlation"]),
        1e-12,
        "constant row correlation",
    );

    let (a, b) = (vec_f(&r["compare"]["a"]), vec_f(&r["compare"]["b"]));
    for (name, m) in [
        ("cosine", CompareMethod::Cosine),
        ("corr", CompareMethod::Pearson),
        ("spearman", CompareMethod::Spearman),
        ("tau-a", CompareMethod::KendallTauA),
        ("kendall", CompareMethod::KendallTauB),
    ] {
        let ours = rsa::compare_vectors(&a, &b, m).unwrap();
        worst = worst.max(close(
            ours,
            f(&r["compare"]["expected"][name]),
            TOL,
            &format!("compare {name}"),
        ));
    }

    let n = &r["noise"];
    let data = mat(&n["data"]);
    let (conds, folds) = (vec_u(&n["conditions"]), vec_u(&n["folds"]));
    let lw = stats::covariance::ledoit_wolf(mat(&n["residuals"]).view()).unwrap();
    worst = worst.max(close(
        lw.shrinkage,
        f(&n["lw_shrinkage"]),
        TOL,
        "LW shrinkage",
    ));
    worst = worst.max(close_all(
        lw.covariance.as_slice().unwrap(),
        mat(&n["lw_covariance"]).as_slice().unwrap(),
        TOL,
        "LW covariance",
    ));
    let cross = rsa::crossnobis(
        data.view(),
        &conds,
        &folds,
        &Noise::LedoitWolf(mat(&n["residuals"])),
    )
    .unwrap();
    worst = worst.max(close_all(
        cross.upper(),
        &vec_f(&n["crossnobis_lw"]),
        TOL,
        "crossnobis LW",
    ));
    let cross_p = rsa::crossnobis(
        data.view(),
        &conds,
        &folds,
        &Noise::Precision(mat(&n["precision"])),
    )
    .unwrap();
    worst = worst.max(close_all(
        cross_p.upper(),
        &vec_f(&n["crossnobis_lw"]),
        TOL,
        "crossnobis precision",
    ));
    let cross_id = rsa::crossnobis(data.view(), &conds, &folds, &Noise::Identity).unwrap();
    worst = worst.max(close_all(
        cross_id.upper(),
        &vec_f(&n["crossnobis_identity"]),
        TOL,
        "crossnobis identity",
    ));
    let maha = rsa::mahalanobis(
        mat(&n["patterns"]).view(),
        &Noise::Precision(mat(&n["precision"])),
    )
    .unwrap();
    worst = worst.max(close_all(
        maha.upper(),
        &vec_f(&n["mahalanobis_lw"]),
        TOL,
        "mahalanobis",
    ));

    let big = &r["ledoit_wolf_big"];
    let lw = stats::covariance::ledoit_wolf(mat(&big["x"]).view()).unwrap();
    worst = worst.max(close(
        lw.shrinkage,
        f(&big["shrinkage"]),
        TOL,
        "LW shrinkage (60 x 30)",
    ));
    worst = worst.max(close_all(
        &lw.covariance.diag().to_vec(),
        &vec_f(&big["covariance_diag"]),
        TOL,
        "LW diag (60 x 30)",
    ));
    worst = worst.max(close(
        lw.covariance[[0, 1]],
        f(&big["covariance_01"]),
        TOL,
        "LW [0,1] (60 x 30)",
    ));
    println!("rdm/compare/noise parity: max abs error {worst:e}");
}

fn policy(s: &str) -> NanPolicy {
    match s {
        "raise" => NanPolicy::Raise,
        "omit" => NanPolicy::Omit,
        "propagate" => NanPolicy::Propagate,
        "replace" => NanPolicy::Replace,
        other => panic!("unknown policy {other}"),
    }
}

fn metric(s: &str) -> Metric {
    s.parse().unwrap()
}

fn method(s: &str) -> CorrelationMethod {
    if s == "pearson" {
        CorrelationMethod::Pearson
    } else {
        CorrelationMethod::Spearman
    }
}

fn resamples(v: &Value) -> Vec<Vec<usize>> {
    v.as_array().unwrap().iter().map(vec_u).collect()
}

#[track_caller]
fn check_result(ours: &shesha::StabilityResult, e: &Value, what: &str) -> f64 {
    let mut w = close(
        ours.estimate,
        f(&e["estimate"]),
        TOL,
        &format!("{what} estimate"),
    );
    w = w.max(close(
        ours.ci_low,
        f(&e["ci_low"]),
        TOL,
        &format!("{what} ci_low"),
    ));
    w = w.max(close(
        ours.ci_high,
        f(&e["ci_high"]),
        TOL,
        &format!("{what} ci_high"),
    ));
    if let Some(n) = e["n_bootstraps"].as_u64() {
        assert_eq!(ours.bootstrap_draws.len() as u64, n, "{what} n_bootstraps");
    }
    let comps = vec_f(&e["component_scores"]);
    if !comps.is_empty() {
        w = w.max(close_all(
            &ours.split_scores,
            &comps,
            TOL,
            &format!("{what} component scores"),
        ));
        w = w.max(close(
            ours.monte_carlo_se,
            f(&e["monte_carlo_se"]),
            TOL,
            &format!("{what} mc se"),
        ));
    }
    w
}

#[test]
fn shesha_geometry_estimators() {
    let s = load("shesha.json");
    let x = mat(&s["x"]);
    let mut worst = 0.0f64;
    for (k, case) in s["feature_split"].as_array().unwrap().iter().enumerate() {
        let parts: Vec<(Vec<usize>, Vec<usize>)> = case["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (vec_u(&p[0]), vec_u(&p[1])))
            .collect();
        let boots = resamples(&case["bootstrap_rows"]);
        let input = if case["x"].is_null() {
            x.clone()
        } else {
            mat(&case["x"])
        };
        let opts = shesha::FeatureSplitOptions {
            metric: metric(case["metric"].as_str().unwrap()),
            max_samples: case["max_samples"].as_u64().map(|m| m as usize),
            sample_rows: if case["rows"].is_null() {
                None
            } else {
                Some(vec_u(&case["rows"]))
            },
            partitions: Some(parts),
            bootstrap: if boots.is_empty() {
                Bootstrap::None
            } else {
                Bootstrap::Explicit(boots)
            },
            nan_policy: policy(case["nan_policy"].as_str().unwrap()),
            ..Default::default()
        };
        let ours = shesha::feature_split(input.view(), &opts);
        if case["expected"]["error"].is_string() {
            assert!(
                ours.is_err(),
                "feature_split case {k}: shesha raised, neuropop must error"
            );
            continue;
        }
        worst = worst.max(check_result(
            &ours.unwrap(),
            &case["expected"],
            &format!("feature_split case {k}"),
        ));
    }
    for case in s["sample_split"].as_array().unwrap() {
        let splits = case["splits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (vec_u(&p[0]), vec_u(&p[1])))
            .collect();
        let opts = shesha::SampleSplitOptions {
            splits: Some(splits),
            ..Default::default()
        };
        let ours = shesha::sample_split(mat(&case["x"]).view(), &opts).unwrap();
        worst = worst.max(close(
            ours.estimate,
            f(&case["expected"]["mean"]),
            TOL,
            "sample_split",
        ));
        worst = worst.max(close_all(
            &ours.split_scores,
            &vec_f(&case["expected"]["split_scores"]),
            TOL,
            "sample_split scores",
        ));
    }
    let (xa, xb) = (mat(&s["xa"]), mat(&s["xb"]));
    for case in s["replicate"].as_array().unwrap() {
        let opts = shesha::ReplicateOptions {
            metric: metric(case["metric"].as_str().unwrap()),
            method: method(case["method"].as_str().unwrap()),
            bootstrap: Bootstrap::Explicit(resamples(&case["bootstrap_rows"])),
            ..Default::default()
        };
        let ours = shesha::replicate_stability(xa.view(), xb.view(), &opts).unwrap();
        worst = worst.max(check_result(
            &ours,
            &case["expected"],
            "replicate_stability",
        ));
    }
    for case in s["similarity"].as_array().unwrap() {
        let opts = shesha::SimilarityOptions {
            metric: metric(case["metric"].as_str().unwrap()),
            method: method(case["method"].as_str().unwrap()),
            bootstrap: Bootstrap::Explicit(resamples(&case["bootstrap_rows"])),
            ..Default::default()
        };
        let drift = case["drift"].as_bool().unwrap();
        let ours = if drift {
            shesha::rdm_drift(xa.view(), xb.view(), &opts)
        } else {
            shesha::rdm_similarity(xa.view(), xb.view(), &opts)
        }
        .unwrap();
        worst = worst.max(check_result(
            &ours,
            &case["expected"],
            "rdm_similarity/drift",
        ));
        worst = worst.max(close(
            ours.estimate,
            f(&case["float"]),
            TOL,
            "rdm_similarity float",
        ));
    }
    // Constant RDM: shesha-geometry 0.0 (reproducible), neuropop's default NaN + reason.
    let yc = mat(&s["constant"]["y"]);
    let zero = shesha::SimilarityOptions {
        constant_rdm: shesha::ConstantRdm::Zero,
        ..Default::default()
    };
    assert_eq!(
        shesha::rdm_similarity(xa.view(), yc.view(), &zero)
            .unwrap()
            .estimate,
        f(&s["constant"]["similarity"])
    );
    let nan = shesha::rdm_similarity(xa.view(), yc.view(), &Default::default()).unwrap();
    assert!(nan.estimate.is_nan() && nan.meta.warnings.iter().any(|w| w.contains("constant RDM")));
    assert!(
        shesha::replicate_stability(xa.view(), yc.view(), &Default::default())
            .unwrap()
            .estimate
            .is_nan()
    );
    // nan_policy on undefined distances.
    let xn = mat(&s["nan_similarity"]["x"]);
    for p in ["omit", "propagate", "replace"] {
        let opts = shesha::SimilarityOptions {
            nan_policy: policy(p),
            ..Default::default()
        };
        let ours = shesha::rdm_similarity(xn.view(), xb.view(), &opts).unwrap();
        worst = worst.max(close(
            ours.estimate,
            f(&s["nan_similarity"][p]),
            TOL,
            &format!("rdm_similarity nan_policy={p}"),
        ));
    }
    assert!(shesha::rdm_similarity(xn.view(), xb.view(), &Default::default()).is_err());
    for case in s["anchor"].as_array().unwrap() {
        let opts = shesha::ReplicateOptions {
            metric: metric(case["metric"].as_str().unwrap()),
            bootstrap: Bootstrap::Explicit(resamples(&case["bootstrap_columns"])),
            ..Default::default()
        };
        let ours = shesha::anchor_profile_stability(
            xa.view(),
            xb.view(),
            &vec_u(&case["anchors"]),
            None,
            &opts,
        )
        .unwrap();
        worst = worst.max(check_result(
            &ours,
            &case["expected"],
            "anchor_profile_stability",
        ));
    }
    println!("shesha-geometry parity: max abs error {worst:e}");
}

#[test]
fn steinmetz_estimators_match_the_script_definitions() {
    let s = load("steinmetz.json");
    let x = mat(&s["x"]);
    let conds = vec_u(&s["conditions"]);
    let mut worst = 0.0f64;

    let sh = shesha::split_half(x.view(), &conds, &Default::default()).unwrap();
    assert_eq!(sh.conditions, vec_u(&s["split_half"]["conditions"]));
    let (ra, rb) = sh.rdms.as_ref().unwrap();
    worst = worst.max(close_all(
        ra.upper(),
        &vec_f(&s["split_half"]["rdm_odd"]),
        1e-12,
        "rdm odd",
    ));
    worst = worst.max(close_all(
        rb.upper(),
        &vec_f(&s["split_half"]["rdm_even"]),
        1e-12,
        "rdm even",
    ));
    worst = worst.max(close(
        sh.estimate,
        f(&s["split_half"]["shesha"]),
        TOL,
        "split-half shesha",
    ));
    assert!(
        sh.meta
            .dropped
            .iter()
            .any(|d| d.item == "condition 8" && d.reason.contains("1 trial"))
    );

    let w = shesha::whitened_split_half(x.view(), &conds, &Default::default()).unwrap();
    let (wa, wb) = w.rdms.as_ref().unwrap();
    worst = worst.max(close_all(
        wa.upper(),
        &vec_f(&s["split_half"]["rdm_odd_whitened"]),
        1e-9,
        "whitened rdm odd",
    ));
    worst = worst.max(close_all(
        wb.upper(),
        &vec_f(&s["split_half"]["rdm_even_whitened"]),
        1e-9,
        "whitened rdm even",
    ));
    worst = worst.max(close(w.estimate, f(&s["split_half"]["wuc"]), TOL, "wuc"));

    let cv = shesha::cross_validated_rsa(x.view(), &conds, &Default::default()).unwrap();
    let folds: Vec<Vec<usize>> = resamples(&s["rsa_cv"]["folds"]);
    assert_eq!(
        cv.folds, folds,
        "sklearn KFold(5, shuffle=True, random_state=320) folds"
    );
    worst = worst.max(close_all(
        &cv.fold_scores,
        &vec_f(&s["rsa_cv"]["fold_rhos"]),
        TOL,
        "rsa_cv folds",
    ));
    worst = worst.max(close(
        cv.estimate,
        f(&s["rsa_cv"]["estimate"]),
        TOL,
        "rsa_cv",
    ));
    let explicit = shesha::CrossValidatedRsaOptions {
        folds: shesha::Folds::Explicit(folds),
        ..Default::default()
    };
    assert_eq!(
        shesha::cross_validated_rsa(x.view(), &conds, &explicit)
            .unwrap()
            .estimate
            .to_bits(),
        cv.estimate.to_bits()
    );

    let t = shesha::temporal_stability(x.view(), &conds, &Default::default()).unwrap();
    assert_eq!(t.conditions, vec_u(&s["temporal"]["conditions"]));
    worst = worst.max(close(
        t.estimate,
        f(&s["temporal"]["estimate"]),
        TOL,
        "temporal",
    ));

    let d = shesha::centroid_drift(
        x.view(),
        &shesha::CentroidDriftOptions {
            n_permutations: 50,
            seed: 1,
        },
    )
    .unwrap();
    worst = worst.max(close(
        d.similarity,
        f(&s["centroid"]["drift"]),
        1e-12,
        "centroid drift",
    ));
    let ts = shesha::tertile_stability(x.view()).unwrap();
    assert_eq!(
        [ts.bounds.0, ts.bounds.1],
        [
            vec_u(&s["centroid"]["bounds"])[0],
            vec_u(&s["centroid"]["bounds"])[1]
        ]
    );
    worst = worst.max(close(
        ts.early_mid,
        f(&s["centroid"]["early_mid"]),
        1e-12,
        "early-mid",
    ));
    worst = worst.max(close(
        ts.mid_late,
        f(&s["centroid"]["mid_late"]),
        1e-12,
        "mid-late",
    ));
    // The per-permutation statistic: early = perm[..mid], late = perm[mid..].
    let mid = x.nrows() / 2;
    for (perm, e) in resamples(&s["centroid"]["permutations"])
        .iter()
        .zip(vec_f(&s["centroid"]["null"]))
    {
        let early = x.select(ndarray::Axis(0), &perm[..mid]);
        let late = x.select(ndarray::Axis(0), &perm[mid..]);
        worst = worst.max(close(
            shesha::centroid_similarity(early.view(), late.view()).unwrap(),
            e,
            1e-12,
            "null similarity",
        ));
    }

    let mut g = stats::mt19937::LegacyMt19937::new(320);
    let first: Vec<u64> = (0..10).map(|_| u64::from(g.next_u32())).collect();
    let expected: Vec<u64> = s["mt19937"]["first_10_u32_seed_320"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(first, expected);
    assert_eq!(
        stats::mt19937::LegacyMt19937::new(320).permutation(96),
        vec_u(&s["mt19937"]["permutation_96_seed_320"])
    );
    println!("steinmetz parity: max abs error {worst:e}");
}
