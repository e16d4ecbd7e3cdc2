//! Options of the split-half estimators ([`super::split_half`]): how trials are split, the
//! metric, the seed.

use serde::{Deserialize, Serialize};

use crate::rsa::rdm::Metric;

/// How trials are split into halves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// Even vs odd positions in the global trial order (the published analysis).
    OddEven,
    /// Random within-condition halves, repeated `n_splits` times.
    Random {
        /// Number of random splits.
        n_splits: usize,
    },
}

/// Options of [`split_half`]. Defaults: odd/even split (the published Steinmetz analysis),
/// cosine RDMs, seed 320, no Spearman–Brown correction, ≥ 3 conditions, std tolerance 1e-10.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SplitHalfOptions {
    /// How to split.
    pub split: Split,
    /// RDM metric.
    pub metric: Metric,
    /// Seed of the random splits.
    pub seed: u64,
    /// Also report the Spearman–Brown corrected value 2r/(1 + r).
    pub spearman_brown: bool,
    /// Fewer kept conditions make the estimate undefined.
    pub min_conditions: usize,
    /// An RDM with population std below this is constant.
    pub constant_std: f64,
}

impl Default for SplitHalfOptions {
    fn default() -> Self {
        SplitHalfOptions {
            split: Split::OddEven,
            metric: Metric::Cosine,
            seed: 320,
            spearman_brown: false,
            min_conditions: 3,
            constant_std: 1e-10,
        }
    }
}

impl SplitHalfOptions {
    /// Number of random splits when a caller asks for random splits without a number.
    pub const DEFAULT_RANDOM_SPLITS: usize = 100;

    /// Random splits, `n_splits` repetitions.
    ///
    /// ```
    /// let o = neuropop::rsa::shesha::SplitHalfOptions::default().with_random_splits(100);
    /// assert_eq!(o.split, neuropop::rsa::shesha::Split::Random { n_splits: 100 });
    /// ```
    pub fn with_random_splits(mut self, n_splits: usize) -> Self {
        self.split = Split::Random { n_splits };
        self
    }
    /// Sets the metric.
    ///
    /// ```
    /// use neuropop::rsa::{shesha::SplitHalfOptions, Metric};
    /// assert_eq!(SplitHalfOptions::default().with_metric(Metric::Correlation).metric, Metric::Correlation);
    /// ```
    pub fn with_metric(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }
    /// Sets the seed.
    ///
    /// ```
    /// assert_eq!(neuropop::rsa::shesha::SplitHalfOptions::default().with_seed(1).seed, 1);
    /// ```
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}
