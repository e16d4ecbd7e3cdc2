//! The `neuropop` command line: argument parsing only. Every subcommand reads its inputs,
//! calls one library function and prints or writes its result; defaults come from the
//! library's options structs, results are printed as they serialise (`--json`).

mod args;

use std::path::Path;

use clap::Parser as _;
use serde::Serialize;

pub use args::Cli;
use args::{Command, ConfigCommand, RsaCommand, SheshaCommand};

use crate::io::arrays::{read_labels, read_matrix};
use crate::pipeline::steinmetz::{self, SteinmetzConfig};
use crate::pipeline::study::{RunOptions, RunSummary, StudyConfig, default_toml, load_config};
use crate::pipeline::{Shard, Study};
use crate::rsa::compare::compare;
use crate::rsa::rdm::{Rdm, rdm};
use crate::rsa::shesha::{self, Bootstrap, SplitHalfOptions};
use crate::{Error, Result};

/// Parses the process arguments and runs the command; the binary's whole `main`.
/// Returns the exit code: 0 on success, 1 after printing the error on stderr.
pub fn main() -> i32 {
    // Parallelism comes from rayon over sessions, areas and repetitions.
    crate::stats::gram::use_single_threaded_blas();
    match run(Cli::parse()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("neuropop: error: {e}");
            1
        }
    }
}

/// Prints one JSON object on stdout (NaN fields serialise as `null`).
///
/// # Errors
/// [`Error::Invalid`] if serialisation fails.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let s = serde_json::to_string(value)
        .map_err(|e| Error::invalid("JSON output", "serialisable values", e.to_string()))?;
    print_line(&s)
}

/// Writes one line on stdout; a closed pipe (`neuropop … | head`) ends quietly instead of
/// panicking as `println!` would.
fn print_line(s: &str) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{s}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io(Path::new("<stdout>"), e))
        }
        _ => Ok(()),
    }
}

/// A result with the seconds its computation took (reading inputs excluded), as
/// `benches/rsa_vs_python.py` compares with the Python tools' timed calls.
#[derive(Serialize)]
struct Timed<'a, T: Serialize> {
    #[serde(flatten)]
    result: &'a T,
    compute_s: f64,
}

fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
    let started = std::time::Instant::now();
    let r = f()?;
    Ok((r, started.elapsed().as_secs_f64()))
}

/// Prints a pipeline's one-line account and turns failed sessions into the exit status.
fn finish<O>(summary: &RunSummary<O>) -> Result<()> {
    println!("{}", summary.line());
    summary.ok_or_failures()
}

