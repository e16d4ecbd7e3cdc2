//! The values the npy reader and the unpickler produce: typed n-dimensional arrays
//! ([`NdArray`], [`NpyData`], [`U8Buffer`]) and Python values ([`PyValue`]).
//!
//! The two kinds nest — an object array holds Python values, a pickle holds arrays — so they
//! live in one file that both [`crate::io::npy`] and [`crate::io::pickle`] build on (and
//! re-export), and neither of those needs the other's types.

use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use crate::error::{Error, Result};

/// Largest block read or allocated at once on behalf of a size claimed by a file (64 MiB).
pub(crate) const CHUNK: usize = 64 << 20;

/// `uint8` element storage: owned bytes, or a read-only window of a memory-mapped `.npz`
/// member. Large uint8 arrays (the Steinmetz spike counts) read through
/// [`npz::read_member_mapped`](crate::io::npz::read_member_mapped) are windows of the map, so
/// they are never copied; everything else is owned. Reads go through `Deref<Target = [u8]>`;
/// [`U8Buffer::to_mut`] copies a window into owned storage first.
///
/// ```
/// use neuropop::io::npy::U8Buffer;
/// let mut b = U8Buffer::from(vec![1u8, 2, 3]);
/// assert_eq!(&b[..], &[1, 2, 3]);
/// b.to_mut().push(4);
/// assert_eq!(b.len(), 4);
/// assert!(!b.is_mapped());
/// ```
#[derive(Clone)]
pub struct U8Buffer(U8Repr);

#[derive(Clone)]
enum U8Repr {
    Owned(Vec<u8>),
    Mapped {
        map: std::sync::Arc<memmap2::Mmap>,
        start: usize,
        len: usize,
    },
}

impl U8Buffer {
    /// A window of `map`; the caller has checked `start + len <= map.len()`.
    pub(crate) fn mapped(map: std::sync::Arc<memmap2::Mmap>, start: usize, len: usize) -> Self {
        debug_assert!(start + len <= map.len());
        U8Buffer(U8Repr::Mapped { map, start, len })
    }

    /// Whether the bytes are a window of a memory-mapped file.
    ///
    /// ```
    /// assert!(!neuropop::io::npy::U8Buffer::from(vec![0u8]).is_mapped());
    /// ```
    pub fn is_mapped(&self) -> bool {
        matches!(self.0, U8Repr::Mapped { .. })
    }

    /// The bytes as an owned, growable vector (a mapped window is copied first).
    ///
    /// ```
    /// let mut b = neuropop::io::npy::U8Buffer::from(vec![7u8]);
    /// b.to_mut()[0] = 8;
    /// assert_eq!(b[0], 8);
    /// ```
    pub fn to_mut(&mut self) -> &mut Vec<u8> {
        if let U8Repr::Mapped { .. } = self.0 {
            self.0 = U8Repr::Owned(self.to_vec());
        }
        match &mut self.0 {
            U8Repr::Owned(v) => v,
            U8Repr::Mapped { .. } => unreachable!("converted to owned just above"),
        }
    }

    /// The bytes as an owned vector (no copy when already owned).
    ///
    /// ```
    /// assert_eq!(neuropop::io::npy::U8Buffer::from(vec![1u8]).into_vec(), vec![1]);
    /// ```
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            U8Repr::Owned(v) => v,
            U8Repr::Mapped { map, start, len } => map[start..start + len].to_vec(),
        }
    }
}

impl std::ops::Deref for U8Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            U8Repr::Owned(v) => v,
            U8Repr::Mapped { map, start, len } => &map[*start..*start + *len],
        }
    }
}

impl From<Vec<u8>> for U8Buffer {
    fn from(v: Vec<u8>) -> Self {
        U8Buffer(U8Repr::Owned(v))
    }
}

impl FromIterator<u8> for U8Buffer {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        U8Buffer::from(iter.into_iter().collect::<Vec<u8>>())
    }
}

impl PartialEq for U8Buffer {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl std::fmt::Debug for U8Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self[..].fmt(f)
    }
}

