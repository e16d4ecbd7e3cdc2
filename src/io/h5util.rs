//! Shared HDF5 reading helpers for the maze and NWB loaders.
//!
//! [`H5File`] wraps an open file together with its path so that every failure can name the file,
//! the dataset path inside it and what was expected versus found. Typed readers accept whatever
//! width a writer chose (pynwb stores index columns as `uint8` when they fit, MatNWB writes
//! `int32`, h5py `int64`) and convert to `i64`/`usize`/`f64`/`String`.

use crate::{Error, Result};
use hdf5::types::{FixedAscii, FixedUnicode, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Container, Dataset, Group, H5Type};
use std::path::{Path, PathBuf};

/// The kind of values a dataset holds, as far as the loaders care.
///
/// ```
/// use neuropop::io::h5util::{H5File, ValueKind};
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5");
/// assert_eq!(H5File::open(&p).unwrap().kind("/units/spike_times").unwrap(), ValueKind::Float);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// Signed or unsigned integers of any width.
    Int,
    /// Floating point of any width.
    Float,
    /// HDF5 boolean enum (`FALSE`/`TRUE`, as h5py writes numpy `bool`).
    Bool,
    /// Fixed or variable-length strings (ASCII or UTF-8).
    Str,
    /// Object references.
    Reference,
    /// Anything else (compound, array, other enums), described in words.
    Other(String),
}

/// An open HDF5 file that remembers its path for error messages.
///
/// ```
/// let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5");
/// let f = neuropop::io::h5util::H5File::open(&p).unwrap();
/// let err = f.read_f64("/units/id").unwrap_err().to_string();
/// assert!(err.contains("session_small.maze.h5") && err.contains("/units/id") && err.contains("int64"));
/// ```
pub struct H5File {
    file: hdf5::File,
    path: PathBuf,
}

/// Largest fixed-length string size read (bytes); longer fixed strings are reported, not cut.
const MAX_FIXED_STRING: usize = 4096;

