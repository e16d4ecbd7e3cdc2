//! Categorical labels: condition keys (numbers, strings, or tuples of them) mapped to dense codes.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// One condition key: a number, a string, or a tuple of keys (e.g. `(contrast_left, contrast_right)`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    /// An integer level.
    Int(i64),
    /// A real-valued level (e.g. a contrast). Compared by total order, so `NaN` is a level too.
    Float(f64),
    /// A named level.
    Str(String),
    /// A combination of levels.
    Tuple(Vec<Key>),
}

impl Key {
    fn rank(&self) -> u8 {
        match self {
            Key::Int(_) | Key::Float(_) => 0,
            Key::Str(_) => 1,
            Key::Tuple(_) => 2,
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    /// Numbers compare by value (an `Int` equals the `Float` of the same value), then strings,
    /// then tuples lexicographically: the order `numpy.unique` gives for homogeneous keys.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Key::Int(a), Key::Int(b)) => a.cmp(b),
            (Key::Int(a), Key::Float(b)) => (*a as f64).total_cmp(b),
            (Key::Float(a), Key::Int(b)) => a.total_cmp(&(*b as f64)),
            (Key::Float(a), Key::Float(b)) => a.total_cmp(b),
            (Key::Str(a), Key::Str(b)) => a.cmp(b),
            (Key::Tuple(a), Key::Tuple(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(v) => write!(f, "{v}"),
            Key::Float(v) => write!(f, "{v}"),
            Key::Str(s) => write!(f, "{s}"),
            Key::Tuple(t) => {
                write!(f, "(")?;
                for (i, k) in t.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// Per-trial dense codes `0..n_levels` with the level each code stands for (levels sorted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    codes: Vec<usize>,
    levels: Vec<Key>,
}

impl Labels {
    /// Encodes keys; levels are the sorted distinct keys.
    ///
    /// ```
    /// use neuropop::data::{Key, Labels};
    /// let l = Labels::from_keys(vec![Key::Str("b".into()), Key::Str("a".into()), Key::Str("b".into())]);
    /// assert_eq!(l.codes(), &[1, 0, 1]);
    /// assert_eq!(l.level(0), &Key::Str("a".into()));
    /// ```
    pub fn from_keys(keys: Vec<Key>) -> Labels {
        let mut levels = keys.clone();
        levels.sort();
        levels.dedup();
        let codes = keys
            .iter()
            .map(|k| levels.binary_search(k).unwrap_or_default())
            .collect();
        Labels { codes, levels }
    }

    /// Encodes integers.
    ///
    /// ```
    /// let l = neuropop::data::Labels::from_ints(&[7, 3, 7, 9]);
    /// assert_eq!(l.codes(), &[1, 0, 1, 2]);
    /// assert_eq!(l.n_levels(), 3);
    /// ```
    pub fn from_ints(values: &[i64]) -> Labels {
        Self::from_keys(values.iter().map(|&v| Key::Int(v)).collect())
    }

    /// Encodes reals (e.g. contrasts).
    pub fn from_floats(values: &[f64]) -> Labels {
        Self::from_keys(values.iter().map(|&v| Key::Float(v)).collect())
    }

    /// Encodes tuples formed from parallel columns (all columns must have the same length;
    /// the shortest length is used otherwise, which callers prevent by construction).
    ///
    /// ```
    /// use neuropop::data::{Key, Labels};
    /// let l = Labels::from_columns(&[vec![Key::Float(0.5), Key::Float(0.0)], vec![Key::Float(0.0), Key::Float(0.0)]]);
    /// assert_eq!(l.n_levels(), 2);
    /// assert_eq!(l.level(l.codes()[0]).to_string(), "(0.5, 0)");
    /// ```
    pub fn from_columns(columns: &[Vec<Key>]) -> Labels {
        let n = columns.iter().map(Vec::len).min().unwrap_or(0);
        let keys = (0..n)
            .map(|i| Key::Tuple(columns.iter().map(|c| c[i].clone()).collect()))
            .collect();
        Self::from_keys(keys)
    }

    /// Dense code per trial.
    pub fn codes(&self) -> &[usize] {
        &self.codes
    }

    /// All levels, sorted; code `c` stands for `levels()[c]`.
    pub fn levels(&self) -> &[Key] {
        &self.levels
    }

    /// The level of code `c`. Panics if `c >= n_levels()` (codes come from this value).
    pub fn level(&self, c: usize) -> &Key {
        &self.levels[c]
    }

    /// The code of a level, if present.
    pub fn code_of(&self, key: &Key) -> Option<usize> {
        self.levels.binary_search(key).ok()
    }

    /// Number of distinct levels.
    pub fn n_levels(&self) -> usize {
        self.levels.len()
    }

    /// Number of trials.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when there are no trials.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Trial count per code.
    ///
    /// ```
    /// let l = neuropop::data::Labels::from_ints(&[1, 1, 2]);
    /// assert_eq!(l.counts(), vec![2, 1]);
    /// ```
    pub fn counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.levels.len()];
        for &k in &self.codes {
            c[k] += 1;
        }
        c
    }

    /// Trial indices per code, each in trial order.
    pub fn groups(&self) -> Vec<Vec<usize>> {
        let mut g = vec![Vec::new(); self.levels.len()];
        for (i, &k) in self.codes.iter().enumerate() {
            g[k].push(i);
        }
        g
    }

    /// The labels of a subset of trials, re-encoded so codes stay dense.
    pub fn select(&self, idx: &[usize]) -> Labels {
        Self::from_keys(
            idx.iter()
                .filter_map(|&i| self.codes.get(i).map(|&c| self.levels[c].clone()))
                .collect(),
        )
    }
}
