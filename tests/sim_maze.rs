//! Planted-structure checks on the monkey-maze simulator, computed from the generated spike times
//! with simple statistics (spike counts in event-aligned windows, one-way ANOVA F per unit,
//! condition-mean subspaces, population-vector correlations).

use neuropop::data::{Move, Recording, StepTable};
use neuropop::sim::maze::{GOALS, MazeSimOptions, MazeTruth, simulate};
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn small() -> &'static (Vec<Recording>, MazeTruth) {
    static SIM: OnceLock<(Vec<Recording>, MazeTruth)> = OnceLock::new();
    SIM.get_or_init(|| simulate(&MazeSimOptions::small()).expect("simulate small"))
}

fn steps(rec: &Recording) -> &StepTable {
    rec.steps.as_ref().expect("steps")
}

/// One-way ANOVA F of `values` grouped by `groups`; `None` when undefined (fewer than 2 groups,
/// no within-group variance).
fn f_stat(values: &[f64], groups: &[i64]) -> Option<f64> {
    let mut by: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (&v, &g) in values.iter().zip(groups) {
        by.entry(g).or_default().push(v);
    }
    let n = values.len() as f64;
    let k = by.len() as f64;
    if k < 2.0 || n <= k {
        return None;
    }
    let grand = values.iter().sum::<f64>() / n;
    let (mut ssb, mut ssw) = (0.0, 0.0);
    for vs in by.values() {
        let m = vs.iter().sum::<f64>() / vs.len() as f64;
        ssb += vs.len() as f64 * (m - grand).powi(2);
        ssw += vs.iter().map(|v| (v - m).powi(2)).sum::<f64>();
    }
    (ssw > 0.0).then(|| (ssb / (k - 1.0)) / (ssw / (n - k)))
}

/// Mean over a region's units (all sessions) of the F statistic of spike counts, where each
/// session contributes samples `(window start, window stop, group)` and an optional baseline
/// window subtracted after scaling to the same length.
fn mean_f<S>(sims: &[Recording], region: &str, samples: S) -> f64
where
    S: Fn(&Recording) -> Vec<(f64, f64, i64, Option<(f64, f64)>)>,
{
    let mut fs = Vec::new();
    for rec in sims {
        let sp = rec.spikes.as_ref().expect("spikes");
        let smp = samples(rec);
        let groups: Vec<i64> = smp.iter().map(|s| s.2).collect();
        for u in rec.units.indices_in_region(region) {
            let vals: Vec<f64> = smp
                .iter()
                .map(|&(a, b, _, base)| {
                    let c = sp.count(u, a, b) as f64;
                    match base {
                        Some((c0, c1)) => c - sp.count(u, c0, c1) as f64 * (b - a) / (c1 - c0),
                        None => c,
                    }
                })
                .collect();
            if let Some(f) = f_stat(&vals, &groups) {
                fs.push(f);
            }
        }
    }
    assert!(!fs.is_empty(), "{region}: no F statistic");
    fs.iter().sum::<f64>() / fs.len() as f64
}

/// Goal selectivity in the delay between the goal cue and the first step (all trials at the
/// centre, so location is constant).
fn goal_f_early(sims: &[Recording], region: &str) -> f64 {
    mean_f(sims, region, |rec| {
        let cue = rec.trials.f64("goal_cue_time").expect("goal_cue_time");
        let goal = rec.trials.i64("goal").expect("goal");
        (0..cue.len())
            .map(|i| (cue[i] + 0.25, cue[i] + 0.7, goal[i], None))
            .collect()
    })
}

/// Goal selectivity before the options of each trial's last step.
fn goal_f_last_step(sims: &[Recording], region: &str) -> f64 {
    mean_f(sims, region, |rec| {
        let goal = rec.trials.i64("goal").expect("goal");
        let st = steps(rec);
        (0..st.len())
            .filter(|&i| i + 1 == st.len() || st.trial[i + 1] != st.trial[i])
            .map(|i| {
                let o = st.options_time_s[i];
                (o - 0.25, o, goal[st.trial[i]], None)
            })
            .collect()
    })
}