impl H5File {
    /// Opens `path` read-only.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be accessed; [`Error::Format`] (location `/`) if it is not
    /// a readable HDF5 file — for example truncated or of another format.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let p = dir.path().join("not.h5");
    /// std::fs::write(&p, b"plain text").unwrap();
    /// assert!(neuropop::io::h5util::H5File::open(&p).is_err());
    /// ```
    pub fn open(path: &Path) -> Result<H5File> {
        std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let file = hdf5::File::open(path).map_err(|e| {
            Error::format(
                path,
                "/",
                format!("not a readable HDF5 file (truncated, damaged or another format): {e}"),
            )
        })?;
        Ok(H5File {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The file's path.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert!(f.path().ends_with("session_small.maze.h5"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// An HDF5 library error at `location`, naming this file.
    pub(crate) fn h5err(&self, location: &str, e: impl std::fmt::Display) -> Error {
        Error::hdf5(&self.path, location, e)
    }

    /// A format error at `location`, naming this file.
    pub(crate) fn format_err(&self, location: &str, message: impl Into<String>) -> Error {
        Error::format(&self.path, location, message)
    }

    fn missing(&self, what: &'static str, name: &str) -> Error {
        Error::missing(self.path.display().to_string(), what, name)
    }

    /// True if an object exists at the absolute path `obj` (every intermediate link is checked,
    /// because libhdf5 reports a missing parent as an error rather than as "absent").
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert!(f.exists("/units/id") && !f.exists("/units/nope/deeper"));
    /// ```
    pub fn exists(&self, obj: &str) -> bool {
        let mut prefix = String::new();
        for part in obj.split('/').filter(|s| !s.is_empty()) {
            prefix.push('/');
            prefix.push_str(part);
            if !self.file.link_exists(&prefix) {
                return false;
            }
        }
        true
    }

    /// The dataset at `obj`.
    ///
    /// # Errors
    /// [`Error::Missing`] (what = "dataset") if absent; [`Error::Hdf5`] if it cannot be opened.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.dataset("/units/id").unwrap().shape(), vec![3]);
    /// assert!(f.dataset("/nope").is_err());
    /// ```
    pub fn dataset(&self, obj: &str) -> Result<Dataset> {
        if !self.exists(obj) {
            return Err(self.missing("dataset", obj));
        }
        self.file.dataset(obj).map_err(|e| self.h5err(obj, e))
    }

    /// The group at `obj`.
    ///
    /// # Errors
    /// [`Error::Missing`] (what = "group") if absent; [`Error::Hdf5`] if it cannot be opened.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert!(f.group("/steps").is_ok());
    /// ```
    pub fn group(&self, obj: &str) -> Result<Group> {
        if !self.exists(obj) {
            return Err(self.missing("group", obj));
        }
        self.file.group(obj).map_err(|e| self.h5err(obj, e))
    }

    /// The kind of values stored in dataset `obj`.
    ///
    /// # Errors
    /// As [`H5File::dataset`].
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// use neuropop::io::h5util::ValueKind;
    /// assert_eq!(f.kind("/units/region").unwrap(), ValueKind::Str);
    /// assert_eq!(f.kind("/trials/correct").unwrap(), ValueKind::Int);
    /// ```
    pub fn kind(&self, obj: &str) -> Result<ValueKind> {
        let ds = self.dataset(obj)?;
        self.kind_of(&ds, obj)
    }

    fn kind_of(&self, c: &Container, location: &str) -> Result<ValueKind> {
        Ok(kind_of_descriptor(&self.descriptor(c, location)?))
    }

    fn descriptor(&self, c: &Container, location: &str) -> Result<TypeDescriptor> {
        let dt = c.dtype().map_err(|e| self.h5err(location, e))?;
        dt.to_descriptor().map_err(|e| self.h5err(location, e))
    }

    /// Length of the one-dimensional dataset `obj`.
    ///
    /// # Errors
    /// As [`H5File::dataset`]; [`Error::Format`] if it is not one-dimensional.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.len_1d("/units/spike_times").unwrap(), 7);
    /// ```
    pub fn len_1d(&self, obj: &str) -> Result<usize> {
        let ds = self.dataset(obj)?;
        self.check_1d(&ds, obj)
    }

    fn check_1d(&self, c: &Container, location: &str) -> Result<usize> {
        let shape = c.shape();
        if shape.len() != 1 {
            return Err(self.format_err(
                location,
                format!("expected a one-dimensional dataset, found shape {shape:?}"),
            ));
        }
        Ok(shape[0])
    }

    /// Reads the 1-D integer dataset `obj` (any signed/unsigned width) as `i64`.
    ///
    /// # Errors
    /// [`Error::Missing`] if absent; [`Error::Format`] if not 1-D, not integer, or a `uint64`
    /// value exceeds `i64::MAX`; [`Error::Hdf5`] on a read failure.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.read_i64("/trials/goal_x").unwrap(), vec![2, 4, 2]);
    /// ```
    pub fn read_i64(&self, obj: &str) -> Result<Vec<i64>> {
        let ds = self.dataset(obj)?;
        self.check_1d(&ds, obj)?;
        self.container_i64(&ds, obj)
    }

    fn container_i64(&self, c: &Container, location: &str) -> Result<Vec<i64>> {
        let desc = self.descriptor(c, location)?;
        match desc {
            TypeDescriptor::Unsigned(IntSize::U8) => {
                let raw: Vec<u64> = c.read_raw().map_err(|e| self.h5err(location, e))?;
                raw.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        i64::try_from(v).map_err(|_| {
                            self.format_err(
                                location,
                                format!("entry {i}: expected a value ≤ {}, found {v}", i64::MAX),
                            )
                        })
                    })
                    .collect()
            }
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
                c.read_raw::<i64>().map_err(|e| self.h5err(location, e))
            }
            other => Err(self.format_err(
                location,
                format!("expected an integer dataset, found {}", describe(&other)),
            )),
        }
    }

