//! Shards: one run split over a Slurm array (or any N processes), each processing every N-th
//! work item; `merge` combines their outputs.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Shard `index` of `count` (0-based): the items `i` with `i % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// A checked shard.
    ///
    /// # Errors
    /// [`Error::Invalid`] unless `index < count`.
    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 || index >= count {
            return Err(Error::invalid(
                "shard",
                "i/N with 0 <= i < N",
                format!("{index}/{count}"),
            ));
        }
        Ok(Shard { index, count })
    }

    /// Parses `i/N` (as given to `--shard`).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `--shard` with the text given.
    ///
    /// ```
    /// use neuropop::pipeline::Shard;
    /// assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
    /// assert!(Shard::parse("4/4").is_err());
    /// assert!(Shard::parse("x").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Shard> {
        let bad = || Error::invalid("--shard", "i/N with 0 <= i < N", text.to_string());
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n).map_err(|_| bad())
    }

    /// The shard of a Slurm array task (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`), if
    /// both are set and valid.
    pub fn from_slurm() -> Option<Shard> {
        let var = |k: &str| std::env::var(k).ok()?.trim().parse::<usize>().ok();
        Shard::new(var("SLURM_ARRAY_TASK_ID")?, var("SLURM_ARRAY_TASK_COUNT")?).ok()
    }

    /// `--shard` if given, else the Slurm array task's shard, else none.
    ///
    /// # Errors
    /// As [`Shard::parse`].
    pub fn from_arg_or_slurm(arg: Option<&str>) -> Result<Option<Shard>> {
        match arg {
            Some(text) => Shard::parse(text).map(Some),
            None => Ok(Shard::from_slurm()),
        }
    }

    /// Whether item `i` belongs to this shard.
    ///
    /// ```
    /// let s = neuropop::pipeline::Shard { index: 1, count: 3 };
    /// assert!(s.contains(4) && !s.contains(3));
    /// ```
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index
    }
}