/// F of `what` (goal or position) within groups of the other variable, before the options of
/// steps 2 and later; averaged over the groups that have ≥ 2 levels.
fn controlled_f(sims: &[Recording], region: &str, by_goal: bool) -> f64 {
    let mut total = 0.0;
    let mut n = 0.0;
    for stratum in 0..25i64 {
        let sel = |rec: &Recording| {
            let goal = rec.trials.i64("goal").expect("goal");
            let st = steps(rec);
            (0..st.len())
                .filter(|&i| st.step[i] >= 2)
                .filter_map(|i| {
                    let g = goal[st.trial[i]];
                    let pos = st.x[i] * 5 + st.y[i];
                    let (strat, level) = if by_goal { (pos, g) } else { (g, pos) };
                    let o = st.options_time_s[i];
                    (strat == stratum).then_some((o - 0.25, o, level, None))
                })
                .collect::<Vec<_>>()
        };
        // Keep strata where every session has ≥ 2 levels with ≥ 3 samples.
        let ok = sims.iter().all(|rec| {
            let mut c: BTreeMap<i64, usize> = BTreeMap::new();
            for s in sel(rec) {
                *c.entry(s.2).or_default() += 1;
            }
            c.values().filter(|&&k| k >= 3).count() >= 2
        });
        if ok {
            let filtered = |rec: &Recording| {
                let all = sel(rec);
                let mut c: BTreeMap<i64, usize> = BTreeMap::new();
                for s in &all {
                    *c.entry(s.2).or_default() += 1;
                }
                all.into_iter().filter(|s| c[&s.2] >= 3).collect()
            };
            total += mean_f(sims, region, filtered);
            n += 1.0;
        }
    }
    assert!(n > 0.0, "no stratum with two levels");
    total / n
}

#[test]
fn recordings_validate_and_follow_the_maze_contract() {
    let (sims, truth) = small();
    assert_eq!(sims.len(), 2);
    let mut n_trials = 0;
    let mut n_correct = 0;
    for (s, rec) in sims.iter().enumerate() {
        rec.validate().expect("recording validates");
        let st = steps(rec);
        st.validate().expect("steps validate");
        assert_eq!(rec.info.id, format!("maze_sim_s{s:02}"));
        assert_eq!(rec.info.subject.as_deref(), Some("sim-monkey"));
        assert_eq!(rec.info.format, "simulated");
        let m = rec.maze.expect("maze geometry");
        assert_eq!((m.width, m.height, m.start_x, m.start_y), (5, 5, 2, 2));
        assert_eq!(rec.units.len(), 40);
        for r in ["vlPFC", "dPM", "dmPFC", "IO"] {
            assert!(rec.units.indices_in_region(r).len() >= 8, "{r}");
        }
        // The exact column contract of the maze HDF5 writer.
        let names = rec.trials.column_names();
        let want = [
            "start_time",
            "stop_time",
            "goal_cue_time",
            "goal",
            "goal_x",
            "goal_y",
            "route_length",
            "correct",
        ];
        assert_eq!(names, want);
        let dtypes: Vec<String> = rec
            .trials
            .frame()
            .dtypes()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            dtypes,
            ["f64", "f64", "f64", "i64", "i64", "i64", "i64", "bool"]
        );
        let t = &rec.trials;
        let (start, stop, cue) = (
            t.f64("start_time").unwrap(),
            t.f64("stop_time").unwrap(),
            t.f64("goal_cue_time").unwrap(),
        );
        let (goal, gx, gy, len, correct) = (
            t.i64("goal").unwrap(),
            t.i64("goal_x").unwrap(),
            t.i64("goal_y").unwrap(),
            t.i64("route_length").unwrap(),
            t.bool("correct").unwrap(),
        );
        for i in 0..t.n_trials() {
            assert!(start[i] < cue[i] && cue[i] < stop[i]);
            if i > 0 {
                assert!(start[i] > stop[i - 1], "trials do not overlap");
            }
            assert_eq!((gx[i], gy[i]), GOALS[goal[i] as usize]);
            assert!(len[i] == 2 || len[i] == 4);
            let rows: Vec<usize> = (0..st.len()).filter(|&k| st.trial[k] == i).collect();
            assert!(!rows.is_empty());
            assert_eq!(
                (st.x[rows[0]], st.y[rows[0]]),
                (2, 2),
                "starts at the centre"
            );
            for &k in &rows {
                assert!(cue[i] < st.options_time_s[k]);
                assert!(st.options_time_s[k] < st.saccade_time_s[k]);
                assert!(st.saccade_time_s[k] < stop[i]);
                let (x, y) = st.position_after(k);
                assert!(
                    (0..5).contains(&x) && (0..5).contains(&y),
                    "stays on the grid"
                );
            }
            let last = *rows.last().unwrap();
            let ends_on_goal = st.position_after(last) == (gx[i], gy[i]);
            if correct[i] {
                assert_eq!(rows.len() as i64, len[i]);
                assert!(ends_on_goal, "correct trial {i} ends on its goal");
            } else {
                assert!(rows.len() as i64 <= len[i]);
                assert!(!ends_on_goal, "error trial {i} misses its goal");
            }
            n_correct += usize::from(correct[i]);
        }
        n_trials += t.n_trials();
        // Spike times: plausible rates over the session.
        let sp = rec.spikes.as_ref().unwrap();
        let dur = stop[stop.len() - 1];
        let mean_rate = sp.n_spikes() as f64 / (dur * sp.n_units() as f64);
        assert!((1.0..50.0).contains(&mean_rate), "mean rate {mean_rate} Hz");
        assert!(sp.times_s().iter().all(|t| t.is_finite() && *t >= 0.0));
    }
    let frac = n_correct as f64 / n_trials as f64;
    assert!((0.75..0.95).contains(&frac), "fraction correct {frac}");
    assert_eq!(truth.units.len(), 80);
    assert_eq!(truth.regions.len(), 4);
    let ortho: Vec<bool> = truth
        .regions
        .iter()
        .map(|r| r.orthogonal_goal_move)
        .collect();
    assert_eq!(ortho, [true, true, false, true]);
    // All four moves occur.
    let moves: std::collections::BTreeSet<Move> =
        sims.iter().flat_map(|r| steps(r).moves.clone()).collect();
    assert_eq!(moves.len(), 4);
}

