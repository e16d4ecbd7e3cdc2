//! Steinmetz-like sessions: Neuropixels-style units in several Allen areas, spike counts in 10 ms
//! bins over 2.5 s with stimulus onset at 0.5 s (bin 50), left/right contrasts in
//! {0, 0.25, 0.5, 1}, choices and feedback.
//!
//! Planted structure: each area has a stimulus-tuning gain (its known order is the truth that the
//! Shesha split-half stability must recover); some areas drift slowly over the session; the
//! probability of a correct choice grows with the contrast difference.

use crate::data::{PopulationTensor, Recording, SessionInfo, TrialTable, UnitTable, ValueKind};
use crate::stats::rng;
use crate::{Error, Result};
use ndarray::Array3;
use polars::prelude::Column;
use rand::Rng as _;
use rand_distr::{Distribution, Normal, Poisson};
use serde::{Deserialize, Serialize};

/// One simulated area: name, stimulus-tuning gain, slow drift amplitude.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AreaSpec {
    /// Allen acronym.
    pub name: String,
    /// Stimulus-tuning gain (0 = untuned). Higher gain → more stable condition geometry.
    pub tuning_gain: f64,
    /// Relative rate change from the first to the last trial (0 = stationary).
    pub drift: f64,
}

/// Options of [`simulate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SteinmetzSimOptions {
    /// Number of sessions.
    pub n_sessions: usize,
    /// Trials per session: uniform in this inclusive range.
    pub trials: (usize, usize),
    /// Units per area: uniform in this inclusive range.
    pub units_per_area: (usize, usize),
    /// Areas (each session records a random subset of `areas_per_session` of them).
    pub areas: Vec<AreaSpec>,
    /// Areas per session.
    pub areas_per_session: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for SteinmetzSimOptions {
    /// Realistic size: 12 sessions, 200–320 trials, 20–80 units per area.
    fn default() -> Self {
        let a = |name: &str, tuning_gain: f64, drift: f64| AreaSpec {
            name: name.into(),
            tuning_gain,
            drift,
        };
        SteinmetzSimOptions {
            n_sessions: 12,
            trials: (200, 320),
            units_per_area: (20, 80),
            areas: vec![
                a("VISp", 1.6, 0.0),
                a("VISl", 1.3, 0.0),
                a("LGd", 1.1, 0.0),
                a("MOs", 0.8, 0.3),
                a("CA1", 0.5, 0.4),
                a("CP", 0.35, 0.0),
                a("MRN", 0.2, 0.3),
                a("root", 0.0, 0.0),
            ],
            areas_per_session: 6,
            seed: 2019,
        }
    }
}

impl SteinmetzSimOptions {
    /// Small size for tests: 4 sessions, 80–110 trials, 12–24 units per area.
    pub fn small() -> Self {
        SteinmetzSimOptions {
            n_sessions: 4,
            trials: (80, 110),
            units_per_area: (12, 24),
            areas_per_session: 5,
            ..Default::default()
        }
    }
}

/// The truth planted in a simulation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SteinmetzTruth {
    /// Areas with their gains and drifts.
    pub areas: Vec<AreaSpec>,
}

/// The contrast levels of the task.
pub const CONTRASTS: [f64; 4] = [0.0, 0.25, 0.5, 1.0];

/// Simulates sessions; each [`Recording`] carries its binned counts (`binned`), 250 bins of 10 ms
/// aligned to stimulus onset (bin 50 starts at 0 s).
///
/// # Errors
/// [`Error::Invalid`] for empty areas or inverted ranges.
///
/// ```
/// use neuropop::sim::steinmetz::{simulate, SteinmetzSimOptions};
/// let mut o = SteinmetzSimOptions::small();
/// o.n_sessions = 1;
/// let (sessions, _truth) = simulate(&o).unwrap();
/// let t = sessions[0].binned.as_ref().unwrap();
/// assert_eq!(t.n_bins(), 250);
/// ```
pub fn simulate(opts: &SteinmetzSimOptions) -> Result<(Vec<Recording>, SteinmetzTruth)> {
    if opts.areas.is_empty()
        || opts.trials.0 > opts.trials.1
        || opts.units_per_area.0 > opts.units_per_area.1
        || opts.trials.0 == 0
    {
        return Err(Error::invalid(
            "SteinmetzSimOptions",
            "non-empty areas and ranges with min ≤ max, min trials ≥ 1",
            format!("{opts:?}"),
        ));
    }
    let sessions = (0..opts.n_sessions)
        .map(|s| simulate_session(opts, s))
        .collect::<Result<Vec<_>>>()?;
    Ok((
        sessions,
        SteinmetzTruth {
            areas: opts.areas.clone(),
        },
    ))
}