/// The typed, owned element storage of an [`NdArray`], one variant per supported dtype.
///
/// Elements are stored in the array's storage order (see [`NdArray::fortran_order`]).
///
/// ```
/// use neuropop::io::npy::NpyData;
/// let d = NpyData::F64(vec![1.0, 2.0]);
/// assert_eq!(d.len(), 2);
/// assert_eq!(d.dtype_name(), "float64");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// `|b1` booleans.
    Bool(Vec<bool>),
    /// `|u1` (owned, or a window of a memory-mapped npz member).
    U8(U8Buffer),
    /// `|i1`.
    I8(Vec<i8>),
    /// `<u2` / `>u2`.
    U16(Vec<u16>),
    /// `<i2` / `>i2`.
    I16(Vec<i16>),
    /// `<u4` / `>u4`.
    U32(Vec<u32>),
    /// `<i4` / `>i4`.
    I32(Vec<i32>),
    /// `<u8` / `>u8`.
    U64(Vec<u64>),
    /// `<i8` / `>i8`.
    I64(Vec<i64>),
    /// `<f4` / `>f4`.
    F32(Vec<f32>),
    /// `<f8` / `>f8`.
    F64(Vec<f64>),
    /// Fixed-width text: `<U{n}` (UTF-32) or `|S{n}` (bytes that are valid UTF-8), with the
    /// trailing NUL padding removed.
    Str(Vec<String>),
    /// `|O` object arrays, decoded from their pickle.
    Object(Vec<PyValue>),
}

impl NpyData {
    /// Number of elements.
    ///
    /// ```
    /// assert_eq!(neuropop::io::npy::NpyData::Bool(vec![true]).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            NpyData::Bool(v) => v.len(),
            NpyData::U8(v) => v.len(),
            NpyData::I8(v) => v.len(),
            NpyData::U16(v) => v.len(),
            NpyData::I16(v) => v.len(),
            NpyData::U32(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::U64(v) => v.len(),
            NpyData::I64(v) => v.len(),
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::Str(v) => v.len(),
            NpyData::Object(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    ///
    /// ```
    /// assert!(neuropop::io::npy::NpyData::F64(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// numpy's name for the dtype: `"bool"`, `"uint8"`, ..., `"float64"`, `"<U"` for text and
    /// `"object"`.
    ///
    /// ```
    /// assert_eq!(neuropop::io::npy::NpyData::Str(vec![]).dtype_name(), "<U");
    /// ```
    pub fn dtype_name(&self) -> &'static str {
        match self {
            NpyData::Bool(_) => "bool",
            NpyData::U8(_) => "uint8",
            NpyData::I8(_) => "int8",
            NpyData::U16(_) => "uint16",
            NpyData::I16(_) => "int16",
            NpyData::U32(_) => "uint32",
            NpyData::I32(_) => "int32",
            NpyData::U64(_) => "uint64",
            NpyData::I64(_) => "int64",
            NpyData::F32(_) => "float32",
            NpyData::F64(_) => "float64",
            NpyData::Str(_) => "<U",
            NpyData::Object(_) => "object",
        }
    }
}

impl NpyData {
    /// Makes room for `additional` more elements, growing geometrically but never beyond
    /// `total` elements (the count a header claims): an honest array ends exactly sized, while
    /// a lying header costs at most about twice the data actually read.
    pub(crate) fn reserve_towards(&mut self, additional: usize, total: usize) {
        macro_rules! grow {
            ($v:expr) => {{
                let len = $v.len();
                if $v.capacity() - len < additional {
                    let target = total.min(len.saturating_mul(2)).max(len + additional);
                    $v.reserve_exact(target - len);
                }
            }};
        }
        match self {
            NpyData::Bool(v) => grow!(v),
            NpyData::U8(v) => grow!(v.to_mut()),
            NpyData::I8(v) => grow!(v),
            NpyData::U16(v) => grow!(v),
            NpyData::I16(v) => grow!(v),
            NpyData::U32(v) => grow!(v),
            NpyData::I32(v) => grow!(v),
            NpyData::U64(v) => grow!(v),
            NpyData::I64(v) => grow!(v),
            NpyData::F32(v) => grow!(v),
            NpyData::F64(v) => grow!(v),
            NpyData::Str(v) => grow!(v),
            NpyData::Object(v) => grow!(v),
        }
    }
}

/// An n-dimensional numpy array read from a file: shape, storage order and typed data.
///
/// `data` holds the elements in storage order: row-major (C) when `fortran_order` is false,
/// column-major otherwise. The conversion methods ([`NdArray::to_f64_c_order`] and friends)
/// always return the logical row-major order, whatever the storage order.
///
/// ```
/// use neuropop::io::npy::{NdArray, NpyData};
/// // A 2x2 array stored column-major: logical [[1, 2], [3, 4]].
/// let a = NdArray { shape: vec![2, 2], fortran_order: true, data: NpyData::I32(vec![1, 3, 2, 4]) };
/// assert_eq!(a.to_f64_c_order()?, vec![1.0, 2.0, 3.0, 4.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray {
    /// Extent of each axis; empty for a 0-d (scalar) array.
    pub shape: Vec<usize>,
    /// Whether `data` is stored column-major (Fortran order).
    pub fortran_order: bool,
    /// The elements, in storage order.
    pub data: NpyData,
}

