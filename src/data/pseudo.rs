//! Pseudo-populations: neurons recorded in different sessions combined into one population by
//! resampling trials per condition (Meyers et al. 2008; the standard approach for monkey
//! recordings where each neuron is seen in only one session).

use super::{Key, Labels};
use crate::result::Meta;
use crate::stats::rng;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, s};
use rand::Rng as _;

/// Options for [`pseudo_population`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PseudoOptions {
    /// Pseudo-trials drawn per condition.
    pub trials_per_condition: usize,
    /// Seed; session `s`, condition `c` draws from stream `(seed, s * 1_000_003 + c)`.
    pub seed: u64,
}

impl Default for PseudoOptions {
    fn default() -> Self {
        PseudoOptions {
            trials_per_condition: 20,
            seed: 0,
        }
    }
}

/// A pseudo-population: pseudo-trials × (all sessions' units), with condition labels.
#[derive(Clone, Debug)]
pub struct PseudoPopulation {
    /// Pseudo-trials × units (sessions' units concatenated in input order).
    pub x: Array2<f64>,
    /// Condition of each pseudo-trial.
    pub labels: Labels,
    /// Conditions used and dropped (a condition missing from any session is dropped).
    pub meta: Meta,
}

/// Builds a pseudo-population from per-session trials × units matrices with per-trial keys.
/// Only conditions present in every session are used; for each, `trials_per_condition`
/// pseudo-trials are made by drawing, independently per session, a random trial of that condition
/// (with replacement). Deterministic for a given seed, whatever the thread count.
///
/// # Errors
/// [`Error::Invalid`] if a session's key count differs from its rows, or no condition is shared.
///
/// ```
/// use ndarray::array;
/// use neuropop::data::{Key, pseudo::{pseudo_population, PseudoOptions}};
/// let a = array![[1.0], [2.0], [10.0]];
/// let b = array![[5.0, 5.0], [50.0, 50.0]];
/// let ka = vec![Key::Int(0), Key::Int(0), Key::Int(1)];
/// let kb = vec![Key::Int(0), Key::Int(1)];
/// let p = pseudo_population(&[(a.view(), ka), (b.view(), kb)], &PseudoOptions { trials_per_condition: 3, seed: 1 }).unwrap();
/// assert_eq!(p.x.dim(), (6, 3));
/// assert_eq!(p.x[[5, 0]], 10.0); // condition 1 of session a has one trial
/// ```
pub fn pseudo_population(
    sessions: &[(ArrayView2<f64>, Vec<Key>)],
    opts: &PseudoOptions,
) -> Result<PseudoPopulation> {
    let mut meta = Meta::default();
    for (s, (x, k)) in sessions.iter().enumerate() {
        if x.nrows() != k.len() {
            return Err(Error::invalid(
                format!("pseudo_population session {s}"),
                format!("{} condition keys", x.nrows()),
                k.len().to_string(),
            ));
        }
    }
    let per_session: Vec<Labels> = sessions
        .iter()
        .map(|(_, k)| Labels::from_keys(k.clone()))
        .collect();
    let mut all: Vec<Key> = per_session
        .iter()
        .flat_map(|l| l.levels().to_vec())
        .collect();
    all.sort();
    all.dedup();
    meta.n_requested = all.len();
    let shared: Vec<Key> = all
        .into_iter()
        .filter(|k| {
            let missing: Vec<usize> = per_session
                .iter()
                .enumerate()
                .filter(|(_, l)| l.code_of(k).is_none())
                .map(|(i, _)| i)
                .collect();
            if !missing.is_empty() {
                meta.drop_item(
                    format!("condition {k}"),
                    format!("absent from session(s) {missing:?}"),
                );
            }
            missing.is_empty()
        })
        .collect();
    if shared.is_empty() {
        return Err(Error::invalid(
            "pseudo_population",
            "at least one condition present in every session",
            "none",
        ));
    }
    meta.n_used = shared.len();
    let n_units: usize = sessions.iter().map(|(x, _)| x.ncols()).sum();
    let per = opts.trials_per_condition;
    let mut x = Array2::<f64>::zeros((shared.len() * per, n_units));
    let mut keys = Vec::with_capacity(shared.len() * per);
    for key in &shared {
        keys.extend(std::iter::repeat_n(key.clone(), per));
    }
    let mut col = 0;
    for (si, ((sx, _), lab)) in sessions.iter().zip(&per_session).enumerate() {
        let groups = lab.groups();
        for (ci, key) in shared.iter().enumerate() {
            let code = lab.code_of(key).unwrap_or_default();
            let pool = &groups[code];
            let mut r = rng::stream(opts.seed, (si as u64) * 1_000_003 + ci as u64);
            for k in 0..per {
                let t = pool[r.random_range(0..pool.len())];
                x.slice_mut(s![ci * per + k, col..col + sx.ncols()])
                    .assign(&sx.row(t));
            }
        }
        col += sx.ncols();
    }
    Ok(PseudoPopulation {
        x,
        labels: Labels::from_keys(keys),
        meta,
    })
}