    /// Reads the 1-D integer dataset `obj` as non-negative `usize` values (indices, offsets).
    ///
    /// # Errors
    /// As [`H5File::read_i64`], plus [`Error::Format`] naming the first negative entry.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.read_usize("/units/spike_times_index").unwrap(), vec![3, 3, 7]);
    /// ```
    pub fn read_usize(&self, obj: &str) -> Result<Vec<usize>> {
        self.read_i64(obj)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                usize::try_from(v).map_err(|_| {
                    self.format_err(
                        obj,
                        format!("entry {i}: expected a non-negative index, found {v}"),
                    )
                })
            })
            .collect()
    }

    /// Reads the 1-D float dataset `obj` (float32 or float64) as `f64`.
    ///
    /// # Errors
    /// [`Error::Missing`] if absent; [`Error::Format`] if not 1-D or not floating point;
    /// [`Error::Hdf5`] on a read failure.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.read_f64("/trials/stop_time").unwrap(), vec![3.0, 9.0, 13.0]);
    /// ```
    pub fn read_f64(&self, obj: &str) -> Result<Vec<f64>> {
        let n = self.len_1d(obj)?;
        self.read_f64_chunked(obj, n.max(1))
    }

    /// Reads the 1-D float dataset `obj` in hyperslabs of at most `chunk_values` values, so a
    /// compressed chunked dataset is decoded piece by piece into one growing vector.
    ///
    /// # Errors
    /// As [`H5File::read_f64`].
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.read_f64_chunked("/units/spike_times", 2).unwrap().len(), 7);
    /// ```
    pub fn read_f64_chunked(&self, obj: &str, chunk_values: usize) -> Result<Vec<f64>> {
        let ds = self.dataset(obj)?;
        let n = self.check_1d(&ds, obj)?;
        match self.descriptor(&ds, obj)? {
            TypeDescriptor::Float(_) => {}
            other => {
                return Err(self.format_err(
                    obj,
                    format!("expected a float dataset, found {}", describe(&other)),
                ));
            }
        }
        let step = chunk_values.max(1);
        let mut out = Vec::with_capacity(n);
        let mut start = 0;
        while start < n {
            let stop = (start + step).min(n);
            let part = ds
                .read_slice_1d::<f64, _>(start..stop)
                .map_err(|e| self.h5err(&format!("{obj}[{start}..{stop}]"), e))?;
            out.extend(part.iter().copied());
            start = stop;
        }
        Ok(out)
    }

    /// Reads the 1-D dataset `obj` as booleans: HDF5 boolean enums and integers (non-zero = true).
    ///
    /// # Errors
    /// [`Error::Format`] for other types; otherwise as [`H5File::read_i64`].
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.read_bool("/trials/correct").unwrap(), vec![true, true, false]);
    /// ```
    pub fn read_bool(&self, obj: &str) -> Result<Vec<bool>> {
        let ds = self.dataset(obj)?;
        self.check_1d(&ds, obj)?;
        match self.descriptor(&ds, obj)? {
            TypeDescriptor::Boolean => ds.read_raw::<bool>().map_err(|e| self.h5err(obj, e)),
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
                Ok(self.read_i64(obj)?.into_iter().map(|v| v != 0).collect())
            }
            other => Err(self.format_err(
                obj,
                format!(
                    "expected a boolean or integer dataset, found {}",
                    describe(&other)
                ),
            )),
        }
    }

    /// Reads the 1-D string dataset `obj` (variable- or fixed-length, ASCII or UTF-8).
    /// Fixed-length strings lose their trailing NUL/space padding.
    ///
    /// # Errors
    /// [`Error::Missing`] if absent; [`Error::Format`] if not 1-D or not strings.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.read_strings("/units/region").unwrap(), vec!["vlPFC", "dPM", "IO"]);
    /// ```
    pub fn read_strings(&self, obj: &str) -> Result<Vec<String>> {
        let ds = self.dataset(obj)?;
        self.check_1d(&ds, obj)?;
        self.container_strings(&ds, obj)
    }

    fn container_strings(&self, c: &Container, location: &str) -> Result<Vec<String>> {
        let desc = self.descriptor(c, location)?;
        let err = |e: hdf5::Error| self.h5err(location, e);
        // Fixed-length strings are read into the smallest buffer type that holds them; libhdf5
        // converts between fixed string sizes of the same character set.
        macro_rules! fixed {
            ($ty:ident, $n:expr) => {{
                let n = $n;
                if n <= 64 {
                    read_fixed::<$ty<64>>(c).map_err(err)
                } else if n <= 256 {
                    read_fixed::<$ty<256>>(c).map_err(err)
                } else if n <= 1024 {
                    read_fixed::<$ty<1024>>(c).map_err(err)
                } else if n <= MAX_FIXED_STRING {
                    read_fixed::<$ty<MAX_FIXED_STRING>>(c).map_err(err)
                } else {
                    Err(self.format_err(
                        location,
                        format!(
                            "fixed-length strings of {n} bytes (longer than the {MAX_FIXED_STRING} supported)"
                        ),
                    ))
                }
            }};
        }
        match desc {
            TypeDescriptor::VarLenUnicode => Ok(c
                .read_raw::<VarLenUnicode>()
                .map_err(err)?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect()),
            TypeDescriptor::VarLenAscii => Ok(c
                .read_raw::<VarLenAscii>()
                .map_err(err)?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect()),
            TypeDescriptor::FixedAscii(n) => fixed!(FixedAscii, n),
            TypeDescriptor::FixedUnicode(n) => fixed!(FixedUnicode, n),
            other => Err(self.format_err(
                location,
                format!("expected strings, found {}", describe(&other)),
            )),
        }
    }

    /// Reads a scalar (or one-element) integer dataset.
    ///
    /// # Errors
    /// [`Error::Missing`] if absent; [`Error::Format`] if not an integer or not one value.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.read_scalar_i64("/maze/width").unwrap(), 5);
    /// ```
    pub fn read_scalar_i64(&self, obj: &str) -> Result<i64> {
        let ds = self.dataset(obj)?;
        one(self.container_i64(&ds, obj)?, || self.not_one(obj))
    }

    /// Reads a scalar (or one-element) string dataset, such as NWB's `/identifier`.
    ///
    /// # Errors
    /// [`Error::Missing`] if absent; [`Error::Format`] if not a string or not one value.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// let nwb = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/units_location.nwb")).unwrap();
    /// assert_eq!(nwb.read_scalar_string("/identifier").unwrap(), "fixture-c");
    /// assert!(f.read_scalar_string("/maze/width").is_err());
    /// ```
    pub fn read_scalar_string(&self, obj: &str) -> Result<String> {
        let ds = self.dataset(obj)?;
        one(self.container_strings(&ds, obj)?, || self.not_one(obj))
    }

    fn not_one(&self, location: &str) -> Error {
        self.format_err(location, "expected a single value (scalar)")
    }

    fn attr(&self, obj: &str, name: &str) -> Result<Option<hdf5::Attribute>> {
        let loc: hdf5::Location = if obj == "/" || obj.is_empty() {
            (**self.file).clone()
        } else if self.exists(obj) {
            match self.file.loc_type_by_name(obj) {
                Ok(hdf5::LocationType::Dataset) => {
                    (**self.file.dataset(obj).map_err(|e| self.h5err(obj, e))?).clone()
                }
                _ => (*self.file.group(obj).map_err(|e| self.h5err(obj, e))?).clone(),
            }
        } else {
            return Err(self.missing("group or dataset", obj));
        };
        let names = loc.attr_names().map_err(|e| self.h5err(obj, e))?;
        if !names.iter().any(|n| n == name) {
            return Ok(None);
        }
        loc.attr(name)
            .map(Some)
            .map_err(|e| self.h5err(&attr_location(obj, name), e))
    }

    /// The string attribute `name` of the object at `obj` (`"/"` for the root), or `None` if the
    /// object has no such attribute.
    ///
    /// # Errors
    /// [`Error::Missing`] if `obj` is absent; [`Error::Format`] if the attribute is not one string.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.attr_string("/", "subject").unwrap().as_deref(), Some("M1"));
    /// ```
    pub fn attr_string(&self, obj: &str, name: &str) -> Result<Option<String>> {
        let Some(a) = self.attr(obj, name)? else {
            return Ok(None);
        };
        let loc = attr_location(obj, name);
        let v = self.container_strings(&a, &loc)?;
        one(v, || self.not_one(&loc)).map(Some)
    }

    /// The integer attribute `name` of the object at `obj`, or `None` if absent.
    ///
    /// # Errors
    /// [`Error::Missing`] if `obj` is absent; [`Error::Format`] if the attribute is not one integer.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.attr_i64("/", "format_version").unwrap(), Some(1));
    /// ```
    pub fn attr_i64(&self, obj: &str, name: &str) -> Result<Option<i64>> {
        let Some(a) = self.attr(obj, name)? else {
            return Ok(None);
        };
        let loc = attr_location(obj, name);
        let v = self.container_i64(&a, &loc)?;
        one(v, || self.not_one(&loc)).map(Some)
    }

    /// The string attribute `name` of `obj` as a list (a 1-D string array such as a DynamicTable's
    /// `colnames`, or a single string), or `None` if absent.
    ///
    /// # Errors
    /// [`Error::Missing`] if `obj` is absent; [`Error::Format`] if the attribute is not strings.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.attr_strings("/", "format").unwrap(), Some(vec!["maze".to_string()]));
    /// ```
    pub fn attr_strings(&self, obj: &str, name: &str) -> Result<Option<Vec<String>>> {
        let Some(a) = self.attr(obj, name)? else {
            return Ok(None);
        };
        self.container_strings(&a, &attr_location(obj, name))
            .map(Some)
    }

    /// Names of the members (datasets, groups) of the group at `obj`, sorted by name.
    ///
    /// # Errors
    /// As [`H5File::group`].
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.member_names("/maze").unwrap(), vec!["height", "start_x", "start_y", "width"]);
    /// ```
    pub fn member_names(&self, obj: &str) -> Result<Vec<String>> {
        let mut names = self
            .group(obj)?
            .member_names()
            .map_err(|e| self.h5err(obj, e))?;
        names.sort();
        Ok(names)
    }

    /// True if `obj` is a group, false if it is a dataset (or a named datatype).
    ///
    /// # Errors
    /// [`Error::Missing`] if absent; [`Error::Hdf5`] if the link cannot be resolved (an
    /// external link to a missing file, for example).
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert!(f.is_group("/units").unwrap() && !f.is_group("/units/id").unwrap());
    /// ```
    pub fn is_group(&self, obj: &str) -> Result<bool> {
        if !self.exists(obj) {
            return Err(self.missing("group or dataset", obj));
        }
        match self.file.loc_type_by_name(obj) {
            Ok(t) => Ok(t == hdf5::LocationType::Group),
            Err(e) => Err(self.h5err(obj, e)),
        }
    }

    /// Reads the 1-D object-reference dataset `obj` and returns the absolute path of each target.
    ///
    /// # Errors
    /// [`Error::Format`] if `obj` does not hold object references; [`Error::Hdf5`] if a
    /// reference cannot be resolved.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// let nwb = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nwb/units_electrodes.nwb")).unwrap();
    /// let groups = nwb.read_reference_paths("/general/extracellular_ephys/electrodes/group").unwrap();
    /// assert_eq!(groups[0], "/general/extracellular_ephys/shank0");
    /// ```
    pub fn read_reference_paths(&self, obj: &str) -> Result<Vec<String>> {
        let ds = self.dataset(obj)?;
        self.check_1d(&ds, obj)?;
        match self.descriptor(&ds, obj)? {
            TypeDescriptor::Reference(hdf5::types::Reference::Object) => {}
            other => {
                return Err(self.format_err(
                    obj,
                    format!("expected object references, found {}", describe(&other)),
                ));
            }
        }
        let refs = ds
            .read_raw::<hdf5::ObjectReference1>()
            .map_err(|e| self.h5err(obj, e))?;
        refs.iter()
            .enumerate()
            .map(|(i, r)| {
                let target = self
                    .file
                    .dereference(r)
                    .map_err(|e| self.h5err(&format!("{obj}[{i}]"), e))?;
                Ok(match target {
                    hdf5::ReferencedObject::Group(g) => g.name(),
                    hdf5::ReferencedObject::Dataset(d) => d.name(),
                    hdf5::ReferencedObject::Datatype(_) => String::new(),
                })
            })
            .collect()
    }

    /// Shape of the dataset `obj`.
    ///
    /// # Errors
    /// As [`H5File::dataset`].
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// assert_eq!(f.shape("/maze/width").unwrap(), Vec::<usize>::new());
    /// ```
    pub fn shape(&self, obj: &str) -> Result<Vec<usize>> {
        Ok(self.dataset(obj)?.shape())
    }

    /// Kind of the attribute `name` of `obj`, or `None` if absent.
    ///
    /// # Errors
    /// [`Error::Missing`] if `obj` is absent.
    ///
    /// ```
    /// let f = neuropop::io::h5util::H5File::open(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maze/session_small.maze.h5")).unwrap();
    /// use neuropop::io::h5util::ValueKind;
    /// assert_eq!(f.attr_kind("/", "format_version").unwrap(), Some(ValueKind::Int));
    /// ```
    pub fn attr_kind(&self, obj: &str, name: &str) -> Result<Option<ValueKind>> {
        let Some(a) = self.attr(obj, name)? else {
            return Ok(None);
        };
        self.kind_of(&a, &attr_location(obj, name)).map(Some)
    }
}

