//! Binned population activity: trials × units × time bins, aligned to an event.
//!
//! **Layout.** Values are stored as one C-order `Array3` indexed `[bin, trial, unit]`. The hot
//! loops of the analyses take a trials × units matrix per time bin (decoding per bin, RDMs per
//! window, the epoch mean that sums bins) — with this layout each such matrix is one contiguous
//! block that BLAS can use directly. A unit's time course (`[.., trial, unit]`) is strided, which
//! is cheap for the few places that need it (smoothing, z-scoring).

use super::{Labels, SpikeTrains, TrialTable, UnitTable};
use crate::{Error, Result};
use ndarray::{Array2, Array3, ArrayView2, Axis, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What the values of a tensor are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueKind {
    /// Spike counts per bin.
    Counts,
    /// Firing rate in spikes per second.
    RateHz,
    /// Z-scored (unitless).
    ZScore,
    /// Soft-normalised (unitless).
    SoftNormalised,
}

/// Binning window relative to an alignment event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinSpec {
    /// Window start relative to the event (s), e.g. −0.5.
    pub start_s: f64,
    /// Window end relative to the event (s); the last bin ends at or before it.
    pub stop_s: f64,
    /// Bin width (s).
    pub width_s: f64,
    /// Step between bin starts (s); equal to `width_s` for non-overlapping bins, smaller for sliding windows.
    pub step_s: f64,
}

impl BinSpec {
    /// Non-overlapping bins of `width_s` over `[start_s, stop_s)`.
    pub fn new(start_s: f64, stop_s: f64, width_s: f64) -> BinSpec {
        BinSpec {
            start_s,
            stop_s,
            width_s,
            step_s: width_s,
        }
    }

    /// Bin left edges relative to the event. A bin is kept when it ends at or before `stop_s`
    /// (within 1e-9 s, so 0.01-s bins over 2.5 s give exactly 250 bins despite rounding).
    ///
    /// # Errors
    /// [`Error::Invalid`] for non-positive width/step or an empty window.
    ///
    /// ```
    /// let b = neuropop::data::BinSpec::new(-0.5, 2.0, 0.01);
    /// assert_eq!(b.left_edges().unwrap().len(), 250);
    /// ```
    pub fn left_edges(&self) -> Result<Vec<f64>> {
        if !(self.width_s > 0.0
            && self.step_s > 0.0
            && self.width_s.is_finite()
            && self.step_s.is_finite())
        {
            return Err(Error::invalid(
                "bin width/step",
                "positive finite seconds",
                format!("width {} step {}", self.width_s, self.step_s),
            ));
        }
        let span = self.stop_s - self.start_s;
        if span.is_nan() || span < self.width_s - 1e-9 {
            return Err(Error::invalid(
                "binning window",
                format!("at least one bin width ({} s)", self.width_s),
                format!("[{}, {})", self.start_s, self.stop_s),
            ));
        }
        let mut edges = Vec::new();
        let mut k = 0usize;
        loop {
            let left = self.start_s + k as f64 * self.step_s;
            if left + self.width_s > self.stop_s + 1e-9 {
                break;
            }
            edges.push(left);
            k += 1;
        }
        Ok(edges)
    }
}

/// Binned activity `[bin, trial, unit]` with the trial and unit tables it came from.
#[derive(Clone, Debug)]
pub struct PopulationTensor {
    /// Values indexed `[bin, trial, unit]`.
    pub values: Array3<f64>,
    /// Bin centres relative to the alignment event (s).
    pub bin_centres_s: Vec<f64>,
    /// Bin width (s).
    pub bin_width_s: f64,
    /// The event the bins are aligned to (a trial-table column, e.g. `"stim_onset"`).
    pub align_event: String,
    /// What the values are.
    pub kind: ValueKind,
    /// One row per trial (axis 1).
    pub trials: TrialTable,
    /// One row per unit (axis 2).
    pub units: UnitTable,
}

