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

use crate::data::{
    MazeGeometry, Move, Recording, SessionInfo, SpikeTrains, StepTable, TrialTable, UnitTable,
};
use crate::stats::rng::{self, Rng};
use crate::{Error, Result};
use polars::prelude::{Column, DataFrame};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};
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
    let routes = enumerate_routes();
    let sessions: Vec<Vec<TrialPlan>> = (0..opts.n_sessions)
        .map(|s| plan_session(opts, &routes, s))
        .collect::<Result<_>>()?;
    let (units, region_of) = build_units(opts, &counts)?;
    let params: Vec<&MazeRegionSpec> = region_of.iter().map(|&r| &opts.regions[r]).collect();
    let trains: Vec<Vec<f64>> = (0..units.len())
        .into_par_iter()
        .map(|i| {
            let mut r = rng::stream(rng::derive_seed(opts.seed, "maze/spikes"), i as u64);
            unit_spikes(
                &units[i],
                params[i],
                opts,
                &sessions[units[i].session],
                &mut r,
            )
        })
        .collect();
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
        let spikes = SpikeTrains::from_units(trains[first..first + n].to_vec())?;
        first += n;
        let rec = Recording {
            info: SessionInfo {
                id: id.clone(),
                subject: Some("sim-monkey".into()),
                source: None,
                format: "simulated".into(),
                start_time: None,
            },
            units: unit_table,
            spikes: Some(spikes),
            trials: trial_table(plan, &id)?,
            steps: Some(step_table(plan)),
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
            return bad("regions", "distinct region names", format!("'{}' twice", r.name));
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
            format!("less than saccade_to_options_s.0 = {}", t.saccade_to_options_s.0).as_str(),
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

/// All self-avoiding routes of 2 and 4 moves from the start to each goal that stay on the grid
/// and touch no goal before the last move: `routes[goal][0]` 2-step, `routes[goal][1]` 4-step.
fn enumerate_routes() -> Vec<[Vec<Vec<Move>>; 2]> {
    fn walk(
        pos: (i64, i64),
        goal: (i64, i64),
        left: usize,
        path: &mut Vec<Move>,
        seen: &mut Vec<(i64, i64)>,
        out: &mut Vec<Vec<Move>>,
    ) {
        if left == 0 {
            if pos == goal {
                out.push(path.clone());
            }
            return;
        }
        for m in Move::ALL {
            let next = step(pos, m);
            let last = left == 1;
            if !on_grid(next) || seen.contains(&next) || (GOALS.contains(&next) && !last) {
                continue;
            }
            path.push(m);
            seen.push(next);
            walk(next, goal, left - 1, path, seen, out);
            path.pop();
            seen.pop();
        }
    }
    GOALS
        .iter()
        .map(|&g| {
            let mut both: [Vec<Vec<Move>>; 2] = [Vec::new(), Vec::new()];
            for (k, len) in [2, 4].into_iter().enumerate() {
                let start = (GRID.start_x, GRID.start_y);
                walk(start, g, len, &mut Vec::new(), &mut vec![start], &mut both[k]);
            }
            both
        })
        .collect()
}

fn step(p: (i64, i64), m: Move) -> (i64, i64) {
    let (dx, dy) = m.delta();
    (p.0 + dx, p.1 + dy)
}

fn on_grid(p: (i64, i64)) -> bool {
    (0..GRID.width).contains(&p.0) && (0..GRID.height).contains(&p.1)
}

struct StepPlan {
    x: i64,
    y: i64,
    mv: Move,
    options_s: f64,
    saccade_s: f64,
}

struct TrialPlan {
    start_s: f64,
    stop_s: f64,
    goal_cue_s: f64,
    goal: usize,
    route_length: usize,
    correct: bool,
    steps: Vec<StepPlan>,
    /// Start of the next trial (or the end of the session): the trial's share of the session.
    segment_end_s: f64,
}

fn uniform(r: &mut Rng, (a, b): (f64, f64)) -> f64 {
    a + (b - a) * r.random::<f64>()
}

fn plan_session(o: &MazeSimOptions, routes: &[[Vec<Vec<Move>>; 2]], s: usize) -> Result<Vec<TrialPlan>> {
    let mut r = rng::stream(rng::derive_seed(o.seed, "maze/trials"), s as u64);
    let t = &o.timing;
    let mut plans: Vec<TrialPlan> = Vec::with_capacity(o.trials_per_session);
    let mut now = uniform(&mut r, t.iti_s);
    for _ in 0..o.trials_per_session {
        let goal = r.random_range(0..GOALS.len());
        let long = r.random::<f64>() < o.p_four_step;
        let options = &routes[goal][usize::from(long)];
        if options.is_empty() {
            // The 5 × 5 grid always has routes; this guards a changed GRID/GOALS.
            return Err(Error::invalid(
                "maze routes",
                "at least one route per goal and length",
                format!("none to goal {goal}"),
            ));
        }
        let route = &options[r.random_range(0..options.len())];
        let start_s = now;
        let goal_cue_s = start_s + t.fixation_s;
        let mut options_s = goal_cue_s + uniform(&mut r, t.goal_to_options_s);
        // An error trial takes a distractor at one step (one leading neither back, off the grid
        // nor straight onto the goal) and ends there.
        let error_step = if r.random::<f64>() < o.p_correct {
            None
        } else {
            Some(r.random_range(0..route.len()))
        };
        let mut pos = (GRID.start_x, GRID.start_y);
        let mut prev: Option<(i64, i64)> = None;
        let mut steps = Vec::with_capacity(route.len());
        let mut correct = true;
        for (k, &planned) in route.iter().enumerate() {
            let mut mv = planned;
            if error_step == Some(k) {
                let distractors: Vec<Move> = Move::ALL
                    .into_iter()
                    .filter(|&m| {
                        let n = step(pos, m);
                        m != planned && on_grid(n) && Some(n) != prev && n != GOALS[goal]
                    })
                    .collect();
                if !distractors.is_empty() {
                    mv = distractors[r.random_range(0..distractors.len())];
                    correct = false;
                }
            }
            let saccade_s = options_s + uniform(&mut r, t.reaction_time_s);
            steps.push(StepPlan {
                x: pos.0,
                y: pos.1,
                mv,
                options_s,
                saccade_s,
            });
            prev = Some(pos);
            pos = step(pos, mv);
            if !correct {
                break;
            }
            options_s = saccade_s + uniform(&mut r, t.saccade_to_options_s);
        }
        // The last pushed step exists: every route has ≥ 2 moves.
        let last_saccade = steps.last().map_or(options_s, |st| st.saccade_s);
        let stop_s = last_saccade + t.reward_s;
        now = stop_s + uniform(&mut r, t.iti_s);
        plans.push(TrialPlan {
            start_s,
            stop_s,
            goal_cue_s,
            goal,
            route_length: route.len(),
            correct,
            steps,
            segment_end_s: now,
        });
    }
    Ok(plans)
}

fn trial_table(plans: &[TrialPlan], id: &str) -> Result<TrialTable> {
    let f = |name: &str, g: &dyn Fn(&TrialPlan) -> f64| {
        Column::new(name.into(), plans.iter().map(g).collect::<Vec<f64>>())
    };
    let i = |name: &str, g: &dyn Fn(&TrialPlan) -> i64| {
        Column::new(name.into(), plans.iter().map(g).collect::<Vec<i64>>())
    };
    let cols = vec![
        f("start_time", &|p| p.start_s),
        f("stop_time", &|p| p.stop_s),
        f("goal_cue_time", &|p| p.goal_cue_s),
        i("goal", &|p| p.goal as i64),
        i("goal_x", &|p| GOALS[p.goal].0),
        i("goal_y", &|p| GOALS[p.goal].1),
        i("route_length", &|p| p.route_length as i64),
        Column::new(
            "correct".into(),
            plans.iter().map(|p| p.correct).collect::<Vec<bool>>(),
        ),
    ];
    let df = DataFrame::new(plans.len(), cols)
        .map_err(|e| Error::table(format!("{id}: trial table"), e))?;
    Ok(TrialTable::new(df, id))
}

fn step_table(plans: &[TrialPlan]) -> StepTable {
    let mut t = StepTable::default();
    for (i, p) in plans.iter().enumerate() {
        for (k, s) in p.steps.iter().enumerate() {
            t.trial.push(i);
            t.step.push(k as u32 + 1);
            t.x.push(s.x);
            t.y.push(s.y);
            t.moves.push(s.mv);
            t.options_time_s.push(s.options_s);
            t.saccade_time_s.push(s.saccade_s);
        }
    }
    t
}

/// Orthonormalises the columns of `m` (n × k, row-major) in place by modified Gram–Schmidt,
/// twice for numerical orthogonality.
fn gram_schmidt(m: &mut [Vec<f64>], k: usize) -> Result<()> {
    for j in 0..k {
        for _pass in 0..2 {
            for i in 0..j {
                let dot: f64 = m.iter().map(|row| row[i] * row[j]).sum();
                for row in m.iter_mut() {
                    row[j] -= dot * row[i];
                }
            }
        }
        let norm = m.iter().map(|row| row[j] * row[j]).sum::<f64>().sqrt();
        if norm < 1e-9 {
            return Err(Error::invalid(
                "maze weight construction",
                "linearly independent random directions",
                format!("column {j} of norm {norm}"),
            ));
        }
        for row in m.iter_mut() {
            row[j] /= norm;
        }
    }
    Ok(())
}

/// Builds every unit's parameters; weights are constructed per region over its units pooled
/// across sessions (the pseudo-population the analyses use).
fn build_units(
    o: &MazeSimOptions,
    counts: &[Vec<usize>],
) -> Result<(Vec<MazeUnitTruth>, Vec<usize>)> {
    let mut per_region: Vec<Vec<MazeUnitTruth>> = Vec::with_capacity(o.regions.len());
    for (ri, spec) in o.regions.iter().enumerate() {
        let mut r = rng::stream(rng::derive_seed(o.seed, "maze/weights"), ri as u64);
        let n: usize = counts[ri].iter().sum();
        let normal = |r: &mut Rng| -> f64 { StandardNormal.sample(r) };
        // Columns 0..3 goal, 3..6 the move directions orthogonal to the goal subspace.
        let mut q: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..6).map(|_| normal(&mut r)).collect())
            .collect();
        gram_schmidt(&mut q, 6)?;
        let mut rot: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..3).map(|_| normal(&mut r)).collect())
            .collect();
        gram_schmidt(&mut rot, 3)?;
        // Scale so each unit's weight vector has squared norm 3 on average: the rate then varies
        // across the four tetrahedron levels with SD ≈ gain (RMS over units).
        let scale = (n as f64).sqrt();
        let rho = spec.move_goal_overlap;
        let perp = (1.0 - rho * rho).max(0.0).sqrt();
        let mut units = Vec::with_capacity(n);
        for row in &q {
            let goal = [row[0] * scale, row[1] * scale, row[2] * scale];
            let mut mv = [0.0; 3];
            for (c, m) in mv.iter_mut().enumerate() {
                let aligned: f64 = (0..3).map(|k| goal[k] * rot[k][c]).sum();
                *m = rho * aligned + perp * row[3 + c] * scale;
            }
            let mut three = || [normal(&mut r), normal(&mut r), normal(&mut r)];
            let location_weights = three();
            let step_order_weights = three();
            let temporal_loadings = three();
            units.push(MazeUnitTruth {
                session: 0,
                unit_id: 0,
                region: spec.name.clone(),
                base_rate_hz: uniform(&mut r, o.base_rate_hz),
                goal_weights: goal,
                move_weights: mv,
                location_weights,
                step_order_weights,
                temporal_loadings,
            });
        }
        per_region.push(units);
    }
    // Lay out sessions: within a session, regions in option order.
    let mut next = vec![0usize; o.regions.len()];
    let mut out = Vec::with_capacity(o.n_sessions * o.units_per_session);
    let mut region_of = Vec::with_capacity(out.capacity());
    for s in 0..o.n_sessions {
        let mut id = 0i64;
        for (ri, c) in counts.iter().enumerate() {
            for _ in 0..c[s] {
                let mut u = per_region[ri][next[ri]].clone();
                next[ri] += 1;
                u.session = s;
                u.unit_id = id;
                id += 1;
                out.push(u);
                region_of.push(ri);
            }
        }
    }
    Ok((out, region_of))
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: &[f64; 3]) -> f64 {
    dot(a, a).sqrt()
}

