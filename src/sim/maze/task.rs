//! The behaviour of maze sessions: routes, trial and step timing, errors, and the trial and step
//! tables.

use super::{GOALS, GRID, MazeSimOptions};
use crate::data::{Move, StepTable, TrialTable};
use crate::stats::rng::{self, Rng};
use crate::{Error, Result};
use polars::prelude::{Column, DataFrame};
use rand::Rng as _;

/// All self-avoiding routes of 2 and 4 moves from the start to each goal that stay on the grid
/// and touch no goal before the last move: `routes[goal][0]` 2-step, `routes[goal][1]` 4-step.
pub(super) fn enumerate_routes() -> Vec<[Vec<Vec<Move>>; 2]> {
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
                walk(
                    start,
                    g,
                    len,
                    &mut Vec::new(),
                    &mut vec![start],
                    &mut both[k],
                );
            }
            both
        })
        .collect()
}

pub(super) fn step(p: (i64, i64), m: Move) -> (i64, i64) {
    let (dx, dy) = m.delta();
    (p.0 + dx, p.1 + dy)
}

pub(super) fn on_grid(p: (i64, i64)) -> bool {
    (0..GRID.width).contains(&p.0) && (0..GRID.height).contains(&p.1)
}

pub(super) struct StepPlan {
    pub(super) x: i64,
    pub(super) y: i64,
    pub(super) mv: Move,
    pub(super) options_s: f64,
    pub(super) saccade_s: f64,
}

pub(super) struct TrialPlan {
    pub(super) start_s: f64,
    pub(super) stop_s: f64,
    pub(super) goal_cue_s: f64,
    pub(super) goal: usize,
    pub(super) route_length: usize,
    pub(super) correct: bool,
    pub(super) steps: Vec<StepPlan>,
    /// Start of the next trial (or the end of the session): the trial's share of the session.
    pub(super) segment_end_s: f64,
}

pub(super) fn uniform(r: &mut Rng, (a, b): (f64, f64)) -> f64 {
    a + (b - a) * r.random::<f64>()
}

pub(super) fn plan_session(
    o: &MazeSimOptions,
    routes: &[[Vec<Vec<Move>>; 2]],
    s: usize,
) -> Result<Vec<TrialPlan>> {
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

pub(super) fn trial_table(plans: &[TrialPlan], id: &str) -> Result<TrialTable> {
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

pub(super) fn step_table(plans: &[TrialPlan]) -> StepTable {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_reach_their_goal_on_the_grid_without_touching_other_goals() {
        let routes = enumerate_routes();
        for (g, both) in routes.iter().enumerate() {
            for (k, len) in [2usize, 4].into_iter().enumerate() {
                assert!(!both[k].is_empty(), "goal {g}, {len} steps");
                for route in &both[k] {
                    assert_eq!(route.len(), len);
                    let mut p = (GRID.start_x, GRID.start_y);
                    let mut seen = vec![p];
                    for (i, &m) in route.iter().enumerate() {
                        p = step(p, m);
                        assert!(on_grid(p) && !seen.contains(&p));
                        assert_eq!(GOALS.contains(&p), i + 1 == len);
                        seen.push(p);
                    }
                    assert_eq!(p, GOALS[g]);
                }
            }
        }
        // Both orders of the two moves towards a diagonal goal.
        assert_eq!(
            routes[3][0],
            vec![vec![Move::Up, Move::Right], vec![Move::Right, Move::Up]]
        );
    }
}