impl PopulationTensor {
    /// Wraps values with their tables, checking the shapes agree.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the axis whose length disagrees, or for a non-positive bin
    /// width or non-finite bin centre.
    pub fn new(
        values: Array3<f64>,
        bin_centres_s: Vec<f64>,
        bin_width_s: f64,
        align_event: impl Into<String>,
        kind: ValueKind,
        trials: TrialTable,
        units: UnitTable,
    ) -> Result<PopulationTensor> {
        let (nb, nt, nu) = values.dim();
        if bin_centres_s.len() != nb {
            return Err(Error::invalid(
                "PopulationTensor bins",
                format!("{nb} bin centres"),
                bin_centres_s.len().to_string(),
            ));
        }
        if trials.n_trials() != nt {
            return Err(Error::invalid(
                "PopulationTensor trials",
                format!("{nt} trial rows"),
                trials.n_trials().to_string(),
            ));
        }
        if units.len() != nu {
            return Err(Error::invalid(
                "PopulationTensor units",
                format!("{nu} unit rows"),
                units.len().to_string(),
            ));
        }
        if !(bin_width_s > 0.0 && bin_width_s.is_finite()) {
            return Err(Error::invalid(
                "PopulationTensor bin width",
                "positive finite seconds",
                bin_width_s.to_string(),
            ));
        }
        if let Some(c) = bin_centres_s.iter().find(|c| !c.is_finite()) {
            return Err(Error::invalid(
                "PopulationTensor bin centres",
                "finite seconds",
                c.to_string(),
            ));
        }
        Ok(PopulationTensor {
            values,
            bin_centres_s,
            bin_width_s,
            align_event: align_event.into(),
            kind,
            trials,
            units,
        })
    }

    /// Number of time bins.
    pub fn n_bins(&self) -> usize {
        self.values.dim().0
    }
    /// Number of trials.
    pub fn n_trials(&self) -> usize {
        self.values.dim().1
    }
    /// Number of units.
    pub fn n_units(&self) -> usize {
        self.values.dim().2
    }

