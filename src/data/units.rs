//! Per-unit metadata: id, brain region, optional depth, CCF coordinates and quality label.

use crate::{Error, Result};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Observation intervals of every unit: per unit, its (start, stop) pairs in seconds.
pub type ObsIntervals = Vec<Vec<(f64, f64)>>;

/// One row per unit (neuron / cluster), in the order of every unit axis that refers to it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitTable {
    /// Unit identifiers as the source names them (cluster id, NWB unit id, ...).
    pub ids: Vec<i64>,
    /// Brain region per unit (Allen acronym, or the lab's area name such as `"vlPFC"`);
    /// `"root"` or `""` where the source leaves it unassigned.
    pub regions: Vec<String>,
    /// Depth along the probe in micrometres, when known.
    pub depth_um: Option<Vec<f64>>,
    /// Allen CCF coordinates (units × 3: AP, DV, LR), when known.
    pub ccf: Option<Array2<f64>>,
    /// Spike-sorting quality label per unit (e.g. `"good"`, `"mua"`, or a numeric code), when known.
    pub quality: Option<Vec<String>>,
    /// Observation intervals per unit (start, stop) in seconds — the times the unit could be
    /// recorded (NWB `obs_intervals`), when the source states them.
    pub obs_intervals: Option<ObsIntervals>,
}

impl UnitTable {
    /// A table with ids and regions only.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the two lengths differ.
    ///
    /// ```
    /// let u = neuropop::data::UnitTable::new(vec![1, 2], vec!["VISp".into(), "CA1".into()]).unwrap();
    /// assert_eq!(u.len(), 2);
    /// ```
    pub fn new(ids: Vec<i64>, regions: Vec<String>) -> Result<Self> {
        if ids.len() != regions.len() {
            return Err(Error::invalid(
                "UnitTable::new regions",
                format!("{} regions (one per unit id)", ids.len()),
                format!("{} regions", regions.len()),
            ));
        }
        Ok(UnitTable {
            ids,
            regions,
            depth_um: None,
            ccf: None,
            quality: None,
            obs_intervals: None,
        })
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no units.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Checks that every optional column has one entry per unit.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the column whose length is wrong.
    pub fn validate(&self) -> Result<()> {
        let n = self.ids.len();
        let check = |name: &str, len: usize| {
            if len == n {
                Ok(())
            } else {
                Err(Error::invalid(
                    format!("UnitTable.{name}"),
                    format!("{n} entries (one per unit)"),
                    format!("{len}"),
                ))
            }
        };
        check("regions", self.regions.len())?;
        if let Some(d) = &self.depth_um {
            check("depth_um", d.len())?;
        }
        if let Some(c) = &self.ccf {
            check("ccf rows", c.nrows())?;
            if c.ncols() != 3 {
                return Err(Error::invalid(
                    "UnitTable.ccf",
                    "3 columns (AP, DV, LR)",
                    format!("{} columns", c.ncols()),
                ));
            }
        }
        if let Some(q) = &self.quality {
            check("quality", q.len())?;
        }
        if let Some(o) = &self.obs_intervals {
            check("obs_intervals", o.len())?;
        }
        Ok(())
    }

    /// The distinct regions in order of first appearance, with their unit counts.
    ///
    /// ```
    /// let u = neuropop::data::UnitTable::new(vec![0, 1, 2], vec!["CA1".into(), "VISp".into(), "CA1".into()]).unwrap();
    /// assert_eq!(u.region_counts(), vec![("CA1".to_string(), 2), ("VISp".to_string(), 1)]);
    /// ```
    pub fn region_counts(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for r in &self.regions {
            match out.iter_mut().find(|(name, _)| name == r) {
                Some((_, c)) => *c += 1,
                None => out.push((r.clone(), 1)),
            }
        }
        out
    }

    /// Indices of the units in `region`, in table order.
    ///
    /// ```
    /// let u = neuropop::data::UnitTable::new(vec![0, 1, 2], vec!["CA1".into(), "VISp".into(), "CA1".into()]).unwrap();
    /// assert_eq!(u.indices_in_region("CA1"), vec![0, 2]);
    /// ```
    pub fn indices_in_region(&self, region: &str) -> Vec<usize> {
        self.regions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.as_str() == region)
            .map(|(i, _)| i)
            .collect()
    }

    /// The sub-table of the given units (in the given order).
    ///
    /// # Errors
    /// [`Error::Invalid`] if an index is out of range.
    pub fn select(&self, idx: &[usize]) -> Result<UnitTable> {
        let n = self.len();
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(Error::invalid(
                "UnitTable::select",
                format!("unit index < {n}"),
                bad.to_string(),
            ));
        }
        Ok(UnitTable {
            ids: idx.iter().map(|&i| self.ids[i]).collect(),
            regions: idx.iter().map(|&i| self.regions[i].clone()).collect(),
            depth_um: self
                .depth_um
                .as_ref()
                .map(|d| idx.iter().map(|&i| d[i]).collect()),
            ccf: self.ccf.as_ref().map(|c| c.select(ndarray::Axis(0), idx)),
            quality: self
                .quality
                .as_ref()
                .map(|q| idx.iter().map(|&i| q[i].clone()).collect()),
            obs_intervals: self
                .obs_intervals
                .as_ref()
                .map(|o| idx.iter().map(|&i| o[i].clone()).collect()),
        })
    }

    /// Concatenates tables (units of several sessions into one pseudo-population).
    pub fn concat(tables: &[&UnitTable]) -> UnitTable {
        let all = |f: &dyn Fn(&UnitTable) -> bool| tables.iter().all(|t| f(t));
        UnitTable {
            ids: tables.iter().flat_map(|t| t.ids.iter().copied()).collect(),
            regions: tables
                .iter()
                .flat_map(|t| t.regions.iter().cloned())
                .collect(),
            depth_um: if all(&|t| t.depth_um.is_some()) {
                Some(
                    tables
                        .iter()
                        .flat_map(|t| t.depth_um.iter().flatten().copied())
                        .collect(),
                )
            } else {
                None
            },
            ccf: None,
            quality: if all(&|t| t.quality.is_some()) {
                Some(
                    tables
                        .iter()
                        .flat_map(|t| t.quality.iter().flatten().cloned())
                        .collect(),
                )
            } else {
                None
            },
            obs_intervals: if all(&|t| t.obs_intervals.is_some()) {
                Some(
                    tables
                        .iter()
                        .flat_map(|t| t.obs_intervals.iter().flatten().cloned())
                        .collect(),
                )
            } else {
                None
            },
        }
    }
}
