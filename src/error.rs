//! The one error type of neuropop.
//!
//! Every variant says *where* (file, dataset path, field, byte offset) and *what*
//! (expected vs found), so a user reading one line on stderr knows which input to fix.

use std::path::{Path, PathBuf};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// All failures neuropop reports. Library code never panics on user input; it returns one of these.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system I/O failure on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file's bytes do not follow its format (bad magic, truncated, malformed header, ...).
    #[error("{path}: {location}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Where in the file: a dataset path, a zip member, a byte offset, a pickle opcode position.
        location: String,
        /// What is wrong, with expected vs found.
        message: String,
    },

    /// A required field, column or dataset is missing.
    #[error("{source_name}: missing {what} '{name}'")]
    Missing {
        /// File or table in which it was looked up.
        source_name: String,
        /// Kind of thing: "column", "dataset", "key", "attribute".
        what: &'static str,
        /// Its name.
        name: String,
    },

    /// A value has the wrong type, shape or range.
    #[error("{context}: expected {expected}, found {found}")]
    Invalid {
        /// Which field or argument, and where.
        context: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },

    /// A pickle stream asked for something neuropop refuses to construct (it never calls code).
    #[error(
        "{path}: pickle at byte {offset}: refused global '{module}.{name}' (neuropop decodes data only and never imports or calls anything)"
    )]
    UnsafePickle {
        /// The file containing the pickle.
        path: PathBuf,
        /// Byte offset of the opcode inside the pickle stream.
        offset: usize,
        /// Module named by the global.
        module: String,
        /// Attribute named by the global.
        name: String,
    },

    /// An HDF5 library failure, with the file and dataset path it concerned.
    #[error("{path}: HDF5 {location}: {message}")]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// Dataset or group path.
        location: String,
        /// The library's message.
        message: String,
    },

    /// A table (polars) operation failed.
    #[error("{context}: {message}")]
    Table {
        /// What was being done.
        context: String,
        /// The polars message.
        message: String,
    },

    /// A numerical routine (BLAS/LAPACK) failed.
    #[error("{context}: linear algebra failed: {message}")]
    Linalg {
        /// What was being computed.
        context: String,
        /// The library's message.
        message: String,
    },

    /// A session without sorted units was given to a command that analyses units (an NWB file
    /// holding only LFP, imaging or behaviour).
    #[error(
        "{file}: session '{session}' has no sorted units (no spike-sorted units table), so there is no neural population to analyse; the file holds {holds}"
    )]
    NoUnits {
        /// The file (or the session id when the recording has no source file).
        file: String,
        /// Session id.
        session: String,
        /// What the file holds instead, in words.
        holds: String,
    },

    /// A configuration file or option is invalid.
    #[error("config {context}: {message}")]
    Config {
        /// File or option.
        context: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A format error in `path` at `location`.
    pub fn format(
        path: impl AsRef<Path>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            location: location.into(),
            message: message.into(),
        }
    }

    /// A value of the wrong type, shape or range.
    pub fn invalid(
        context: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            context: context.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// A missing field/column/dataset.
    pub fn missing(
        source_name: impl Into<String>,
        what: &'static str,
        name: impl Into<String>,
    ) -> Self {
        Error::Missing {
            source_name: source_name.into(),
            what,
            name: name.into(),
        }
    }

    /// An HDF5 failure.
    pub fn hdf5(
        path: impl AsRef<Path>,
        location: impl Into<String>,
        message: impl std::fmt::Display,
    ) -> Self {
        Error::Hdf5 {
            path: path.as_ref().to_path_buf(),
            location: location.into(),
            message: message.to_string(),
        }
    }

    /// A polars failure.
    pub fn table(context: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Table {
            context: context.into(),
            message: message.to_string(),
        }
    }

    /// A LAPACK/BLAS failure.
    pub fn linalg(context: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Linalg {
            context: context.into(),
            message: message.to_string(),
        }
    }

    /// A config error.
    pub fn config(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            context: context.into(),
            message: message.into(),
        }
    }
}
