//! The Shesha family of geometric-stability estimators (Raju, "Geometric Stability of Neural
//! Population Codes"; Python package shesha-geometry 0.3.0).
//!
//! Two groups, named as in the paper and the package:
//!
//! * **shesha-geometry estimators** on samples × features matrices, numbers identical to the
//!   package given the same partitions/resamples: [`feature_split`], [`sample_split`]
//!   (deprecated by its author), [`replicate_stability`], [`anchor_profile_stability`],
//!   [`rdm_similarity`], [`rdm_drift`]; they return a [`StabilityResult`].
//! * **trial-based estimators of the published Steinmetz analysis** on trials × neurons
//!   matrices with a condition code per trial: [`split_half`] (odd/even or random halves),
//!   [`whitened_split_half`], [`cross_validated_rsa`], [`temporal_stability`],
//!   [`centroid_drift`] with its permutation null, [`tertile_stability`].
//!
//! Formulas, defaults and every deliberate deviation are in `docs/methods/shesha.md`.

mod conditions;
mod cross_validated;
mod feature_halves;
mod feature_split;
mod random_split;
mod replicate;
mod result;
mod sample_split;
mod similarity;
mod split_half;
mod split_options;
mod temporal;

pub use cross_validated::{
    CrossValidatedRsaOptions, CrossValidatedRsaResult, Folds, cross_validated_rsa,
};
pub use feature_split::{FeatureSplitOptions, feature_split};
pub use replicate::{ReplicateOptions, anchor_profile_stability, replicate_stability};
pub use result::{Bootstrap, CorrelationMethod, NanPolicy, StabilityResult};
pub use sample_split::{SAMPLE_SPLIT_WARNING, SampleSplitOptions, sample_split};
pub use similarity::{ConstantRdm, SimilarityOptions, rdm_drift, rdm_similarity};
pub use split_half::{WhitenedSplitHalfOptions, split_half, whitened_split_half};
pub use split_options::{Split, SplitHalfOptions};
pub use temporal::{
    CentroidDriftOptions, CentroidDriftResult, TemporalStabilityOptions, TemporalStabilityResult,
    TertileStabilityResult, centroid_drift, centroid_similarity, temporal_stability,
    tertile_stability,
};