fn config_with_seed<C: StudyConfig>(path: Option<&Path>, seed: Option<u64>) -> Result<C> {
    let mut c: C = load_config(path)?;
    if let Some(s) = seed {
        c.set_seed(s);
    }
    c.check()?;
    Ok(c)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo {
            out,
            small,
            force,
            seed,
            quiet,
        } => crate::demo::run(&out, small, force, seed, quiet).map(|_| ()),
        Command::Inspect { path, format, json } => {
            let format = match format.as_str() {
                "auto" => None,
                name => Some(crate::io::Format::parse(name)?),
            };
            let o = crate::io::overview(&path, format)?;
            if json {
                print_json(&o)
            } else {
                print!("{}", o.to_text(&path));
                Ok(())
            }
        }
        Command::Config(ConfigCommand::Print { pipeline }) => {
            match pipeline.as_str() {
                steinmetz::Steinmetz::NAME => {
                    print!("{}", default_toml::<SteinmetzConfig>("Steinmetz pipeline"));
                }
                other => {
                    return Err(Error::invalid("config print", "a pipeline name", other));
                }
            }
            Ok(())
        }
        Command::Merge {
            dirs,
            out,
            config,
            force,
        } => {
            let cfg: SteinmetzConfig = load_config(config.as_deref())?;
            finish(&steinmetz::merge(&dirs, &out, &cfg, force)?)
        }
        Command::Shesha(SheshaCommand::Steinmetz {
            data,
            out,
            seed,
            config,
            force,
            shard,
            threads,
            quiet,
        }) => {
            let cfg: SteinmetzConfig = config_with_seed(config.as_deref(), seed)?;
            let opts = RunOptions {
                force,
                shard: Shard::from_arg_or_slurm(shard.as_deref())?,
                quiet,
                threads,
            };
            finish(&steinmetz::run(&data, &out, &cfg, &opts)?)
        }
        Command::Rsa(RsaCommand::Rdm {
            x,
            metric,
            out,
            png,
        }) => {
            let metric = metric.into();
            let x = read_matrix(&x, true)?;
            let r = rdm(x.view(), metric)?;
            crate::io::npy::write_npy_f64(&out, &r.square().into_dyn())?;
            match png {
                Some(path) => crate::plot::rdm_heatmap(
                    &r,
                    &format!("{} RDM of {} rows", metric.name(), r.n()),
                    &format!("{} distance", metric.name()),
                    &path,
                    &crate::plot::FigureOptions::default(),
                ),
                None => Ok(()),
            }
        }
        Command::Rsa(RsaCommand::Compare { a, b, method, json }) => {
            let ra = Rdm::from_square(read_matrix(&a, true)?.view())?;
            let rb = Rdm::from_square(read_matrix(&b, true)?.view())?;
            if ra.n() != rb.n() {
                return Err(Error::invalid(
                    "rsa compare",
                    format!("RDMs of the same size ({} conditions in A)", ra.n()),
                    format!("{} conditions in B", rb.n()),
                ));
            }
            let v = compare(&ra, &rb, method.into())?;
            if json {
                #[derive(Serialize)]
                struct Value {
                    #[serde(serialize_with = "crate::result::nan_as_null")]
                    value: f64,
                }
                print_json(&Value { value: v })
            } else {
                println!("{v}");
                Ok(())
            }
        }
        Command::Shesha(SheshaCommand::SplitHalf {
            x,
            conditions,
            metric,
            split,
            n_splits,
            seed,
            json,
        }) => {
            let xm = read_matrix(&x, true)?;
            let labels = read_labels(&conditions)?;
            if labels.len() != xm.nrows() {
                return Err(Error::invalid(
                    format!("{}", conditions.display()),
                    format!("{} labels (one per row of {})", xm.nrows(), x.display()),
                    labels.len().to_string(),
                ));
            }
            let mut opts = SplitHalfOptions::default()
                .with_metric(metric.into())
                .with_seed(seed);
            if let args::CliSplit::Random = split {
                opts = opts.with_random_splits(n_splits);
            }
            let (r, compute_s) = timed(|| shesha::split_half(xm.view(), labels.codes(), &opts))?;
            if json {
                print_json(&Timed {
                    result: &r,
                    compute_s,
                })
            } else {
                println!(
                    "split-half stability: {} ({} conditions, {} valid splits)",
                    r.estimate,
                    r.conditions.len(),
                    r.n_valid_splits.unwrap_or(0)
                );
                for w in &r.meta.warnings {
                    println!("warning: {w}");
                }
                Ok(())
            }
        }
        Command::Shesha(SheshaCommand::Replicate {
            a,
            b,
            metric,
            method,
            n_bootstrap,
            seed,
            ci,
            json,
        }) => {
            let xa = read_matrix(&a, true)?;
            let xb = read_matrix(&b, true)?;
            let opts = shesha::ReplicateOptions {
                metric: metric.into(),
                method: method.into(),
                bootstrap: match n_bootstrap {
                    0 => Bootstrap::None,
                    n => Bootstrap::Seeded {
                        n_resamples: n,
                        seed,
                    },
                },
                ci,
                ..Default::default()
            };
            let r = shesha::replicate_stability(xa.view(), xb.view(), &opts)?;
            if json {
                print_json(&r)
            } else {
                println!("{}", r.estimate);
                Ok(())
            }
        }
        Command::Shesha(SheshaCommand::FeatureSplit {
            x,
            n_splits,
            metric,
            seed,
            max_samples,
            json,
        }) => {
            let xm = read_matrix(&x, true)?;
            let defaults = shesha::FeatureSplitOptions::default();
            let opts = shesha::FeatureSplitOptions {
                n_splits,
                metric: metric.into(),
                seed,
                max_samples: max_samples.or(defaults.max_samples),
                ..defaults
            };
            let (r, compute_s) = timed(|| shesha::feature_split(xm.view(), &opts))?;
            if json {
                print_json(&Timed {
                    result: &r,
                    compute_s,
                })
            } else {
                println!("{}", r.estimate);
                Ok(())
            }
        }
    }
}