#[test]
fn dmpfc_holds_the_goal_throughout_the_trial() {
    let (sims, _) = small();
    let early = goal_f_early(sims, "dmPFC");
    let late = goal_f_last_step(sims, "dmPFC");
    assert!(early > 8.0, "dmPFC early goal F {early}");
    assert!(late > 5.0, "dmPFC last-step goal F {late}");
    let vl_early = goal_f_early(sims, "vlPFC");
    assert!(early > 2.0 * vl_early, "dmPFC {early} vs vlPFC {vl_early}");
    // Location held fixed: dmPFC's goal code still beats vlPFC's.
    let dm = controlled_f(sims, "dmPFC", true);
    let vl = controlled_f(sims, "vlPFC", true);
    assert!(
        dm > 2.0 && dm > 1.5 * vl,
        "goal F | position: dmPFC {dm}, vlPFC {vl}"
    );
}

#[test]
fn vlpfc_is_driven_by_location() {
    let (sims, _) = small();
    let vl = controlled_f(sims, "vlPFC", false);
    let dm = controlled_f(sims, "dmPFC", false);
    assert!(
        vl > 3.0 && vl > 2.0 * dm,
        "position F | goal: vlPFC {vl}, dmPFC {dm}"
    );
}

/// First 50-ms bin (sliding by 25 ms after the options onset) where the mean move F of the
/// baseline-subtracted counts exceeds 3. The baseline (before the options, same step) removes
/// the goal, location and step codes, which are constant within a step.
fn move_onset_s(sims: &[Recording], region: &str) -> Option<f64> {
    (0..12).map(|k| k as f64 * 0.025).find(|&a| {
        let f = mean_f(sims, region, |rec| {
            let st = steps(rec);
            (0..st.len())
                .map(|i| {
                    let o = st.options_time_s[i];
                    (
                        o + a,
                        o + a + 0.05,
                        st.moves[i].code(),
                        Some((o - 0.25, o - 0.05)),
                    )
                })
                .collect()
        });
        f > 3.0
    })
}

#[test]
fn move_coding_starts_earlier_in_vlpfc_than_in_dpm() {
    let (sims, truth) = small();
    let vl = move_onset_s(sims, "vlPFC").expect("vlPFC codes the move");
    let dpm = move_onset_s(sims, "dPM").expect("dPM codes the move");
    assert!(vl + 0.1 <= dpm, "onsets: vlPFC {vl} s, dPM {dpm} s");
    let planted = |n: &str| {
        truth
            .regions
            .iter()
            .find(|r| r.spec.name == n)
            .unwrap()
            .spec
            .move_onset_s
    };
    // The detected bin starts within ~one bin of the planted onset.
    assert!((vl - planted("vlPFC")).abs() <= 0.075, "vlPFC {vl}");
    assert!((dpm - planted("dPM")).abs() <= 0.075, "dPM {dpm}");
}

