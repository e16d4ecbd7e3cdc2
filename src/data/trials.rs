//! The trial table: one row per trial, backed by a polars `DataFrame`.
//!
//! Required columns: `start_time`, `stop_time` (seconds, session clock) when the source has them;
//! event-time columns (`gocue`, `feedback_time`, `goal_cue_time`, ...) and condition columns
//! (`contrast_left`, `goal`, ...) as the source provides. Typed accessors convert with clear errors.

use super::labels::{Key, Labels};
use crate::{Error, Result};
use polars::prelude::{Column, DataFrame, DataType, IdxCa, IdxSize};

/// A table of trials. Cheap to clone (polars columns are reference-counted).
#[derive(Clone, Debug, Default)]
pub struct TrialTable {
    df: DataFrame,
    /// Where the table came from, for error messages (file or session id).
    source: String,
}

impl PartialEq for TrialTable {
    fn eq(&self, other: &Self) -> bool {
        self.df.equals_missing(&other.df)
    }
}

impl TrialTable {
    /// Wraps a DataFrame; `source` names the file or session in error messages.
    pub fn new(df: DataFrame, source: impl Into<String>) -> TrialTable {
        TrialTable {
            df,
            source: source.into(),
        }
    }

    /// Builds a table from named f64 columns of equal length.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the lengths differ.
    ///
    /// ```
    /// use neuropop::data::TrialTable;
    /// let t = TrialTable::from_f64_columns(&[("start_time", vec![0.0, 2.0]), ("stop_time", vec![1.5, 3.5])], "demo").unwrap();
    /// assert_eq!(t.n_trials(), 2);
    /// assert_eq!(t.f64("stop_time").unwrap(), vec![1.5, 3.5]);
    /// ```
    pub fn from_f64_columns(
        columns: &[(&str, Vec<f64>)],
        source: impl Into<String>,
    ) -> Result<TrialTable> {
        let source = source.into();
        let cols: Vec<Column> = columns
            .iter()
            .map(|(name, v)| Column::new((*name).into(), v))
            .collect();
        let df = DataFrame::new_infer_height(cols)
            .map_err(|e| Error::table(format!("{source}: trial table"), e))?;
        Ok(TrialTable { df, source })
    }

    /// An empty table with `n` rows and no columns.
    pub fn with_rows(n: usize, source: impl Into<String>) -> TrialTable {
        let df = DataFrame::new(n, vec![]).unwrap_or_default();
        TrialTable {
            df,
            source: source.into(),
        }
    }

    /// Adds or replaces a column.
    ///
    /// # Errors
    /// [`Error::Table`] if its length differs from the number of trials.
    pub fn set_column(&mut self, column: Column) -> Result<()> {
        let name = column.name().to_string();
        self.df
            .with_column(column)
            .map_err(|e| Error::table(format!("{}: trial column '{name}'", self.source), e))?;
        Ok(())
    }

    /// The underlying DataFrame.
    pub fn frame(&self) -> &DataFrame {
        &self.df
    }

    /// Number of trials.
    pub fn n_trials(&self) -> usize {
        self.df.height()
    }