impl NdArray {
    /// A row-major array, checking that `data` has as many elements as `shape` describes.
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// let a = NdArray::new(vec![2, 3], NpyData::F64(vec![0.0; 6]))?;
    /// assert_eq!(a.ndim(), 2);
    /// assert!(NdArray::new(vec![2, 3], NpyData::F64(vec![0.0; 5])).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<Self> {
        check_len(&shape, data.len(), data.dtype_name())?;
        Ok(NdArray {
            shape,
            fortran_order: false,
            data,
        })
    }

    /// Number of elements.
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// assert_eq!(NdArray::new(vec![], NpyData::F64(vec![1.5]))?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements.
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// assert!(NdArray::new(vec![0, 3], NpyData::F64(vec![]))?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of axes (0 for a scalar).
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// assert_eq!(NdArray::new(vec![], NpyData::I64(vec![7]))?.ndim(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// numpy's name for the element type; see [`NpyData::dtype_name`].
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// assert_eq!(NdArray::new(vec![1], NpyData::U8(vec![1].into()))?.dtype_name(), "uint8");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dtype_name(&self) -> &'static str {
        self.data.dtype_name()
    }

    /// The values as `f64` in logical row-major order.
    ///
    /// Booleans become 0/1; 64-bit integers beyond 2^53 are rounded as `as f64` does. Text and
    /// object arrays are an error naming the dtype.
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// let a = NdArray::new(vec![2], NpyData::Bool(vec![true, false]))?;
    /// assert_eq!(a.to_f64_c_order()?, vec![1.0, 0.0]);
    /// let s = NdArray::new(vec![1], NpyData::Str(vec!["x".into()]))?;
    /// assert!(s.to_f64_c_order().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_f64_c_order(&self) -> Result<Vec<f64>> {
        let (s, f) = (&self.shape[..], self.fortran_order);
        match &self.data {
            NpyData::Bool(v) => c_order_map(s, f, v, |x| Ok(if *x { 1.0 } else { 0.0 })),
            NpyData::U8(v) => c_order_map(s, f, v, |x| Ok(f64::from(*x))),
            NpyData::I8(v) => c_order_map(s, f, v, |x| Ok(f64::from(*x))),
            NpyData::U16(v) => c_order_map(s, f, v, |x| Ok(f64::from(*x))),
            NpyData::I16(v) => c_order_map(s, f, v, |x| Ok(f64::from(*x))),
            NpyData::U32(v) => c_order_map(s, f, v, |x| Ok(f64::from(*x))),
            NpyData::I32(v) => c_order_map(s, f, v, |x| Ok(f64::from(*x))),
            // Rounding above 2^53 is the documented, numpy-compatible behaviour of astype(float).
            NpyData::U64(v) => c_order_map(s, f, v, |x| Ok(*x as f64)),
            NpyData::I64(v) => c_order_map(s, f, v, |x| Ok(*x as f64)),
            NpyData::F32(v) => c_order_map(s, f, v, |x| Ok(f64::from(*x))),
            NpyData::F64(v) => c_order_map(s, f, v, |x| Ok(*x)),
            NpyData::Str(_) | NpyData::Object(_) => Err(self.not_numeric("f64")),
        }
    }

    /// Like [`NdArray::to_f64_c_order`], but consumes the array and reuses its buffer when it
    /// already holds `f64` values in row-major order (no copy).
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// let a = NdArray::new(vec![3], NpyData::F64(vec![1.0, 2.0, 3.0]))?;
    /// assert_eq!(a.into_f64_c_order()?, vec![1.0, 2.0, 3.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_f64_c_order(self) -> Result<Vec<f64>> {
        let c_layout = !self.fortran_order || self.shape.len() <= 1;
        match self.data {
            NpyData::F64(v) if c_layout => {
                check_len(&self.shape, v.len(), "float64")?;
                Ok(v)
            }
            data => NdArray {
                shape: self.shape,
                fortran_order: self.fortran_order,
                data,
            }
            .to_f64_c_order(),
        }
    }

    /// The values as an `ndarray` array of `f64` with the logical shape (standard row-major
    /// layout).
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// let a = NdArray::new(vec![2, 2], NpyData::I16(vec![1, 2, 3, 4]))?;
    /// let x = a.to_array_f64()?;
    /// assert_eq!(x[[1, 0]], 3.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_array_f64(&self) -> Result<ArrayD<f64>> {
        let values = self.to_f64_c_order()?;
        ArrayD::from_shape_vec(IxDyn(&self.shape), values).map_err(|e| {
            Error::invalid(
                "NdArray",
                format!("data matching shape {:?}", self.shape),
                e.to_string(),
            )
        })
    }

    /// The values as `i64` in logical row-major order.
    ///
    /// Booleans become 0/1; unsigned values above `i64::MAX`, and floats that are not whole
    /// numbers within range, are an error naming the offending element. Text and object arrays
    /// are an error naming the dtype.
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// let a = NdArray::new(vec![2], NpyData::F64(vec![1.0, -2.0]))?;
    /// assert_eq!(a.to_i64_c_order()?, vec![1, -2]);
    /// let b = NdArray::new(vec![1], NpyData::F64(vec![0.5]))?;
    /// assert!(b.to_i64_c_order().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_i64_c_order(&self) -> Result<Vec<i64>> {
        let (s, f) = (&self.shape[..], self.fortran_order);
        let float = |x: f64| -> Result<i64> {
            // 2^63 is exactly representable; values in [-2^63, 2^63) convert exactly when whole.
            if x.fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x)
            {
                Ok(x as i64)
            } else {
                Err(Error::invalid(
                    "array element",
                    "a whole number within the int64 range",
                    format!("{x}"),
                ))
            }
        };
        match &self.data {
            NpyData::Bool(v) => c_order_map(s, f, v, |x| Ok(i64::from(*x))),
            NpyData::U8(v) => c_order_map(s, f, v, |x| Ok(i64::from(*x))),
            NpyData::I8(v) => c_order_map(s, f, v, |x| Ok(i64::from(*x))),
            NpyData::U16(v) => c_order_map(s, f, v, |x| Ok(i64::from(*x))),
            NpyData::I16(v) => c_order_map(s, f, v, |x| Ok(i64::from(*x))),
            NpyData::U32(v) => c_order_map(s, f, v, |x| Ok(i64::from(*x))),
            NpyData::I32(v) => c_order_map(s, f, v, |x| Ok(i64::from(*x))),
            NpyData::U64(v) => c_order_map(s, f, v, |x| {
                i64::try_from(*x).map_err(|_| {
                    Error::invalid(
                        "array element",
                        "a value within the int64 range",
                        x.to_string(),
                    )
                })
            }),
            NpyData::I64(v) => c_order_map(s, f, v, |x| Ok(*x)),
            NpyData::F32(v) => c_order_map(s, f, v, |x| float(f64::from(*x))),
            NpyData::F64(v) => c_order_map(s, f, v, |x| float(*x)),
            NpyData::Str(_) | NpyData::Object(_) => Err(self.not_numeric("i64")),
        }
    }

    /// The elements as strings in logical row-major order: for text arrays, and for object
    /// arrays whose elements are all `str` (or 0-d text arrays such as `numpy.str_`).
    ///
    /// ```
    /// use neuropop::io::npy::{NdArray, NpyData};
    /// use neuropop::io::pickle::PyValue;
    /// let a = NdArray::new(vec![2], NpyData::Object(vec![PyValue::Str("VISp".into()), PyValue::Str("CA1".into())]))?;
    /// assert_eq!(a.strings()?, vec!["VISp", "CA1"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn strings(&self) -> Result<Vec<String>> {
        let (s, f) = (&self.shape[..], self.fortran_order);
        match &self.data {
            NpyData::Str(v) => c_order_map(s, f, v, |x| Ok(x.clone())),
            NpyData::Object(v) => c_order_map(s, f, v, |x| match x.as_str() {
                Some(text) => Ok(text.to_string()),
                None => Err(Error::invalid(
                    "object array element",
                    "a str",
                    x.type_name(),
                )),
            }),
            other => Err(Error::invalid(
                format!("array of shape {:?}", self.shape),
                "a text (<U, |S) or object array of str",
                format!("dtype {}", other.dtype_name()),
            )),
        }
    }

    fn not_numeric(&self, target: &str) -> Error {
        Error::invalid(
            format!("array of shape {:?}", self.shape),
            format!("a numeric array convertible to {target}"),
            format!("dtype {}", self.dtype_name()),
        )
    }
}