/// The unit's rate (Hz) at time `t` inside trial `p`: the equation of `docs/simulators.md`.
fn rate_hz(u: &MazeUnitTruth, g: &MazeRegionSpec, o: &MazeSimOptions, p: &TrialPlan, t: f64) -> f64 {
    let tm = &o.timing;
    let mut rate = u.base_rate_hz;
    if t < p.start_s || t >= p.stop_s {
        return rate;
    }
    let since_goal = t - p.goal_cue_s - tm.goal_latency_s;
    if since_goal > 0.0 {
        let k = (since_goal / tm.ramp_s).min(1.0);
        rate += g.goal_gain_hz * k * dot(&u.goal_weights, &TETRAHEDRON[p.goal]);
    }
    // Gaze position: the start until the first saccade, then where each saccade landed.
    let mut pos = (GRID.start_x, GRID.start_y);
    let mut current = None;
    for (k, s) in p.steps.iter().enumerate() {
        if t >= s.saccade_s {
            pos = step((s.x, s.y), s.mv);
        }
        if t >= s.options_s - tm.step_lead_s {
            current = Some(k);
        }
    }
    rate += g.location_gain_hz * dot(&u.location_weights, &location_code(pos.0, pos.1));
    if let Some(k) = current {
        let s = &p.steps[k];
        let tau = t - s.options_s;
        let w2 = 2.0 * TEMPORAL_WIDTH_S * TEMPORAL_WIDTH_S;
        let profile: f64 = TEMPORAL_CENTRES_S
            .iter()
            .zip(&u.temporal_loadings)
            .map(|(c, l)| l * (-(tau - c) * (tau - c) / w2).exp())
            .sum();
        rate += o.temporal_gain_hz * profile;
        rate += g.step_order_gain_hz * dot(&u.step_order_weights, &TETRAHEDRON[k.min(3)]);
        let since_onset = tau - g.move_onset_s;
        if since_onset > 0.0 && t < s.saccade_s + tm.move_hold_s {
            let ramp = (since_onset / tm.ramp_s).min(1.0);
            let code = &TETRAHEDRON[s.mv.code() as usize];
            rate += g.move_gain_hz * ramp * dot(&u.move_weights, code);
        }
    }
    rate.max(0.0)
}

