//! Binned spike counts as a file stores them — `[unit, trial, bin]`, C or Fortran order, any
//! numeric dtype (uint8 in the Neuromatch Steinmetz files) — and the reductions that take
//! them straight to what analyses use: the `[bin, trial, unit]` float tensor of
//! [`PopulationTensor`](super::PopulationTensor), or the trial epoch means and per-condition
//! mean time courses without building that tensor at all.
//!
//! Building the float64 tensor costs 8 bytes per count; a whole-dataset pipeline that only
//! reduces it to epoch means (the Steinmetz replication reads bins 50–99 of 250) would spend a
//! fifth of its run doing so. [`CountView::epoch_summaries`] reads each stored count once and
//! gives, bit for bit, the reductions of the tensor (tested), so the shortcut changes no number.

use std::ops::{Deref, Range};

use ndarray::{Array2, Array3, Axis};
use rayon::prelude::*;

use crate::{Error, Result};

/// The stored counts, borrowed, one variant per numeric dtype.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub enum CountSlice<'a> {
    U8(&'a [u8]),
    I8(&'a [i8]),
    U16(&'a [u16]),
    I16(&'a [i16]),
    U32(&'a [u32]),
    I32(&'a [i32]),
    U64(&'a [u64]),
    I64(&'a [i64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
}

/// The stored counts, owned. `U8` holds any byte buffer (a vector, or a window of a
/// memory-mapped file) so a loader can hand its storage over without a copy.
#[allow(missing_docs)]
pub enum CountValues {
    U8(Box<dyn Deref<Target = [u8]> + Send + Sync>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl std::fmt::Debug for CountValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CountValues({} values)", self.as_slice().len())
    }
}

/// Applies `$body` to the typed slice `$v` with its lossless (or, for 64-bit integers,
/// `as`) conversion `$conv` to f64. One dispatch for every reduction.
macro_rules! dispatch {
    ($slice:expr, |$v:ident, $conv:ident| $body:expr) => {
        match $slice {
            CountSlice::U8($v) => {
                let $conv = f64::from;
                $body
            }
            CountSlice::I8($v) => {
                let $conv = f64::from;
                $body
            }
            CountSlice::U16($v) => {
                let $conv = f64::from;
                $body
            }
            CountSlice::I16($v) => {
                let $conv = f64::from;
                $body
            }
            CountSlice::U32($v) => {
                let $conv = f64::from;
                $body
            }
            CountSlice::I32($v) => {
                let $conv = f64::from;
                $body
            }
            CountSlice::U64($v) => {
                let $conv = |x: u64| x as f64;
                $body
            }
            CountSlice::I64($v) => {
                let $conv = |x: i64| x as f64;
                $body
            }
            CountSlice::F32($v) => {
                let $conv = f64::from;
                $body
            }
            CountSlice::F64($v) => {
                let $conv = |x: f64| x;
                $body
            }
        }
    };
}

impl CountSlice<'_> {
    /// Number of stored values.
    pub fn len(&self) -> usize {
        match self {
            CountSlice::U8(v) => v.len(),
            CountSlice::I8(v) => v.len(),
            CountSlice::U16(v) => v.len(),
            CountSlice::I16(v) => v.len(),
            CountSlice::U32(v) => v.len(),
            CountSlice::I32(v) => v.len(),
            CountSlice::U64(v) => v.len(),
            CountSlice::I64(v) => v.len(),
            CountSlice::F32(v) => v.len(),
            CountSlice::F64(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl CountValues {
    /// The values, borrowed.
    pub fn as_slice(&self) -> CountSlice<'_> {
        match self {
            CountValues::U8(v) => CountSlice::U8(v),
            CountValues::I8(v) => CountSlice::I8(v),
            CountValues::U16(v) => CountSlice::U16(v),
            CountValues::I16(v) => CountSlice::I16(v),
            CountValues::U32(v) => CountSlice::U32(v),
            CountValues::I32(v) => CountSlice::I32(v),
            CountValues::U64(v) => CountSlice::U64(v),
            CountValues::I64(v) => CountSlice::I64(v),
            CountValues::F32(v) => CountSlice::F32(v),
            CountValues::F64(v) => CountSlice::F64(v),
        }
    }
}

/// Trial epoch means (`trials × units`) and the mean time course (`bins × units`) of every
/// group with at least two trials, in group order.
pub type EpochSummaries = (Array2<f64>, Vec<Array2<f64>>);

/// Stored counts of `units × trials × bins`, borrowed.
///
/// ```
/// use neuropop::data::counts::{CountSlice, CountView};
/// // 1 unit × 2 trials × 3 bins, C order.
/// let stored = [1u8, 2, 3, 4, 5, 6];
/// let v = CountView::new(CountSlice::U8(&stored), (1, 2, 3), false).unwrap();
/// let t = v.to_values(1..3).unwrap(); // [bin, trial, unit]
/// assert_eq!(t[[0, 1, 0]], 5.0);
/// let (means, _) = v.epoch_summaries(0..3, &[0, 0]).unwrap();
/// assert_eq!(means[[1, 0]], 5.0); // (4 + 5 + 6) / 3
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CountView<'a> {
    values: CountSlice<'a>,
    shape: (usize, usize, usize),
    fortran: bool,
}

impl<'a> CountView<'a> {
    /// Counts of shape `(units, trials, bins)` stored in C (`fortran = false`) or Fortran order.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the number of values is not `units × trials × bins`.
    pub fn new(
        values: CountSlice<'a>,
        shape: (usize, usize, usize),
        fortran: bool,
    ) -> Result<CountView<'a>> {
        let (nu, nt, nb) = shape;
        if values.len() != nu * nt * nb {
            return Err(Error::invalid(
                "stored counts",
                format!(
                    "{} values ({nu} units × {nt} trials × {nb} bins)",
                    nu * nt * nb
                ),
                values.len().to_string(),
            ));
        }
        Ok(CountView {
            values,
            shape,
            fortran,
        })
    }

    /// `(units, trials, bins)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        self.shape
    }

    fn check_bins(&self, bins: &Range<usize>) -> Result<()> {
        let nb = self.shape.2;
        if bins.start >= bins.end || bins.end > nb {
            return Err(Error::invalid(
                "stored counts",
                format!(
                    "at least {} bins (bins {}..{} requested)",
                    bins.end, bins.start, bins.end
                ),
                format!("{nb} bins"),
            ));
        }
        Ok(())
    }

    /// The counts of bins `bins` as f64 `[bin, trial, unit]` (the layout of
    /// [`PopulationTensor`](super::PopulationTensor)), converted element by element without
    /// an intermediate copy of the whole array.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty range or one past the stored bins.
    pub fn to_values(&self, bins: Range<usize>) -> Result<Array3<f64>> {
        self.check_bins(&bins)?;
        let (shape, fortran) = (self.shape, self.fortran);
        Ok(dispatch!(self.values, |v, conv| fill(
            v, fortran, shape, bins, conv
        )))
    }

    /// The reductions of bins `bins` in one pass over the stored counts: the mean over the bins
    /// of every (trial, unit) — `trials × units`, NaN counts → 0, bins summed in order from
    /// 0.0, a NaN mean → 0 — and, for every group with at least two trials (`groups[t]` is
    /// trial `t`'s group), its mean time course — `bins × units`, NaN counts → 0, trials added
    /// in trial order — in group order. Bit for bit the same reductions of
    /// [`CountView::to_values`].
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad bin range or when `groups` does not have one entry per
    /// trial.
    pub fn epoch_summaries(&self, bins: Range<usize>, groups: &[usize]) -> Result<EpochSummaries> {
        self.check_bins(&bins)?;
        if groups.len() != self.shape.1 {
            return Err(Error::invalid(
                "epoch groups",
                format!("one group per trial ({})", self.shape.1),
                groups.len().to_string(),
            ));
        }
        let (shape, fortran) = (self.shape, self.fortran);
        Ok(dispatch!(self.values, |v, conv| reduce_epoch(
            v, fortran, shape, bins, groups, conv
        )))
    }
}

/// Stored counts, owned, with their bin times: what a loader of binned data hands to an
/// analysis that reduces them (see the module docs).
#[derive(Debug)]
pub struct CountTensor {
    /// The stored values.
    pub values: CountValues,
    /// `(units, trials, bins)`.
    pub shape: (usize, usize, usize),
    /// Fortran (column-major) storage order.
    pub fortran: bool,
    /// Centre of every stored bin relative to the alignment event (s).
    pub bin_centres_s: Vec<f64>,
    /// Bin width (s).
    pub bin_width_s: f64,
    /// The event the bins are aligned to.
    pub align_event: String,
}

impl CountTensor {
    /// The counts, borrowed.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the values do not match the shape.
    pub fn view(&self) -> Result<CountView<'_>> {
        CountView::new(self.values.as_slice(), self.shape, self.fortran)
    }
}

fn nan0(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v }
}

/// Stored `[unit, trial, bin]` → f64 `[bin, trial, unit]` for `bins`. Trials are converted in
/// parallel: for each (unit, trial) the run of bins is contiguous in C order, and its values go
/// to one slot in each of the bins' output rows, which stay in cache while the unit advances.
fn fill<T: Copy + Sync>(
    src: &[T],
    fortran: bool,
    (nu, nt, nb): (usize, usize, usize),
    bins: Range<usize>,
    conv: impl Fn(T) -> f64 + Sync,
) -> Array3<f64> {
    let nbins = bins.len();
    let mut out = Array3::<f64>::zeros((nbins, nt, nu));
    let index = |u: usize, t: usize, b: usize| {
        if fortran {
            u + nu * (t + nt * b)
        } else {
            (u * nt + t) * nb + b
        }
    };
    out.axis_iter_mut(Axis(1))
        .into_par_iter()
        .enumerate()
        .for_each(|(t, mut plane)| {
            // plane[bin, unit]: one output row per bin, contiguous over units.
            let mut rows: Vec<&mut [f64]> = plane
                .outer_iter_mut()
                .map(|r| r.into_slice().expect("the unit axis is contiguous"))
                .collect();
            // Eight units at a time: their runs of bins are gathered, then each bin's row
            // receives eight adjacent values (one cache line) at once.
            const U: usize = 8;
            let mut block = vec![[0.0f64; U]; nbins];
            let mut u0 = 0;
            while u0 < nu {
                let w = U.min(nu - u0);
                for j in 0..w {
                    let first = index(u0 + j, t, bins.start);
                    if fortran {
                        for (k, b) in block.iter_mut().enumerate() {
                            b[j] = conv(src[first + k * nu * nt]);
                        }
                    } else {
                        for (b, &v) in block.iter_mut().zip(&src[first..first + nbins]) {
                            b[j] = conv(v);
                        }
                    }
                }
                if w == U {
                    // Fixed-size copies compile to vector moves (a slice copy of run-time
                    // length would call memmove for every 64 bytes).
                    for (row, b) in rows.iter_mut().zip(&block) {
                        if let Some(dst) = row.get_mut(u0..u0 + U)
                            && let Ok(dst) = <&mut [f64; U]>::try_from(dst)
                        {
                            *dst = *b;
                        }
                    }
                } else {
                    for (row, b) in rows.iter_mut().zip(&block) {
                        row[u0..u0 + w].copy_from_slice(&b[..w]);
                    }
                }
                u0 += w;
            }
        });
    out
}

/// [`CountView::epoch_summaries`] on the raw values: units are split into chunks reduced in
/// parallel, each reading its units' runs of bins once.
fn reduce_epoch<T: Copy + Sync>(
    src: &[T],
    fortran: bool,
    (nu, nt, nb): (usize, usize, usize),
    bins: Range<usize>,
    groups: &[usize],
    conv: impl Fn(T) -> f64 + Sync,
) -> EpochSummaries {
    let n_groups = groups.iter().copied().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; n_groups];
    for &g in groups {
        sizes[g] += 1;
    }
    let mut slot = vec![None; n_groups];
    let mut kept = Vec::new();
    for (g, &k) in sizes.iter().enumerate() {
        if k >= 2 {
            slot[g] = Some(kept.len());
            kept.push(k);
        }
    }
    let trial_slot: Vec<Option<usize>> = groups.iter().map(|&g| slot[g]).collect();
    let nbins = bins.len();
    let index = |u: usize, t: usize, b: usize| {
        if fortran {
            u + nu * (t + nt * b)
        } else {
            (u * nt + t) * nb + b
        }
    };
    const CHUNK: usize = 32;
    let parts: Vec<(usize, Vec<f64>, Vec<Vec<f64>>)> = (0..nu.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let u0 = c * CHUNK;
            let w = CHUNK.min(nu - u0);
            // x[t · w + j] and course[s][k · w + j] for unit u0 + j.
            let mut x = vec![0.0; nt * w];
            let mut courses = vec![vec![0.0; nbins * w]; kept.len()];
            for j in 0..w {
                for t in 0..nt {
                    let mut acc = 0.0;
                    let sl = trial_slot[t];
                    for (k, b) in bins.clone().enumerate() {
                        let v = nan0(conv(src[index(u0 + j, t, b)]));
                        acc += v;
                        if let Some(s) = sl {
                            courses[s][k * w + j] += v;
                        }
                    }
                    x[t * w + j] = acc;
                }
            }
            (u0, x, courses)
        })
        .collect();
    let mut x = Array2::<f64>::zeros((nt, nu));
    let mut courses = vec![Array2::<f64>::zeros((nbins, nu)); kept.len()];
    for (u0, xp, cp) in &parts {
        let w = xp.len() / nt.max(1);
        for t in 0..nt {
            for j in 0..w {
                x[[t, u0 + j]] = xp[t * w + j];
            }
        }
        for (s, c) in cp.iter().enumerate() {
            for k in 0..nbins {
                for j in 0..w {
                    courses[s][[k, u0 + j]] = c[k * w + j];
                }
            }
        }
    }
    let nb_f = nbins as f64;
    x.mapv_inplace(|v| nan0(v / nb_f));
    let courses = courses
        .into_iter()
        .zip(&kept)
        .map(|(m, &k)| m / k as f64)
        .collect();
    (x, courses)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 units × 3 trials × 4 bins holding ((u·3 + t)·4 + b), in C and in Fortran order.
    fn both_orders() -> (Vec<u8>, Vec<u8>) {
        let c: Vec<u8> = (0..24).collect();
        let mut f = vec![0u8; 24];
        for u in 0..2 {
            for t in 0..3 {
                for b in 0..4 {
                    f[u + 2 * (t + 3 * b)] = ((u * 3 + t) * 4 + b) as u8;
                }
            }
        }
        (c, f)
    }

    #[test]
    fn fortran_and_c_order_read_the_same_counts() {
        let (c, f) = both_orders();
        let vc = CountView::new(CountSlice::U8(&c), (2, 3, 4), false).unwrap();
        let vf = CountView::new(CountSlice::U8(&f), (2, 3, 4), true).unwrap();
        assert_eq!(vc.to_values(1..4).unwrap(), vf.to_values(1..4).unwrap());
        let (xc, cc) = vc.epoch_summaries(1..4, &[0, 0, 1]).unwrap();
        let (xf, cf) = vf.epoch_summaries(1..4, &[0, 0, 1]).unwrap();
        assert_eq!((xc.clone(), cc.clone()), (xf, cf));
        // Unit 1, trial 2: bins 1..4 of ((1·3 + 2)·4 + b) = 21, 22, 23.
        assert_eq!(xc[[2, 1]], 22.0);
        assert_eq!(vc.to_values(1..4).unwrap()[[2, 2, 1]], 23.0);
        // Group 1 has one trial: no time course.
        assert_eq!(cc.len(), 1);
    }

    /// The one-pass reductions equal, bit for bit, the same reductions of the f64 tensor,
    /// including NaN counts (→ 0) and groups of one trial (no course).
    #[test]
    fn epoch_summaries_equal_the_tensor_reductions() {
        let (nu, nt, nb) = (37, 11, 9);
        let stored: Vec<f64> = (0..nu * nt * nb)
            .map(|i| {
                if i % 17 == 0 {
                    f64::NAN
                } else {
                    ((i * 7919) % 13) as f64 * 0.1
                }
            })
            .collect();
        let v = CountView::new(CountSlice::F64(&stored), (nu, nt, nb), false).unwrap();
        let bins = 2..8;
        let t = v.to_values(bins.clone()).unwrap();
        let mut groups: Vec<usize> = (0..nt).map(|i| i % 3).collect();
        groups[0] = 3;
        let (x, courses) = v.epoch_summaries(bins.clone(), &groups).unwrap();
        assert_eq!(courses.len(), 3);
        let nbins = bins.len();
        for tr in 0..nt {
            for u in 0..nu {
                let mut acc = 0.0;
                for b in 0..nbins {
                    acc += nan0(t[[b, tr, u]]);
                }
                assert_eq!(x[[tr, u]].to_bits(), nan0(acc / nbins as f64).to_bits());
            }
        }
        for (g, c) in courses.iter().enumerate() {
            let members: Vec<usize> = (0..nt).filter(|&i| groups[i] == g).collect();
            for b in 0..nbins {
                for u in 0..nu {
                    let mut acc = 0.0;
                    for &tr in &members {
                        acc += nan0(t[[b, tr, u]]);
                    }
                    assert_eq!(c[[b, u]].to_bits(), (acc / members.len() as f64).to_bits());
                }
            }
        }
    }

    #[test]
    fn bad_ranges_groups_and_shapes_are_errors() {
        let (c, _) = both_orders();
        assert!(CountView::new(CountSlice::U8(&c), (2, 3, 5), false).is_err());
        let v = CountView::new(CountSlice::U8(&c), (2, 3, 4), false).unwrap();
        assert!(v.to_values(2..6).is_err());
        assert!(v.to_values(2..2).is_err());
        assert!(v.epoch_summaries(0..4, &[0, 1]).is_err());
    }

    #[test]
    fn owned_byte_buffers_are_read_without_a_copy() {
        let (c, _) = both_orders();
        let t = CountTensor {
            values: CountValues::U8(Box::new(c)),
            shape: (2, 3, 4),
            fortran: false,
            bin_centres_s: vec![0.0, 1.0, 2.0, 3.0],
            bin_width_s: 1.0,
            align_event: "stim_onset".into(),
        };
        let (x, _) = t.view().unwrap().epoch_summaries(0..4, &[0, 0, 0]).unwrap();
        assert_eq!(x[[0, 0]], 1.5);
    }
}
