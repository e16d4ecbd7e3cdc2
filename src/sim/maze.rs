//! Monkey-maze sessions (Achterberg, Mione, Buckley, Mitchell & Duncan): a 5 × 5 grid, start at
//! the centre (2, 2), four goals on the diagonal neighbours reached by 2-step or 4-step routes,
//! units in vlPFC, dPM, dmPFC and IO, spike times from an inhomogeneous Poisson process.
//!
//! Planted structure (the effects the subspace and temporal cross-correlation analyses must
//! recover; `docs/simulators.md` gives the rate equation):
//! - dmPFC holds the goal from the goal cue to the end of the trial (largest goal gain);
//! - vlPFC is driven by the current location (largest location gain); dPM and IO are mixed;
//! - next-move coding starts after the options onset at a region-specific latency, earliest in
//!   vlPFC, ~170 ms later in dPM;
//! - the 3-D goal and 3-D move weight subspaces are exactly orthogonal over the region's pooled
//!   units (Gram–Schmidt at construction) except in dmPFC, where they overlap;
//! - a step-locked temporal profile shared by all steps (every region) and a step-number code
//!   (vlPFC only).

mod model;
mod task;

use crate::data::{MazeGeometry, Recording, SessionInfo, SpikeTrains, UnitTable};
use crate::stats::rng;
use crate::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The region names, in the order units are laid out within a session.
pub const REGIONS: [&str; 4] = ["vlPFC", "dPM", "dmPFC", "IO"];

/// Goal locations `(x, y)` by goal id 0..3.
pub const GOALS: [(i64, i64); 4] = [(1, 1), (3, 1), (1, 3), (3, 3)];

/// The simulated grid.
pub const GRID: MazeGeometry = MazeGeometry {
    width: 5,
    height: 5,
    start_x: 2,
    start_y: 2,
};

/// Codes of four-level variables (goal id, move code, step number − 1): the vertices of a regular
/// tetrahedron, so the four levels are equidistant, centred and span exactly three dimensions.
pub const TETRAHEDRON: [[f64; 3]; 4] = {
    const A: f64 = 0.577_350_269_189_625_8; // 1/√3: unit-norm codes
    [[A, A, A], [A, -A, -A], [-A, A, -A], [-A, -A, A]]
};

/// Centres (seconds from the options onset) of the three bumps of the shared step-locked profile:
/// pre-options fixation, options response, pre-saccade.
pub const TEMPORAL_CENTRES_S: [f64; 3] = [-0.15, 0.1, 0.3];

/// Standard deviation (seconds) of each bump of the step-locked profile.
pub const TEMPORAL_WIDTH_S: f64 = 0.06;

/// One simulated region: its share of each session's units and its coding gains.
///
/// Gains are in Hz: a gain `g` makes the rate of a typical unit vary across the variable's levels
/// with a standard deviation of about `g` (weights are scaled so the RMS over units is `g`).
///
/// ```
/// use neuropop::sim::maze::MazeSimOptions;
/// let o = MazeSimOptions::default();
/// let dm = o.regions.iter().find(|r| r.name == "dmPFC").unwrap();
/// let vl = o.regions.iter().find(|r| r.name == "vlPFC").unwrap();
/// assert!(dm.goal_gain_hz > vl.goal_gain_hz && vl.location_gain_hz > dm.location_gain_hz);
/// assert!(dm.move_goal_overlap > 0.0 && vl.move_goal_overlap == 0.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MazeRegionSpec {
    /// Region name (`"vlPFC"`, `"dPM"`, `"dmPFC"`, `"IO"`).
    pub name: String,
    /// Share of each session's units.
    pub unit_fraction: f64,
    /// Goal gain (Hz), active from `goal_latency_s` after the goal cue to the end of the trial.
    pub goal_gain_hz: f64,
    /// Current-location gain (Hz), active through the whole trial.
    pub location_gain_hz: f64,
    /// Next-move gain (Hz), from `move_onset_s` after each options onset until shortly after
    /// the saccade.
    pub move_gain_hz: f64,
    /// Onset of next-move coding relative to the options onset (seconds).
    pub move_onset_s: f64,
    /// Step-number gain (Hz), constant within each step.
    pub step_order_gain_hz: f64,
    /// Cosine of every principal angle between the goal and move weight subspaces:
    /// 0 = orthogonal, 1 = the same subspace.
    pub move_goal_overlap: f64,
}