/// Checks that a shape describes exactly `len` elements.
fn check_len(shape: &[usize], len: usize, dtype: &str) -> Result<()> {
    let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if expected == Some(len) {
        Ok(())
    } else {
        let expected = expected.map_or_else(
            || "an element count that overflows usize".to_string(),
            |n| n.to_string(),
        );
        Err(Error::invalid(
            format!("{dtype} array of shape {shape:?}"),
            format!("{expected} elements"),
            format!("{len} elements"),
        ))
    }
}

/// Maps the elements of `data` (stored in C or Fortran order) into a new vector in logical
/// row-major order.
pub(crate) fn c_order_map<T, U>(
    shape: &[usize],
    fortran: bool,
    data: &[T],
    mut f: impl FnMut(&T) -> Result<U>,
) -> Result<Vec<U>> {
    check_len(shape, data.len(), std::any::type_name::<T>())?;
    if !fortran || shape.len() <= 1 {
        return data.iter().map(f).collect();
    }
    // A column-major buffer is the row-major layout of the transposed array; ndarray's view with
    // Fortran strides iterates it in logical row-major order without copying the buffer.
    let view = ndarray::ArrayView::from_shape(IxDyn(shape).f(), data).map_err(|e| {
        Error::invalid(
            "NdArray",
            format!("data matching Fortran-order shape {shape:?}"),
            e.to_string(),
        )
    })?;
    view.iter().map(&mut f).collect()
}

