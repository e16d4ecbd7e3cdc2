//! Exact ties in Euclidean distances of spike counts (issue 22, point 3), against the golden
//! values of `tests/fixtures/rsa/make_tie_fixtures.py` (scipy 1.17.1, shesha-geometry 0.3.0).
//!
//! On integer-valued data, mathematically equal distances must come out exactly equal, as
//! scipy's `pdist` gives them: a Spearman comparison ranks them, and a tie broken by rounding
//! moves the ranks. neuropop sums each pair's squared differences in pdist's order, so its
//! distances are pdist's bits (on counts, and on any other input).

use ndarray::Array2;
use neuropop::rsa::shesha::{self, Bootstrap, CorrelationMethod, ReplicateOptions};
use neuropop::rsa::{Metric, rdm};
use neuropop::stats::correlation::spearman;
use serde_json::Value;

fn load() -> Value {
    let path = format!(
        "{}/tests/fixtures/rsa/ties.json",
        env!("CARGO_MANIFEST_DIR")
    );
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

/// Floats stored as their IEEE-754 bit patterns (exact through JSON).
fn vec_bits(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| f64::from_bits(x.as_u64().expect("bit pattern")))
        .collect()
}

fn mat_bits(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().expect("matrix").iter().map(vec_bits).collect();
    let (n, p) = (rows.len(), rows.first().map_or(0, Vec::len));
    Array2::from_shape_vec((n, p), rows.into_iter().flatten().collect()).expect("rectangular")
}

fn distinct(v: &[f64]) -> usize {
    let mut bits: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
    bits.sort_unstable();
    bits.dedup();
    bits.len()
}

/// Indices where two vectors differ in their bits (at most `limit` listed).
fn bit_differences(a: &[f64], b: &[f64], limit: usize) -> Vec<(usize, f64, f64)> {
    a.iter()
        .zip(b)
        .enumerate()
        .filter(|(_, (x, y))| x.to_bits() != y.to_bits())
        .take(limit)
        .map(|(k, (x, y))| (k, *x, *y))
        .collect()
}

#[test]
fn count_rdm_ranks_exactly_as_scipy() {
    let s = load();
    let (x, y) = (mat(&s["rdm"]["x"]), mat(&s["rdm"]["y"]));
    assert!(x.iter().all(|v| v.fract() == 0.0), "the input is counts");
    for metric in [Metric::Euclidean, Metric::SqEuclidean] {
        let case = &s["rdm"][metric.name()];
        let want = vec_bits(&case["pdist_x_bits"]);
        let ours_x = rdm(x.view(), metric).unwrap().into_condensed();
        let ours_y = rdm(y.view(), metric).unwrap().into_condensed();
        let n_distinct = case["n_distinct_x"].as_u64().unwrap() as usize;
        assert!(
            n_distinct * 20 < want.len(),
            "{metric}: the fixture has many ties"
        );
        // The Spearman of our RDM against scipy's: 1 up to the final rounding.
        let rho_vs_scipy = spearman(&ours_x, &want).unwrap().value;
        assert!(
            (rho_vs_scipy - 1.0).abs() <= 1e-12,
            "{metric}: Spearman against scipy's RDM {rho_vs_scipy}"
        );
        // The Spearman of two count RDMs, as scipy.stats.spearmanr(pdist(x), pdist(y)).
        let rho = spearman(&ours_x, &ours_y).unwrap().value;
        let want_rho = f(&case["spearman_x_y"]);
        assert!(
            (rho - want_rho).abs() <= 1e-12,
            "{metric}: Spearman of the x and y RDMs {rho} vs scipy {want_rho}"
        );
        // Few distinct values: every tie of scipy's is a tie of ours and no other.
        assert_eq!(
            distinct(&ours_x),
            n_distinct,
            "{metric}: distinct distances"
        );
        // And the distances themselves: pdist's bits.
        let diff = bit_differences(&ours_x, &want, 5);
        assert!(diff.is_empty(), "{metric}: differs from pdist at {diff:?}");
    }
}

