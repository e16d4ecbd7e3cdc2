//! Progress reporting for long work: a bar per stage on a terminal, plain log lines otherwise
//! (a batch job's log, a pipe) and nothing with `--quiet`. Every batch command uses this one
//! type so they all look and log alike.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal as _;

/// A reporter for one command (e.g. `"steinmetz"`, `"demo"`).
#[derive(Debug)]
pub struct Progress {
    command: &'static str,
    quiet: bool,
    tty: bool,
}

/// One stage with a known number of steps.
#[derive(Debug)]
pub struct Stage {
    bar: Option<ProgressBar>,
    log: Option<String>,
    total: u64,
    done: u64,
}

impl Progress {
    /// A reporter that draws bars when stderr is a terminal and `quiet` is false.
    ///
    /// ```
    /// let p = neuropop::progress::Progress::new("demo", true);
    /// let mut s = p.stage("sessions", 3);
    /// s.inc("session 0");
    /// s.finish();
    /// p.log("done");
    /// ```
    pub fn new(command: &'static str, quiet: bool) -> Progress {
        Progress {
            command,
            quiet,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// A plain log line (not shown with `quiet`).
    pub fn log(&self, message: &str) {
        if !self.quiet {
            eprintln!("neuropop {}: {message}", self.command);
        }
    }

    /// Starts a stage of `total` steps.
    pub fn stage(&self, name: &str, total: u64) -> Stage {
        if self.quiet {
            return Stage {
                bar: None,
                log: None,
                total,
                done: 0,
            };
        }
        if self.tty {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{prefix:>12} [{bar:30}] {pos}/{len} {elapsed_precise} {wide_msg}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(name.to_string());
            Stage {
                bar: Some(bar),
                log: None,
                total,
                done: 0,
            }
        } else {
            Stage {
                bar: None,
                log: Some(format!("neuropop {}: {name}", self.command)),
                total,
                done: 0,
            }
        }
    }
}

impl Stage {
    /// One step done; `message` says which.
    pub fn inc(&mut self, message: &str) {
        self.done += 1;
        if let Some(b) = &self.bar {
            b.set_message(message.to_string());
            b.inc(1);
        } else if let Some(prefix) = &self.log {
            eprintln!("{prefix} {}/{}: {message}", self.done, self.total);
        }
    }

    /// A message without advancing (e.g. a failure to report).
    pub fn note(&self, message: &str) {
        if let Some(b) = &self.bar {
            b.println(message);
        } else if let Some(prefix) = &self.log {
            eprintln!("{prefix}: {message}");
        }
    }

    /// Grows the total (when the count becomes known while running, e.g. sessions per file).
    pub fn add_total(&mut self, n: u64) {
        self.total += n;
        if let Some(b) = &self.bar {
            b.inc_length(n);
        }
    }

    /// Ends the stage and clears its bar.
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