fn attr_location(obj: &str, name: &str) -> String {
    format!("{obj} attribute '{name}'")
}

fn one<T>(v: Vec<T>, err: impl FnOnce() -> Error) -> Result<T> {
    let mut it = v.into_iter();
    match (it.next(), it.next()) {
        (Some(x), None) => Ok(x),
        _ => Err(err()),
    }
}

fn read_fixed<T: H5Type + StrLike>(c: &Container) -> hdf5::Result<Vec<String>> {
    Ok(c.read_raw::<T>()?.iter().map(|s| s.to_trimmed()).collect())
}

/// Fixed-length string buffers whose padding (NUL or space) is dropped.
trait StrLike {
    fn to_trimmed(&self) -> String;
}

impl<const N: usize> StrLike for FixedAscii<N> {
    fn to_trimmed(&self) -> String {
        self.as_str().trim_end_matches(['\0', ' ']).to_string()
    }
}

impl<const N: usize> StrLike for FixedUnicode<N> {
    fn to_trimmed(&self) -> String {
        self.as_str().trim_end_matches(['\0', ' ']).to_string()
    }
}

fn kind_of_descriptor(d: &TypeDescriptor) -> ValueKind {
    match d {
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => ValueKind::Int,
        TypeDescriptor::Float(_) => ValueKind::Float,
        TypeDescriptor::Boolean => ValueKind::Bool,
        TypeDescriptor::FixedAscii(_)
        | TypeDescriptor::FixedUnicode(_)
        | TypeDescriptor::VarLenAscii
        | TypeDescriptor::VarLenUnicode => ValueKind::Str,
        TypeDescriptor::Reference(_) => ValueKind::Reference,
        other => ValueKind::Other(describe(other)),
    }
}

