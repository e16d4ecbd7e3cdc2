//! The `neuropop` command: argument parsing only; every subcommand calls one library function.

use clap::{Parser, Subcommand, ValueEnum};
use neuropop::cli::{num, print_json, read_labels, read_matrix};
use neuropop::rsa::compare::{CompareMethod, compare};
use neuropop::rsa::rdm::{Metric, rdm};
use neuropop::rsa::shesha::{self, SplitHalfOptions};
use neuropop::{Error, Result};
use serde_json::json;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "neuropop",
    version,
    about = "Fast, reproducible neural population analysis",
    after_help = "Examples:\n  neuropop demo --out demo-out --small\n  neuropop rsa rdm --x X.npy --metric cosine --out R.npy --png R.png\n  neuropop shesha split-half --x X.npy --conditions C.npy --json"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate Steinmetz-like sessions, write them as NMA npz files, and run every analysis on them.
    Demo {
        /// Output directory.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
        /// Small sizes (seconds instead of minutes).
        #[arg(long)]
        small: bool,
        /// Write into a non-empty directory.
        #[arg(long)]
        force: bool,
        /// Seed of the simulation.
        #[arg(long, default_value_t = 2019)]
        seed: u64,
        /// No progress output.
        #[arg(long)]
        quiet: bool,
    },
    /// Representational similarity analysis: RDMs and their comparison.
    #[command(subcommand)]
    Rsa(RsaCommand),
    /// Shesha geometric-stability estimators and the Steinmetz replication pipeline.
    #[command(subcommand)]
    Shesha(SheshaCommand),
    /// Merges partial outputs of sharded runs and recomputes the cross-session summaries.
    Merge {
        /// Partial output directories.
        dirs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        force: bool,
    },
    /// Summarises a data file or ALF session folder: format, sessions, units per region,
    /// trials, bins, trial-table columns. E.g. `neuropop inspect steinmetz_part0.npz --json`.
    Inspect {
        /// File (NMA npz, NWB, maze HDF5) or ALF session folder.
        path: PathBuf,
        /// Format, or `auto` to detect it.
        #[arg(long, default_value = "auto", value_parser = ["auto", "steinmetz-npz", "steinmetz-alf", "nwb", "maze"])]
        format: String,
        /// Print exactly one JSON object instead of the human summary.
        #[arg(long)]
        json: bool,
    },
    /// Prints a pipeline's default configuration (TOML).
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Prints the default config of a pipeline (`steinmetz`).
    Print {
        #[arg(value_parser = ["steinmetz"])]
        pipeline: String,
    },
}