/// A Python value decoded from a pickle.
///
/// Sets and frozensets become [`PyValue::List`], `bytearray` becomes [`PyValue::Bytes`],
/// numpy arrays and numpy scalars (as 0-d arrays) become [`PyValue::Array`].
///
/// ```
/// use neuropop::io::pickle::PyValue;
/// let v = PyValue::Dict(vec![(PyValue::Str("bin_size".into()), PyValue::Float(0.01))]);
/// assert_eq!(v.get("bin_size").and_then(PyValue::as_f64), Some(0.01));
/// assert_eq!(v.type_name(), "dict");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PyValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer that fits in 64 bits (larger ones are a decode error).
    Int(i64),
    /// A float.
    Float(f64),
    /// A `str`; also Python 2 `str` (`BINSTRING`), decoded as Latin-1.
    Str(String),
    /// `bytes` or `bytearray`.
    Bytes(Vec<u8>),
    /// A list; also sets and frozensets, in stream order.
    List(Vec<PyValue>),
    /// A tuple.
    Tuple(Vec<PyValue>),
    /// A dict as (key, value) pairs in insertion order; a repeated key keeps its first position
    /// and its last value, as in Python.
    Dict(Vec<(PyValue, PyValue)>),
    /// A numpy array; numpy scalars (`numpy.float64(0.01)`, `numpy.str_("x")`) are 0-d arrays.
    Array(NdArray),
}

