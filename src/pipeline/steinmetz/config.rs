//! Configuration of the Steinmetz replication (TOML, `neuropop config print steinmetz`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pipeline::study::StudyConfig;

/// A coarse region and the Allen acronyms it groups.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionGroup {
    /// Region name (e.g. `Visual`).
    pub name: String,
    /// Area acronyms belonging to it.
    pub areas: Vec<String>,
}

/// Settings of the Steinmetz replication. `Default` is the published analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SteinmetzConfig {
    /// Sessions with fewer (active) trials are skipped.
    pub min_trials: usize,
    /// Areas with fewer neurons in a session are skipped.
    pub min_neurons: usize,
    /// First bin of the analysis epoch (bin 50 = stimulus onset).
    pub epoch_start_bin: usize,
    /// One past the last bin of the epoch.
    pub epoch_stop_bin: usize,
    /// Permutations of the centroid-drift null.
    pub n_permutations: usize,
    /// Bootstrap resamples of the regional and coupling intervals.
    pub n_bootstrap: usize,
    /// Folds of rsa_cv.
    pub cv_folds: usize,
    /// `Some(s)`: rsa_cv uses the script's folds, scikit-learn `KFold(shuffle=True,
    /// random_state=s)` (numpy MT19937); `None`: folds from neuropop's seeded streams.
    pub cv_sklearn_random_state: Option<u32>,
    /// Master seed of every neuropop random stream (nulls, bootstraps).
    pub seed: u64,
    /// Minimum finite values for a regional-summary row.
    pub min_region_values: usize,
    /// Minimum finite pairs for a behaviour-coupling row.
    pub min_coupling_pairs: usize,
    /// Minimum finite bootstrap draws for an interval.
    pub min_finite_bootstraps: usize,
    /// Region of areas not listed in `regions`.
    pub other_region: String,
    /// Coarse regions in output order.
    pub regions: Vec<RegionGroup>,
}

fn group(name: &str, areas: &[&str]) -> RegionGroup {
    RegionGroup {
        name: name.into(),
        areas: areas.iter().map(|s| (*s).to_string()).collect(),
    }
}

impl Default for SteinmetzConfig {
    fn default() -> Self {
        SteinmetzConfig {
            min_trials: 60,
            min_neurons: 10,
            epoch_start_bin: 50,
            epoch_stop_bin: 100,
            n_permutations: 500,
            n_bootstrap: 10_000,
            cv_folds: 5,
            cv_sklearn_random_state: Some(320),
            seed: 320,
            min_region_values: 3,
            min_coupling_pairs: 10,
            min_finite_bootstraps: 100,
            other_region: "Other".into(),
            regions: vec![
                group(
                    "Visual",
                    &["VISp", "VISl", "VISrl", "VISam", "VISpm", "VISa", "VISal"],
                ),
                group("Thalamus", &["LP", "LD", "LGd", "VPM", "PO", "MD"]),
                group("Hippocampus", &["CA1", "CA3", "DG", "SUB"]),
                group("Frontal", &["ACA", "PL", "ILA", "ORB"]),
                group("Motor", &["MOp", "MOs"]),
                group("Striatum", &["CP", "ACB", "LS"]),
                group("Midbrain", &["SNr", "SCm", "MRN", "ZI"]),
            ],
        }
    }
}

impl SteinmetzConfig {
    /// The coarse region of an area acronym.
    ///
    /// ```
    /// let c = neuropop::pipeline::SteinmetzConfig::default();
    /// assert_eq!(c.region_of("VISp"), "Visual");
    /// assert_eq!(c.region_of("root"), "Other");
    /// ```
    pub fn region_of(&self, area: &str) -> &str {
        self.regions
            .iter()
            .find(|g| g.areas.iter().any(|a| a == area))
            .map_or(self.other_region.as_str(), |g| g.name.as_str())
    }

    /// Region names in output order (configured regions, then the other region).
    pub fn region_order(&self) -> Vec<String> {
        let mut v: Vec<String> = self.regions.iter().map(|g| g.name.clone()).collect();
        if !v.contains(&self.other_region) {
            v.push(self.other_region.clone());
        }
        v
    }

    /// Parses a TOML document (missing keys take their defaults).
    ///
    /// # Errors
    /// [`Error::Config`] for invalid TOML, unknown keys or inconsistent values.
    ///
    /// ```
    /// let c = neuropop::pipeline::SteinmetzConfig::from_toml_str("min_trials = 50\n").unwrap();
    /// assert_eq!(c.min_trials, 50);
    /// assert_eq!(c.min_neurons, 10);
    /// assert!(neuropop::pipeline::SteinmetzConfig::from_toml_str("min_trails = 50\n").is_err());
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self> {
        crate::pipeline::study::config_from_toml(text, "steinmetz TOML")
    }
}

impl StudyConfig for SteinmetzConfig {
    fn seed(&self) -> u64 {
        self.seed
    }

    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }

    fn check(&self) -> Result<()> {
        if self.epoch_stop_bin <= self.epoch_start_bin + 1 {
            return Err(Error::config(
                "epoch_stop_bin",
                format!(
                    "must exceed epoch_start_bin + 1 ({} .. {})",
                    self.epoch_start_bin, self.epoch_stop_bin
                ),
            ));
        }
        if self.n_permutations == 0 {
            return Err(Error::config("n_permutations", "must be >= 1"));
        }
        if self.n_bootstrap == 0 {
            return Err(Error::config("n_bootstrap", "must be >= 1"));
        }
        if self.cv_folds < 2 {
            return Err(Error::config("cv_folds", "must be >= 2"));
        }
        if self.min_trials < self.cv_folds {
            return Err(Error::config("min_trials", "must be >= cv_folds"));
        }
        Ok(())
    }
}