/// Condition means (rows: levels in key order, columns: the region's units over all sessions),
/// centred per unit across levels.
fn centred_means<S>(sims: &[Recording], region: &str, samples: S) -> Vec<Vec<f64>>
where
    S: Fn(&Recording) -> Vec<(f64, f64, i64, Option<(f64, f64)>)>,
{
    let mut cols: Vec<Vec<f64>> = Vec::new(); // per unit, per level
    for rec in sims {
        let sp = rec.spikes.as_ref().unwrap();
        let smp = samples(rec);
        let levels: Vec<i64> = {
            let mut l: Vec<i64> = smp.iter().map(|s| s.2).collect();
            l.sort_unstable();
            l.dedup();
            l
        };
        assert_eq!(levels.len(), 4);
        for u in rec.units.indices_in_region(region) {
            let mut col = Vec::new();
            for &lv in &levels {
                let v: Vec<f64> = smp
                    .iter()
                    .filter(|s| s.2 == lv)
                    .map(|&(a, b, _, base)| {
                        let c = sp.count(u, a, b) as f64;
                        let c = c - base.map_or(0.0, |(c0, c1)| {
                            sp.count(u, c0, c1) as f64 * (b - a) / (c1 - c0)
                        });
                        c / (b - a)
                    })
                    .collect();
                col.push(v.iter().sum::<f64>() / v.len() as f64);
            }
            let m = col.iter().sum::<f64>() / 4.0;
            cols.push(col.into_iter().map(|x| x - m).collect());
        }
    }
    (0..4)
        .map(|lv| cols.iter().map(|c| c[lv]).collect())
        .collect()
}

