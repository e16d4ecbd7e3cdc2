//! The neural model of maze sessions: per-unit weights (goal and move subspaces built by
//! Gram–Schmidt over a region's pooled units), the rate equation, and spike times by thinning.

use super::task::{TrialPlan, step, uniform};
use super::{
    GRID, MazeRegionSpec, MazeSimOptions, MazeUnitTruth, TEMPORAL_CENTRES_S, TEMPORAL_WIDTH_S,
    TETRAHEDRON, location_code,
};
use crate::stats::rng::{self, Rng};
use crate::{Error, Result};
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

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
pub(super) fn build_units(
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
fn rate_hz(
    u: &MazeUnitTruth,
    g: &MazeRegionSpec,
    o: &MazeSimOptions,
    p: &TrialPlan,
    t: f64,
) -> f64 {
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
    let loc_max = location_code(0, 0)
        .iter()
        .map(|c| c * c)
        .sum::<f64>()
        .sqrt();
    u.base_rate_hz
        + o.temporal_gain_hz * u.temporal_loadings.iter().map(|l| l.abs()).sum::<f64>()
        + g.goal_gain_hz * norm(&u.goal_weights)
        + g.location_gain_hz * norm(&u.location_weights) * loc_max
        + g.step_order_gain_hz * norm(&u.step_order_weights)
        + g.move_gain_hz * norm(&u.move_weights)
}

/// Spike times of one unit over its session by thinning (Lewis & Shedler 1979): candidates from a
/// homogeneous process at the bound rate, each kept with probability rate(t) / bound.
pub(super) fn unit_spikes(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::maze::{MazeSimOptions, region_counts, task};

    /// Σ_u w_goal[u] w_move[u]ᵀ over a region's pooled units (3 × 3).
    fn cross(units: &[MazeUnitTruth], region: &str) -> [[f64; 3]; 3] {
        let mut c = [[0.0; 3]; 3];
        for u in units.iter().filter(|u| u.region == region) {
            for (i, row) in c.iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v += u.goal_weights[i] * u.move_weights[j];
                }
            }
        }
        c
    }

    #[test]
    fn goal_and_move_weights_are_orthogonal_except_in_dmpfc() {
        let o = MazeSimOptions::small();
        let (units, region_of) = build_units(&o, &region_counts(&o)).unwrap();
        assert_eq!(units.len(), 80);
        assert_eq!(region_of.len(), 80);
        for region in ["vlPFC", "dPM", "IO"] {
            let c = cross(&units, region);
            assert!(
                c.iter().flatten().all(|v| v.abs() < 1e-9),
                "{region}: {c:?}"
            );
        }
        // dmPFC: W_goalᵀ W_move = ρ N R with R a rotation, so ‖·‖_F = ρ N √3.
        let n = units.iter().filter(|u| u.region == "dmPFC").count() as f64;
        let c = cross(&units, "dmPFC");
        let fro = c.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
        assert!((fro - 0.9 * n * 3f64.sqrt()).abs() < 1e-9, "{fro}");
        // Goal columns: orthogonal, each with squared norm N.
        let g: Vec<&MazeUnitTruth> = units.iter().filter(|u| u.region == "vlPFC").collect();
        let n = g.len() as f64;
        for i in 0..3 {
            for j in 0..3 {
                let d: f64 = g
                    .iter()
                    .map(|u| u.goal_weights[i] * u.goal_weights[j])
                    .sum();
                let want = if i == j { n } else { 0.0 };
                assert!((d - want).abs() < 1e-9, "({i}, {j}): {d}");
            }
        }
    }

    #[test]
    fn rate_never_exceeds_the_thinning_bound() {
        let o = MazeSimOptions::small();
        let (units, region_of) = build_units(&o, &region_counts(&o)).unwrap();
        let plans = task::plan_session(&o, &task::enumerate_routes(), 0).unwrap();
        for (u, &r) in units.iter().zip(&region_of).take(40) {
            let g = &o.regions[r];
            let bound = max_rate_hz(u, g, &o);
            for p in plans.iter().take(10) {
                let mut t = p.start_s;
                while t < p.segment_end_s {
                    let rate = rate_hz(u, g, &o, p, t);
                    assert!((0.0..=bound).contains(&rate), "{rate} > {bound}");
                    t += 0.005;
                }
            }
        }
    }

    #[test]
    fn gram_schmidt_rejects_dependent_columns() {
        let mut m = vec![vec![1.0, 2.0], vec![2.0, 4.0]];
        assert!(gram_schmidt(&mut m, 2).is_err());
    }
}
