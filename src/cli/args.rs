//! The command line's arguments (clap). Defaults are the library's: each is read from the
//! options struct it belongs to, never restated here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::rsa::compare::CompareMethod;
use crate::rsa::rdm::Metric;
use crate::rsa::shesha::{
    CorrelationMethod, FeatureSplitOptions, ReplicateOptions, SplitHalfOptions,
};

/// `neuropop` and its subcommands.
#[derive(Parser)]
#[command(
    name = "neuropop",
    version,
    about = "Fast, reproducible neural population analysis",
    after_help = "Examples:\n  neuropop demo --out demo-out --small\n  neuropop rsa rdm --x X.npy --metric cosine --out R.npy --png R.png\n  neuropop shesha split-half --x X.npy --conditions C.npy --json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Subcommand)]
pub(super) enum Command {
    /// Simulate Steinmetz-like and monkey-maze sessions, write them in the loaders' formats,
    /// run every analysis on them and write DIR/report.html.
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
        #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
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
pub(super) enum ConfigCommand {
    /// Prints the default config of a pipeline (`steinmetz`).
    Print {
        #[arg(value_parser = ["steinmetz"])]
        pipeline: String,
    },
}

#[derive(Subcommand)]
pub(super) enum RsaCommand {
    /// RDM of the rows of X (square n × n float64 .npy), e.g. `neuropop rsa rdm --x X.npy --metric cosine --out R.npy`.
    Rdm {
        #[arg(long)]
        x: PathBuf,
        #[arg(long, value_enum, default_value_t = CliMetric::from(Metric::default()))]
        metric: CliMetric,
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
        #[arg(long, value_enum, default_value_t = CliCompare::from(CompareMethod::default()))]
        method: CliCompare,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(super) enum SheshaCommand {
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
        #[arg(long, value_enum, default_value_t = CliMetric::from(SplitHalfOptions::default().metric))]
        metric: CliMetric,
        #[arg(long, value_enum, default_value = "odd-even")]
        split: CliSplit,
        /// Random splits (with `--split random`).
        #[arg(long, default_value_t = SplitHalfOptions::DEFAULT_RANDOM_SPLITS)]
        n_splits: usize,
        #[arg(long, default_value_t = SplitHalfOptions::default().seed)]
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
        #[arg(long, value_enum, default_value_t = CliMetric::from(ReplicateOptions::default().metric))]
        metric: CliMetric,
        #[arg(long, value_enum, default_value_t = CliCorr::from(ReplicateOptions::default().method))]
        method: CliCorr,
        /// Bootstrap resamples of the conditions for a confidence interval (0: none).
        #[arg(long, default_value_t = 0)]
        n_bootstrap: usize,
        /// Seed of the bootstrap.
        #[arg(long, default_value_t = SplitHalfOptions::default().seed)]
        seed: u64,
        /// Confidence level of the interval.
        #[arg(long, default_value_t = ReplicateOptions::default().ci)]
        ci: f64,
        #[arg(long)]
        json: bool,
    },
    /// Feature-split stability: RDMs from random disjoint halves of the features.
    FeatureSplit {
        #[arg(long)]
        x: PathBuf,
        #[arg(long, default_value_t = FeatureSplitOptions::default().n_splits)]
        n_splits: usize,
        #[arg(long, value_enum, default_value_t = CliMetric::from(FeatureSplitOptions::default().metric))]
        metric: CliMetric,
        #[arg(long, default_value_t = FeatureSplitOptions::default().seed)]
        seed: u64,
        /// Rows subsampled before splitting (default: the estimator's, 1600).
        #[arg(long)]
        max_samples: Option<usize>,
        #[arg(long)]
        json: bool,
    },
}

/// RDM metrics on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum CliMetric {
    Euclidean,
    #[value(name = "sqeuclidean")]
    SqEuclidean,
    Correlation,
    Cosine,
}

impl From<CliMetric> for Metric {
    fn from(m: CliMetric) -> Metric {
        match m {
            CliMetric::Euclidean => Metric::Euclidean,
            CliMetric::SqEuclidean => Metric::SqEuclidean,
            CliMetric::Correlation => Metric::Correlation,
            CliMetric::Cosine => Metric::Cosine,
        }
    }
}

impl From<Metric> for CliMetric {
    fn from(m: Metric) -> CliMetric {
        match m {
            Metric::Euclidean => CliMetric::Euclidean,
            Metric::SqEuclidean => CliMetric::SqEuclidean,
            Metric::Correlation => CliMetric::Correlation,
            Metric::Cosine => CliMetric::Cosine,
        }
    }
}

/// RDM comparison methods on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum CliCompare {
    Spearman,
    Pearson,
    #[value(name = "kendall-tau-a", alias = "tau-a")]
    KendallTauA,
    #[value(name = "kendall-tau-b", alias = "tau-b")]
    KendallTauB,
    Cosine,
}

impl From<CliCompare> for CompareMethod {
    fn from(m: CliCompare) -> CompareMethod {
        match m {
            CliCompare::Spearman => CompareMethod::Spearman,
            CliCompare::Pearson => CompareMethod::Pearson,
            CliCompare::KendallTauA => CompareMethod::KendallTauA,
            CliCompare::KendallTauB => CompareMethod::KendallTauB,
            CliCompare::Cosine => CompareMethod::Cosine,
        }
    }
}

impl From<CompareMethod> for CliCompare {
    fn from(m: CompareMethod) -> CliCompare {
        match m {
            CompareMethod::Spearman => CliCompare::Spearman,
            CompareMethod::Pearson => CliCompare::Pearson,
            CompareMethod::KendallTauA => CliCompare::KendallTauA,
            CompareMethod::KendallTauB => CliCompare::KendallTauB,
            CompareMethod::Cosine => CliCompare::Cosine,
        }
    }
}

/// RDM correlation of the Shesha estimators on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum CliCorr {
    Spearman,
    Pearson,
}

impl From<CliCorr> for CorrelationMethod {
    fn from(m: CliCorr) -> CorrelationMethod {
        match m {
            CliCorr::Spearman => CorrelationMethod::Spearman,
            CliCorr::Pearson => CorrelationMethod::Pearson,
        }
    }
}

impl From<CorrelationMethod> for CliCorr {
    fn from(m: CorrelationMethod) -> CliCorr {
        match m {
            CorrelationMethod::Spearman => CliCorr::Spearman,
            CorrelationMethod::Pearson => CliCorr::Pearson,
        }
    }
}

/// Split-half scheme on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum CliSplit {
    OddEven,
    Random,
}