/// A short dtype name for messages (`int64`, `float32`, `variable-length UTF-8 string`, ...).
fn describe(d: &TypeDescriptor) -> String {
    match d {
        TypeDescriptor::VarLenUnicode => "variable-length UTF-8 string".into(),
        TypeDescriptor::VarLenAscii => "variable-length ASCII string".into(),
        TypeDescriptor::FixedAscii(n) => format!("fixed-length ASCII string ({n} bytes)"),
        TypeDescriptor::FixedUnicode(n) => format!("fixed-length UTF-8 string ({n} bytes)"),
        TypeDescriptor::Reference(_) => "object reference".into(),
        TypeDescriptor::Compound(_) => "compound".into(),
        TypeDescriptor::Enum(_) => "enum".into(),
        other => other.to_string(),
    }
}

/// Guesses which neuropop HDF5 format a file is: `Some("maze")` when the root attribute
/// `format` is `"maze"`, `Some("nwb")` when the root has an `nwb_version` attribute, `None`
/// for another HDF5 file.
///
/// # Errors
/// As [`H5File::open`] (not HDF5, truncated, unreadable).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("x.h5");
/// hdf5::File::create(&p).unwrap();
/// assert_eq!(neuropop::io::h5util::sniff(&p).unwrap(), None);
/// ```
pub fn sniff(path: &Path) -> Result<Option<&'static str>> {
    let f = H5File::open(path)?;
    if f.attr_kind("/", "format")? == Some(ValueKind::Str)
        && f.attr_string("/", "format")?.as_deref() == Some("maze")
    {
        return Ok(Some("maze"));
    }
    if f.attr_kind("/", "nwb_version")?.is_some() {
        return Ok(Some("nwb"));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::types::{FixedAscii, FixedUnicode, VarLenAscii};

    fn file_with(build: impl FnOnce(&hdf5::File)) -> (tempfile::TempDir, H5File) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.h5");
        {
            let f = hdf5::File::create(&p).unwrap();
            build(&f);
        }
        let f = H5File::open(&p).unwrap();
        (dir, f)
    }

    #[test]
    fn strings_of_every_storage_kind() {
        let (_d, f) = file_with(|f| {
            let fa: Vec<FixedAscii<10>> = ["CA1", "VISp"]
                .iter()
                .map(|s| FixedAscii::from_ascii(s).unwrap())
                .collect();
            f.new_dataset_builder().with_data(&fa).create("fa").unwrap();
            let fu: Vec<FixedUnicode<300>> =
                ["Ünë", ""].iter().map(|s| s.parse().unwrap()).collect();
            f.new_dataset_builder().with_data(&fu).create("fu").unwrap();
            let va: Vec<VarLenAscii> = ["a", "bc"]
                .iter()
                .map(|s| VarLenAscii::from_ascii(s).unwrap())
                .collect();
            f.new_dataset_builder().with_data(&va).create("va").unwrap();
            let names: Vec<VarLenUnicode> = ["x", "y"].iter().map(|s| s.parse().unwrap()).collect();
            f.new_attr_builder()
                .with_data(&names)
                .create("colnames")
                .unwrap();
        });
        assert_eq!(f.read_strings("/fa").unwrap(), vec!["CA1", "VISp"]);
        assert_eq!(f.read_strings("/fu").unwrap(), vec!["Ünë", ""]);
        assert_eq!(f.read_strings("/va").unwrap(), vec!["a", "bc"]);
        assert_eq!(f.kind("/fa").unwrap(), ValueKind::Str);
        assert_eq!(
            f.attr_strings("/", "colnames").unwrap(),
            Some(vec!["x".to_string(), "y".to_string()])
        );
        assert_eq!(f.attr_string("/", "absent").unwrap(), None);
        let msg = f.read_i64("/fa").unwrap_err().to_string();
        assert!(
            msg.contains("/fa") && msg.contains("expected an integer dataset"),
            "{msg}"
        );
    }

    #[test]
    fn integers_of_any_width_and_booleans() {
        let (_d, f) = file_with(|f| {
            f.new_dataset_builder()
                .with_data(&[3u8, 250])
                .create("u8")
                .unwrap();
            f.new_dataset_builder()
                .with_data(&[-7i16, 9])
                .create("i16")
                .unwrap();
            f.new_dataset_builder()
                .with_data(&[1u64, u64::MAX])
                .create("u64")
                .unwrap();
            f.new_dataset_builder()
                .with_data(&[true, false])
                .create("b")
                .unwrap();
            f.new_dataset_builder()
                .with_data(&[1.5f32, -2.0])
                .create("f32")
                .unwrap();
        });
        assert_eq!(f.read_i64("/u8").unwrap(), vec![3, 250]);
        assert_eq!(f.read_i64("/i16").unwrap(), vec![-7, 9]);
        let msg = f.read_i64("/u64").unwrap_err().to_string();
        assert!(
            msg.contains("entry 1") && msg.contains("18446744073709551615"),
            "{msg}"
        );
        let msg = f.read_usize("/i16").unwrap_err().to_string();
        assert!(
            msg.contains("entry 0: expected a non-negative index, found -7"),
            "{msg}"
        );
        assert_eq!(f.kind("/b").unwrap(), ValueKind::Bool);
        assert_eq!(f.read_bool("/b").unwrap(), vec![true, false]);
        assert_eq!(f.read_bool("/u8").unwrap(), vec![true, true]);
        assert_eq!(f.read_f64("/f32").unwrap(), vec![1.5, -2.0]);
        let msg = f.read_f64("/i16").unwrap_err().to_string();
        assert!(
            msg.contains("expected a float dataset, found int16"),
            "{msg}"
        );
        let err = f.read_f64("/nope/deeper").unwrap_err();
        assert!(matches!(err, Error::Missing { .. }), "{err:?}");
    }
}
