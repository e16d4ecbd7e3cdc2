//! Per-step table of multi-step tasks (the monkey maze): one row per choice step.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A saccade direction on the maze grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Move {
    /// y + 1 (code 0).
    Up,
    /// x + 1 (code 1).
    Right,
    /// y − 1 (code 2).
    Down,
    /// x − 1 (code 3).
    Left,
}

impl Move {
    /// All moves in code order.
    pub const ALL: [Move; 4] = [Move::Up, Move::Right, Move::Down, Move::Left];

    /// The move with the maze-v1 code (0 up, 1 right, 2 down, 3 left).
    ///
    /// # Errors
    /// [`Error::Invalid`] for any other code.
    ///
    /// ```
    /// assert_eq!(neuropop::data::Move::from_code(1).unwrap(), neuropop::data::Move::Right);
    /// assert!(neuropop::data::Move::from_code(4).is_err());
    /// ```
    pub fn from_code(code: i64) -> Result<Move> {
        Move::ALL
            .get(usize::try_from(code).unwrap_or(usize::MAX))
            .copied()
            .ok_or_else(|| {
                Error::invalid(
                    "move code",
                    "0 (up), 1 (right), 2 (down) or 3 (left)",
                    code.to_string(),
                )
            })
    }

    /// The maze-v1 code.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// Grid displacement (dx, dy).
    ///
    /// ```
    /// assert_eq!(neuropop::data::Move::Down.delta(), (0, -1));
    /// ```
    pub fn delta(self) -> (i64, i64) {
        match self {
            Move::Up => (0, 1),
            Move::Right => (1, 0),
            Move::Down => (0, -1),
            Move::Left => (-1, 0),
        }
    }
}

/// One row per choice step of every trial.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepTable {
    /// Trial index (row of the trial table).
    pub trial: Vec<usize>,
    /// 1-based step number within the trial.
    pub step: Vec<u32>,
    /// Grid x before the move.
    pub x: Vec<i64>,
    /// Grid y before the move.
    pub y: Vec<i64>,
    /// The chosen move.
    pub moves: Vec<Move>,
    /// Time the choice options appeared (seconds).
    pub options_time_s: Vec<f64>,
    /// Time of the chosen saccade (seconds).
    pub saccade_time_s: Vec<f64>,
}

impl StepTable {
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.trial.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.trial.is_empty()
    }

    /// Checks equal column lengths, steps numbered 1..k in order within each trial, and that the
    /// position after each move is the position before the next step.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the first offending step row.
    ///
    /// ```
    /// use neuropop::data::{Move, StepTable};
    /// let s = StepTable { trial: vec![0, 0], step: vec![1, 2], x: vec![2, 3], y: vec![2, 2],
    ///     moves: vec![Move::Right, Move::Up], options_time_s: vec![1.0, 2.0], saccade_time_s: vec![1.2, 2.2] };
    /// assert!(s.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let n = self.trial.len();
        for (name, len) in [
            ("step", self.step.len()),
            ("x", self.x.len()),
            ("y", self.y.len()),
            ("move", self.moves.len()),
            ("options_time", self.options_time_s.len()),
            ("saccade_time", self.saccade_time_s.len()),
        ] {
            if len != n {
                return Err(Error::invalid(
                    format!("steps/{name}"),
                    format!("{n} rows (as steps/trial)"),
                    len.to_string(),
                ));
            }
        }
        for i in 0..n {
            let first_of_trial = i == 0 || self.trial[i] != self.trial[i - 1];
            if first_of_trial {
                if self.step[i] != 1 {
                    return Err(Error::invalid(
                        format!("steps row {i} (trial {})", self.trial[i]),
                        "step 1 at the start of a trial",
                        self.step[i].to_string(),
                    ));
                }
                if i > 0 && self.trial[i] < self.trial[i - 1] {
                    return Err(Error::invalid(
                        format!("steps row {i}"),
                        "rows ordered by trial",
                        format!("trial {} after trial {}", self.trial[i], self.trial[i - 1]),
                    ));
                }
            } else {
                if self.step[i] != self.step[i - 1] + 1 {
                    return Err(Error::invalid(
                        format!("steps row {i} (trial {})", self.trial[i]),
                        format!("step {}", self.step[i - 1] + 1),
                        self.step[i].to_string(),
                    ));
                }
                let (dx, dy) = self.moves[i - 1].delta();
                let (ex, ey) = (self.x[i - 1] + dx, self.y[i - 1] + dy);
                if (ex, ey) != (self.x[i], self.y[i]) {
                    return Err(Error::invalid(
                        format!(
                            "steps row {i} (trial {}, step {})",
                            self.trial[i], self.step[i]
                        ),
                        format!(
                            "position ({ex}, {ey}) after move {:?} from ({}, {})",
                            self.moves[i - 1],
                            self.x[i - 1],
                            self.y[i - 1]
                        ),
                        format!("({}, {})", self.x[i], self.y[i]),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Position after the move of row `i`.
    pub fn position_after(&self, i: usize) -> (i64, i64) {
        let (dx, dy) = self.moves[i].delta();
        (self.x[i] + dx, self.y[i] + dy)
    }
}