/// Timing of the task (seconds); `(a, b)` pairs are uniform ranges.
///
/// ```
/// let t = neuropop::sim::maze::MazeTiming::default();
/// assert!(t.reaction_time_s.0 < t.reaction_time_s.1);
/// assert!(t.step_lead_s < t.saccade_to_options_s.0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MazeTiming {
    /// Trial start (fixation) to goal cue.
    pub fixation_s: f64,
    /// Goal cue to the first options onset.
    pub goal_to_options_s: (f64, f64),
    /// Options onset to saccade (reaction time).
    pub reaction_time_s: (f64, f64),
    /// Saccade to the next options onset.
    pub saccade_to_options_s: (f64, f64),
    /// Last saccade to trial stop (reward or error time-out).
    pub reward_s: f64,
    /// Trial stop to the next trial start.
    pub iti_s: (f64, f64),
    /// Goal cue to the start of goal coding.
    pub goal_latency_s: f64,
    /// Linear ramp-up time of goal and move coding.
    pub ramp_s: f64,
    /// How long move coding outlasts the saccade.
    pub move_hold_s: f64,
    /// Start of a step's epoch (step-order code, step-locked profile) before its options onset.
    pub step_lead_s: f64,
}

impl Default for MazeTiming {
    fn default() -> Self {
        MazeTiming {
            fixation_s: 0.5,
            goal_to_options_s: (1.0, 1.2),
            reaction_time_s: (0.35, 0.55),
            saccade_to_options_s: (0.45, 0.55),
            reward_s: 0.6,
            iti_s: (0.8, 1.2),
            goal_latency_s: 0.1,
            ramp_s: 0.1,
            move_hold_s: 0.1,
            step_lead_s: 0.3,
        }
    }
}

/// Options of [`simulate`].
///
/// ```
/// use neuropop::sim::maze::MazeSimOptions;
/// let o = MazeSimOptions { n_sessions: 1, seed: 9, ..MazeSimOptions::small() };
/// assert_eq!(o.units_per_session, 40);
/// assert_eq!(MazeSimOptions::default().n_sessions * MazeSimOptions::default().units_per_session, 1392);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MazeSimOptions {
    /// Number of sessions.
    pub n_sessions: usize,
    /// Units per session (split over the regions by `unit_fraction`).
    pub units_per_session: usize,
    /// Trials per session.
    pub trials_per_session: usize,
    /// Seed.
    pub seed: u64,
    /// Regions and their planted codes.
    pub regions: Vec<MazeRegionSpec>,
    /// Probability that a trial is correct; an error trial takes the wrong option at one step
    /// and ends there.
    pub p_correct: f64,
    /// Probability that a trial's route has 4 steps (else 2).
    pub p_four_step: f64,
    /// Baseline rate range (Hz), uniform per unit.
    pub base_rate_hz: (f64, f64),
    /// Gain (Hz) of the step-locked temporal profile shared by all steps and regions.
    pub temporal_gain_hz: f64,
    /// Task timing.
    pub timing: MazeTiming,
}

impl Default for MazeSimOptions {
    /// Realistic size: 6 sessions × 232 units (1392 units) × 240 trials.
    fn default() -> Self {
        #[allow(clippy::too_many_arguments)]
        let r = |name: &str, f, goal, loc, mv, onset, order, overlap| MazeRegionSpec {
            name: name.into(),
            unit_fraction: f,
            goal_gain_hz: goal,
            location_gain_hz: loc,
            move_gain_hz: mv,
            move_onset_s: onset,
            step_order_gain_hz: order,
            move_goal_overlap: overlap,
        };
        MazeSimOptions {
            n_sessions: 6,
            units_per_session: 232,
            trials_per_session: 240,
            seed: 2023,
            regions: vec![
                r("vlPFC", 0.3, 3.0, 8.0, 7.0, 0.05, 3.0, 0.0),
                r("dPM", 0.25, 3.5, 3.5, 7.0, 0.22, 0.0, 0.0),
                r("dmPFC", 0.25, 8.0, 1.0, 5.0, 0.12, 0.0, 0.9),
                r("IO", 0.2, 3.5, 3.5, 3.5, 0.15, 0.0, 0.0),
            ],
            p_correct: 0.85,
            p_four_step: 0.5,
            base_rate_hz: (8.0, 24.0),
            temporal_gain_hz: 6.0,
            timing: MazeTiming::default(),
        }
    }
}