    /// The trials × units matrix of bin `b` (contiguous).
    pub fn bin(&self, b: usize) -> ArrayView2<'_, f64> {
        self.values.index_axis(Axis(0), b)
    }

    /// Index of the first bin whose centre is ≥ `t_s` (n_bins if none).
    pub fn bin_at(&self, t_s: f64) -> usize {
        self.bin_centres_s.partition_point(|&c| c < t_s - 1e-12)
    }

    /// Mean over bins `[first, last)` → trials × units. This is the "epoch mean" of the
    /// Steinmetz analysis (bins 50–99 = 0–500 ms after stimulus onset). Non-finite values become 0,
    /// as in the published analysis (`np.nan_to_num`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty or out-of-range bin range.
    ///
    /// ```
    /// use ndarray::Array3;
    /// use neuropop::data::*;
    /// let v = Array3::from_shape_fn((4, 2, 3), |(b, t, u)| (b + t + u) as f64);
    /// let trials = TrialTable::with_rows(2, "demo");
    /// let units = UnitTable::new(vec![0, 1, 2], vec!["A".into(); 3]).unwrap();
    /// let p = PopulationTensor::new(v, vec![0.0, 0.1, 0.2, 0.3], 0.1, "stim", ValueKind::Counts, trials, units).unwrap();
    /// let m = p.epoch_mean_bins(1, 3).unwrap();
    /// assert_eq!(m[[0, 0]], 1.5);
    /// ```
    pub fn epoch_mean_bins(&self, first: usize, last: usize) -> Result<Array2<f64>> {
        if first >= last || last > self.n_bins() {
            return Err(Error::invalid(
                "epoch bins",
                format!("first < last ≤ {}", self.n_bins()),
                format!("[{first}, {last})"),
            ));
        }
        let mut acc = Array2::<f64>::zeros((self.n_trials(), self.n_units()));
        for b in first..last {
            acc += &self.bin(b);
        }
        let n = (last - first) as f64;
        acc.mapv_inplace(|v| {
            let m = v / n;
            if m.is_finite() { m } else { 0.0 }
        });
        Ok(acc)
    }

    /// Mean over the bins whose centres lie in `[start_s, stop_s)` → trials × units.
    ///
    /// # Errors
    /// [`Error::Invalid`] if no bin centre lies in the window.
    pub fn epoch_mean(&self, start_s: f64, stop_s: f64) -> Result<Array2<f64>> {
        let a = self.bin_at(start_s);
        let b = self.bin_at(stop_s);
        if a >= b {
            return Err(Error::invalid(
                "epoch window",
                "a window containing at least one bin centre",
                format!("[{start_s}, {stop_s}) s"),
            ));
        }
        self.epoch_mean_bins(a, b)
    }

    /// Keeps the given units.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an index out of range.
    pub fn select_units(&self, idx: &[usize]) -> Result<PopulationTensor> {
        let units = self.units.select(idx)?;
        Ok(PopulationTensor {
            values: self.values.select(Axis(2), idx),
            units,
            ..self.clone_meta()
        })
    }

    /// Keeps the units of one region.
    pub fn select_region(&self, region: &str) -> Result<PopulationTensor> {
        self.select_units(&self.units.indices_in_region(region))
    }

    /// Keeps units whose mean rate over all trials and bins is at least `min_rate_hz`.
    pub fn select_min_rate(&self, min_rate_hz: f64) -> Result<PopulationTensor> {
        let per_unit = self
            .values
            .mean_axis(Axis(0))
            .and_then(|m| m.mean_axis(Axis(0)));
        let scale = if self.kind == ValueKind::Counts {
            1.0 / self.bin_width_s
        } else {
            1.0
        };
        let idx: Vec<usize> = match per_unit {
            Some(m) => m
                .iter()
                .enumerate()
                .filter(|(_, v)| **v * scale >= min_rate_hz)
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        self.select_units(&idx)
    }

    /// Keeps the given trials (in order).
    pub fn select_trials(&self, idx: &[usize]) -> Result<PopulationTensor> {
        let trials = self.trials.select(idx)?;
        Ok(PopulationTensor {
            values: self.values.select(Axis(1), idx),
            trials,
            ..self.clone_meta()
        })
    }

    fn clone_meta(&self) -> PopulationTensor {
        PopulationTensor {
            values: Array3::zeros((0, 0, 0)),
            bin_centres_s: self.bin_centres_s.clone(),
            bin_width_s: self.bin_width_s,
            align_event: self.align_event.clone(),
            kind: self.kind,
            trials: self.trials.clone(),
            units: self.units.clone(),
        }
    }

    /// Gaussian smoothing along time with standard deviation `sigma_s`, kernel truncated at 4σ.
    /// At the window edges the kernel is renormalised over the bins that exist, so edge bins are
    /// not pulled towards zero.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a non-positive sigma.
    pub fn smooth_gaussian(&self, sigma_s: f64) -> Result<PopulationTensor> {
        if !(sigma_s > 0.0 && sigma_s.is_finite()) {
            return Err(Error::invalid(
                "smoothing sigma",
                "positive seconds",
                sigma_s.to_string(),
            ));
        }
        let sigma_bins = sigma_s / self.bin_width_s;
        let half = (4.0 * sigma_bins).ceil() as isize;
        let kernel: Vec<f64> = (-half..=half)
            .map(|k| (-0.5 * (k as f64 / sigma_bins).powi(2)).exp())
            .collect();
        let nb = self.n_bins() as isize;
        let mut out = Array3::<f64>::zeros(self.values.dim());
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(b, mut slab)| {
                let mut wsum = 0.0;
                for (ki, w) in kernel.iter().enumerate() {
                    let src = b as isize + ki as isize - half;
                    if (0..nb).contains(&src) {
                        slab.scaled_add(*w, &self.values.index_axis(Axis(0), src as usize));
                        wsum += w;
                    }
                }
                slab.mapv_inplace(|v| v / wsum);
            });
        Ok(PopulationTensor {
            values: out,
            ..self.clone_meta()
        })
    }

    /// Z-scores each unit over all trials and bins (population std, ddof 0). Units with zero
    /// variance become 0.
    pub fn zscore(&self) -> PopulationTensor {
        let mut out = self.values.clone();
        for mut u in out.axis_iter_mut(Axis(2)) {
            let n = u.len() as f64;
            let mean = u.sum() / n;
            let var = u.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let sd = var.sqrt();
            u.mapv_inplace(|v| if sd > 0.0 { (v - mean) / sd } else { 0.0 });
        }
        PopulationTensor {
            values: out,
            kind: ValueKind::ZScore,
            ..self.clone_meta()
        }
    }

    /// Soft-normalisation (Churchland et al. 2012): each unit divided by (its range over all
    /// trials and bins + `constant`), with values in Hz when the tensor holds counts or rates.
    pub fn soft_normalise(&self, constant_hz: f64) -> PopulationTensor {
        let scale = if self.kind == ValueKind::Counts {
            1.0 / self.bin_width_s
        } else {
            1.0
        };
        let mut out = self.values.mapv(|v| v * scale);
        for mut u in out.axis_iter_mut(Axis(2)) {
            let max = u.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let min = u.iter().cloned().fold(f64::INFINITY, f64::min);
            let d = (max - min) + constant_hz;
            u.mapv_inplace(|v| if d > 0.0 { v / d } else { 0.0 });
        }
        PopulationTensor {
            values: out,
            kind: ValueKind::SoftNormalised,
            ..self.clone_meta()
        }
    }
}

