//! Output safety shared by every command that writes files: refuse to overwrite a non-empty
//! directory unless asked, and write each file through a temporary name and a rename so a crash
//! never leaves a half-written table behind.
//!
//! [`temp_file_in`] is the one place in the crate that creates output files (tables, figures,
//! reports, npy/npz arrays, maze HDF5 sessions): every writer goes through it, directly or via
//! [`OutputFile`] / [`write_atomic`], so every output is created with mode 0666 minus the
//! umask, like files written by numpy, h5py or a shell.

use crate::{Error, Result};
use std::io::Write as _;
use std::path::{Path, PathBuf};

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
    let mut out = OutputFile::create(&dir.join(name))?;
    let target = out.target().to_path_buf();
    out.file()
        .write_all(bytes)
        .map_err(|e| Error::io(&target, e))?;
    out.commit()
}

/// An output file being written: a temporary file beside its target (created by
/// [`temp_file_in`], so with mode 0666 minus the umask) that [`OutputFile::commit`] renames onto
/// the target. Dropped without a commit, the temporary file is removed and the target is left as
/// it was.
///
/// Writers that stream bytes use [`OutputFile::file`]; libraries that open files by name (HDF5)
/// write to [`OutputFile::temp_path`], which keeps the mode of the file created here.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let target = dir.path().join("table.csv");
/// let mut out = neuropop::output::OutputFile::create(&target).unwrap();
/// out.file().write_all(b"a,b\n1,2\n").unwrap();
/// assert!(!target.exists()); // nothing under the target name until the commit
/// out.commit().unwrap();
/// assert_eq!(std::fs::read_to_string(&target).unwrap(), "a,b\n1,2\n");
/// ```
pub struct OutputFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl OutputFile {
    /// Starts writing `path`: creates the temporary file beside it.
    ///
    /// # Errors
    /// [`Error::Io`] naming the directory when the temporary file cannot be created.
    pub fn create(path: &Path) -> Result<OutputFile> {
        let (dir, name) = dir_and_name(path, "output");
        let tmp = temp_file_in(dir, name, ".tmp")?;
        Ok(OutputFile {
            tmp,
            target: path.to_path_buf(),
        })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.tmp.as_file_mut()
    }

    /// The temporary file's path, for libraries that open files by name.
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// The path the file will have after [`OutputFile::commit`].
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the temporary file onto the target (replacing an existing file).
    ///
    /// # Errors
    /// [`Error::Io`] naming the target.
    pub fn commit(self) -> Result<()> {
        let target = self.target;
        self.tmp
            .persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        Ok(())
    }
}

/// A temporary file `dir/.{name}.XXXX{suffix}` to be renamed onto `dir/name` once complete —
/// the one function of the crate that creates output files. Created with mode 0666 minus the
/// umask, like any other program's output (tempfile's default of 0600 would leave tables and
/// data files unreadable to the rest of a lab).
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
