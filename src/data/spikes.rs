//! Ragged spike times per unit, stored as NWB stores them: one flat vector plus offsets.

use crate::{Error, Result};

/// Spike times in seconds for each unit: unit `u` owns `times_s[offsets[u]..offsets[u + 1]]`.
///
/// Invariants (checked by [`SpikeTrains::new`]): `offsets` starts at 0, is non-decreasing and ends
/// at `times_s.len()`; every time is finite; each unit's times are sorted ascending.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpikeTrains {
    times_s: Vec<f64>,
    offsets: Vec<usize>,
}

impl SpikeTrains {
    /// Builds and validates spike trains from flat times and `n_units + 1` offsets.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the unit and position of the first violated invariant.
    ///
    /// ```
    /// use neuropop::data::SpikeTrains;
    /// let s = SpikeTrains::new(vec![0.1, 0.5, 0.2], vec![0, 2, 3]).unwrap();
    /// assert_eq!(s.unit(0), &[0.1, 0.5]);
    /// assert!(SpikeTrains::new(vec![0.5, 0.1], vec![0, 2]).is_err()); // unsorted
    /// ```
    pub fn new(times_s: Vec<f64>, offsets: Vec<usize>) -> Result<Self> {
        if offsets.first() != Some(&0) {
            return Err(Error::invalid(
                "SpikeTrains offsets[0]",
                "0",
                format!("{:?}", offsets.first()),
            ));
        }
        if offsets.last() != Some(&times_s.len()) {
            return Err(Error::invalid(
                "SpikeTrains offsets (last)",
                format!("{} (number of spikes)", times_s.len()),
                format!("{:?}", offsets.last()),
            ));
        }
        for (u, w) in offsets.windows(2).enumerate() {
            if w[1] < w[0] {
                return Err(Error::invalid(
                    format!("SpikeTrains offsets of unit {u}"),
                    "non-decreasing offsets",
                    format!("{} then {}", w[0], w[1]),
                ));
            }
            let t = &times_s[w[0]..w[1]];
            if let Some(i) = t.iter().position(|x| !x.is_finite()) {
                return Err(Error::invalid(
                    format!("spike time {i} of unit {u}"),
                    "a finite time in seconds",
                    format!("{}", t[i]),
                ));
            }
            if let Some(i) = t.windows(2).position(|p| p[1] < p[0]) {
                return Err(Error::invalid(
                    format!("spike times of unit {u} at position {}", i + 1),
                    "times sorted ascending",
                    format!("{} after {}", t[i + 1], t[i]),
                ));
            }
        }
        Ok(SpikeTrains { times_s, offsets })
    }

    /// Builds from per-unit vectors (each sorted and finite).
    ///
    /// # Errors
    /// As [`SpikeTrains::new`].
    ///
    /// ```
    /// let s = neuropop::data::SpikeTrains::from_units(vec![vec![0.1], vec![], vec![0.2, 0.3]]).unwrap();
    /// assert_eq!(s.n_units(), 3);
    /// assert_eq!(s.n_spikes(), 3);
    /// ```
    pub fn from_units(units: Vec<Vec<f64>>) -> Result<Self> {
        let mut offsets = Vec::with_capacity(units.len() + 1);
        offsets.push(0);
        let mut times = Vec::with_capacity(units.iter().map(Vec::len).sum());
        for u in units {
            times.extend(u);
            offsets.push(times.len());
        }
        Self::new(times, offsets)
    }

    /// Number of units.
    pub fn n_units(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Total number of spikes.
    pub fn n_spikes(&self) -> usize {
        self.times_s.len()
    }

    /// Spike times of unit `u` (seconds, sorted). Panics if `u >= n_units()` (a programming error,
    /// not user input: callers iterate `0..n_units()`).
    pub fn unit(&self, u: usize) -> &[f64] {
        &self.times_s[self.offsets[u]..self.offsets[u + 1]]
    }

    /// The flat spike-time vector.
    pub fn times_s(&self) -> &[f64] {
        &self.times_s
    }

    /// The `n_units + 1` offsets.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// Number of spikes of unit `u` in the half-open interval `[start_s, stop_s)`.
    ///
    /// ```
    /// let s = neuropop::data::SpikeTrains::from_units(vec![vec![0.0, 0.1, 0.2]]).unwrap();
    /// assert_eq!(s.count(0, 0.1, 0.2), 1);
    /// ```
    pub fn count(&self, u: usize, start_s: f64, stop_s: f64) -> usize {
        let t = self.unit(u);
        let a = t.partition_point(|&x| x < start_s);
        let b = t.partition_point(|&x| x < stop_s);
        b.saturating_sub(a)
    }

    /// Keeps the given units (in the given order).
    ///
    /// # Errors
    /// [`Error::Invalid`] if an index is out of range.
    pub fn select(&self, idx: &[usize]) -> Result<SpikeTrains> {
        let n = self.n_units();
        let mut units = Vec::with_capacity(idx.len());
        for &i in idx {
            if i >= n {
                return Err(Error::invalid(
                    "SpikeTrains::select",
                    format!("unit index < {n}"),
                    i.to_string(),
                ));
            }
            units.push(self.unit(i).to_vec());
        }
        Self::from_units(units)
    }
}
