//! numpy `.npy` arrays: reading format versions 1.0, 2.0 and 3.0, writing version 1.0.
//!
//! The file layout is: the magic string `\x93NUMPY`, a major and a minor version byte, the
//! header length (`u16` little-endian in version 1.0, `u32` in 2.0 and 3.0), the header (a
//! Python dict literal such as `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`,
//! Latin-1 in versions 1 and 2, UTF-8 in version 3), then the raw array data. Object arrays
//! (`'descr': '|O'`) store a pickle instead of raw data; it is decoded by the data-only
//! unpickler in [`crate::io::pickle`].
//!
//! Nothing here trusts a size written in the file: the header's shape is checked against the
//! bytes actually available before anything is allocated, and when the total length is
//! unknown the data is read in bounded chunks, so a lying header cannot exhaust memory.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use ndarray::ArrayD;

use crate::error::{Error, Result};
use crate::io::dtype::{DType, Kind, MAX_ZERO_WIDTH_ELEMENTS, append_decoded};
use crate::io::pickle;
use crate::io::value::{CHUNK, PyValue};

pub use crate::io::value::{NdArray, NpyData, U8Buffer};

/// Largest header accepted. numpy itself refuses headers above 10 000 bytes by default; we allow
/// more for unusual but honest files while still bounding what a corrupt length can make us read.
const MAX_HEADER_LEN: usize = 1 << 20;

/// Nesting bound of the header dict literal parser (real headers nest two levels).
const MAX_HEADER_DEPTH: usize = 16;

/// The `.npy` magic string.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

// ---------------------------------------------------------------------------------------------
// Header dict literal

/// A value of the header's Python literal.
#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Str(String),
    Bool(bool),
    None,
    Int(i128),
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// A small recursive-descent parser for the subset of Python literals numpy headers use.
struct LitParser {
    chars: Vec<char>,
    pos: usize,
}

impl LitParser {
    fn new(text: &str) -> Self {
        LitParser {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn err(&self, what: &str) -> String {
        let found: String = self.chars.iter().skip(self.pos).take(20).collect();
        if found.is_empty() {
            format!(
                "header character {}: expected {what}, found end of header",
                self.pos
            )
        } else {
            format!(
                "header character {}: expected {what}, found {found:?}",
                self.pos
            )
        }
    }

    fn eat(&mut self, c: char) -> std::result::Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("'{c}'")))
        }
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Lit, String> {
        if depth > MAX_HEADER_DEPTH {
            return Err(self.err("a header nested at most 16 levels deep"));
        }
        match self.peek() {
            Some('\'') | Some('"') => self.string().map(Lit::Str),
            Some('u') if matches!(self.chars.get(self.pos + 1), Some('\'') | Some('"')) => {
                self.pos += 1;
                self.string().map(Lit::Str)
            }
            Some('(') => self.sequence(')', depth).map(Lit::Tuple),
            Some('[') => self.sequence(']', depth).map(Lit::List),
            Some('{') => self.dict(depth),
            Some(c) if c == '-' || c.is_ascii_digit() => self.int(),
            Some(c) if c.is_alphabetic() => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                match word.as_str() {
                    "True" => Ok(Lit::Bool(true)),
                    "False" => Ok(Lit::Bool(false)),
                    "None" => Ok(Lit::None),
                    _ => {
                        self.pos = start;
                        Err(self.err("a Python literal (string, number, True, False, None, tuple, list or dict)"))
                    }
                }
            }
            _ => Err(self
                .err("a Python literal (string, number, True, False, None, tuple, list or dict)")),
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        let quote = self
            .chars
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err("a string"))?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self
                .chars
                .get(self.pos)
                .copied()
                .ok_or_else(|| self.err("a closing quote"))?;
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self
                .chars
                .get(self.pos)
                .copied()
                .ok_or_else(|| self.err("an escape sequence"))?;
            self.pos += 1;
            match e {
                '\\' | '\'' | '"' => out.push(e),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = self.chars.iter().skip(self.pos).take(n).collect();
                    let code = (hex.len() == n)
                        .then(|| u32::from_str_radix(&hex, 16).ok())
                        .flatten();
                    let c = code
                        .and_then(char::from_u32)
                        .ok_or_else(|| self.err("a valid hexadecimal escape"))?;
                    self.pos += n;
                    out.push(c);
                }
                _ => {
                    // Python keeps unknown escapes verbatim.
                    out.push('\\');
                    out.push(e);
                }
            }
        }
    }

    fn int(&mut self) -> std::result::Result<Lit, String> {
        let start = self.pos;
        if self.chars.get(self.pos) == Some(&'-') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            self.pos = start;
            return Err(self.err("an integer"));
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        // Python 2 wrote long integers with an L suffix, e.g. (3L, 4L).
        if matches!(self.chars.get(self.pos), Some('L') | Some('l')) {
            self.pos += 1;
        }
        text.parse::<i128>().map(Lit::Int).map_err(|_| {
            self.pos = start;
            self.err("an integer of at most 38 digits")
        })
    }

    fn sequence(&mut self, close: char, depth: usize) -> std::result::Result<Vec<Lit>, String> {
        self.pos += 1; // the opening bracket, already peeked
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.value(depth + 1)?);
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(self.err(&format!("',' or '{close}'"))),
            }
        }
    }

    fn dict(&mut self, depth: usize) -> std::result::Result<Lit, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(Lit::Dict(items));
            }
            let key = self.value(depth + 1)?;
            self.eat(':')?;
            let value = self.value(depth + 1)?;
            items.push((key, value));
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => return Err(self.err("',' or '}'")),
            }
        }
    }

    fn end(&mut self) -> std::result::Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.err("end of header after the dict")),
        }
    }
}

