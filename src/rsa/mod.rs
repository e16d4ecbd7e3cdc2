//! Representational similarity analysis: RDMs, their comparison, noise-normalised distances
//! and the Shesha geometric-stability estimators.
//!
//! * [`rdm`](mod@rdm): the [`Rdm`] type and [`rdm()`] over the [`Metric`]s (scipy `pdist`
//!   numbers from a Gram product), [`cdist`].
//! * [`mahalanobis`](mod@mahalanobis): [`mahalanobis()`] and [`crossnobis`] with a [`Noise`]
//!   model (rsatoolbox's definitions).
//! * [`compare`](mod@compare): [`compare()`] two RDMs (rsatoolbox's methods).
//! * [`shesha`]: split-half, feature-split, replicate, drift and temporal stability.
//!
//! Arrays are conditions (or trials, or samples) × features, rows first.

pub mod compare;
pub mod mahalanobis;
pub mod rdm;
pub mod shesha;

pub use compare::{CompareMethod, compare, compare_vectors};
pub use mahalanobis::{Noise, crossnobis, mahalanobis};
pub use rdm::{Metric, Rdm, ZeroNorm, cdist, rdm, rdm_with};
