//! Pieces shared by every analysis result: counts used, what was dropped and why, warnings.
//!
//! Each analysis returns its own result struct (estimate, raw per-split/per-fold/per-draw values,
//! uncertainty) with a [`Meta`] field, so that a table row or a figure caption can always say how
//! many conditions/trials/units went in and why any were left out.

use serde::{Deserialize, Serialize};

/// Something an analysis left out, with the reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// What was dropped, e.g. `"condition (0.5, 0)"`, `"area LGd"`, `"session 3"`.
    pub item: String,
    /// Why, e.g. `"1 trial (< 2)"`.
    pub reason: String,
}

/// Counts and diagnostics attached to every result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Items (conditions, trials, splits, ...) offered to the analysis.
    pub n_requested: usize,
    /// Items actually used.
    pub n_used: usize,
    /// Items left out, each with its reason.
    pub dropped: Vec<Dropped>,
    /// Why an estimate is undefined (NaN/None), or anything the user should know.
    pub warnings: Vec<String>,
}

impl Meta {
    /// Records a dropped item.
    ///
    /// ```
    /// let mut m = neuropop::result::Meta::default();
    /// m.drop_item("condition 3", "1 trial (< 2)");
    /// assert_eq!(m.dropped.len(), 1);
    /// ```
    pub fn drop_item(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        self.dropped.push(Dropped {
            item: item.into(),
            reason: reason.into(),
        });
    }

    /// Records a warning.
    ///
    /// ```
    /// let mut m = neuropop::result::Meta::default();
    /// m.warn("constant RDM: Spearman undefined");
    /// assert_eq!(m.warnings[0], "constant RDM: Spearman undefined");
    /// ```
    pub fn warn(&mut self, message: impl Into<String>) {
        self.warnings.push(message.into());
    }
}

/// Serialises an `f64` as JSON `null` when it is not finite (serde_json would fail on NaN).
///
/// Use with `#[serde(serialize_with = "neuropop::result::nan_as_null")]`.
pub fn nan_as_null<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else {
        s.serialize_none()
    }
}

/// Like [`nan_as_null`] for a vector of `f64`.
pub fn nan_as_null_vec<S: serde::Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        if x.is_finite() {
            seq.serialize_element(x)?;
        } else {
            seq.serialize_element(&None::<f64>)?;
        }
    }
    seq.end()
}

/// `#[serde(with = "neuropop::result::nan_null")]` for an `f64` field: NaN/±∞ are written as
/// `null` (JSON, table cells) and `null` reads back as NaN, so "undefined" survives a round
/// trip without ever being a number.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct R { #[serde(with = "neuropop::result::nan_null")] rho: f64 }
/// assert_eq!(serde_json::to_string(&R { rho: f64::NAN }).unwrap(), r#"{"rho":null}"#);
/// let r: R = serde_json::from_str(r#"{"rho":null}"#).unwrap();
/// assert!(r.rho.is_nan());
/// ```
pub mod nan_null {
    use serde::Deserialize as _;

    /// Serialises NaN/±∞ as `null`.
    pub fn serialize<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        super::nan_as_null(x, s)
    }

    /// Reads `null` as NaN.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
