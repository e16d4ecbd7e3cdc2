//! Output safety shared by every batch command: refuse to overwrite a non-empty directory
//! unless asked, and write each file through a temporary name and a rename so a crash never
//! leaves a half-written table behind.

use crate::{Error, Result};
use std::io::Write as _;
use std::path::Path;

/// Creates `dir` if needed; refuses an existing non-empty `dir` unless `force`.
///
/// # Errors
/// [`Error::Invalid`] for a non-empty directory without `force`; [`Error::Io`] on failure.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("run1");
/// neuropop::output::prepare_dir(&out, false).unwrap();
/// std::fs::write(out.join("x.csv"), "1").unwrap();
/// assert!(neuropop::output::prepare_dir(&out, false).is_err()); // not empty
/// assert!(neuropop::output::prepare_dir(&out, true).is_ok());
/// ```
pub fn prepare_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(Error::invalid(
                format!("output directory {}", dir.display()),
                "an empty or new directory (use --force to overwrite)",
                "a non-empty directory",
            ));
        }
        Ok(())
    } else {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
    }
}

/// Writes `bytes` to `dir/name` through a temporary file in `dir` and a rename.
///
/// # Errors
/// [`Error::Io`] naming the file that could not be written.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// neuropop::output::write_atomic(dir.path(), "a.txt", b"hello").unwrap();
/// assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"hello");
/// ```
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_file_in(dir, name, "")?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    let target = dir.join(name);
    tmp.persist(&target)
        .map_err(|e| Error::io(&target, e.error))?;
    Ok(())
}

/// A temporary file `dir/.{name}.XXXX{suffix}` to be renamed onto `dir/name` once complete.
/// Created with mode 0666 minus the umask, like any other output file (tempfile's default of
/// 0600 would leave tables unreadable to the rest of a lab).
///
/// # Errors
/// [`Error::Io`] naming `dir`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let t = neuropop::output::temp_file_in(dir.path(), "fig.png", ".png").unwrap();
/// assert!(t.path().file_name().unwrap().to_str().unwrap().starts_with(".fig.png."));
/// ```
pub fn temp_file_in(dir: &Path, name: &str, suffix: &str) -> Result<tempfile::NamedTempFile> {
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir).map_err(|e| Error::io(dir, e))
}

/// The directory and file name of an output path (`.` for a bare name), so a writer can put
/// its temporary file beside the target.
///
/// ```
/// let (d, n) = neuropop::output::dir_and_name(std::path::Path::new("out/report.html"), "x");
/// assert_eq!((d.to_str().unwrap(), n), ("out", "report.html"));
/// ```
pub fn dir_and_name<'a>(path: &'a Path, default_name: &'a str) -> (&'a Path, &'a str) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(default_name);
    (dir, name)
}
