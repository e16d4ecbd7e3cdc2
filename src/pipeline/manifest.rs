//! `manifest.json`: what a run read, how it was configured, what happened to every session and
//! how long each stage took — enough to reproduce the run and to audit it.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::figures::FiguresReport;
use super::shard::Shard;
use crate::error::{Error, Result};

/// One input file (or session folder) of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// The path as given.
    pub path: PathBuf,
    /// Size in bytes (all files of a folder).
    pub size_bytes: Option<u64>,
    /// SHA-256 of the file; for a folder, of its files' relative paths and hashes in sorted
    /// order (see [`sha256_input`]).
    pub sha256: Option<String>,
    /// Sessions the input held.
    pub n_sessions: Option<usize>,
    /// Why it could not be read or hashed.
    pub error: Option<String>,
}

impl InputFile {
    /// An input not yet read.
    pub fn new(path: &Path) -> Self {
        InputFile {
            path: path.to_path_buf(),
            size_bytes: None,
            sha256: None,
            n_sessions: None,
            error: None,
        }
    }
}

/// What happened to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Analysed.
    Ok,
    /// Left out on purpose (too few trials, no units, ...), with the reason.
    Skipped,
    /// An error stopped its analysis; the run went on.
    Failed,
}

/// The status of one session (or of an input that could not be read at all).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionStatus {
    /// Global session index, numbered across inputs in order (`None` when a whole input could
    /// not be read).
    pub session: Option<usize>,
    /// Input file or folder.
    pub file: PathBuf,
    /// Index of the session within its input.
    pub index_in_file: Option<usize>,
    /// Session id when known (`<mouse>_<date>`, NWB identifier, maze `session_id`).
    pub id: Option<String>,
    /// ok, skipped or failed.
    pub status: Status,
    /// Reason of a skip or the error of a failure.
    pub detail: Option<String>,
}

/// One shard directory combined by `merge`, with its manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The shard's output directory.
    pub dir: PathBuf,
    /// Its manifest (`None` if unreadable).
    pub manifest: Option<serde_json::Value>,
}

/// The manifest of a run or a merge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Pipeline name (`steinmetz`, `maze`, …; `<name>-merge` for a merge).
    pub pipeline: String,
    /// neuropop version.
    pub neuropop_version: String,
    /// Commit the binary was built from (recorded by build.rs), when known.
    pub git_commit: Option<String>,
    /// The full configuration used.
    pub config: serde_json::Value,
    /// Master seed.
    pub seed: u64,
    /// The shard this run processed.
    pub shard: Option<Shard>,
    /// Worker threads.
    pub threads: usize,
    /// Inputs with their hashes.
    pub inputs: Vec<InputFile>,
    /// Per-session status.
    pub sessions: Vec<SessionStatus>,
    /// Shards combined (merge only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    /// The study's counts (rows per table, skipped items, ...).
    pub counts: BTreeMap<String, serde_json::Value>,
    /// Failed sessions or inputs.
    pub n_failures: usize,
    /// Figures written or failed.
    pub figures: FiguresReport,
    /// Wall time per stage (seconds).
    pub stage_wall_time_s: BTreeMap<String, f64>,
}

impl Manifest {
    /// Writes `dir/manifest.json` (pretty-printed, atomically).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::invalid("manifest.json", "serialisable", e.to_string()))?;
        crate::output::write_atomic(dir, "manifest.json", text.as_bytes())
    }

    /// Reads `dir/manifest.json`.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Format`] naming the file.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::format(&path, format!("line {}", e.line()), e.to_string()))
    }
}

/// The commit the binary was built from (recorded by build.rs), if built from a git checkout.
pub fn git_commit() -> Option<String> {
    option_env!("NEUROPOP_GIT_COMMIT").map(str::to_string)
}

/// Size and SHA-256 (lower-case hex) of an input: a file's bytes, or for a folder the SHA-256
/// of the lines `<relative path>\t<sha256>\n` of its files (recursively, sorted by path), so a
/// session folder's hash changes when any of its files does.
///
/// # Errors
/// [`Error::Io`] naming the file that could not be read.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let f = dir.path().join("a.txt");
/// std::fs::write(&f, b"abc").unwrap();
/// let (size, hex) = neuropop::pipeline::manifest::sha256_input(&f).unwrap();
/// assert_eq!(size, 3);
/// assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// ```
pub fn sha256_input(path: &Path) -> Result<(u64, String)> {
    if path.is_dir() {
        let mut files = Vec::new();
        collect_files(path, path, &mut files)?;
        files.sort();
        let mut h = Sha256::new();
        let mut size = 0;
        for rel in files {
            let (n, hex) = sha256_file(&path.join(&rel))?;
            size += n;
            h.update(format!("{}\t{hex}\n", rel.display()).as_bytes());
        }
        Ok((size, hex(&h.finalize())))
    } else {
        sha256_file(path)
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let p = entry.path();
        if p.is_dir() {
            collect_files(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_path_buf());
        }
    }
    Ok(())
}

/// Size and SHA-256 of one file, read through a 1 MiB buffer.
fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if k == 0 {
            break;
        }
        size += k as u64;
        h.update(&buf[..k]);
    }
    Ok((size, hex(&h.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_hash_changes_with_any_file_and_counts_all_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a.npy"), b"12").unwrap();
        std::fs::write(dir.path().join("sub/b.tsv"), b"345").unwrap();
        let (n, h1) = sha256_input(dir.path()).unwrap();
        assert_eq!(n, 5);
        std::fs::write(dir.path().join("sub/b.tsv"), b"346").unwrap();
        let (_, h2) = sha256_input(dir.path()).unwrap();
        assert_ne!(h1, h2);
    }

    #[test]
    fn a_missing_input_is_an_io_error_naming_it() {
        let e = sha256_input(Path::new("/nonexistent/x.npz")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x.npz"));
    }
}