/// The three header fields.
#[derive(Debug)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let mut p = LitParser::new(text);
    let dict = p.value(0)?;
    p.end()?;
    let Lit::Dict(items) = dict else {
        return Err("header is not a dict literal".to_string());
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in items {
        let Lit::Str(key) = key else {
            return Err(format!("header key {key:?} is not a string"));
        };
        match key.as_str() {
            "descr" => descr = Some(value),
            "fortran_order" => fortran = Some(value),
            "shape" => shape = Some(value),
            // numpy refuses headers with other keys too; being as strict keeps us from
            // silently misreading a format extension.
            other => {
                return Err(format!(
                    "unexpected header key '{other}' (expected descr, fortran_order, shape)"
                ));
            }
        }
    }
    let descr = match descr {
        Some(Lit::Str(s)) => s,
        Some(Lit::List(_)) => {
            return Err("structured dtypes (a list as 'descr') are not supported".to_string());
        }
        Some(other) => return Err(format!("'descr' must be a string, found {other:?}")),
        None => return Err("header has no 'descr'".to_string()),
    };
    let fortran_order = match fortran {
        Some(Lit::Bool(b)) => b,
        Some(other) => {
            return Err(format!(
                "'fortran_order' must be True or False, found {other:?}"
            ));
        }
        None => return Err("header has no 'fortran_order'".to_string()),
    };
    let shape = match shape {
        Some(Lit::Tuple(items)) | Some(Lit::List(items)) => items
            .iter()
            .map(|d| match d {
                Lit::Int(n) => usize::try_from(*n)
                    .map_err(|_| format!("shape entry {n} is not a valid axis length")),
                other => Err(format!("shape entry {other:?} is not an integer")),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(format!(
                "'shape' must be a tuple of integers, found {other:?}"
            ));
        }
        None => return Err("header has no 'shape'".to_string()),
    };
    Ok(Header {
        descr,
        fortran_order,
        shape,
    })
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Formats a location for messages: the caller's location (e.g. an npz member) and a byte offset.
pub(crate) fn at(location: &str, offset: u64) -> String {
    if location.is_empty() {
        format!("byte {offset}")
    } else {
        format!("{location}, byte {offset}")
    }
}

fn shape_text(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Reads up to `n` bytes, appending to `buf`; returns how many were read (fewer only at end of
/// input). The buffer grows only as bytes arrive, so `n` may be a claimed, untrusted size.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut Vec<u8>, n: u64) -> std::io::Result<usize> {
    reader.by_ref().take(n).read_to_end(buf)
}

/// Reads an `.npy` file.
///
/// ```
/// use neuropop::io::npy::{read_npy, write_npy_f64};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.npy");
/// let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[2, 3]), (0..6).map(f64::from).collect())?;
/// write_npy_f64(&path, &a)?;
/// let back = read_npy(&path)?;
/// assert_eq!(back.shape, vec![2, 3]);
/// assert_eq!(back.to_array_f64()?, a);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_npy(path: &Path) -> Result<NdArray> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    parse_npy(BufReader::new(file), Some(len), path, "")
}

/// Parses an `.npy` stream.
///
/// `total_len` is the stream's length when known (a file's size, an npz member's uncompressed
/// size); it lets a header that claims more data than present fail before anything is read.
/// When unknown, data is read in bounded chunks so the claim still cannot exhaust memory.
/// `path` and `location` (e.g. the npz member name, or `""`) are only used in error messages.
/// Bytes after the array data are ignored, as numpy does.
///
/// ```
/// use neuropop::io::npy::parse_npy;
/// use std::path::Path;
/// let header = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }";
/// let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
/// bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
/// bytes.extend_from_slice(header.as_bytes());
/// bytes.extend_from_slice(&[1, 0, 2, 0]);
/// let a = parse_npy(&bytes[..], Some(bytes.len() as u64), Path::new("mem.npy"), "")?;
/// assert_eq!(a.to_i64_c_order()?, vec![1, 2]);
/// // A header claiming far more data than present is an error, not an allocation.
/// let lying = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,), }";
/// let mut bad = b"\x93NUMPY\x01\x00".to_vec();
/// bad.extend_from_slice(&(lying.len() as u16).to_le_bytes());
/// bad.extend_from_slice(lying.as_bytes());
/// assert!(parse_npy(&bad[..], None, Path::new("bad.npy"), "").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_npy<R: Read>(
    reader: R,
    total_len: Option<u64>,
    path: &Path,
    location: &str,
) -> Result<NdArray> {
    parse_npy_from(reader, total_len, path, location, None)
}

/// [`parse_npy`] of the `len` bytes of `map` from `start` (an uncompressed npz member): an
/// object array's pickle is decoded from the map, so its large uint8 buffers stay windows of
/// it (see [`U8Buffer`]).
pub(crate) fn parse_npy_mapped(
    map: &std::sync::Arc<memmap2::Mmap>,
    start: usize,
    len: usize,
    path: &Path,
    location: &str,
) -> Result<NdArray> {
    let bytes = &map[start..start + len];
    parse_npy_from(
        std::io::Cursor::new(bytes),
        Some(len as u64),
        path,
        location,
        Some((map, start)),
    )
}

fn parse_npy_from<R: Read>(
    reader: R,
    total_len: Option<u64>,
    path: &Path,
    location: &str,
    mapped: Option<(&std::sync::Arc<memmap2::Mmap>, usize)>,
) -> Result<NdArray> {
    let mut reader = reader;
    let fmt = |offset: u64, msg: String| Error::format(path, at(location, offset), msg);
    let io_fmt = |offset: u64, what: &str, e: std::io::Error| {
        Error::format(path, at(location, offset), format!("reading {what}: {e}"))
    };

    let mut prefix = Vec::with_capacity(12);
    let got = read_up_to(&mut reader, &mut prefix, 8).map_err(|e| io_fmt(0, "the npy magic", e))?;
    if got < 6 || prefix[..6] != MAGIC[..] {
        let found: String = prefix
            .iter()
            .flat_map(|b| std::ascii::escape_default(*b))
            .map(char::from)
            .collect();
        return Err(fmt(
            0,
            format!("not an npy file: expected magic \\x93NUMPY, found \"{found}\" ({got} bytes)"),
        ));
    }
    if got < 8 {
        return Err(fmt(
            6,
            format!("truncated: file ends after {got} bytes, inside the version field"),
        ));
    }
    let (major, minor) = (prefix[6], prefix[7]);
    let len_bytes: u64 = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => {
            return Err(fmt(
                6,
                format!(
                    "unsupported npy format version {major}.{minor} (expected 1.0, 2.0 or 3.0)"
                ),
            ));
        }
    };
    prefix.clear();
    let got = read_up_to(&mut reader, &mut prefix, len_bytes)
        .map_err(|e| io_fmt(8, "the header length", e))?;
    if (got as u64) < len_bytes {
        return Err(fmt(
            8,
            format!(
                "truncated: file ends inside the header length field ({got} of {len_bytes} bytes)"
            ),
        ));
    }
    let header_len = if len_bytes == 2 {
        usize::from(u16::from_le_bytes([prefix[0], prefix[1]]))
    } else {
        u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize
    };
    let header_start = 8 + len_bytes;
    if header_len > MAX_HEADER_LEN {
        return Err(fmt(
            8,
            format!(
                "header length {header_len} exceeds the supported maximum of {MAX_HEADER_LEN} bytes"
            ),
        ));
    }
    if let Some(total) = total_len
        && header_start + header_len as u64 > total
    {
        return Err(fmt(
            8,
            format!("header length {header_len} runs past the end of the file ({total} bytes)"),
        ));
    }
    let mut raw = Vec::new();
    let got = read_up_to(&mut reader, &mut raw, header_len as u64)
        .map_err(|e| io_fmt(header_start, "the header", e))?;
    if got < header_len {
        return Err(fmt(
            header_start,
            format!("truncated header: expected {header_len} bytes, file has {got}"),
        ));
    }
    let text = if major >= 3 {
        String::from_utf8(raw).map_err(|e| {
            fmt(
                header_start,
                format!("version 3 header is not valid UTF-8: {e}"),
            )
        })?
    } else {
        // Versions 1 and 2 are Latin-1: every byte is the code point of the same value.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let header = parse_header(&text).map_err(|m| {
        fmt(
            header_start,
            format!("malformed header {:?}: {m}", text.trim_end()),
        )
    })?;
    let data_start = header_start + header_len as u64;
    let dtype = DType::parse(&header.descr).map_err(|m| fmt(header_start, m))?;

    let count = header
        .shape
        .iter()
        .try_fold(1u128, |acc, &d| acc.checked_mul(d as u128));
    let count = count.ok_or_else(|| {
        fmt(
            header_start,
            format!(
                "header shape {} has an element count that overflows",
                shape_text(&header.shape)
            ),
        )
    })?;

    if dtype.kind == Kind::Object {
        let stream_len = total_len.map(|t| t.saturating_sub(data_start));
        let value = match (mapped, stream_len) {
            (Some((map, member_start)), Some(n)) => {
                let from = member_start + data_start as usize;
                pickle::unpickle_mapped(map, from, from + n as usize, path, location)?
            }
            _ => pickle::unpickle_bounded(reader, stream_len, path, location)?,
        };
        return object_array(value, &header, count, path, location, data_start);
    }

    let needed = count * dtype.itemsize as u128;
    let too_short = |have: u128| {
        fmt(
            data_start,
            format!(
                "header shape {} with dtype {} needs {needed} data bytes, file has {have}",
                shape_text(&header.shape),
                dtype.descr()
            ),
        )
    };
    if let Some(total) = total_len {
        let available = u128::from(total.saturating_sub(data_start));
        if needed > available {
            return Err(too_short(available));
        }
    }
    let count = usize::try_from(count).map_err(|_| too_short(0))?;
    if dtype.itemsize == 0 && count as u128 > MAX_ZERO_WIDTH_ELEMENTS {
        return Err(fmt(
            header_start,
            format!(
                "{count} zero-width elements exceed the supported maximum of {MAX_ZERO_WIDTH_ELEMENTS}"
            ),
        ));
    }

    // Decode chunk by chunk: the peak is the typed data plus one chunk of raw bytes, and the
    // typed vector grows only as real bytes arrive.
    let mut data = dtype.empty_data();
    if let Some(per_chunk) = CHUNK.checked_div(dtype.itemsize) {
        let per_chunk = per_chunk.max(1);
        let mut buf = Vec::new();
        let mut done = 0usize;
        while done < count {
            let n = per_chunk.min(count - done);
            let want = (n * dtype.itemsize) as u64;
            let offset = data_start + (done * dtype.itemsize) as u64;
            buf.clear();
            let got = read_up_to(&mut reader, &mut buf, want)
                .map_err(|e| io_fmt(offset, "array data", e))?;
            if (got as u64) < want {
                return Err(too_short((done * dtype.itemsize + got) as u128));
            }
            data.reserve_towards(n, count);
            append_decoded(&dtype, &buf, n, done, &mut data).map_err(|m| fmt(offset, m))?;
            done += n;
        }
    } else {
        // Zero-width items (`<U0`): nothing to read.
        append_decoded(&dtype, &[], count, 0, &mut data).map_err(|m| fmt(data_start, m))?;
    }
    Ok(NdArray {
        shape: header.shape,
        fortran_order: header.fortran_order,
        data,
    })
}