impl PyValue {
    /// The value stored under a `str` key of a dict (`None` for other values or missing keys).
    ///
    /// ```
    /// use neuropop::io::pickle::PyValue;
    /// let d = PyValue::Dict(vec![(PyValue::Str("a".into()), PyValue::Int(1))]);
    /// assert_eq!(d.get("a"), Some(&PyValue::Int(1)));
    /// assert_eq!(d.get("b"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            PyValue::Dict(items) => items
                .iter()
                .find(|(k, _)| matches!(k, PyValue::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Removes and returns the value under a `str` key of a dict, moving it out without a copy
    /// (useful for taking large arrays out of a decoded session).
    ///
    /// ```
    /// use neuropop::io::pickle::PyValue;
    /// let mut d = PyValue::Dict(vec![(PyValue::Str("a".into()), PyValue::Int(1))]);
    /// assert_eq!(d.remove("a"), Some(PyValue::Int(1)));
    /// assert_eq!(d.get("a"), None);
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<PyValue> {
        match self {
            PyValue::Dict(items) => {
                let i = items
                    .iter()
                    .position(|(k, _)| matches!(k, PyValue::Str(s) if s == key))?;
                Some(items.remove(i).1)
            }
            _ => None,
        }
    }

    /// The array, for [`PyValue::Array`].
    ///
    /// ```
    /// use neuropop::io::{npy::{NdArray, NpyData}, pickle::PyValue};
    /// let v = PyValue::Array(NdArray::new(vec![1], NpyData::F64(vec![2.0]))?);
    /// assert_eq!(v.as_array().map(|a| a.len()), Some(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_array(&self) -> Option<&NdArray> {
        match self {
            PyValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The array, consumed, for [`PyValue::Array`].
    ///
    /// ```
    /// use neuropop::io::{npy::{NdArray, NpyData}, pickle::PyValue};
    /// let v = PyValue::Array(NdArray::new(vec![1], NpyData::F64(vec![2.0]))?);
    /// assert!(v.into_array().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_array(self) -> Option<NdArray> {
        match self {
            PyValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The text of a `str`, or of a 0-d text array (a `numpy.str_` scalar).
    ///
    /// ```
    /// use neuropop::io::{npy::{NdArray, NpyData}, pickle::PyValue};
    /// assert_eq!(PyValue::Str("Cori".into()).as_str(), Some("Cori"));
    /// let np_str = PyValue::Array(NdArray::new(vec![], NpyData::Str(vec!["Cori".into()]))?);
    /// assert_eq!(np_str.as_str(), Some("Cori"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            PyValue::Array(NdArray {
                shape,
                data: NpyData::Str(v),
                ..
            }) if shape.is_empty() => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// The number held by an `int`, a `float`, or a 0-d numeric array (a numpy scalar such as
    /// `numpy.float64(0.01)`).
    ///
    /// ```
    /// use neuropop::io::{npy::{NdArray, NpyData}, pickle::PyValue};
    /// assert_eq!(PyValue::Int(3).as_f64(), Some(3.0));
    /// let scalar = PyValue::Array(NdArray::new(vec![], NpyData::F64(vec![0.01]))?);
    /// assert_eq!(scalar.as_f64(), Some(0.01));
    /// assert_eq!(PyValue::Str("x".into()).as_f64(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PyValue::Int(i) => Some(*i as f64),
            PyValue::Float(f) => Some(*f),
            PyValue::Array(a)
                if a.shape.is_empty()
                    && !matches!(a.data, NpyData::Str(_) | NpyData::Object(_)) =>
            {
                a.to_f64_c_order().ok().and_then(|v| v.first().copied())
            }
            _ => None,
        }
    }

    /// The number held by an `int`, a `bool`, or a 0-d integer or boolean array.
    ///
    /// ```
    /// use neuropop::io::pickle::PyValue;
    /// assert_eq!(PyValue::Int(-4).as_i64(), Some(-4));
    /// assert_eq!(PyValue::Float(1.0).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PyValue::Int(i) => Some(*i),
            PyValue::Bool(b) => Some(i64::from(*b)),
            PyValue::Array(a)
                if a.shape.is_empty()
                    && !matches!(
                        a.data,
                        NpyData::F32(_) | NpyData::F64(_) | NpyData::Str(_) | NpyData::Object(_)
                    ) =>
            {
                a.to_i64_c_order().ok().and_then(|v| v.first().copied())
            }
            _ => None,
        }
    }

    /// The items of a list or tuple.
    ///
    /// ```
    /// use neuropop::io::pickle::PyValue;
    /// assert_eq!(PyValue::Tuple(vec![PyValue::None]).as_list().map(|l| l.len()), Some(1));
    /// ```
    pub fn as_list(&self) -> Option<&[PyValue]> {
        match self {
            PyValue::List(v) | PyValue::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Python's name for the value's type (`"ndarray"` for arrays), for messages.
    ///
    /// ```
    /// assert_eq!(neuropop::io::pickle::PyValue::None.type_name(), "NoneType");
    /// ```
    pub fn type_name(&self) -> &'static str {
        match self {
            PyValue::None => "NoneType",
            PyValue::Bool(_) => "bool",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Str(_) => "str",
            PyValue::Bytes(_) => "bytes",
            PyValue::List(_) => "list",
            PyValue::Tuple(_) => "tuple",
            PyValue::Dict(_) => "dict",
            PyValue::Array(_) => "ndarray",
        }
    }
}