/// Counts spikes in bins aligned to a per-trial event time: bin `k` of trial `i` counts spikes in
/// the half-open interval `[event[i] + left[k], event[i] + left[k] + width)`. A spike exactly on
/// a bin's left edge belongs to that bin; exactly on its right edge, to the next one.
/// Trials whose event time is NaN get NaN in every bin (and are reported by the caller).
///
/// # Errors
/// [`Error::Invalid`] for a bad [`BinSpec`], or if the event times and trial table differ in length.
///
/// ```
/// use neuropop::data::*;
/// use neuropop::data::tensor::bin_spikes;
/// let spikes = SpikeTrains::from_units(vec![vec![1.0, 1.05, 1.1, 2.0]]).unwrap();
/// let trials = TrialTable::from_f64_columns(&[("stim", vec![1.0])], "demo").unwrap();
/// let units = UnitTable::new(vec![7], vec!["VISp".into()]).unwrap();
/// let t = bin_spikes(&spikes, &units, &trials, "stim", &BinSpec::new(0.0, 0.2, 0.1)).unwrap();
/// assert_eq!(t.values[[0, 0, 0]], 2.0); // 1.0 and 1.05
/// assert_eq!(t.values[[1, 0, 0]], 1.0); // 1.1 sits on the edge: second bin
/// ```
pub fn bin_spikes(
    spikes: &SpikeTrains,
    units: &UnitTable,
    trials: &TrialTable,
    event: &str,
    spec: &BinSpec,
) -> Result<PopulationTensor> {
    let left = spec.left_edges()?;
    let events = trials.f64(event)?;
    if spikes.n_units() != units.len() {
        return Err(Error::invalid(
            "bin_spikes units",
            format!("{} spike trains (one per unit)", units.len()),
            spikes.n_units().to_string(),
        ));
    }
    let (nb, nt, nu) = (left.len(), events.len(), spikes.n_units());
    let per_unit: Vec<Vec<f64>> = (0..nu)
        .into_par_iter()
        .map(|u| {
            let t = spikes.unit(u);
            let mut counts = vec![0.0; nb * nt];
            for (i, &ev) in events.iter().enumerate() {
                for (k, &l) in left.iter().enumerate() {
                    counts[i * nb + k] = if ev.is_finite() {
                        let a = ev + l;
                        let b = a + spec.width_s;
                        (t.partition_point(|&x| x < b) - t.partition_point(|&x| x < a)) as f64
                    } else {
                        f64::NAN
                    };
                }
            }
            counts
        })
        .collect();
    let mut values = Array3::<f64>::zeros((nb, nt, nu));
    for (u, c) in per_unit.iter().enumerate() {
        let mut col = values.slice_mut(s![.., .., u]);
        for i in 0..nt {
            for k in 0..nb {
                col[[k, i]] = c[i * nb + k];
            }
        }
    }
    let centres = left.iter().map(|l| l + spec.width_s / 2.0).collect();
    PopulationTensor::new(
        values,
        centres,
        spec.width_s,
        event,
        ValueKind::Counts,
        trials.clone(),
        units.clone(),
    )
}

/// Condition means of a trials × features matrix: one row per level of `labels`, plus the trial
/// count of each level.
///
/// # Errors
/// [`Error::Invalid`] if the label count differs from the number of rows.
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]];
/// let l = neuropop::data::Labels::from_ints(&[0, 0, 1]);
/// let (m, n) = neuropop::data::tensor::condition_means(x.view(), &l).unwrap();
/// assert_eq!(m, array![[2.0, 1.0], [5.0, 5.0]]);
/// assert_eq!(n, vec![2, 1]);
/// ```
pub fn condition_means(x: ArrayView2<f64>, labels: &Labels) -> Result<(Array2<f64>, Vec<usize>)> {
    if labels.len() != x.nrows() {
        return Err(Error::invalid(
            "condition_means labels",
            format!("{} labels (one per trial)", x.nrows()),
            labels.len().to_string(),
        ));
    }
    let mut sums = Array2::<f64>::zeros((labels.n_levels(), x.ncols()));
    let counts = labels.counts();
    for (row, &c) in x.outer_iter().zip(labels.codes()) {
        let mut s = sums.row_mut(c);
        s += &row;
    }
    for (mut s, &n) in sums.outer_iter_mut().zip(&counts) {
        if n > 0 {
            s.mapv_inplace(|v| v / n as f64);
        }
    }
    Ok((sums, counts))
}