    /// Column names in order.
    pub fn column_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// True if the column exists.
    pub fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df
            .column(name)
            .map_err(|_| Error::missing(format!("{} trial table", self.source), "column", name))
    }

    /// A numeric column as f64 (integers and booleans are converted; nulls become NaN).
    ///
    /// # Errors
    /// [`Error::Missing`] if absent, [`Error::Invalid`] if not numeric.
    pub fn f64(&self, name: &str) -> Result<Vec<f64>> {
        let col = self.column(name)?;
        let wrong = || {
            Error::invalid(
                format!("{} trial column '{name}'", self.source),
                "a numeric column",
                format!("{}", col.dtype()),
            )
        };
        if !(col.dtype().is_primitive_numeric() || col.dtype() == &DataType::Boolean) {
            return Err(wrong());
        }
        let cast = col.cast(&DataType::Float64).map_err(|_| wrong())?;
        let ca = cast.f64().map_err(|_| wrong())?;
        Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }

    /// An integer column as i64. Floats are accepted when every value is integral.
    ///
    /// # Errors
    /// [`Error::Missing`] if absent; [`Error::Invalid`] for non-numeric columns, nulls, or
    /// non-integral values (naming the first offending trial).
    pub fn i64(&self, name: &str) -> Result<Vec<i64>> {
        let values = self.f64(name)?;
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if v.is_finite() && v.fract() == 0.0 {
                    Ok(v as i64)
                } else {
                    Err(Error::invalid(
                        format!("{} trial column '{name}', trial {i}", self.source),
                        "an integer",
                        format!("{v}"),
                    ))
                }
            })
            .collect()
    }

    /// A string column.
    ///
    /// # Errors
    /// [`Error::Missing`] if absent, [`Error::Invalid`] if not a string column.
    pub fn str(&self, name: &str) -> Result<Vec<String>> {
        let col = self.column(name)?;
        let ca = col.str().map_err(|_| {
            Error::invalid(
                format!("{} trial column '{name}'", self.source),
                "a string column",
                format!("{}", col.dtype()),
            )
        })?;
        Ok(ca.iter().map(|v| v.unwrap_or("").to_string()).collect())
    }

    /// A boolean column (numeric columns: non-zero is true).
    ///
    /// # Errors
    /// As [`TrialTable::f64`].
    pub fn bool(&self, name: &str) -> Result<Vec<bool>> {
        let col = self.column(name)?;
        if let Ok(ca) = col.bool() {
            return Ok(ca.iter().map(|v| v.unwrap_or(false)).collect());
        }
        Ok(self
            .f64(name)?
            .into_iter()
            .map(|v| v != 0.0 && !v.is_nan())
            .collect())
    }

    /// Condition keys of one column: strings as `Key::Str`, integral numbers as `Key::Int`,
    /// other numbers as `Key::Float`.
    ///
    /// # Errors
    /// [`Error::Missing`] if the column is absent.
    pub fn keys(&self, name: &str) -> Result<Vec<Key>> {
        let col = self.column(name)?;
        if col.dtype() == &DataType::String {
            return Ok(self.str(name)?.into_iter().map(Key::Str).collect());
        }
        let is_int = col.dtype().is_integer() || col.dtype() == &DataType::Boolean;
        Ok(self
            .f64(name)?
            .into_iter()
            .map(|v| {
                if is_int {
                    Key::Int(v as i64)
                } else {
                    Key::Float(v)
                }
            })
            .collect())
    }

    /// Labels from one or more condition columns (tuples when several).
    ///
    /// # Errors
    /// [`Error::Missing`] naming the absent column.
    ///
    /// ```
    /// use neuropop::data::TrialTable;
    /// let t = TrialTable::from_f64_columns(&[("cl", vec![0.5, 0.0, 0.5]), ("cr", vec![0.0, 0.0, 0.0])], "demo").unwrap();
    /// let l = t.labels(&["cl", "cr"]).unwrap();
    /// assert_eq!(l.n_levels(), 2);
    /// assert_eq!(l.codes(), &[1, 0, 1]);
    /// ```
    pub fn labels(&self, columns: &[&str]) -> Result<Labels> {
        if columns.len() == 1 {
            return Ok(Labels::from_keys(self.keys(columns[0])?));
        }
        let cols = columns
            .iter()
            .map(|c| self.keys(c))
            .collect::<Result<Vec<_>>>()?;
        Ok(Labels::from_columns(&cols))
    }

    /// The rows at `idx`, in that order.
    ///
    /// # Errors
    /// [`Error::Invalid`] if an index is out of range.
    pub fn select(&self, idx: &[usize]) -> Result<TrialTable> {
        let n = self.n_trials();
        if let Some(&bad) = idx.iter().find(|&&i| i >= n) {
            return Err(Error::invalid(
                format!("{} trial selection", self.source),
                format!("trial index < {n}"),
                bad.to_string(),
            ));
        }
        let ids: Vec<IdxSize> = idx.iter().map(|&i| i as IdxSize).collect();
        let df = self
            .df
            .take(&IdxCa::from_vec("idx".into(), ids))
            .map_err(|e| Error::table(format!("{}: trial selection", self.source), e))?;
        Ok(TrialTable {
            df,
            source: self.source.clone(),
        })
    }

    /// Indices of trials for which `keep(i)` is true.
    pub fn where_(&self, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        (0..self.n_trials()).filter(|&i| keep(i)).collect()
    }

    /// The source name used in error messages.
    pub fn source(&self) -> &str {
        &self.source
    }
}