/// Object arrays: the data section is a pickle of the whole ndarray.
/// The array an object member's pickle decoded to, checked against the npy header.
fn object_array(
    value: PyValue,
    header: &Header,
    count: u128,
    path: &Path,
    location: &str,
    data_start: u64,
) -> Result<NdArray> {
    match value {
        PyValue::Array(array) if array.shape == header.shape => Ok(array),
        PyValue::Array(array) => Err(Error::format(
            path,
            at(location, data_start),
            format!(
                "pickled array has shape {}, header says {} ({count} elements)",
                shape_text(&array.shape),
                shape_text(&header.shape)
            ),
        )),
        other => Err(Error::format(
            path,
            at(location, data_start),
            format!(
                "object array data must be a pickled ndarray, found {}",
                other.type_name()
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

fn write_npy_raw(
    path: &Path,
    shape: &[usize],
    descr: &str,
    items: impl Iterator<Item = [u8; 8]>,
) -> Result<()> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}",
        shape_text(shape)
    );
    // numpy pads the header with spaces and a newline so the data starts on a 64-byte boundary.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let header_len = u16::try_from(header.len()).map_err(|_| {
        Error::invalid(
            format!("writing {}", path.display()),
            "a shape whose header fits in 65535 bytes",
            format!("{shape:?}"),
        )
    })?;
    let mut out = crate::output::OutputFile::create(path)?;
    let io = |e| Error::io(path, e);
    {
        // 1 MiB writes: an 8 KiB buffer made thousands of system calls for a 32 MB RDM.
        let mut w = BufWriter::with_capacity(1 << 20, out.file());
        w.write_all(MAGIC).map_err(io)?;
        w.write_all(&[1, 0]).map_err(io)?;
        w.write_all(&header_len.to_le_bytes()).map_err(io)?;
        w.write_all(header.as_bytes()).map_err(io)?;
        for item in items {
            w.write_all(&item).map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    out.commit()
}

/// Writes an `f64` array as a version 1.0, row-major `.npy` file (`<f8`), readable by
/// `numpy.load`. Any memory layout of `array` is written in logical row-major order.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.npy");
/// let a = ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn();
/// neuropop::io::npy::write_npy_f64(&path, &a)?;
/// assert_eq!(neuropop::io::npy::read_npy(&path)?.to_array_f64()?, a);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_npy_f64(path: &Path, array: &ArrayD<f64>) -> Result<()> {
    write_npy_raw(
        path,
        array.shape(),
        "<f8",
        array.iter().map(|x| x.to_le_bytes()),
    )
}

/// Writes an `i64` array as a version 1.0, row-major `.npy` file (`<i8`).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.npy");
/// let a = ndarray::arr1(&[1i64, -2, 3]).into_dyn();
/// neuropop::io::npy::write_npy_i64(&path, &a)?;
/// assert_eq!(neuropop::io::npy::read_npy(&path)?.to_i64_c_order()?, vec![1, -2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_npy_i64(path: &Path, array: &ArrayD<i64>) -> Result<()> {
    write_npy_raw(
        path,
        array.shape(),
        "<i8",
        array.iter().map(|x| x.to_le_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_support::{check_array, expected, fixture, req};
    use ndarray::IxDyn;
    use proptest::prelude::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    /// An in-memory `.npy` with the given header dict and data bytes (version 1.0).
    fn npy_bytes(header: &str, data: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend_from_slice(data);
        b
    }

    fn parse(bytes: &[u8]) -> Result<NdArray> {
        parse_npy(bytes, Some(bytes.len() as u64), Path::new("mem.npy"), "")
    }

    fn parse_unknown_len(bytes: &[u8]) -> Result<NdArray> {
        parse_npy(bytes, None, Path::new("mem.npy"), "")
    }

    fn format_message(r: Result<NdArray>) -> String {
        match r {
            Err(Error::Format { message, .. }) => message,
            other => panic!("expected a format error, found {other:?}"),
        }
    }

    #[test]
    fn every_npy_fixture_matches_numpy() {
        let mut checked = 0;
        for (name, e) in expected() {
            if !name.ends_with(".npy") {
                continue;
            }
            let a = match read_npy(&fixture(&name)) {
                Ok(a) => a,
                Err(err) => panic!("{name}: {err}"),
            };
            check_array(&a, &e["value"], &name);
            if a.data.dtype_name() != "object" {
                assert_eq!(
                    Some(a.fortran_order),
                    e["fortran_order"].as_bool(),
                    "{name}: fortran_order"
                );
            }
            checked += 1;
        }
        assert!(checked >= 30, "only {checked} npy fixtures checked");
    }

    #[test]
    fn fortran_order_is_converted_to_logical_c_order() -> TestResult {
        let c = read_npy(&fixture("c_3d.npy"))?;
        let f = read_npy(&fixture("f_3d.npy"))?;
        assert!(!c.fortran_order && f.fortran_order);
        assert_ne!(c.data, f.data, "storage orders differ");
        assert_eq!(c.to_f64_c_order()?, f.to_f64_c_order()?);
        assert_eq!(c.to_array_f64()?, f.to_array_f64()?);
        assert_eq!(f.to_array_f64()?[[1, 2, 3]], 23.0 * 0.5);
        assert_eq!(f.clone().into_f64_c_order()?, c.to_f64_c_order()?);
        let i = read_npy(&fixture("f_2d_i4.npy"))?;
        assert_eq!(i.to_i64_c_order()?, vec![0, 1, 2, 3, 4, 5]);
        Ok(())
    }

    #[test]
    fn multi_chunk_data_is_read_exactly() -> TestResult {
        // Just over one 64 MiB chunk of u8, so the chunked path runs twice.
        let n = CHUNK + 10;
        let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let bytes = npy_bytes(
            &format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({n},)}}"),
            &data,
        );
        for a in [parse(&bytes)?, parse_unknown_len(&bytes)?] {
            let NpyData::U8(v) = &a.data else {
                panic!("not u8")
            };
            let v = v.clone().into_vec();
            assert_eq!(v.capacity(), n, "an honest array is allocated exactly");
            assert!(v == data);
        }
        Ok(())
    }

    #[test]
    fn into_f64_c_order_reuses_the_buffer() -> TestResult {
        let v = vec![1.0, 2.0, 3.0, 4.0];
        let ptr = v.as_ptr();
        let a = NdArray {
            shape: vec![2, 2],
            fortran_order: false,
            data: NpyData::F64(v),
        };
        let out = a.into_f64_c_order()?;
        assert_eq!(out.as_ptr(), ptr);
        Ok(())
    }

    #[test]
    fn text_arrays() -> TestResult {
        assert_eq!(
            read_npy(&fixture("unicode.npy"))?.strings()?,
            vec!["VISp", "CA1", "ünï", "", "🙂x"]
        );
        assert_eq!(
            read_npy(&fixture("be_U3.npy"))?.strings()?,
            vec!["ab", "xyz", ""]
        );
        assert_eq!(
            read_npy(&fixture("bytes.npy"))?.strings()?,
            vec!["ab", "c", ""]
        );
        assert_eq!(
            read_npy(&fixture("object_str.npy"))?.strings()?,
            vec!["VISp", "CA1", "root"]
        );
        let u = read_npy(&fixture("unicode.npy"))?;
        assert!(
            u.to_f64_c_order()
                .is_err_and(|e| e.to_string().contains("<U"))
        );
        Ok(())
    }

    #[test]
    fn conversions_check_ranges() {
        let big =
            NdArray::new(vec![1], NpyData::U64(vec![u64::MAX])).unwrap_or_else(|e| panic!("{e}"));
        assert!(big.to_i64_c_order().is_err());
        assert_eq!(big.to_f64_c_order().ok(), Some(vec![u64::MAX as f64]));
        let nan =
            NdArray::new(vec![1], NpyData::F64(vec![f64::NAN])).unwrap_or_else(|e| panic!("{e}"));
        assert!(nan.to_i64_c_order().is_err());
        let inconsistent = NdArray {
            shape: vec![3],
            fortran_order: false,
            data: NpyData::F64(vec![1.0]),
        };
        assert!(inconsistent.to_f64_c_order().is_err());
        assert!(inconsistent.to_array_f64().is_err());
        assert!(inconsistent.into_f64_c_order().is_err());
        let f = NdArray {
            shape: vec![2, 2],
            fortran_order: true,
            data: NpyData::F64(vec![1.0]),
        };
        assert!(f.to_f64_c_order().is_err());
    }

    #[test]
    fn header_dialects() -> TestResult {
        // Double quotes, no trailing comma, extra spaces, Python 2 long suffix, list shape.
        let a = parse(&npy_bytes(
            r#"{ "shape" : (2L, 1L) , "fortran_order":False,"descr":"<i2"}"#,
            &[1, 0, 2, 0],
        ))?;
        assert_eq!(a.shape, vec![2, 1]);
        let b = parse(&npy_bytes(
            "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}\n",
            &1.5f32.to_le_bytes(),
        ))?;
        assert_eq!(b.to_f64_c_order()?, vec![1.5]);
        // A 0-d array and a zero-length one.
        assert_eq!(
            parse(&npy_bytes(
                "{'descr': '|u1', 'fortran_order': False, 'shape': ()}",
                &[9]
            ))?
            .to_i64_c_order()?,
            vec![9]
        );
        assert!(
            parse(&npy_bytes(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 5)}",
                &[]
            ))?
            .is_empty()
        );
        Ok(())
    }

    #[test]
    fn bad_headers_are_errors() {
        let cases = [
            (
                "{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}",
                "unsupported dtype '<c16'",
            ),
            ("{'descr': '<f8', 'fortran_order': False}", "no 'shape'"),
            ("{'descr': '<f8', 'shape': (1,)}", "no 'fortran_order'"),
            ("{'fortran_order': False, 'shape': (1,)}", "no 'descr'"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}",
                "unexpected header key 'x'",
            ),
            (
                "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}",
                "'fortran_order' must be True or False",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}",
                "shape entry -1",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': ('a',)}",
                "not an integer",
            ),
            (
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}",
                "structured dtypes",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} junk",
                "end of header",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,",
                "expected",
            ),
            (
                "{'descr': '<f8 , 'fortran_order': False, 'shape': (1,)}",
                "expected",
            ),
            ("[1, 2]", "not a dict"),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                "not a valid axis length",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296, 4294967296, 4294967296)}",
                "overflows",
            ),
            (
                "{'descr': '<U99999999999999', 'fortran_order': False, 'shape': (1,)}",
                "exceeds",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': ((((((((((((((((((1,),),),),),),),),),),),),),),),),),),)}",
                "nested",
            ),
        ];
        for (header, needle) in cases {
            let message = format_message(parse(&npy_bytes(header, &[0; 8])));
            assert!(
                message.contains(needle),
                "{header}: {message:?} lacks {needle:?}"
            );
        }
    }

    #[test]
    fn wrong_magic_version_and_truncation() -> TestResult {
        assert!(format_message(parse(b"PK\x03\x04 this is a zip")).contains("not an npy file"));
        assert!(format_message(parse(b"")).contains("not an npy file"));
        let mut v9 = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (0,)}",
            &[],
        );
        v9[6] = 9;
        assert!(format_message(parse(&v9)).contains("version 9.0"));
        // Every prefix of a real file is an error naming the file, never a panic.
        let bytes = std::fs::read(fixture("c_3d.npy"))?;
        for cut in 0..bytes.len() {
            let short = &bytes[..cut];
            for result in [parse(short), parse_unknown_len(short)] {
                let err = req(result.err(), "a truncated file must fail");
                assert!(err.to_string().contains("mem.npy"), "{err}");
            }
        }
        Ok(())
    }

    #[test]
    fn lying_header_is_rejected_before_allocating() {
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,), }";
        let bytes = npy_bytes(header, &[0; 36]);
        let message = format_message(parse(&bytes));
        assert!(
            message.contains("needs 8000000000000000 data bytes, file has 36"),
            "{message}"
        );
        // Without a known length the data is read in bounded chunks: still an error, quickly.
        let message = format_message(parse_unknown_len(&bytes));
        assert!(
            message.contains("needs 8000000000000000 data bytes, file has 36"),
            "{message}"
        );
        // Zero-width items cost no bytes, so their count is bounded separately.
        let zero = npy_bytes(
            "{'descr': '<U0', 'fortran_order': False, 'shape': (100000000000,)}",
            &[],
        );
        assert!(format_message(parse(&zero)).contains("zero-width"));
        // A header length beyond the file.
        let mut long = npy_bytes("{}", &[]);
        long[8] = 0xff;
        assert!(format_message(parse(&long)).contains("runs past the end"));
    }

    #[test]
    fn invalid_text_is_an_error() {
        let s = npy_bytes(
            "{'descr': '|S2', 'fortran_order': False, 'shape': (1,)}",
            &[0xff, 0xfe],
        );
        assert!(format_message(parse(&s)).contains("not valid UTF-8"));
        let u = npy_bytes(
            "{'descr': '<U1', 'fortran_order': False, 'shape': (1,)}",
            &0xD800u32.to_le_bytes(),
        );
        assert!(format_message(parse(&u)).contains("invalid Unicode code point"));
    }

    #[test]
    fn errors_name_the_location() {
        let bytes = npy_bytes(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)}",
            &[0; 8],
        );
        let err = parse_npy(
            &bytes[..],
            Some(bytes.len() as u64),
            Path::new("a.npz"),
            "spks.npy",
        )
        .err();
        let text = req(err, "short data must fail").to_string();
        assert!(text.starts_with("a.npz: spks.npy, byte "), "{text}");
    }

    #[test]
    fn write_then_read_round_trips_with_numpy_layout() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("w.npy");
        let a = ArrayD::from_shape_vec(
            IxDyn(&[2, 3, 4]),
            (0..24).map(|i| f64::from(i) * 0.5).collect(),
        )?;
        // A transposed view is written in its logical order.
        let t = a.t().to_owned();
        write_npy_f64(&path, &t)?;
        let bytes = std::fs::read(&path)?;
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!(
            (10 + header_len) % 64,
            0,
            "data is 64-byte aligned like numpy's"
        );
        assert_eq!(bytes[10 + header_len - 1], b'\n');
        let back = read_npy(&path)?;
        assert_eq!(back.shape, vec![4, 3, 2]);
        assert_eq!(back.to_array_f64()?, t);
        // Byte-identical to numpy's own writer for the same array (c_3d.npy).
        write_npy_f64(&path, &a)?;
        assert_eq!(std::fs::read(&path)?, std::fs::read(fixture("c_3d.npy"))?);
        let i = ndarray::arr2(&[[i64::MIN, 0], [1, i64::MAX]]).into_dyn();
        write_npy_i64(&path, &i)?;
        assert_eq!(
            read_npy(&path)?.to_i64_c_order()?,
            vec![i64::MIN, 0, 1, i64::MAX]
        );
        let scalar = ArrayD::from_elem(IxDyn(&[]), 2.5);
        write_npy_f64(&path, &scalar)?;
        assert_eq!(read_npy(&path)?.shape, Vec::<usize>::new());
        Ok(())
    }

    #[test]
    fn missing_file_is_an_io_error() {
        assert!(matches!(
            read_npy(Path::new("/nonexistent/x.npy")),
            Err(Error::Io { .. })
        ));
    }

    proptest! {
        #[test]
        fn parse_npy_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
            let _ = parse_unknown_len(&bytes);
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = parse(&with_magic);
            let _ = parse_unknown_len(&with_magic);
        }

        #[test]
        fn parse_npy_never_panics_on_mutated_fixtures(
            which in 0usize..6,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let names = ["c_3d.npy", "f_2d_i4.npy", "unicode.npy", "be_U3.npy", "steinmetz_p4.npy", "steinmetz_p2.npy"];
            let mut bytes = std::fs::read(fixture(names[which])).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (index, value) in flips {
                let i = index.index(bytes.len());
                bytes[i] = value;
            }
            let _ = parse(&bytes);
            let end = cut.index(bytes.len() + 1);
            let _ = parse_unknown_len(&bytes[..end]);
        }

        #[test]
        fn f64_round_trip(shape in proptest::collection::vec(0usize..4, 0..4), seed in any::<u64>()) {
            let n: usize = shape.iter().product();
            let values: Vec<f64> = (0..n).map(|i| f64::from_bits(seed.wrapping_mul(i as u64 + 1) ^ 0x3ff0_0000_0000_0000) ).collect();
            let a = ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let path = dir.path().join("r.npy");
            write_npy_f64(&path, &a).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = read_npy(&path).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got = back.to_f64_c_order().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let want: Vec<f64> = a.iter().copied().collect();
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                prop_assert_eq!(g.to_bits(), w.to_bits());
            }
        }
    }
}
