//! RSA benchmarks: RDMs (Euclidean from differences in pdist's order, cosine and correlation
//! from Gram products), split-half Shesha with random splits, feature split, ranking an RDM. Run with `cargo bench --bench rsa`; `cargo bench --bench rsa -- --test` runs each
//! once as a smoke test.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use neuropop::rsa::shesha::{FeatureSplitOptions, SplitHalfOptions, feature_split, split_half};
use neuropop::rsa::{Metric, rdm};
use rand::Rng as _;

fn random(n: usize, p: usize, seed: u64) -> Array2<f64> {
    let mut r = neuropop::stats::rng::stream(seed, 0);
    Array2::from_shape_fn((n, p), |_| r.random::<f64>())
}

fn rdms(c: &mut Criterion) {
    let x = random(2000, 1000, 1);
    let mut g = c.benchmark_group("rdm_2000x1000");
    g.sample_size(10);
    g.bench_function("cosine", |b| {
        b.iter(|| rdm(x.view(), Metric::Cosine).unwrap())
    });
    g.bench_function("euclidean", |b| {
        b.iter(|| rdm(x.view(), Metric::Euclidean).unwrap())
    });
    // Spike counts (Poisson-like small integers): the same work, exact sums.
    let mut r = neuropop::stats::rng::stream(7, 0);
    let counts = Array2::from_shape_fn((2000, 1000), |_| f64::from(r.random_range(0..8u8)));
    g.bench_function("euclidean_counts", |b| {
        b.iter(|| rdm(counts.view(), Metric::Euclidean).unwrap())
    });
    g.bench_function("correlation", |b| {
        b.iter(|| rdm(x.view(), Metric::Correlation).unwrap())
    });
    g.bench_function("gram_x_xt", |b| b.iter(|| x.dot(&x.t())));
    g.finish();
}

fn shesha(c: &mut Criterion) {
    // 2000 trials × 500 units, 40 conditions, Poisson-like counts.
    let mut r = neuropop::stats::rng::stream(2, 0);
    let conditions: Vec<usize> = (0..2000).map(|_| r.random_range(0..40)).collect();
    let x = Array2::from_shape_fn((2000, 500), |(t, j)| {
        ((conditions[t] * 7 + j) % 11) as f64 + r.random::<f64>() * 3.0
    });
    let mut g = c.benchmark_group("shesha");
    g.sample_size(10);
    let opts = SplitHalfOptions::default().with_random_splits(1000);
    g.bench_function("split_half_random_1000_2000x500x40", |b| {
        b.iter(|| split_half(x.view(), &conditions, &opts).unwrap())
    });
    let y = random(1600, 768, 3);
    let fs = FeatureSplitOptions {
        n_splits: 30,
        ..Default::default()
    };
    g.bench_function("feature_split_1600x768_30", |b| {
        b.iter(|| feature_split(y.view(), &fs).unwrap())
    });
    g.finish();
}

fn ranks(c: &mut Criterion) {
    // The condensed cosine RDM of 1600 random samples: what feature_split ranks twice per split.
    let d = rdm(random(1600, 384, 4).view(), Metric::Cosine)
        .unwrap()
        .into_condensed();
    let (mut scratch, mut out) = (Vec::new(), vec![0.0; d.len()]);
    let mut g = c.benchmark_group("rank");
    g.sample_size(20);
    g.bench_function("rankdata_1279200", |b| {
        b.iter(|| neuropop::stats::rank::rankdata_into(&d, &mut scratch, &mut out))
    });
    // Two condensed RDMs of 40 conditions (780 distances): what each random split-half
    // repetition correlates. `spearman_rho` sorts 32-bit words with the bitonic network;
    // the reference only ranks both through `rankdata_into` (64-bit words, `sort_unstable`).
    let ra = rdm(random(40, 500, 5).view(), Metric::Cosine)
        .unwrap()
        .into_condensed();
    let rb = rdm(random(40, 500, 6).view(), Metric::Cosine)
        .unwrap()
        .into_condensed();
    let mut sp = neuropop::stats::rank::SpearmanScratch::default();
    g.bench_function("spearman_rho_780", |b| {
        b.iter(|| neuropop::stats::rank::spearman_rho(&ra, &rb, &mut sp))
    });
    let (mut oa, mut ob) = (vec![0.0; ra.len()], vec![0.0; rb.len()]);
    g.bench_function("rank_780_twice_by_sort_unstable", |b| {
        b.iter(|| {
            neuropop::stats::rank::rankdata_into(&ra, &mut scratch, &mut oa);
            neuropop::stats::rank::rankdata_into(&rb, &mut scratch, &mut ob);
        })
    });
    g.finish();
}

criterion_group!(benches, rdms, shesha, ranks);
criterion_main!(benches);