impl MazeSimOptions {
    /// Small size for tests: 2 sessions × 40 units × 80 trials.
    ///
    /// ```
    /// let o = neuropop::sim::maze::MazeSimOptions::small();
    /// assert_eq!((o.n_sessions, o.units_per_session, o.trials_per_session), (2, 40, 80));
    /// ```
    pub fn small() -> Self {
        MazeSimOptions {
            n_sessions: 2,
            units_per_session: 40,
            trials_per_session: 80,
            ..Default::default()
        }
    }

    /// The control simulation: the same task, units and base rates, but every planted code
    /// (goal, location, move, step order, step-locked profile) set to zero.
    ///
    /// ```
    /// let o = neuropop::sim::maze::MazeSimOptions::small().without_effects();
    /// assert!(o.regions.iter().all(|r| r.goal_gain_hz == 0.0 && r.move_gain_hz == 0.0));
    /// ```
    pub fn without_effects(mut self) -> Self {
        for r in &mut self.regions {
            r.goal_gain_hz = 0.0;
            r.location_gain_hz = 0.0;
            r.move_gain_hz = 0.0;
            r.step_order_gain_hz = 0.0;
        }
        self.temporal_gain_hz = 0.0;
        self
    }
}

/// What was planted in one region.
///
/// ```
/// use neuropop::sim::maze::{simulate, MazeSimOptions};
/// let (_, truth) = simulate(&MazeSimOptions { n_sessions: 1, trials_per_session: 4, ..MazeSimOptions::small() }).unwrap();
/// let dm = truth.regions.iter().find(|r| r.spec.name == "dmPFC").unwrap();
/// assert!(!dm.orthogonal_goal_move);
/// assert_eq!(dm.n_units, 10);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MazeRegionTruth {
    /// The region's specification (gains, move onset, overlap).
    pub spec: MazeRegionSpec,
    /// True when the goal and move weight subspaces are orthogonal (overlap 0).
    pub orthogonal_goal_move: bool,
    /// Units of the region over all sessions.
    pub n_units: usize,
}

/// What was planted in one unit. Weight vectors multiply the codes of [`TETRAHEDRON`]
/// (goal, move, step) or [`location_code`].
///
/// ```
/// use neuropop::sim::maze::{simulate, MazeSimOptions};
/// let (_, truth) = simulate(&MazeSimOptions { n_sessions: 1, trials_per_session: 4, ..MazeSimOptions::small() }).unwrap();
/// let u = &truth.units[0];
/// assert_eq!((u.session, u.unit_id, u.region.as_str()), (0, 0, "vlPFC"));
/// assert!(u.base_rate_hz >= 8.0);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MazeUnitTruth {
    /// Session index.
    pub session: usize,
    /// Unit id within the session (its row in the session's unit table).
    pub unit_id: i64,
    /// Region name.
    pub region: String,
    /// Baseline rate (Hz).
    pub base_rate_hz: f64,
    /// Goal weights.
    pub goal_weights: [f64; 3],
    /// Move weights.
    pub move_weights: [f64; 3],
    /// Location weights.
    pub location_weights: [f64; 3],
    /// Step-number weights.
    pub step_order_weights: [f64; 3],
    /// Loadings on the three bumps of the step-locked profile.
    pub temporal_loadings: [f64; 3],
}

/// The truth planted in a simulation.
///
/// ```
/// use neuropop::sim::maze::{simulate, MazeSimOptions};
/// let (_, truth) = simulate(&MazeSimOptions { n_sessions: 1, trials_per_session: 4, ..MazeSimOptions::small() }).unwrap();
/// assert_eq!(truth.units.len(), 40);
/// assert_eq!(truth.regions.len(), 4);
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MazeTruth {
    /// Per region, in the order of the options.
    pub regions: Vec<MazeRegionTruth>,
    /// Per unit, sessions in order, units in session order.
    pub units: Vec<MazeUnitTruth>,
    /// Gain (Hz) of the shared step-locked profile.
    pub temporal_gain_hz: f64,
    /// Task timing used.
    pub timing: MazeTiming,
}

/// The 3-D code of a grid position: `(dx, dy, |dx| + |dy| − 1) / √2` with `d` the offset from
/// the start, so that location tuning is smooth over the grid.
///
/// ```
/// let c = neuropop::sim::maze::location_code(3, 2);
/// assert!((c[0] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12 && c[2] == 0.0);
/// ```
pub fn location_code(x: i64, y: i64) -> [f64; 3] {
    let dx = (x - GRID.start_x) as f64;
    let dy = (y - GRID.start_y) as f64;
    let s = std::f64::consts::FRAC_1_SQRT_2;
    [dx * s, dy * s, (dx.abs() + dy.abs() - 1.0) * s]
}

