//! Temporal structure of population activity: how trajectories evolve over time.
//!
//! * [`tangling`] — trajectory tangling (Russo et al. 2018) of condition-mean time courses.

pub mod tangling;