fn simulate_session(opts: &SteinmetzSimOptions, s: usize) -> Result<Recording> {
    let mut r = rng::stream(opts.seed, s as u64);
    let n_trials = r.random_range(opts.trials.0..=opts.trials.1);
    // Pick this session's areas.
    let mut order: Vec<usize> = (0..opts.areas.len()).collect();
    rng::shuffle(&mut order, &mut r);
    order.truncate(opts.areas_per_session.min(opts.areas.len()).max(1));
    order.sort_unstable();
    let mut regions = Vec::new();
    let mut gains = Vec::new();
    let mut drifts = Vec::new();
    for &a in &order {
        let spec = &opts.areas[a];
        let n = r.random_range(opts.units_per_area.0..=opts.units_per_area.1);
        for _ in 0..n {
            regions.push(spec.name.clone());
            gains.push(spec.tuning_gain);
            drifts.push(spec.drift);
        }
    }
    let n_units = regions.len();
    let std =
        Normal::new(0.0, 1.0).map_err(|e| Error::invalid("normal", "valid", e.to_string()))?;
    // Unit parameters: baseline rate (Hz), left/right contrast weights, response latency.
    let base: Vec<f64> = (0..n_units)
        .map(|_| 2.0 + 18.0 * r.random::<f64>())
        .collect();
    let w_left: Vec<f64> = (0..n_units).map(|_| std.sample(&mut r)).collect();
    let w_right: Vec<f64> = (0..n_units).map(|_| std.sample(&mut r)).collect();
    let drift_sign: Vec<f64> = (0..n_units)
        .map(|_| if r.random::<bool>() { 1.0 } else { -1.0 })
        .collect();

    let mut cl = Vec::with_capacity(n_trials);
    let mut cr = Vec::with_capacity(n_trials);
    let mut response = Vec::with_capacity(n_trials);
    let mut feedback = Vec::with_capacity(n_trials);
    let mut gocue = Vec::with_capacity(n_trials);
    let mut rt = Vec::with_capacity(n_trials);
    let mut fb_time = Vec::with_capacity(n_trials);
    for _ in 0..n_trials {
        let l = CONTRASTS[r.random_range(0..4)];
        let rr = CONTRASTS[r.random_range(0..4)];
        // Accuracy grows with the contrast difference (psychometric curve).
        let diff = (l - rr).abs();
        let p_correct = if diff == 0.0 {
            0.5
        } else {
            1.0 / (1.0 + (-(6.0 * diff - 0.5)).exp())
        };
        let correct = r.random::<f64>() < p_correct;
        let right_answer = if l > rr {
            1.0
        } else if rr > l {
            -1.0
        } else if l == 0.0 {
            0.0
        } else if r.random::<bool>() {
            1.0
        } else {
            -1.0
        };
        let resp = if correct {
            right_answer
        } else if right_answer == 0.0 {
            if r.random::<bool>() { 1.0 } else { -1.0 }
        } else {
            -right_answer
        };
        cl.push(l);
        cr.push(rr);
        response.push(resp);
        feedback.push(if correct { 1.0 } else { -1.0 });
        let g = 0.5 + 0.4 + 0.3 * r.random::<f64>();
        let t_resp = g + 0.2 + 0.6 * r.random::<f64>();
        gocue.push(g);
        rt.push(t_resp);
        fb_time.push(t_resp + 0.05);
    }

    let n_bins = 250;
    let bin = 0.01;
    let mut values = Array3::<f64>::zeros((n_bins, n_trials, n_units));
    for t in 0..n_trials {
        let progress = if n_trials > 1 {
            t as f64 / (n_trials - 1) as f64
        } else {
            0.0
        };
        for u in 0..n_units {
            let drive = gains[u] * (w_left[u] * cl[t] + w_right[u] * cr[t]);
            let drift = 1.0 + drifts[u] * drift_sign[u] * (progress - 0.5);
            for b in 0..n_bins {
                let time = (b as f64 - 50.0) * bin; // relative to stimulus onset
                // Stimulus response: fast rise at 50 ms, decay over ~200 ms.
                let k = if time > 0.05 {
                    ((time - 0.05) / 0.03).min(1.0) * (-(time - 0.05) / 0.25).exp()
                } else {
                    0.0
                };
                let rate = base[u] * drift * (drive * k).exp();
                let lambda = (rate * bin).max(1e-9);
                let pois = Poisson::new(lambda)
                    .map_err(|e| Error::invalid("Poisson rate", "positive", e.to_string()))?;
                values[[b, t, u]] = pois.sample(&mut r);
            }
        }
    }
    let id = format!("sim{s:02}_2026-01-{:02}", s % 28 + 1);
    let mut trials = TrialTable::from_f64_columns(
        &[
            ("contrast_left", cl),
            ("contrast_right", cr),
            ("response", response),
            ("response_time", rt),
            ("gocue", gocue),
            ("feedback_time", fb_time),
            ("feedback_type", feedback),
        ],
        id.clone(),
    )?;
    trials.set_column(Column::new("stim_onset".into(), vec![0.5; n_trials]))?;
    let units = UnitTable::new((0..n_units as i64).collect(), regions)?;
    let centres = (0..n_bins).map(|b| (b as f64 - 50.0 + 0.5) * bin).collect();
    let binned = PopulationTensor::new(
        values,
        centres,
        bin,
        "stim_onset",
        ValueKind::Counts,
        trials.clone(),
        units.clone(),
    )?;
    Ok(Recording {
        info: SessionInfo {
            id,
            subject: Some(format!("simmouse{}", s % 3)),
            source: None,
            format: "simulated".into(),
            start_time: None,
            contents: Vec::new(),
        },
        units,
        spikes: None,
        trials,
        steps: None,
        maze: None,
        binned: Some(binned),
    })
}