#[test]
fn non_integer_rates_have_pdists_bits() {
    let s = load();
    let x = mat_bits(&s["rates"]["x_bits"]);
    assert!(x.iter().any(|v| v.fract() != 0.0));
    for metric in [Metric::Euclidean, Metric::SqEuclidean] {
        let want = vec_bits(&s["rates"][format!("pdist_{}_bits", metric.name()).as_str()]);
        let ours = rdm(x.view(), metric).unwrap().into_condensed();
        let diff = bit_differences(&ours, &want, 5);
        assert!(diff.is_empty(), "{metric}: differs from pdist at {diff:?}");
    }
}

#[track_caller]
fn close(ours: f64, want: f64, what: &str) {
    assert!(
        (ours.is_nan() && want.is_nan()) || (ours - want).abs() <= 1e-9,
        "{what}: neuropop {ours} vs shesha-geometry {want}"
    );
}

#[test]
fn replicate_stability_on_tied_counts_matches_shesha_geometry() {
    let s = load();
    let r = &s["replicate"];
    let (xa, xb) = (mat(&r["xa"]), mat(&r["xb"]));
    let boots: Vec<Vec<usize>> = r["bootstrap_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(vec_u)
        .collect();
    assert!(r["n_distinct_a"].as_u64().unwrap() * 5 < 80 * 79 / 2);
    for case in r["cases"].as_array().unwrap() {
        let method = match case["method"].as_str().unwrap() {
            "pearson" => CorrelationMethod::Pearson,
            _ => CorrelationMethod::Spearman,
        };
        let name = case["method"].as_str().unwrap();
        let opts = ReplicateOptions {
            metric: Metric::Euclidean,
            method,
            ..Default::default()
        };
        let point = shesha::replicate_stability(xa.view(), xb.view(), &opts).unwrap();
        close(
            point.estimate,
            f(&case["replicate_float"]),
            &format!("replicate_stability ({name})"),
        );
        let boot = ReplicateOptions {
            bootstrap: Bootstrap::Explicit(boots.clone()),
            ..opts
        };
        let with_ci = shesha::replicate_stability(xa.view(), xb.view(), &boot).unwrap();
        let e = &case["replicate"];
        close(with_ci.estimate, f(&e["estimate"]), "replicate estimate");
        close(with_ci.ci_low, f(&e["ci_low"]), "replicate ci_low");
        close(with_ci.ci_high, f(&e["ci_high"]), "replicate ci_high");
        assert_eq!(
            with_ci.bootstrap_draws.len() as u64,
            e["n_bootstraps"].as_u64().unwrap()
        );
        let sim = shesha::rdm_similarity(
            xa.view(),
            xb.view(),
            &shesha::SimilarityOptions {
                metric: Metric::Euclidean,
                method,
                bootstrap: Bootstrap::Explicit(boots.clone()),
                ..Default::default()
            },
        )
        .unwrap();
        let e = &case["similarity"];
        close(sim.estimate, f(&e["estimate"]), "rdm_similarity estimate");
        close(sim.ci_low, f(&e["ci_low"]), "rdm_similarity ci_low");
        close(sim.ci_high, f(&e["ci_high"]), "rdm_similarity ci_high");
    }
    // Anchor profiles (cdist) of the same counts.
    let anchors = vec_u(&r["anchors"]);
    let opts = ReplicateOptions {
        metric: Metric::Euclidean,
        ..Default::default()
    };
    let ours =
        shesha::anchor_profile_stability(xa.view(), xb.view(), &anchors, None, &opts).unwrap();
    close(
        ours.estimate,
        f(&r["anchor"]["estimate"]),
        "anchor estimate",
    );
    let comps = vec_f(&r["anchor"]["component_scores"]);
    assert_eq!(ours.split_scores.len(), comps.len());
    for (a, b) in ours.split_scores.iter().zip(&comps) {
        close(*a, *b, "anchor per-anchor score");
    }
    let probes: Vec<usize> = (0..xa.nrows()).filter(|i| !anchors.contains(i)).collect();
    let d = neuropop::rsa::cdist(
        xa.select(ndarray::Axis(0), &anchors).view(),
        xa.select(ndarray::Axis(0), &probes).view(),
        Metric::Euclidean,
    )
    .unwrap();
    let want = mat_bits(&r["anchor_cdist_a_bits"]);
    let diff = bit_differences(d.as_slice().unwrap(), want.as_slice().unwrap(), 5);
    assert!(diff.is_empty(), "cdist differs from scipy at {diff:?}");
}