#[derive(Subcommand)]
enum RsaCommand {
    /// RDM of the rows of X (square n × n float64 .npy), e.g. `neuropop rsa rdm --x X.npy --metric cosine --out R.npy`.
    Rdm {
        #[arg(long)]
        x: PathBuf,
        #[arg(long, value_enum, default_value = "cosine")]
        metric: Metric,
        #[arg(long)]
        out: PathBuf,
        /// Also render the RDM as a heatmap (PNG; an .svg path gives SVG).
        #[arg(long, value_name = "R.png")]
        png: Option<PathBuf>,
    },
    /// Compares two square RDMs over their upper triangles (k = 1).
    Compare {
        #[arg(long)]
        a: PathBuf,
        #[arg(long)]
        b: PathBuf,
        #[arg(long, value_enum, default_value = "spearman")]
        method: CliCompare,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CliCompare {
    Spearman,
    Pearson,
    #[value(name = "kendall-tau-a", alias = "tau-a")]
    KendallTauA,
    #[value(name = "kendall-tau-b", alias = "tau-b")]
    KendallTauB,
    Cosine,
}

#[derive(Clone, Copy, ValueEnum)]
enum CliCorr {
    Spearman,
    Pearson,
}

#[derive(Clone, Copy, ValueEnum)]
enum CliSplit {
    OddEven,
    Random,
}

#[derive(Subcommand)]
enum SheshaCommand {
    /// One-command replication of the Steinmetz geometric-stability analysis (Raju), e.g.
    /// `neuropop shesha steinmetz --data steinmetz_part0.npz steinmetz_part1.npz --out results`.
    Steinmetz {
        /// NMA npz files, in order (sessions are numbered across them).
        #[arg(long, num_args = 1.., required = true)]
        data: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Seed of every random step (overrides the config).
        #[arg(long)]
        seed: Option<u64>,
        /// TOML config (see `neuropop config print steinmetz`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Write into a non-empty directory.
        #[arg(long)]
        force: bool,
        /// Process shard i of N (`i/N`, 0-based); default from SLURM_ARRAY_TASK_ID/COUNT.
        #[arg(long)]
        shard: Option<String>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Plain log lines only.
        #[arg(long)]
        quiet: bool,
    },
    /// Split-half RDM stability of a trials × features matrix with a condition per trial.
    SplitHalf {
        #[arg(long)]
        x: PathBuf,
        #[arg(long)]
        conditions: PathBuf,
        #[arg(long, value_enum, default_value = "cosine")]
        metric: Metric,
        #[arg(long, value_enum, default_value = "odd-even")]
        split: CliSplit,
        #[arg(long, default_value_t = 100)]
        n_splits: usize,
        #[arg(long, default_value_t = 320)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Stability between two replicates of the same conditions (rows of A and B correspond).
    Replicate {
        #[arg(long)]
        a: PathBuf,
        #[arg(long)]
        b: PathBuf,
        #[arg(long, value_enum, default_value = "cosine")]
        metric: Metric,
        #[arg(long, value_enum, default_value = "spearman")]
        method: CliCorr,
        #[arg(long)]
        json: bool,
    },
    /// Feature-split stability: RDMs from random disjoint halves of the features.
    FeatureSplit {
        #[arg(long)]
        x: PathBuf,
        #[arg(long, default_value_t = 30)]
        n_splits: usize,
        #[arg(long, value_enum, default_value = "cosine")]
        metric: Metric,
        #[arg(long, default_value_t = 320)]
        seed: u64,
        #[arg(long, default_value_t = 1600)]
        max_samples: usize,
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    // Parallelism comes from rayon over sessions, areas and repetitions.
    neuropop::stats::gram::use_single_threaded_blas();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("neuropop: error: {e}");
        std::process::exit(1);
    }
}

fn load_config(path: Option<&PathBuf>) -> Result<neuropop::pipeline::SteinmetzConfig> {
    match path {
        Some(p) => neuropop::pipeline::SteinmetzConfig::from_toml_file(p),
        None => Ok(neuropop::pipeline::SteinmetzConfig::default()),
    }
}

fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad = || Error::invalid("--shard", "i/N with 0 <= i < N", s.to_string());
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

fn finish(summary: &neuropop::pipeline::RunSummary) -> Result<()> {
    println!(
        "wrote {} area-sessions ({} skipped, {} failed sessions) to {}",
        summary.rows.len(),
        summary.skipped.len(),
        summary.n_failures,
        summary.out_dir.display()
    );
    if summary.has_failures() {
        return Err(Error::invalid(
            "pipeline",
            "every session to succeed",
            format!("{} failed (see manifest.json)", summary.n_failures),
        ));
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
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
            let mut cfg = load_config(config.as_ref())?;
            if let Some(s) = seed {
                cfg.seed = s;
            }
            let shard = match shard {
                Some(s) => Some(parse_shard(&s)?),
                None => neuropop::pipeline::shard_from_slurm(),
            };
            let opts = neuropop::pipeline::RunOptions {
                force,
                shard,
                quiet,
                threads,
            };
            finish(&neuropop::pipeline::run(&data, &out, &cfg, &opts)?)
        }
        Command::Merge {
            dirs,
            out,
            config,
            force,
        } => {
            let cfg = load_config(config.as_ref())?;
            finish(&neuropop::pipeline::merge(&dirs, &out, &cfg, force)?)
        }
        Command::Inspect { path, format, json } => {
            let format = match format.as_str() {
                "auto" => None,
                name => Some(neuropop::io::Format::parse(name)?),
            };
            let o = neuropop::io::overview(&path, format)?;
            if json {
                print_json(
                    &serde_json::to_value(&o).map_err(|e| {
                        Error::invalid("inspect JSON", "serialisable", e.to_string())
                    })?,
                )
            } else {
                print!("{}", o.to_text(&path));
                Ok(())
            }
        }
        Command::Config(ConfigCommand::Print { .. }) => {
            print!("{}", neuropop::pipeline::default_toml());
            Ok(())
        }
        Command::Demo {
            out,
            small,
            force,
            seed,
            quiet,
        } => neuropop::demo::run(&out, small, force, seed, quiet).map(|_| ()),
        Command::Rsa(RsaCommand::Rdm {
            x,
            metric,
            out,
            png,
        }) => {
            let x = read_matrix(&x, true)?;
            let r = rdm(x.view(), metric)?;
            neuropop::io::npy::write_npy_f64(&out, &r.square().into_dyn())?;
            match png {
                Some(path) => neuropop::plot::rdm_heatmap(
                    &r,
                    &format!("{} RDM of {} rows", metric.name(), r.n()),
                    &format!("{} distance", metric.name()),
                    &path,
                    &neuropop::plot::FigureOptions::default(),
                ),
                None => Ok(()),
            }
        }
        Command::Rsa(RsaCommand::Compare { a, b, method, json }) => {
            let ra = neuropop::rsa::rdm::Rdm::from_square(read_matrix(&a, true)?.view())?;
            let rb = neuropop::rsa::rdm::Rdm::from_square(read_matrix(&b, true)?.view())?;
            if ra.n() != rb.n() {
                return Err(Error::invalid(
                    "rsa compare",
                    format!("RDMs of the same size ({} conditions in A)", ra.n()),
                    format!("{} conditions in B", rb.n()),
                ));
            }
            let m = match method {
                CliCompare::Spearman => CompareMethod::Spearman,
                CliCompare::Pearson => CompareMethod::Pearson,
                CliCompare::KendallTauA => CompareMethod::KendallTauA,
                CliCompare::KendallTauB => CompareMethod::KendallTauB,
                CliCompare::Cosine => CompareMethod::Cosine,
            };
            let v = compare(&ra, &rb, m)?;
            if json {
                print_json(&json!({ "value": num(v) }))
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
                .with_metric(metric)
                .with_seed(seed);
            if let CliSplit::Random = split {
                opts = opts.with_random_splits(n_splits);
            }
            let started = std::time::Instant::now();
            let r = shesha::split_half(xm.view(), labels.codes(), &opts)?;
            let compute_s = started.elapsed().as_secs_f64();
            if json {
                print_json(&json!({
                    "estimate": num(r.estimate),
                    "compute_s": compute_s,
                    "n_conditions": r.conditions.len(),
                    "n_valid_splits": r.n_valid_splits,
                    "monte_carlo_se": num(r.monte_carlo_se),
                    "split_scores": r.split_scores.iter().map(|&v| num(v)).collect::<Vec<_>>(),
                    "dropped": r.meta.dropped,
                    "warnings": r.meta.warnings,
                }))
            } else {
                println!(
                    "split-half stability: {} ({} conditions, {} valid splits)",
                    r.estimate,
                    r.conditions.len(),
                    r.n_valid_splits
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
            json,
        }) => {
            let xa = read_matrix(&a, true)?;
            let xb = read_matrix(&b, true)?;
            let method = match method {
                CliCorr::Spearman => shesha::CorrelationMethod::Spearman,
                CliCorr::Pearson => shesha::CorrelationMethod::Pearson,
            };
            let opts = shesha::ReplicateOptions {
                metric,
                method,
                ..Default::default()
            };
            let r = shesha::replicate_stability(xa.view(), xb.view(), &opts)?;
            if json {
                print_json(&json!({ "estimate": num(r.estimate) }))
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
            let opts = shesha::FeatureSplitOptions {
                n_splits,
                metric,
                seed,
                max_samples: Some(max_samples),
                ..Default::default()
            };
            let started = std::time::Instant::now();
            let r = shesha::feature_split(xm.view(), &opts)?;
            let compute_s = started.elapsed().as_secs_f64();
            if json {
                print_json(
                    &json!({ "estimate": num(r.estimate), "compute_s": compute_s, "split_scores": r.split_scores.iter().map(|&v| num(v)).collect::<Vec<_>>() }),
                )
            } else {
                println!("{}", r.estimate);
                Ok(())
            }
        }
    }
}