/// Orthonormal basis (rows) of the span of the first 3 rows: 4 centred means span ≤ 3 dims, so
/// this is the top-3 subspace.
fn basis(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut q: Vec<Vec<f64>> = Vec::new();
    for r in rows.iter().take(3) {
        let mut v = r.clone();
        for b in &q {
            let d: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        q.push(v.into_iter().map(|x| x / n).collect());
    }
    q
}

/// RMS cosine of the principal angles between the goal and move subspaces: ‖Q_gᵀ Q_m‖_F / √3.
fn goal_move_overlap(sims: &[Recording], region: &str) -> f64 {
    let goal = centred_means(sims, region, |rec| {
        let cue = rec.trials.f64("goal_cue_time").unwrap();
        let goal = rec.trials.i64("goal").unwrap();
        (0..cue.len())
            .map(|i| (cue[i] + 0.25, cue[i] + 0.7, goal[i], None))
            .collect()
    });
    let mv = centred_means(sims, region, |rec| {
        let st = steps(rec);
        (0..st.len())
            .map(|i| {
                let (o, s) = (st.options_time_s[i], st.saccade_time_s[i]);
                (s - 0.15, s, st.moves[i].code(), Some((o - 0.25, o - 0.05)))
            })
            .collect()
    });
    let (qg, qm) = (basis(&goal), basis(&mv));
    let mut ss = 0.0;
    for a in &qg {
        for b in &qm {
            ss += a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>().powi(2);
        }
    }
    (ss / 3.0).sqrt()
}

#[test]
fn move_subspace_is_orthogonal_to_goal_subspace_except_in_dmpfc() {
    let (sims, _) = small();
    let vl = goal_move_overlap(sims, "vlPFC");
    let dpm = goal_move_overlap(sims, "dPM");
    let dm = goal_move_overlap(sims, "dmPFC");
    assert!(vl < 0.4, "vlPFC overlap {vl}");
    assert!(dpm < 0.4, "dPM overlap {dpm}");
    assert!(dm > 0.7, "dmPFC overlap {dm}");
}

/// Correlations of population vectors (region units over all sessions; mean rate over the
/// 4-step correct trials) between (step, window) conditions, after centring each unit across
/// conditions. Returns mean r for: same window/different step, different window/same step,
/// different window/different step.
fn temporal_xcorr(sims: &[Recording], region: &str) -> (f64, f64, f64) {
    let windows = [(-0.2, -0.1), (0.05, 0.15), (0.25, 0.35)];
    let mut vecs: Vec<Vec<f64>> = vec![Vec::new(); 4 * windows.len()];
    for rec in sims {
        let sp = rec.spikes.as_ref().unwrap();
        let st = steps(rec);
        let len = rec.trials.i64("route_length").unwrap();
        let correct = rec.trials.bool("correct").unwrap();
        let rows: Vec<usize> = (0..st.len())
            .filter(|&i| len[st.trial[i]] == 4 && correct[st.trial[i]])
            .collect();
        for u in rec.units.indices_in_region(region) {
            for s in 1..=4u32 {
                for (w, &(a, b)) in windows.iter().enumerate() {
                    let v: Vec<f64> = rows
                        .iter()
                        .filter(|&&i| st.step[i] == s)
                        .map(|&i| {
                            let o = st.options_time_s[i];
                            sp.count(u, o + a, o + b) as f64 / (b - a)
                        })
                        .collect();
                    vecs[(s as usize - 1) * windows.len() + w]
                        .push(v.iter().sum::<f64>() / v.len() as f64);
                }
            }
        }
    }
    let n_units = vecs[0].len();
    for u in 0..n_units {
        let m = vecs.iter().map(|v| v[u]).sum::<f64>() / vecs.len() as f64;
        vecs.iter_mut().for_each(|v| v[u] -= m);
    }
    let corr = |a: &[f64], b: &[f64]| {
        let (ma, mb) = (
            a.iter().sum::<f64>() / a.len() as f64,
            b.iter().sum::<f64>() / b.len() as f64,
        );
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    };
    let nw = windows.len();
    let (mut same_w, mut same_s, mut diff) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..vecs.len() {
        for j in i + 1..vecs.len() {
            let r = corr(&vecs[i], &vecs[j]);
            match (i / nw == j / nw, i % nw == j % nw) {
                (false, true) => same_w.push(r),
                (true, false) => same_s.push(r),
                (false, false) => diff.push(r),
                (true, true) => unreachable!(),
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (mean(&same_w), mean(&same_s), mean(&diff))
}

#[test]
fn population_vectors_repeat_across_steps_and_vlpfc_codes_step_order() {
    let (sims, _) = small();
    for region in ["vlPFC", "dPM", "dmPFC", "IO"] {
        let (same_w, _, diff) = temporal_xcorr(sims, region);
        assert!(
            same_w > diff + 0.15,
            "{region}: same window {same_w}, different {diff}"
        );
    }
    let (_, vl_same_s, vl_diff) = temporal_xcorr(sims, "vlPFC");
    let (_, dm_same_s, dm_diff) = temporal_xcorr(sims, "dmPFC");
    let vl_order = vl_same_s - vl_diff;
    let dm_order = dm_same_s - dm_diff;
    assert!(
        vl_order > 0.3 && vl_order > dm_order + 0.3,
        "step-order effect: vlPFC {vl_order}, dmPFC {dm_order}"
    );
}

#[test]
fn control_simulation_has_no_goal_or_move_code() {
    let mut o = MazeSimOptions::small().without_effects();
    o.n_sessions = 1;
    let (sims, truth) = simulate(&o).unwrap();
    assert!(truth.regions.iter().all(|r| r.spec.goal_gain_hz == 0.0));
    for region in ["vlPFC", "dmPFC"] {
        let g = goal_f_early(&sims, region);
        assert!((0.5..1.6).contains(&g), "{region} null goal F {g}");
    }
}

#[test]
fn same_seed_same_spikes_independent_of_threads() {
    let mut o = MazeSimOptions::small();
    o.n_sessions = 1;
    o.trials_per_session = 20;
    let run = |threads: usize, seed: u64| {
        let mut o = o.clone();
        o.seed = seed;
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| simulate(&o).unwrap().0)
    };
    let bits = |r: &[Recording]| -> Vec<u64> {
        r.iter()
            .flat_map(|x| x.spikes.as_ref().unwrap().times_s().to_vec())
            .map(f64::to_bits)
            .collect()
    };
    let a = run(1, 7);
    let b = run(4, 7);
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(a[0].trials, b[0].trials);
    assert_eq!(a[0].steps, b[0].steps);
    let c = run(4, 8);
    assert_ne!(bits(&a), bits(&c));
}

#[test]
fn bad_options_are_rejected() {
    let mut o = MazeSimOptions::small();
    o.units_per_session = 8;
    o.n_sessions = 1;
    assert!(simulate(&o).is_err(), "regions with fewer than 6 units");
    let mut o = MazeSimOptions::small();
    o.p_correct = 1.5;
    assert!(simulate(&o).is_err());
    let mut o = MazeSimOptions::small();
    o.timing.reaction_time_s = (0.5, 0.3);
    assert!(simulate(&o).is_err());
}