/// Simulates maze sessions with spike times; returns the recordings and the planted truth.
///
/// Each [`Recording`] has `spikes`, a trial table with exactly the columns `start_time`,
/// `stop_time`, `goal_cue_time` (f64 s), `goal`, `goal_x`, `goal_y`, `route_length` (i64) and
/// `correct` (bool), a [`StepTable`] and the 5 × 5 [`MazeGeometry`]. Output bits do not depend
/// on the number of threads.
///
/// # Errors
/// [`Error::Invalid`] for inconsistent options (no sessions, trials or units, a region with
/// fewer than 6 pooled units, negative gains or rates, invalid timing or probabilities).
///
/// ```
/// use neuropop::sim::maze::{simulate, MazeSimOptions};
/// let mut o = MazeSimOptions::small();
/// o.n_sessions = 1;
/// let (sessions, truth) = simulate(&o).unwrap();
/// let rec = &sessions[0];
/// rec.validate().unwrap();
/// assert_eq!(rec.units.len(), 40);
/// assert_eq!(rec.trials.n_trials(), 80);
/// assert!(rec.spikes.as_ref().unwrap().n_spikes() > 0);
/// assert!(truth.regions.iter().any(|r| r.spec.name == "dmPFC" && !r.orthogonal_goal_move));
/// ```
pub fn simulate(opts: &MazeSimOptions) -> Result<(Vec<Recording>, MazeTruth)> {
    check(opts)?;
    let counts = region_counts(opts);
    let routes = task::enumerate_routes();
    let sessions: Vec<Vec<task::TrialPlan>> = (0..opts.n_sessions)
        .map(|s| task::plan_session(opts, &routes, s))
        .collect::<Result<_>>()?;
    let (units, region_of) = model::build_units(opts, &counts)?;
    let params: Vec<&MazeRegionSpec> = region_of.iter().map(|&r| &opts.regions[r]).collect();
    let mut trains = (0..units.len())
        .into_par_iter()
        .map(|i| {
            let mut r = rng::stream(rng::derive_seed(opts.seed, "maze/spikes"), i as u64);
            model::unit_spikes(
                &units[i],
                params[i],
                opts,
                &sessions[units[i].session],
                &mut r,
            )
        })
        .collect::<Vec<Vec<f64>>>()
        .into_iter();
    let mut recordings = Vec::with_capacity(opts.n_sessions);
    let mut first = 0;
    for (s, plan) in sessions.iter().enumerate() {
        let n = opts.units_per_session;
        let id = format!("maze_sim_s{s:02}");
        let unit_table = UnitTable::new(
            (0..n as i64).collect(),
            units[first..first + n]
                .iter()
                .map(|u| u.region.clone())
                .collect(),
        )?;
        let spikes = SpikeTrains::from_units(trains.by_ref().take(n).collect())?;
        first += n;
        let rec = Recording {
            info: SessionInfo {
                id: id.clone(),
                subject: Some("sim-monkey".into()),
                source: None,
                format: "simulated".into(),
                start_time: None,
                contents: Vec::new(),
            },
            units: unit_table,
            spikes: Some(spikes),
            trials: task::trial_table(plan, &id)?,
            steps: Some(task::step_table(plan)),
            maze: Some(GRID),
            binned: None,
        };
        rec.validate()?;
        recordings.push(rec);
    }
    let truth = MazeTruth {
        regions: opts
            .regions
            .iter()
            .zip(&counts)
            .map(|(spec, c)| MazeRegionTruth {
                spec: spec.clone(),
                orthogonal_goal_move: spec.move_goal_overlap == 0.0,
                n_units: c.iter().sum(),
            })
            .collect(),
        units,
        temporal_gain_hz: opts.temporal_gain_hz,
        timing: opts.timing.clone(),
    };
    Ok((recordings, truth))
}