/// A bound on `rate_hz` over the whole session, for thinning.
fn max_rate_hz(u: &MazeUnitTruth, g: &MazeRegionSpec, o: &MazeSimOptions) -> f64 {
    // Largest location-code norm on the grid: a corner, (2, 2, 3)/√2.
    let loc_max = location_code(0, 0).iter().map(|c| c * c).sum::<f64>().sqrt();
    u.base_rate_hz
        + o.temporal_gain_hz * u.temporal_loadings.iter().map(|l| l.abs()).sum::<f64>()
        + g.goal_gain_hz * norm(&u.goal_weights)
        + g.location_gain_hz * norm(&u.location_weights) * loc_max
        + g.step_order_gain_hz * norm(&u.step_order_weights)
        + g.move_gain_hz * norm(&u.move_weights)
}

/// Spike times of one unit over its session by thinning (Lewis & Shedler 1979): candidates from a
/// homogeneous process at the bound rate, each kept with probability rate(t) / bound.
fn unit_spikes(
    u: &MazeUnitTruth,
    g: &MazeRegionSpec,
    o: &MazeSimOptions,
    plans: &[TrialPlan],
    r: &mut Rng,
) -> Vec<f64> {
    let bound = max_rate_hz(u, g, o);
    let end = plans.last().map_or(0.0, |p| p.segment_end_s);
    let mut out = Vec::new();
    if bound <= 0.0 || !bound.is_finite() {
        return out;
    }
    let mut t = 0.0;
    let mut trial = 0;
    loop {
        // 1 − U lies in (0, 1], so the logarithm is finite.
        t += -(1.0 - r.random::<f64>()).ln() / bound;
        if t >= end {
            break;
        }
        while trial + 1 < plans.len() && t >= plans[trial].segment_end_s {
            trial += 1;
        }
        let rate = rate_hz(u, g, o, &plans[trial], t);
        if r.random::<f64>() * bound < rate {
            out.push(t);
        }
    }
    out
}