fn check(o: &MazeSimOptions) -> Result<()> {
    let bad = |what: &str, expected: &str, found: String| {
        Err(Error::invalid(
            format!("MazeSimOptions.{what}"),
            expected,
            found,
        ))
    };
    if o.n_sessions == 0 || o.trials_per_session == 0 || o.units_per_session == 0 {
        return bad(
            "n_sessions/trials_per_session/units_per_session",
            "at least 1 each",
            format!(
                "{}, {}, {}",
                o.n_sessions, o.trials_per_session, o.units_per_session
            ),
        );
    }
    if o.regions.is_empty() {
        return bad("regions", "at least one region", "none".into());
    }
    for r in &o.regions {
        let gains = [
            r.unit_fraction,
            r.goal_gain_hz,
            r.location_gain_hz,
            r.move_gain_hz,
            r.step_order_gain_hz,
            r.move_onset_s,
        ];
        if gains.iter().any(|g| !g.is_finite() || *g < 0.0) {
            return bad(
                &format!("regions[{}]", r.name),
                "finite, non-negative fraction, gains and onset",
                format!("{r:?}"),
            );
        }
        if !(0.0..=1.0).contains(&r.move_goal_overlap) {
            return bad(
                &format!("regions[{}].move_goal_overlap", r.name),
                "a cosine in [0, 1]",
                r.move_goal_overlap.to_string(),
            );
        }
    }
    for (i, r) in o.regions.iter().enumerate() {
        if o.regions[..i].iter().any(|q| q.name == r.name) {
            return bad(
                "regions",
                "distinct region names",
                format!("'{}' twice", r.name),
            );
        }
    }
    if o.regions.iter().map(|r| r.unit_fraction).sum::<f64>() <= 0.0 {
        return bad("regions", "a positive total unit_fraction", "0".into());
    }
    for (name, p) in [("p_correct", o.p_correct), ("p_four_step", o.p_four_step)] {
        if !(0.0..=1.0).contains(&p) {
            return bad(name, "a probability in [0, 1]", p.to_string());
        }
    }
    let t = &o.timing;
    let ranges = [
        ("base_rate_hz", o.base_rate_hz),
        ("timing.goal_to_options_s", t.goal_to_options_s),
        ("timing.reaction_time_s", t.reaction_time_s),
        ("timing.saccade_to_options_s", t.saccade_to_options_s),
        ("timing.iti_s", t.iti_s),
    ];
    for (name, (a, b)) in ranges {
        if !(a.is_finite() && b.is_finite() && a > 0.0 && a <= b) {
            return bad(name, "a range 0 < min ≤ max", format!("({a}, {b})"));
        }
    }
    let scalars = [
        t.fixation_s,
        t.reward_s,
        t.goal_latency_s,
        t.ramp_s,
        t.move_hold_s,
        t.step_lead_s,
        o.temporal_gain_hz,
    ];
    if scalars.iter().any(|v| !v.is_finite() || *v < 0.0) || t.ramp_s == 0.0 {
        return bad(
            "timing",
            "finite non-negative durations, ramp_s > 0, temporal_gain_hz ≥ 0",
            format!("{t:?}, temporal_gain_hz {}", o.temporal_gain_hz),
        );
    }
    // Step epochs must not start before the previous saccade, or move codes would be cut short.
    if t.step_lead_s >= t.saccade_to_options_s.0 {
        return bad(
            "timing.step_lead_s",
            format!(
                "less than saccade_to_options_s.0 = {}",
                t.saccade_to_options_s.0
            )
            .as_str(),
            t.step_lead_s.to_string(),
        );
    }
    // Gram–Schmidt of 3 goal + 3 move directions over a region's pooled units needs 6 units.
    for (r, c) in o.regions.iter().zip(region_counts(o)) {
        let n: usize = c.iter().sum();
        if n < 6 {
            return bad(
                &format!("regions[{}]", r.name),
                "at least 6 units over all sessions (3-D goal + 3-D move subspaces)",
                n.to_string(),
            );
        }
    }
    Ok(())
}

/// Units per region and session, by largest remainder so each session sums exactly.
fn region_counts(o: &MazeSimOptions) -> Vec<Vec<usize>> {
    let total: f64 = o.regions.iter().map(|r| r.unit_fraction).sum();
    let n = o.units_per_session;
    let exact: Vec<f64> = o
        .regions
        .iter()
        .map(|r| r.unit_fraction / total * n as f64)
        .collect();
    let mut per: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..per.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let mut missing = n.saturating_sub(per.iter().sum());
    for &i in order.iter().cycle() {
        if missing == 0 {
            break;
        }
        per[i] += 1;
        missing -= 1;
    }
    per.iter().map(|&c| vec![c; o.n_sessions]).collect()
}
