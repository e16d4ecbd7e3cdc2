//! A data-only unpickler for the pickles numpy writes inside object arrays.
//!
//! numpy stores `.npy` object arrays (such as the `dat` member of the Steinmetz et al. 2019
//! Neuromatch npz files) as Python pickles and reads them only with `allow_pickle=True`,
//! because a pickle is a program: its `GLOBAL`/`STACK_GLOBAL` opcodes import any callable and
//! `REDUCE` calls it, so a crafted file can run `os.system(...)` on load.
//!
//! This module interprets the pickle virtual machine without ever importing or calling
//! anything. It builds plain data — `None`, booleans, integers, floats, text, bytes, lists,
//! tuples, dicts and numpy arrays — and recognises a short allow-list of numpy and builtin
//! *data constructors* by name, interpreting their arguments itself:
//!
//! | global | interpreted as |
//! | --- | --- |
//! | `numpy.core.multiarray._reconstruct`, `numpy._core.multiarray._reconstruct` | an empty ndarray, filled by the following `BUILD` |
//! | `numpy.ndarray`, `numpy.dtype` | the array class, a dtype (with its `BUILD` state) |
//! | `numpy.core.multiarray.scalar`, `numpy._core.multiarray.scalar` | a numpy scalar, as a 0-d array |
//! | `numpy.core.numeric._frombuffer`, `numpy._core.numeric._frombuffer` | an array from an in-band buffer (protocol 5) |
//! | `_codecs.encode` | `str` → `bytes` in Latin-1 (how protocol 2 stores bytes) |
//! | `builtins`/`__builtin__` `set`, `frozenset`, `bytes`, `bytearray`; `collections.OrderedDict` | list, list, bytes, bytes, dict |
//!
//! Any other global — `os.system`, `builtins.eval`, `subprocess.Popen`, ... — is refused with
//! [`Error::UnsafePickle`] at the `GLOBAL`/`STACK_GLOBAL`/`INST` opcode itself, before any other
//! opcode is looked at. Extension-registry opcodes (`EXT1/2/4`), persistent ids and out-of-band
//! buffers are refused too.
//!
//! Every length in the stream is checked against a bound and payloads are read in chunks of at
//! most 64 MiB as the bytes arrive, so a lying length cannot exhaust memory; the object count,
//! stack, memo, nesting depth and the cost of shared references are bounded as well. Malformed
//! input is an [`Error::Format`] naming the byte offset of the offending opcode. No input makes
//! this code panic.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::io::dtype::{self, DType, Kind};
use crate::io::value::{CHUNK, NdArray, NpyData, U8Buffer};

pub use crate::io::value::PyValue;

/// Largest single payload (string, bytes) accepted: 64 GiB.
const MAX_PAYLOAD: u64 = 1 << 36;
/// Largest number of objects created while decoding.
const MAX_OBJECTS: usize = 20_000_000;
/// Largest stack depth (values pushed and not yet consumed).
const MAX_STACK: usize = 20_000_000;
/// Largest memo size.
const MAX_MEMO: usize = 20_000_000;
/// Largest number of open MARKs.
const MAX_MARKS: usize = 1_000_000;
/// Deepest nesting of containers in the result.
const MAX_DEPTH: usize = 256;
/// Largest text line of the protocol 0 opcodes.
const MAX_LINE: u64 = 64 << 20;
/// How many extra values (containers, elements) shared references may add when the decoded
/// graph is expanded into a tree: enough for honest sharing, far too little for a
/// "billion laughs" pickle whose references expand exponentially.
const CLONE_BUDGET: u64 = 64 << 20;
/// Buffers at least this large are dropped once decoded into an array, so a large array is
/// never held twice; a later reference to such a buffer is an error.
const DROP_AFTER_DECODE: usize = 64 << 10;

/// Decodes a pickle stream into data, refusing every global outside the allow-list (see the
/// module documentation). `path` is used in error messages only.
///
/// ```
/// use neuropop::io::pickle::{unpickle, PyValue};
/// use std::path::Path;
/// // pickle.dumps({'a': [1, 2.5, None]}, protocol=2)
/// let bytes = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00Nes.";
/// let v = unpickle(&bytes[..], Path::new("mem"))?;
/// assert_eq!(v.get("a"), Some(&PyValue::List(vec![PyValue::Int(1), PyValue::Float(2.5), PyValue::None])));
///
/// // A pickle that would run os.system is refused at its GLOBAL opcode.
/// let evil = b"cos\nsystem\n(S'echo pwned'\ntR.";
/// match unpickle(&evil[..], Path::new("evil.pkl")) {
///     Err(neuropop::Error::UnsafePickle { module, name, .. }) => assert_eq!((module.as_str(), name.as_str()), ("os", "system")),
///     other => panic!("not refused: {other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn unpickle<R: Read>(reader: R, path: &Path) -> Result<PyValue> {
    unpickle_located(reader, path, "")
}

/// [`unpickle`] for a pickle inside a container: `location` (e.g. an npz member name) is
/// prefixed to byte offsets in errors, and joined to `path` in [`Error::UnsafePickle`].
pub(crate) fn unpickle_located<R: Read>(reader: R, path: &Path, location: &str) -> Result<PyValue> {
    unpickle_bounded(reader, None, path, location)
}

/// [`unpickle_located`] on a stream known to hold at most `stream_len` bytes (an npz member
/// after its npy header). A payload that fits in what is left is then read in one exact,
/// zero-initialised allocation (no geometric growth, no re-zeroing of each chunk); one that
/// claims more is an error before anything is allocated.
pub(crate) fn unpickle_bounded<R: Read>(
    reader: R,
    stream_len: Option<u64>,
    path: &Path,
    location: &str,
) -> Result<PyValue> {
    let mut u = Unpickler::new(reader, path, location);
    u.stream_len = stream_len;
    let root = u.run()?;
    u.finish(root)
}

/// Unpickles `map[start..end]` (an uncompressed npz member's pickle). Payloads of at least
/// 64 KiB become windows of `map` ([`U8Buffer`]): a uint8 array's data is then never copied.
pub(crate) fn unpickle_mapped(
    map: &Arc<memmap2::Mmap>,
    start: usize,
    end: usize,
    path: &Path,
    location: &str,
) -> Result<PyValue> {
    let mut u = Unpickler::<std::io::Empty>::new(std::io::empty(), path, location);
    u.reader = Input::Mapped {
        map: Arc::clone(map),
        pos: start,
        end,
    };
    u.stream_len = Some((end - start) as u64);
    let root = u.run()?;
    u.finish(root)
}

// ---------------------------------------------------------------------------------------------
// The virtual machine

/// Index of an object in the arena.
type Id = usize;

/// The arena ids of the shared singletons.
const NONE_ID: Id = 0;
const TRUE_ID: Id = 1;
const FALSE_ID: Id = 2;

/// The allow-listed data constructors, recognised by name and never called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Global {
    Reconstruct,
    NdArrayClass,
    Dtype,
    Scalar,
    FromBuffer,
    CodecsEncode,
    Set,
    FrozenSet,
    ByteArray,
    Bytes,
    OrderedDict,
}

impl Global {
    fn lookup(module: &str, name: &str) -> Option<Global> {
        Some(match (module, name) {
            ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => {
                Global::Reconstruct
            }
            ("numpy.core.multiarray" | "numpy._core.multiarray", "scalar") => Global::Scalar,
            ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => Global::FromBuffer,
            ("numpy", "ndarray") => Global::NdArrayClass,
            ("numpy", "dtype") => Global::Dtype,
            ("_codecs", "encode") => Global::CodecsEncode,
            ("builtins" | "__builtin__", "set") => Global::Set,
            ("builtins" | "__builtin__", "frozenset") => Global::FrozenSet,
            ("builtins" | "__builtin__", "bytearray") => Global::ByteArray,
            // Protocol 2 writes b'' as bytes() (non-empty bytes go through _codecs.encode).
            ("builtins" | "__builtin__", "bytes") => Global::Bytes,
            ("collections", "OrderedDict") => Global::OrderedDict,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Global::Reconstruct => "numpy.core.multiarray._reconstruct",
            Global::NdArrayClass => "numpy.ndarray",
            Global::Dtype => "numpy.dtype",
            Global::Scalar => "numpy.core.multiarray.scalar",
            Global::FromBuffer => "numpy.core.numeric._frombuffer",
            Global::CodecsEncode => "_codecs.encode",
            Global::Set => "builtins.set",
            Global::FrozenSet => "builtins.frozenset",
            Global::ByteArray => "builtins.bytearray",
            Global::Bytes => "builtins.bytes",
            Global::OrderedDict => "collections.OrderedDict",
        }
    }
}

/// An object under construction. Containers refer to other objects by id, so the memo, the
/// stack and containers share objects exactly as Python does (mutation after memoization is
/// visible everywhere), without copying.
#[derive(Debug)]
enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Owned, or (for large payloads of a memory-mapped stream) a window of the map.
    Bytes(U8Buffer),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Array(Box<NdArray>),
    /// An object array: shape and element ids in logical row-major order.
    ObjectArray(Box<(Vec<usize>, Vec<Id>)>),
    /// `_reconstruct(ndarray, ...)` awaiting its `BUILD` state.
    PendingArray,
    Dtype(DType),
    Global(Global),
    /// A large buffer already decoded into an array and dropped; or an object moved into the
    /// result.
    Consumed,
}

impl Obj {
    fn type_name(&self) -> &'static str {
        match self {
            Obj::None => "NoneType",
            Obj::Bool(_) => "bool",
            Obj::Int(_) => "int",
            Obj::Float(_) => "float",
            Obj::Str(_) => "str",
            Obj::Bytes(_) => "bytes",
            Obj::List(_) => "list",
            Obj::Tuple(_) => "tuple",
            Obj::Dict(_) => "dict",
            Obj::Array(_) | Obj::ObjectArray(_) => "ndarray",
            Obj::PendingArray => "ndarray (not yet built)",
            Obj::Dtype(_) => "numpy.dtype",
            Obj::Global(_) => "global",
            Obj::Consumed => "buffer already decoded into an array",
        }
    }
}

/// Where the pickle bytes come from: any reader (buffered), or a memory-mapped file whose
/// large payloads are handed out as windows instead of copies.
enum Input<R: Read> {
    Stream(BufReader<R>),
    Mapped {
        map: Arc<memmap2::Mmap>,
        pos: usize,
        end: usize,
    },
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Stream(r) => r.read(buf),
            Input::Mapped { map, pos, end } => {
                let n = buf.len().min(*end - *pos);
                buf[..n].copy_from_slice(&map[*pos..*pos + n]);
                *pos += n;
                Ok(n)
            }
        }
    }
}

impl<R: Read> BufRead for Input<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Input::Stream(r) => r.fill_buf(),
            Input::Mapped { map, pos, end } => Ok(&map[*pos..*end]),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Input::Stream(r) => r.consume(n),
            Input::Mapped { pos, end, .. } => *pos = (*pos + n).min(*end),
        }
    }
}

struct Unpickler<R: Read> {
    reader: Input<R>,
    /// Bytes consumed so far.
    pos: u64,
    /// Length of the whole stream, when known.
    stream_len: Option<u64>,
    /// Offset of the opcode being executed, for messages.
    op: u64,
    path: PathBuf,
    location: String,
    arena: Vec<Obj>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
}

impl<R: Read> Unpickler<R> {
    fn new(reader: R, path: &Path, location: &str) -> Self {
        Unpickler {
            reader: Input::Stream(BufReader::new(reader)),
            pos: 0,
            stream_len: None,
            op: 0,
            path: path.to_path_buf(),
            location: location.to_string(),
            arena: vec![Obj::None, Obj::Bool(true), Obj::Bool(false)],
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
        }
    }

    fn err(&self, message: impl Into<String>) -> Error {
        let location = if self.location.is_empty() {
            format!("pickle byte {}", self.op)
        } else {
            format!("{}, pickle byte {}", self.location, self.op)
        };
        Error::format(&self.path, location, message)
    }

    fn refuse(&self, module: &str, name: &str) -> Error {
        let path = if self.location.is_empty() {
            self.path.clone()
        } else {
            self.path.join(&self.location)
        };
        Error::UnsafePickle {
            path,
            offset: usize::try_from(self.op).unwrap_or(usize::MAX),
            module: module.to_string(),
            name: name.to_string(),
        }
    }

    // -- reading -------------------------------------------------------------------------------

    fn read_array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        let mut filled = 0;
        while filled < N {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(self.err(format!(
                        "truncated: stream ends inside the {what} ({filled} of {N} bytes)"
                    )));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.err(format!("reading the {what}: {e}"))),
            }
        }
        self.pos += N as u64;
        Ok(buf)
    }

    fn read_u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.read_array::<1>(what)?[0])
    }

    fn read_u32(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from(u32::from_le_bytes(self.read_array::<4>(what)?)))
    }

    fn read_u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.read_array::<8>(what)?))
    }

    /// Reads a payload whose length the stream claims, growing the buffer in chunks of at most
    /// 64 MiB as bytes actually arrive.
    fn read_payload(&mut self, len: u64, what: &str) -> Result<Vec<u8>> {
        if len > MAX_PAYLOAD {
            return Err(self.err(format!(
                "{what} length {len} exceeds the supported maximum of {MAX_PAYLOAD} bytes"
            )));
        }
        let total = usize::try_from(len)
            .map_err(|_| self.err(format!("{what} length {len} does not fit in memory")))?;
        if let Some(stream_len) = self.stream_len {
            let left = stream_len.saturating_sub(self.pos);
            if len > left {
                return Err(self.err(format!(
                    "truncated: {what} claims {len} bytes, stream has {left}"
                )));
            }
            // The bytes are known to exist: one calloc'd buffer (fresh zero pages, no memset)
            // filled by the reader directly.
            let mut buf = vec![0u8; total];
            self.reader
                .read_exact(&mut buf)
                .map_err(|e| self.err(format!("reading {what}: {e}")))?;
            self.pos += len;
            return Ok(buf);
        }
        let mut buf = Vec::new();
        while buf.len() < total {
            let have = buf.len();
            // Grow geometrically from 64 KiB in steps of at most 64 MiB, never past the claimed
            // length: an honest payload ends exactly sized, a lying one costs at most about
            // twice the bytes really present.
            let step = (total - have).min(CHUNK).min(have.max(64 << 10));
            buf.try_reserve_exact(step)
                .map_err(|e| self.err(format!("cannot allocate {step} bytes for {what}: {e}")))?;
            let got = (&mut self.reader)
                .take(step as u64)
                .read_to_end(&mut buf)
                .map_err(|e| self.err(format!("reading {what}: {e}")))?;
            self.pos += got as u64;
            if got < step {
                return Err(self.err(format!(
                    "truncated: {what} claims {len} bytes, stream has {}",
                    have + got
                )));
            }
        }
        Ok(buf)
    }

    /// A bytes payload: a window of the map when reading a mapped stream and the payload is
    /// large, otherwise read as [`Self::read_payload`].
    fn read_bytes(&mut self, len: u64, what: &str) -> Result<U8Buffer> {
        if len >= DROP_AFTER_DECODE as u64 && len <= MAX_PAYLOAD {
            let window = match &mut self.reader {
                Input::Mapped { map, pos, end } if len <= (*end - *pos) as u64 => {
                    let start = *pos;
                    *pos += len as usize;
                    Some(U8Buffer::mapped(Arc::clone(map), start, len as usize))
                }
                _ => None,
            };
            if let Some(w) = window {
                self.pos += len;
                return Ok(w);
            }
        }
        Ok(self.read_payload(len, what)?.into())
    }

    /// Reads a protocol 0 text argument up to its newline (excluded).
    fn read_line(&mut self, what: &str) -> Result<Vec<u8>> {
        let mut line = Vec::new();
        let got = (&mut self.reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| self.err(format!("reading {what}: {e}")))?;
        self.pos += got as u64;
        if line.last() != Some(&b'\n') {
            return Err(if got as u64 > MAX_LINE {
                self.err(format!("{what} is longer than {MAX_LINE} bytes"))
            } else {
                self.err(format!("truncated: stream ends inside {what}"))
            });
        }
        line.pop();
        Ok(line)
    }

    fn read_text_line(&mut self, what: &str) -> Result<String> {
        let line = self.read_line(what)?;
        String::from_utf8(line).map_err(|_| self.err(format!("{what} is not valid UTF-8")))
    }

    fn read_utf8(&mut self, len: u64) -> Result<String> {
        let bytes = self.read_payload(len, "str")?;
        String::from_utf8(bytes).map_err(|e| self.err(format!("str is not valid UTF-8: {e}")))
    }

    // -- the stack, memo and arena ---------------------------------------------------------------

    fn alloc(&mut self, obj: Obj) -> Result<Id> {
        if self.arena.len() >= MAX_OBJECTS {
            return Err(self.err(format!("more than {MAX_OBJECTS} objects")));
        }
        self.arena.push(obj);
        Ok(self.arena.len() - 1)
    }

    fn push_id(&mut self, id: Id) -> Result<()> {
        if self.stack.len() >= MAX_STACK {
            return Err(self.err(format!("stack deeper than {MAX_STACK} values")));
        }
        self.stack.push(id);
        Ok(())
    }

    fn push(&mut self, obj: Obj) -> Result<()> {
        let id = self.alloc(obj)?;
        self.push_id(id)
    }

    /// The bottom of the current MARK frame: values below it belong to an enclosing frame.
    fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, opname: &str) -> Result<Id> {
        if self.stack.len() <= self.base() {
            return Err(self.err(format!(
                "{opname}: stack underflow (no value above the last MARK)"
            )));
        }
        self.stack
            .pop()
            .ok_or_else(|| self.err(format!("{opname}: stack underflow")))
    }

    fn top(&self, opname: &str) -> Result<Id> {
        if self.stack.len() <= self.base() {
            return Err(self.err(format!(
                "{opname}: stack underflow (no value above the last MARK)"
            )));
        }
        self.stack
            .last()
            .copied()
            .ok_or_else(|| self.err(format!("{opname}: stack underflow")))
    }

    fn pop_mark(&mut self, opname: &str) -> Result<Vec<Id>> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.err(format!("{opname} without a matching MARK")))?;
        if mark > self.stack.len() {
            return Err(self.err(format!("{opname}: MARK above the top of the stack")));
        }
        Ok(self.stack.split_off(mark))
    }

    fn memo_put(&mut self, index: u64) -> Result<()> {
        let id = self.top("PUT")?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
            return Err(self.err(format!("memo larger than {MAX_MEMO} entries")));
        }
        self.memo.insert(index, id);
        Ok(())
    }

    fn memo_get(&mut self, index: u64) -> Result<()> {
        let id = *self.memo.get(&index).ok_or_else(|| {
            self.err(format!("GET of memo index {index}, which was never stored"))
        })?;
        self.push_id(id)
    }

    fn obj(&self, id: Id) -> Result<&Obj> {
        self.arena
            .get(id)
            .ok_or_else(|| self.err(format!("internal: object id {id} out of range")))
    }

    fn int_of(&self, id: Id, what: &str) -> Result<i64> {
        match self.obj(id)? {
            Obj::Int(i) => Ok(*i),
            Obj::Bool(b) => Ok(i64::from(*b)),
            other => Err(self.err(format!(
                "{what}: expected an int, found {}",
                other.type_name()
            ))),
        }
    }

    fn str_of(&self, id: Id, what: &str) -> Result<&str> {
        match self.obj(id)? {
            Obj::Str(s) => Ok(s),
            other => Err(self.err(format!(
                "{what}: expected a str, found {}",
                other.type_name()
            ))),
        }
    }

    fn tuple_of(&self, id: Id, what: &str) -> Result<Vec<Id>> {
        match self.obj(id)? {
            Obj::Tuple(items) => Ok(items.clone()),
            other => Err(self.err(format!(
                "{what}: expected a tuple, found {}",
                other.type_name()
            ))),
        }
    }

    fn shape_of(&self, id: Id, what: &str) -> Result<Vec<usize>> {
        let items = match self.obj(id)? {
            Obj::Tuple(items) | Obj::List(items) => items.clone(),
            // numpy accepts a bare int for a 1-d shape.
            Obj::Int(_) => vec![id],
            other => {
                return Err(self.err(format!(
                    "{what}: expected a shape tuple, found {}",
                    other.type_name()
                )));
            }
        };
        items
            .iter()
            .map(|&d| {
                let n = self.int_of(d, what)?;
                usize::try_from(n)
                    .map_err(|_| self.err(format!("{what}: axis length {n} is negative")))
            })
            .collect()
    }

    fn dtype_of(&self, id: Id, what: &str) -> Result<DType> {
        match self.obj(id)? {
            Obj::Dtype(d) => Ok(d.clone()),
            other => Err(self.err(format!(
                "{what}: expected a numpy dtype, found {}",
                other.type_name()
            ))),
        }
    }

    /// Borrow the raw bytes of an array buffer (`bytes`, `bytearray`, or a Latin-1 `str` as in
    /// Python 2 pickles) and decode them; large buffers are dropped right after decoding.
    fn decode_buffer(
        &mut self,
        buf: Id,
        dtype: &DType,
        count: usize,
        what: &str,
    ) -> Result<NpyData> {
        // A large uint8 buffer already is the array's storage: hand the bytes over instead of
        // copying them (the buffer is dropped after decoding anyway, see below).
        if matches!(dtype.kind, Kind::U8)
            && let Some(slot) = self.arena.get_mut(buf)
            && matches!(slot, Obj::Bytes(b) if b.len() == count && count >= DROP_AFTER_DECODE)
            && let Obj::Bytes(bytes) = std::mem::replace(slot, Obj::Consumed)
        {
            return Ok(NpyData::U8(bytes));
        }
        let (result, size) = match self.obj(buf)? {
            Obj::Bytes(b) => (dtype::decode_all(dtype, b, count), b.len()),
            Obj::Str(s) => {
                let bytes = latin1_bytes(s).map_err(|m| self.err(format!("{what}: {m}")))?;
                (dtype::decode_all(dtype, &bytes, count), bytes.len())
            }
            other => {
                return Err(self.err(format!(
                    "{what}: expected the raw data as bytes, found {}",
                    other.type_name()
                )));
            }
        };
        let data = result.map_err(|m| self.err(format!("{what}: {m}")))?;
        if size >= DROP_AFTER_DECODE
            && let Some(slot) = self.arena.get_mut(buf)
        {
            *slot = Obj::Consumed;
        }
        Ok(data)
    }

    fn check_global(&self, module: &str, name: &str) -> Result<Global> {
        Global::lookup(module, name).ok_or_else(|| self.refuse(module, name))
    }

    // -- the main loop -----------------------------------------------------------------------------

    fn run(&mut self) -> Result<Id> {
        loop {
            self.op = self.pos;
            let mut byte = [0u8; 1];
            let opcode = loop {
                match self.reader.read(&mut byte) {
                    Ok(0) => {
                        return Err(self.err("truncated: the pickle ends without a STOP opcode"));
                    }
                    Ok(_) => break byte[0],
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(self.err(format!("reading an opcode: {e}"))),
                }
            };
            self.pos += 1;
            if opcode == b'.' {
                return self.pop("STOP");
            }
            self.step(opcode)?;
        }
    }

    fn step(&mut self, opcode: u8) -> Result<()> {
        match opcode {
            // -- framing and protocol
            0x80 => {
                let proto = self.read_u8("PROTO argument")?;
                if proto > 5 {
                    return Err(self.err(format!(
                        "unsupported pickle protocol {proto} (expected 0 to 5)"
                    )));
                }
            }
            // FRAME: a length hint for buffered readers; we stream anyway.
            0x95 => {
                self.read_u64("FRAME length")?;
            }
            // -- stack manipulation
            b'(' => {
                if self.marks.len() >= MAX_MARKS {
                    return Err(self.err(format!("more than {MAX_MARKS} open MARKs")));
                }
                self.marks.push(self.stack.len());
            }
            b'0' => {
                // Python's POP discards the MARK itself when the frame is empty.
                if self.stack.len() > self.base() {
                    self.stack.pop();
                } else if self.marks.pop().is_none() {
                    return Err(self.err("POP: stack underflow"));
                }
            }
            b'1' => {
                self.pop_mark("POP_MARK")?;
            }
            b'2' => {
                let id = self.top("DUP")?;
                self.push_id(id)?;
            }
            // -- memo
            0x94 => {
                let index = self.memo.len() as u64;
                self.memo_put(index)?;
            }
            b'p' => {
                let line = self.read_text_line("PUT index")?;
                let index = line.trim().parse::<u64>().map_err(|_| {
                    self.err(format!("PUT index {line:?} is not a non-negative integer"))
                })?;
                self.memo_put(index)?;
            }
            b'q' => {
                let index = u64::from(self.read_u8("BINPUT index")?);
                self.memo_put(index)?;
            }
            b'r' => {
                let index = self.read_u32("LONG_BINPUT index")?;
                self.memo_put(index)?;
            }
            b'g' => {
                let line = self.read_text_line("GET index")?;
                let index = line.trim().parse::<u64>().map_err(|_| {
                    self.err(format!("GET index {line:?} is not a non-negative integer"))
                })?;
                self.memo_get(index)?;
            }
            b'h' => {
                let index = u64::from(self.read_u8("BINGET index")?);
                self.memo_get(index)?;
            }
            b'j' => {
                let index = self.read_u32("LONG_BINGET index")?;
                self.memo_get(index)?;
            }
            // -- constants and numbers
            b'N' => self.push_id(NONE_ID)?,
            0x88 => self.push_id(TRUE_ID)?,
            0x89 => self.push_id(FALSE_ID)?,
            b'I' => {
                let line = self.read_text_line("INT argument")?;
                match line.trim() {
                    "01" => self.push_id(TRUE_ID)?,
                    "00" => self.push_id(FALSE_ID)?,
                    text => {
                        let value = text.parse::<i64>().map_err(|_| {
                            self.err(format!(
                                "INT {text:?} is not an integer that fits in 64 bits"
                            ))
                        })?;
                        self.push(Obj::Int(value))?;
                    }
                }
            }
            b'J' => {
                let value = i32::from_le_bytes(self.read_array::<4>("BININT argument")?);
                self.push(Obj::Int(i64::from(value)))?;
            }
            b'K' => {
                let value = self.read_u8("BININT1 argument")?;
                self.push(Obj::Int(i64::from(value)))?;
            }
            b'M' => {
                let value = u16::from_le_bytes(self.read_array::<2>("BININT2 argument")?);
                self.push(Obj::Int(i64::from(value)))?;
            }
            b'L' => {
                let line = self.read_text_line("LONG argument")?;
                let text = line.trim().trim_end_matches(['L', 'l']);
                let value = text.parse::<i64>().map_err(|_| {
                    self.err(format!(
                        "LONG {text:?} is not an integer that fits in 64 bits"
                    ))
                })?;
                self.push(Obj::Int(value))?;
            }
            0x8a => {
                let n = u64::from(self.read_u8("LONG1 length")?);
                self.long(n)?;
            }
            0x8b => {
                let n = i32::from_le_bytes(self.read_array::<4>("LONG4 length")?);
                let n = u64::try_from(n)
                    .map_err(|_| self.err(format!("LONG4 length {n} is negative")))?;
                self.long(n)?;
            }
            b'G' => {
                let value = f64::from_be_bytes(self.read_array::<8>("BINFLOAT argument")?);
                self.push(Obj::Float(value))?;
            }
            b'F' => {
                let line = self.read_text_line("FLOAT argument")?;
                let value = line
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| self.err(format!("FLOAT {line:?} is not a number")))?;
                self.push(Obj::Float(value))?;
            }
            // -- text and bytes
            b'X' => {
                let n = self.read_u32("BINUNICODE length")?;
                let s = self.read_utf8(n)?;
                self.push(Obj::Str(s))?;
            }
            0x8c => {
                let n = u64::from(self.read_u8("SHORT_BINUNICODE length")?);
                let s = self.read_utf8(n)?;
                self.push(Obj::Str(s))?;
            }
            0x8d => {
                let n = self.read_u64("BINUNICODE8 length")?;
                let s = self.read_utf8(n)?;
                self.push(Obj::Str(s))?;
            }
            b'V' => {
                let line = self.read_line("UNICODE argument")?;
                let s = raw_unicode_escape(&line)
                    .map_err(|m| self.err(format!("UNICODE argument: {m}")))?;
                self.push(Obj::Str(s))?;
            }
            b'B' => {
                let n = self.read_u32("BINBYTES length")?;
                let b = self.read_bytes(n, "BINBYTES payload")?;
                self.push(Obj::Bytes(b))?;
            }
            b'C' => {
                let n = u64::from(self.read_u8("SHORT_BINBYTES length")?);
                let b = self.read_payload(n, "SHORT_BINBYTES payload")?;
                self.push(Obj::Bytes(b.into()))?;
            }
            0x8e => {
                let n = self.read_u64("BINBYTES8 length")?;
                let b = self.read_bytes(n, "BINBYTES8 payload")?;
                self.push(Obj::Bytes(b))?;
            }
            0x96 => {
                let n = self.read_u64("BYTEARRAY8 length")?;
                let b = self.read_bytes(n, "BYTEARRAY8 payload")?;
                self.push(Obj::Bytes(b))?;
            }
            // Python 2 str: decoded as Latin-1 (numpy's recommended encoding for such pickles).
            b'T' => {
                let n = i32::from_le_bytes(self.read_array::<4>("BINSTRING length")?);
                let n = u64::try_from(n)
                    .map_err(|_| self.err(format!("BINSTRING length {n} is negative")))?;
                let b = self.read_payload(n, "BINSTRING payload")?;
                self.push(Obj::Str(b.iter().map(|&c| char::from(c)).collect()))?;
            }
            b'U' => {
                let n = u64::from(self.read_u8("SHORT_BINSTRING length")?);
                let b = self.read_payload(n, "SHORT_BINSTRING payload")?;
                self.push(Obj::Str(b.iter().map(|&c| char::from(c)).collect()))?;
            }
            b'S' => {
                let line = self.read_line("STRING argument")?;
                let b = python_string_repr(&line)
                    .map_err(|m| self.err(format!("STRING argument: {m}")))?;
                self.push(Obj::Str(b.iter().map(|&c| char::from(c)).collect()))?;
            }
            // -- containers
            b']' => self.push(Obj::List(Vec::new()))?,
            b'l' => {
                let items = self.pop_mark("LIST")?;
                self.push(Obj::List(items))?;
            }
            b'a' => {
                let value = self.pop("APPEND")?;
                let list = self.top("APPEND")?;
                self.extend_list(list, vec![value], "APPEND")?;
            }
            b'e' => {
                let items = self.pop_mark("APPENDS")?;
                let list = self.top("APPENDS")?;
                self.extend_list(list, items, "APPENDS")?;
            }
            b')' => self.push(Obj::Tuple(Vec::new()))?,
            b't' => {
                let items = self.pop_mark("TUPLE")?;
                self.push(Obj::Tuple(items))?;
            }
            0x85..=0x87 => {
                let n = usize::from(opcode - 0x84);
                let mut items = vec![0; n];
                for slot in items.iter_mut().rev() {
                    *slot = self.pop("TUPLE1/2/3")?;
                }
                self.push(Obj::Tuple(items))?;
            }
            b'}' => self.push(Obj::Dict(Vec::new()))?,
            b'd' => {
                let items = self.pop_mark("DICT")?;
                let pairs = self.pairs(items, "DICT")?;
                self.push(Obj::Dict(pairs))?;
            }
            b's' => {
                let value = self.pop("SETITEM")?;
                let key = self.pop("SETITEM")?;
                let dict = self.top("SETITEM")?;
                self.extend_dict(dict, vec![(key, value)], "SETITEM")?;
            }
            b'u' => {
                let items = self.pop_mark("SETITEMS")?;
                let pairs = self.pairs(items, "SETITEMS")?;
                let dict = self.top("SETITEMS")?;
                self.extend_dict(dict, pairs, "SETITEMS")?;
            }
            // Sets are kept as lists: neuropop needs their elements, not set semantics.
            0x8f => self.push(Obj::List(Vec::new()))?,
            0x90 => {
                let items = self.pop_mark("ADDITEMS")?;
                let set = self.top("ADDITEMS")?;
                self.extend_list(set, items, "ADDITEMS")?;
            }
            0x91 => {
                let items = self.pop_mark("FROZENSET")?;
                self.push(Obj::List(items))?;
            }
            // -- globals: the only way a pickle can name code; refused unless allow-listed
            b'c' => {
                let module = self.read_line("GLOBAL module")?;
                let name = self.read_line("GLOBAL name")?;
                let (module, name) = (
                    String::from_utf8_lossy(&module).into_owned(),
                    String::from_utf8_lossy(&name).into_owned(),
                );
                let global = self.check_global(&module, &name)?;
                self.push(Obj::Global(global))?;
            }
            0x93 => {
                let name = self.pop("STACK_GLOBAL")?;
                let module = self.pop("STACK_GLOBAL")?;
                let module = self.str_of(module, "STACK_GLOBAL module")?.to_string();
                let name = self.str_of(name, "STACK_GLOBAL name")?.to_string();
                let global = self.check_global(&module, &name)?;
                self.push(Obj::Global(global))?;
            }
            b'i' => {
                // INST names a class and instantiates it: refuse unknown names first, as GLOBAL does.
                let module = String::from_utf8_lossy(&self.read_line("INST module")?).into_owned();
                let name = String::from_utf8_lossy(&self.read_line("INST name")?).into_owned();
                self.check_global(&module, &name)?;
                return Err(self.err(format!("INST of {module}.{name} is not supported")));
            }
            b'o' => {
                let items = self.pop_mark("OBJ")?;
                let what = match items.first() {
                    Some(&cls) => self.obj(cls)?.type_name(),
                    None => "nothing",
                };
                return Err(self.err(format!("OBJ (instantiating {what}) is not supported")));
            }
            0x82..=0x84 => {
                return Err(self.err("EXT1/EXT2/EXT4 name a global through the copyreg extension registry; refused (neuropop never imports anything)"));
            }
            b'P' | b'Q' => {
                return Err(self.err("persistent ids (PERSID/BINPERSID) are not supported"));
            }
            0x97 | 0x98 => {
                return Err(self.err("out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported; pickle with in-band buffers"));
            }
            // -- calls, interpreted for allow-listed data constructors only
            b'R' => {
                let args = self.pop("REDUCE")?;
                let callable = self.pop("REDUCE")?;
                let result = self.call(callable, args, "REDUCE")?;
                self.push(result)?;
            }
            0x81 => {
                let args = self.pop("NEWOBJ")?;
                let cls = self.pop("NEWOBJ")?;
                let result = self.call(cls, args, "NEWOBJ")?;
                self.push(result)?;
            }
            0x92 => {
                let kwargs = self.pop("NEWOBJ_EX")?;
                let args = self.pop("NEWOBJ_EX")?;
                let cls = self.pop("NEWOBJ_EX")?;
                if !matches!(self.obj(kwargs)?, Obj::Dict(d) if d.is_empty()) {
                    return Err(self.err("NEWOBJ_EX with keyword arguments is not supported"));
                }
                let result = self.call(cls, args, "NEWOBJ_EX")?;
                self.push(result)?;
            }
            b'b' => {
                let state = self.pop("BUILD")?;
                let target = self.top("BUILD")?;
                self.build(target, state)?;
            }
            other => return Err(self.err(format!("unknown or unsupported opcode {other:#04x}"))),
        }
        Ok(())
    }

    fn long(&mut self, n: u64) -> Result<()> {
        if n > 64 {
            return Err(self.err(format!("integer of {n} bytes does not fit in 64 bits")));
        }
        let bytes = self.read_payload(n, "LONG payload")?;
        let value = decode_long(&bytes)
            .ok_or_else(|| self.err(format!("integer of {n} bytes does not fit in 64 bits")))?;
        self.push(Obj::Int(value))
    }

    fn pairs(&self, items: Vec<Id>, opname: &str) -> Result<Vec<(Id, Id)>> {
        if !items.len().is_multiple_of(2) {
            return Err(self.err(format!(
                "{opname}: odd number of values ({}) for key/value pairs",
                items.len()
            )));
        }
        Ok(items.chunks_exact(2).map(|kv| (kv[0], kv[1])).collect())
    }

    fn extend_list(&mut self, list: Id, items: Vec<Id>, opname: &str) -> Result<()> {
        let found = match self.arena.get_mut(list) {
            Some(Obj::List(v)) => {
                v.extend(items);
                return Ok(());
            }
            Some(other) => other.type_name(),
            None => "nothing",
        };
        Err(self.err(format!("{opname}: expected a list or set, found {found}")))
    }

    fn extend_dict(&mut self, dict: Id, pairs: Vec<(Id, Id)>, opname: &str) -> Result<()> {
        let found = match self.arena.get_mut(dict) {
            Some(Obj::Dict(v)) => {
                v.extend(pairs);
                return Ok(());
            }
            Some(other) => other.type_name(),
            None => "nothing",
        };
        Err(self.err(format!("{opname}: expected a dict, found {found}")))
    }

    /// Interprets `callable(*args)` for the allow-listed constructors. Nothing is called.
    fn call(&mut self, callable: Id, args: Id, opname: &str) -> Result<Obj> {
        let global = match self.obj(callable)? {
            Obj::Global(g) => *g,
            other => return Err(self.err(format!("{opname}: cannot call a {}", other.type_name()))),
        };
        let args = self.tuple_of(args, &format!("{opname} arguments of {}", global.name()))?;
        let what = global.name();
        let arity = |n: usize| -> Result<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(self.err(format!(
                    "{what}: expected {n} arguments, found {}",
                    args.len()
                )))
            }
        };
        match global {
            Global::Reconstruct => {
                arity(3)?;
                if !matches!(self.obj(args[0])?, Obj::Global(Global::NdArrayClass)) {
                    return Err(self.err(format!(
                        "{what}: only numpy.ndarray itself can be reconstructed, found {}",
                        self.obj(args[0])?.type_name()
                    )));
                }
                Ok(Obj::PendingArray)
            }
            Global::NdArrayClass => {
                Err(self.err("numpy.ndarray(...) called directly is not supported"))
            }
            Global::Dtype => {
                if args.is_empty() {
                    return Err(self.err(format!("{what}: expected a type string argument")));
                }
                let descr = self.str_of(args[0], what)?;
                let dtype = DType::parse(descr).map_err(|m| self.err(format!("{what}: {m}")))?;
                Ok(Obj::Dtype(dtype))
            }
            Global::Scalar => {
                if args.is_empty() || args.len() > 2 {
                    return Err(self.err(format!(
                        "{what}: expected (dtype, bytes), found {} arguments",
                        args.len()
                    )));
                }
                let dtype = self.dtype_of(args[0], what)?;
                if dtype.kind == Kind::Object {
                    return Err(self.err(format!("{what}: object scalars are not supported")));
                }
                let Some(&buf) = args.get(1) else {
                    return Err(self.err(format!("{what}: missing the scalar's bytes")));
                };
                let data = self.decode_buffer(buf, &dtype, 1, what)?;
                Ok(Obj::Array(Box::new(NdArray {
                    shape: Vec::new(),
                    fortran_order: false,
                    data,
                })))
            }
            Global::FromBuffer => {
                arity(4)?;
                let dtype = self.dtype_of(args[1], what)?;
                if dtype.kind == Kind::Object {
                    return Err(
                        self.err(format!("{what}: object arrays cannot come from a buffer"))
                    );
                }
                let shape = self.shape_of(args[2], what)?;
                let order = self.str_of(args[3], what)?;
                let fortran_order = match order {
                    "C" => false,
                    "F" => true,
                    other => {
                        return Err(
                            self.err(format!("{what}: order must be 'C' or 'F', found {other:?}"))
                        );
                    }
                };
                let count = self.element_count(&shape, what)?;
                let data = self.decode_buffer(args[0], &dtype, count, what)?;
                Ok(Obj::Array(Box::new(NdArray {
                    shape,
                    fortran_order,
                    data,
                })))
            }
            Global::CodecsEncode => {
                arity(2)?;
                let encoding = self.str_of(args[1], what)?;
                if !matches!(
                    encoding.to_ascii_lowercase().as_str(),
                    "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1"
                ) {
                    return Err(self.err(format!(
                        "{what}: only the latin1 encoding is supported, found {encoding:?}"
                    )));
                }
                self.latin1_encode(args[0], what)
            }
            Global::Set | Global::FrozenSet => match args.as_slice() {
                [] => Ok(Obj::List(Vec::new())),
                [items] => match self.obj(*items)? {
                    Obj::List(v) | Obj::Tuple(v) => Ok(Obj::List(v.clone())),
                    other => Err(self.err(format!(
                        "{what}: expected a list of items, found {}",
                        other.type_name()
                    ))),
                },
                _ => Err(self.err(format!(
                    "{what}: expected at most 1 argument, found {}",
                    args.len()
                ))),
            },
            Global::ByteArray | Global::Bytes => match args.as_slice() {
                [] => Ok(Obj::Bytes(Vec::new().into())),
                [b] => match self.obj(*b)? {
                    Obj::Bytes(v) => Ok(Obj::Bytes(v.clone())),
                    other => Err(self.err(format!(
                        "{what}: expected bytes, found {}",
                        other.type_name()
                    ))),
                },
                [s, _encoding] => self.latin1_encode(*s, what),
                _ => Err(self.err(format!(
                    "{what}: expected at most 2 arguments, found {}",
                    args.len()
                ))),
            },
            Global::OrderedDict => match args.as_slice() {
                [] => Ok(Obj::Dict(Vec::new())),
                _ => Err(self.err(format!(
                    "{what}: expected no arguments, found {}",
                    args.len()
                ))),
            },
        }
    }

    /// `str` → `bytes` in Latin-1. A large string is converted in place and its slot dropped,
    /// so the array data it carries is never held twice.
    fn latin1_encode(&mut self, id: Id, what: &str) -> Result<Obj> {
        let large = matches!(self.obj(id)?, Obj::Str(s) if s.len() >= DROP_AFTER_DECODE);
        if large {
            let slot = self
                .arena
                .get_mut(id)
                .map(|o| std::mem::replace(o, Obj::Consumed));
            let Some(Obj::Str(s)) = slot else {
                return Err(self.err(format!("{what}: internal: string vanished")));
            };
            return latin1_into_bytes(s)
                .map(|b| Obj::Bytes(b.into()))
                .map_err(|m| self.err(format!("{what}: {m}")));
        }
        let s = self.str_of(id, what)?;
        latin1_bytes(s)
            .map(|b| Obj::Bytes(b.into()))
            .map_err(|m| self.err(format!("{what}: {m}")))
    }

    fn element_count(&self, shape: &[usize], what: &str) -> Result<usize> {
        shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                self.err(format!(
                    "{what}: shape {shape:?} has an element count that overflows"
                ))
            })
    }

    /// `BUILD`: sets the state of an array under reconstruction or of a dtype.
    fn build(&mut self, target: Id, state: Id) -> Result<()> {
        match self.obj(target)? {
            Obj::PendingArray => {
                let built = self.build_array(state)?;
                if let Some(slot) = self.arena.get_mut(target) {
                    *slot = built;
                }
                Ok(())
            }
            Obj::Dtype(_) => {
                let dtype = self.build_dtype(target, state)?;
                if let Some(slot) = self.arena.get_mut(target) {
                    *slot = Obj::Dtype(dtype);
                }
                Ok(())
            }
            other => Err(self.err(format!("BUILD on a {} is not supported", other.type_name()))),
        }
    }

    /// ndarray state: `(version, shape, dtype, is_fortran, rawdata)` or, from old numpy,
    /// `(shape, dtype, is_fortran, rawdata)`.
    fn build_array(&mut self, state: Id) -> Result<Obj> {
        let what = "ndarray state";
        let items = self.tuple_of(state, what)?;
        let (shape, dtype, fortran, raw) = match items.as_slice() {
            [_, shape, dtype, fortran, raw] | [shape, dtype, fortran, raw] => {
                (*shape, *dtype, *fortran, *raw)
            }
            _ => {
                return Err(self.err(format!(
                    "{what}: expected 4 or 5 items, found {}",
                    items.len()
                )));
            }
        };
        let shape = self.shape_of(shape, what)?;
        let dtype = self.dtype_of(dtype, what)?;
        let fortran_order = self.int_of(fortran, what)? != 0;
        let count = self.element_count(&shape, what)?;
        if dtype.kind == Kind::Object {
            // numpy lists object elements in logical row-major order whatever the flag says.
            let elements = match self.obj(raw)? {
                Obj::List(v) => v.clone(),
                other => {
                    return Err(self.err(format!(
                        "{what}: object array data must be a list, found {}",
                        other.type_name()
                    )));
                }
            };
            if elements.len() != count {
                return Err(self.err(format!(
                    "{what}: shape {shape:?} needs {count} elements, the list has {}",
                    elements.len()
                )));
            }
            return Ok(Obj::ObjectArray(Box::new((shape, elements))));
        }
        let data = self.decode_buffer(raw, &dtype, count, what)?;
        Ok(Obj::Array(Box::new(NdArray {
            shape,
            fortran_order,
            data,
        })))
    }

    /// dtype state: `(version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])`.
    fn build_dtype(&self, target: Id, state: Id) -> Result<DType> {
        let what = "numpy.dtype state";
        let mut dtype = self.dtype_of(target, what)?;
        let items = self.tuple_of(state, what)?;
        if items.len() < 8 || items.len() > 9 {
            return Err(self.err(format!(
                "{what}: expected 8 or 9 items (versions 3 and 4), found {}",
                items.len()
            )));
        }
        dtype.big_endian = match self.str_of(items[1], what)? {
            ">" | "!" => true,
            "<" | "|" | "=" => false,
            other => return Err(self.err(format!("{what}: unknown byte order {other:?}"))),
        };
        if !matches!(self.obj(items[2])?, Obj::None) {
            return Err(self.err(format!("{what}: sub-array dtypes are not supported")));
        }
        if !matches!(self.obj(items[3])?, Obj::None) {
            return Err(self.err(format!("{what}: structured dtypes are not supported")));
        }
        let elsize = self.int_of(items[5], what)?;
        if matches!(dtype.kind, Kind::Unicode | Kind::Bytes) && elsize >= 0 {
            // For flexible dtypes the state's elsize is authoritative.
            let size = usize::try_from(elsize)
                .map_err(|_| self.err(format!("{what}: bad element size {elsize}")))?;
            if size > CHUNK || (dtype.kind == Kind::Unicode && size % 4 != 0) {
                return Err(self.err(format!(
                    "{what}: unsupported element size {size} for {}",
                    dtype.descr()
                )));
            }
            dtype.itemsize = size;
        }
        Ok(dtype)
    }

    // -- building the result -----------------------------------------------------------------------

    /// Turns the object graph into a tree, moving every object into place; an object referenced
    /// from several places is cloned for all but its last use. Cycles, nesting deeper than
    /// `MAX_DEPTH` and exponential expansion of shared references are errors.
    fn finish(mut self, root: Id) -> Result<PyValue> {
        let n = self.arena.len();
        let mut measure = Measure {
            refs: vec![0; n],
            size: vec![None; n],
            visiting: vec![false; n],
            unique: 0,
        };
        let (expanded, height) = self.measure(root, 0, &mut measure)?;
        // The longest path bounds the recursion of `convert`; the depth check inside `measure`
        // only covers the paths it walked first.
        if height > MAX_DEPTH {
            return Err(self.err(format!("values nested deeper than {MAX_DEPTH} levels")));
        }
        if expanded > measure.unique.saturating_add(CLONE_BUDGET) {
            return Err(self.err(format!(
                "shared references expand to {expanded} values from {} distinct ones (more than {CLONE_BUDGET} copies)",
                measure.unique
            )));
        }
        let mut cache: HashMap<Id, (PyValue, usize)> = HashMap::new();
        self.convert(root, &measure.refs, &mut cache)
    }

    fn children(obj: &Obj) -> Vec<Id> {
        match obj {
            Obj::List(v) | Obj::Tuple(v) => v.clone(),
            Obj::Dict(pairs) => pairs.iter().flat_map(|&(k, v)| [k, v]).collect(),
            Obj::ObjectArray(b) => b.1.clone(),
            _ => Vec::new(),
        }
    }

    /// Counts references and returns the expanded size and the height of `id`'s subtree.
    fn measure(&self, id: Id, depth: usize, m: &mut Measure) -> Result<(u64, usize)> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("values nested deeper than {MAX_DEPTH} levels")));
        }
        let (Some(refs), Some(visiting)) = (m.refs.get(id).copied(), m.visiting.get(id).copied())
        else {
            return Err(self.err(format!("internal: object id {id} out of range")));
        };
        if visiting {
            return Err(self.err("the pickle contains a reference cycle (a container inside itself), which plain data cannot represent"));
        }
        m.refs[id] = refs + 1;
        if let Some(known) = m.size[id] {
            return Ok(known);
        }
        let obj = self.obj(id)?;
        let own = 1 + match obj {
            Obj::Array(a) => a.len() as u64,
            _ => 0,
        };
        m.unique = m.unique.saturating_add(own);
        m.visiting[id] = true;
        let (mut size, mut height) = (own, 1);
        for child in Self::children(obj) {
            let (child_size, child_height) = self.measure(child, depth + 1, m)?;
            size = size.saturating_add(child_size);
            height = height.max(child_height.saturating_add(1));
        }
        m.visiting[id] = false;
        m.size[id] = Some((size, height));
        Ok((size, height))
    }

    fn convert(
        &mut self,
        id: Id,
        refs: &[usize],
        cache: &mut HashMap<Id, (PyValue, usize)>,
    ) -> Result<PyValue> {
        if let Some((value, remaining)) = cache.get_mut(&id) {
            *remaining -= 1;
            if *remaining == 0 {
                return cache
                    .remove(&id)
                    .map(|(v, _)| v)
                    .ok_or_else(|| self.err("internal: cache entry vanished"));
            }
            return Ok(value.clone());
        }
        let total_refs = refs.get(id).copied().unwrap_or(1);
        let obj = match self.arena.get_mut(id) {
            Some(slot) => std::mem::replace(slot, Obj::Consumed),
            None => return Err(self.err(format!("internal: object id {id} out of range"))),
        };
        let value = match obj {
            Obj::None => PyValue::None,
            Obj::Bool(b) => PyValue::Bool(b),
            Obj::Int(i) => PyValue::Int(i),
            Obj::Float(f) => PyValue::Float(f),
            Obj::Str(s) => PyValue::Str(s),
            Obj::Bytes(b) => PyValue::Bytes(b.into_vec()),
            Obj::List(ids) => PyValue::List(self.convert_all(&ids, refs, cache)?),
            Obj::Tuple(ids) => PyValue::Tuple(self.convert_all(&ids, refs, cache)?),
            Obj::Dict(pairs) => {
                let mut out: Vec<(PyValue, PyValue)> = Vec::with_capacity(pairs.len());
                let mut index: HashMap<KeyRepr, usize> = HashMap::new();
                for (k, v) in pairs {
                    let key = self.convert(k, refs, cache)?;
                    let value = self.convert(v, refs, cache)?;
                    // A repeated key keeps its first position and its last value, as in Python.
                    match KeyRepr::of(&key) {
                        Some(repr) => match index.get(&repr) {
                            Some(&i) => {
                                if let Some(slot) = out.get_mut(i) {
                                    slot.1 = value;
                                }
                            }
                            None => {
                                index.insert(repr, out.len());
                                out.push((key, value));
                            }
                        },
                        None => out.push((key, value)),
                    }
                }
                PyValue::Dict(out)
            }
            Obj::Array(a) => PyValue::Array(*a),
            Obj::ObjectArray(b) => {
                let (shape, ids) = *b;
                let items = self.convert_all(&ids, refs, cache)?;
                PyValue::Array(NdArray {
                    shape,
                    fortran_order: false,
                    data: NpyData::Object(items),
                })
            }
            Obj::PendingArray => {
                return Err(self.err("an ndarray was reconstructed but never filled (no BUILD)"));
            }
            Obj::Dtype(d) => {
                return Err(self.err(format!(
                    "a numpy dtype ({}) as a value is not supported",
                    d.descr()
                )));
            }
            Obj::Global(g) => {
                return Err(self.err(format!(
                    "a bare reference to {} cannot be represented as data",
                    g.name()
                )));
            }
            Obj::Consumed => {
                return Err(self.err("a large buffer is referenced again after being decoded into an array; such sharing is not supported"));
            }
        };
        if total_refs > 1 {
            cache.insert(id, (value.clone(), total_refs - 1));
        }
        Ok(value)
    }

    fn convert_all(
        &mut self,
        ids: &[Id],
        refs: &[usize],
        cache: &mut HashMap<Id, (PyValue, usize)>,
    ) -> Result<Vec<PyValue>> {
        ids.iter()
            .map(|&id| self.convert(id, refs, cache))
            .collect()
    }
}

/// Bookkeeping of [`Unpickler::measure`].
struct Measure {
    /// How many times each object is referenced from the tree.
    refs: Vec<usize>,
    /// The expanded size and the height of each object's subtree, once known.
    size: Vec<Option<(u64, usize)>>,
    /// Objects on the current path (for cycle detection).
    visiting: Vec<bool>,
    /// The size of all distinct objects reached.
    unique: u64,
}

/// A hashable view of a dict key, for Python's "last value wins" semantics.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum KeyRepr {
    None,
    Int(i64),
    Str(String),
    Bytes(Vec<u8>),
}

impl KeyRepr {
    fn of(v: &PyValue) -> Option<KeyRepr> {
        match v {
            PyValue::None => Some(KeyRepr::None),
            // True == 1 and False == 0 as dict keys in Python.
            PyValue::Bool(b) => Some(KeyRepr::Int(i64::from(*b))),
            PyValue::Int(i) => Some(KeyRepr::Int(*i)),
            PyValue::Str(s) => Some(KeyRepr::Str(s.clone())),
            PyValue::Bytes(b) => Some(KeyRepr::Bytes(b.clone())),
            _ => None,
        }
    }
}

/// Decodes a little-endian two's-complement integer (LONG1/LONG4), if it fits in 64 bits.
fn decode_long(bytes: &[u8]) -> Option<i64> {
    let Some(&last) = bytes.last() else {
        return Some(0);
    };
    let negative = last & 0x80 != 0;
    let fill = if negative { 0xff } else { 0x00 };
    let mut buf = [fill; 8];
    let (low, high) = bytes.split_at(bytes.len().min(8));
    buf[..low.len()].copy_from_slice(low);
    // Bytes beyond the eighth must be pure sign extension, and must agree with bit 63.
    if high.iter().any(|&b| b != fill) || (bytes.len() > 8 && (buf[7] & 0x80 != 0) != negative) {
        return None;
    }
    Some(i64::from_le_bytes(buf))
}

/// `str` → Latin-1 bytes (every character must be below U+0100).
fn latin1_bytes(s: &str) -> std::result::Result<Vec<u8>, String> {
    s.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .map_err(|_| format!("character {c:?} cannot be encoded as latin1"))
        })
        .collect()
}

/// Like [`latin1_bytes`] but reuses the string's buffer: each character below U+0100 takes
/// one or two bytes in UTF-8 and one in Latin-1, so writing never overtakes reading.
fn latin1_into_bytes(s: String) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = s.into_bytes();
    let (mut read, mut write) = (0, 0);
    while read < bytes.len() {
        let b = bytes[read];
        let (value, width) = if b < 0x80 {
            (b, 1)
        } else if b & 0xe0 == 0xc0 && read + 1 < bytes.len() {
            let code = (u32::from(b & 0x1f) << 6) | u32::from(bytes[read + 1] & 0x3f);
            let value = u8::try_from(code)
                .map_err(|_| format!("character U+{code:04X} cannot be encoded as latin1"))?;
            (value, 2)
        } else {
            return Err(format!(
                "a character beyond U+00FF at byte {read} cannot be encoded as latin1"
            ));
        };
        bytes[write] = value;
        write += 1;
        read += width;
    }
    bytes.truncate(write);
    Ok(bytes)
}

/// Decodes Python's `raw-unicode-escape` (protocol 0 `UNICODE`): `\uXXXX` and `\UXXXXXXXX`
/// escapes, every other byte a Latin-1 character.
fn raw_unicode_escape(bytes: &[u8]) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && matches!(bytes.get(i + 1), Some(b'u') | Some(b'U')) {
            let n = if bytes[i + 1] == b'u' { 4 } else { 8 };
            let hex = bytes.get(i + 2..i + 2 + n).ok_or("truncated \\u escape")?;
            let hex = std::str::from_utf8(hex).map_err(|_| "bad \\u escape")?;
            let code =
                u32::from_str_radix(hex, 16).map_err(|_| format!("bad \\u escape {hex:?}"))?;
            out.push(char::from_u32(code).ok_or_else(|| format!("invalid code point {code:#x}"))?);
            i += 2 + n;
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    Ok(out)
}

/// Decodes the Python `repr` of a byte string (protocol 0 `STRING`): quoted, with backslash
/// escapes.
fn python_string_repr(line: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let (&first, rest) = line.split_first().ok_or("empty STRING argument")?;
    let (&last, inner) = rest.split_last().ok_or("STRING argument is not quoted")?;
    if !(first == last && (first == b'\'' || first == b'"')) {
        return Err("STRING argument is not quoted".to_string());
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = *inner.get(i).ok_or("trailing backslash")?;
        i += 1;
        match e {
            b'\\' | b'\'' | b'"' => out.push(e),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'x' => {
                let hex = inner.get(i..i + 2).ok_or("truncated \\x escape")?;
                let hex = std::str::from_utf8(hex).map_err(|_| "bad \\x escape")?;
                out.push(
                    u8::from_str_radix(hex, 16).map_err(|_| format!("bad \\x escape {hex:?}"))?,
                );
                i += 2;
            }
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                let mut digits = 1;
                while digits < 3 && inner.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                    value = value * 8 + u32::from(inner[i] - b'0');
                    i += 1;
                    digits += 1;
                }
                out.push(u8::try_from(value & 0xff).map_err(|_| "bad octal escape")?);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::read_npy;
    use crate::io::test_support::{check_value, expected, fixture, req};
    use proptest::prelude::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn load(bytes: &[u8]) -> Result<PyValue> {
        unpickle(bytes, Path::new("mem.pkl"))
    }

    fn format_message(r: Result<PyValue>) -> String {
        match r {
            Err(Error::Format {
                message, location, ..
            }) => format!("{location}: {message}"),
            other => panic!("expected a format error, found {other:?}"),
        }
    }

    fn s(text: &str) -> PyValue {
        PyValue::Str(text.to_string())
    }

    #[test]
    fn steinmetz_like_sessions_all_protocols() -> TestResult {
        let e = expected();
        for name in [
            "steinmetz_p2.npy",
            "steinmetz_p3.npy",
            "steinmetz_p4.npy",
            "steinmetz_p5.npy",
            "steinmetz_numpy1_p3.npy",
        ] {
            let a = read_npy(&fixture(name))?;
            check_value(&PyValue::Array(a.clone()), &e[name]["value"], name);
            let NpyData::Object(sessions) = &a.data else {
                panic!("{name}: not an object array")
            };
            let first = &sessions[0];
            assert_eq!(
                first.get("mouse_name").and_then(PyValue::as_str),
                Some("Cori"),
                "{name}: numpy.str_ name"
            );
            assert_eq!(
                sessions[1].get("mouse_name").and_then(PyValue::as_str),
                Some("Forssmann")
            );
            assert_eq!(
                first.get("bin_size").and_then(PyValue::as_f64),
                Some(0.01),
                "{name}"
            );
            assert_eq!(
                first.get("count_np").and_then(PyValue::as_i64),
                Some(-3),
                "{name}"
            );
            let ccf = req(first.get("ccf").and_then(PyValue::as_array), "ccf");
            assert_eq!(ccf.shape, vec![3, 3]);
            assert_eq!(
                ccf.to_f64_c_order()?[..3],
                [-7.0, 3.5, 14.0],
                "{name}: Fortran-order ccf"
            );
            assert_eq!(
                first.get("ccf"),
                first.get("ccf_alias"),
                "{name}: shared array"
            );
            let spks = req(first.get("spks").and_then(PyValue::as_array), "spks");
            assert_eq!(
                (spks.shape.clone(), spks.dtype_name()),
                (vec![3, 4, 5], "uint8")
            );
            assert_eq!(
                req(first.get("brain_area").and_then(PyValue::as_array), "areas").strings()?,
                vec!["VISp", "CA1", "MOs"]
            );
            assert_eq!(
                first
                    .get("response_be")
                    .and_then(PyValue::as_array)
                    .map(|r| r.to_i64_c_order().ok()),
                Some(Some(vec![-1, 0, 1, 1]))
            );
        }
        Ok(())
    }

    #[test]
    fn numpy1_fixture_really_uses_the_old_module_path() -> TestResult {
        let bytes = std::fs::read(fixture("steinmetz_numpy1_p3.npy"))?;
        let needle = b"cnumpy.core.multiarray\n_reconstruct\n";
        assert!(bytes.windows(needle.len()).any(|w| w == needle));
        assert!(!bytes.windows(11).any(|w| w == b"numpy._core"));
        Ok(())
    }

    fn marker() -> PathBuf {
        std::env::temp_dir().join(format!("neuropop_pwned_{}_{}", std::process::id(), line!()))
    }

    #[test]
    fn os_system_is_refused_at_the_global_opcode() {
        let fixture_marker = Path::new("/tmp/neuropop_pwned_fixture");
        for (name, offset) in [
            ("evil_os_system_p0.pkl", 0usize),
            ("evil_os_system_p4.pkl", 14),
        ] {
            let path = fixture(name);
            let bytes = std::fs::read(&path).unwrap_or_default();
            match unpickle(&bytes[..], &path) {
                Err(Error::UnsafePickle {
                    module,
                    name: attr,
                    offset: at,
                    path: p,
                }) => {
                    assert_eq!((module.as_str(), attr.as_str()), ("os", "system"), "{name}");
                    assert_eq!(at, offset, "{name}: refused at the opcode itself");
                    assert_eq!(p, path);
                }
                other => panic!("{name}: not refused: {other:?}"),
            }
            let text = req(unpickle(&bytes[..], &path).err(), "refused").to_string();
            assert!(text.contains("os.system"), "{text}");
        }
        assert!(!fixture_marker.exists(), "the payload must never run");

        // A fresh payload with a unique marker, followed by bytes that would fail later: the
        // refusal comes first.
        let m = marker();
        let cmd = format!("touch {}", m.display());
        let mut evil = format!("cos\nsystem\n(S'{cmd}'\ntR.").into_bytes();
        evil.push(0xff);
        assert!(
            matches!(load(&evil), Err(Error::UnsafePickle { ref module, ref name, .. }) if module == "os" && name == "system")
        );
        assert!(!m.exists());
    }

    #[test]
    fn other_dangerous_globals_are_refused() {
        let nested = std::fs::read(fixture("evil_nested_eval.pkl")).unwrap_or_default();
        assert!(
            matches!(load(&nested), Err(Error::UnsafePickle { ref module, ref name, offset: 20, .. }) if module == "builtins" && name == "eval")
        );
        for (module, name) in [
            ("subprocess", "Popen"),
            ("builtins", "exec"),
            ("numpy", "load"),
            ("numpy.core.multiarray", "frombuffer"),
            ("posix", "system"),
            ("__builtin__", "getattr"),
        ] {
            let p0 = format!("c{module}\n{name}\n.").into_bytes();
            assert!(
                matches!(load(&p0), Err(Error::UnsafePickle { .. })),
                "{module}.{name} via GLOBAL"
            );
            let mut p4 = vec![0x80, 4, 0x8c, module.len() as u8];
            p4.extend_from_slice(module.as_bytes());
            p4.extend_from_slice(&[0x8c, name.len() as u8]);
            p4.extend_from_slice(name.as_bytes());
            p4.extend_from_slice(&[0x93, b'.']);
            assert!(
                matches!(load(&p4), Err(Error::UnsafePickle { .. })),
                "{module}.{name} via STACK_GLOBAL"
            );
            let inst = format!("(i{module}\n{name}\n.").into_bytes();
            assert!(
                matches!(load(&inst), Err(Error::UnsafePickle { .. })),
                "{module}.{name} via INST"
            );
        }
        // Extension codes name globals indirectly: refused.
        assert!(format_message(load(b"\x80\x02\x82\x01.")).contains("extension registry"));
    }

    #[test]
    fn evil_object_npy_is_refused_with_its_path() {
        let path = fixture("evil_object.npy");
        match read_npy(&path) {
            Err(Error::UnsafePickle {
                path: p,
                module,
                name,
                ..
            }) => {
                assert_eq!(p, path);
                assert_eq!(format!("{module}.{name}"), "os.system");
            }
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn protocol_0_and_1() -> TestResult {
        // pickle.dumps({'a': [1, 2.5, None, True, 'x\u00e9\n', (1,), -5, 2**40, -2**63], 'b': 'q'}, protocol=p)
        let p0 = b"(dp0\nVa\np1\n(lp2\nI1\naF2.5\naNaI01\naVx\xe9\\u000a\np3\na(I1\ntp4\naI-5\naL1099511627776L\naL-9223372036854775808L\nasVb\np5\nVq\np6\ns.";
        let p1 = b"}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00NI01\nX\x04\x00\x00\x00x\xc3\xa9\nq\x03(K\x01tq\x04J\xfb\xff\xff\xffL1099511627776L\nL-9223372036854775808L\neX\x01\x00\x00\x00bq\x05X\x01\x00\x00\x00qq\x06u.";
        let want = PyValue::Dict(vec![
            (
                s("a"),
                PyValue::List(vec![
                    PyValue::Int(1),
                    PyValue::Float(2.5),
                    PyValue::None,
                    PyValue::Bool(true),
                    s("xé\n"),
                    PyValue::Tuple(vec![PyValue::Int(1)]),
                    PyValue::Int(-5),
                    PyValue::Int(1 << 40),
                    PyValue::Int(i64::MIN),
                ]),
            ),
            (s("b"), s("q")),
        ]);
        assert_eq!(load(p0)?, want);
        assert_eq!(load(p1)?, want);
        Ok(())
    }

    #[test]
    fn sets_bytearrays_ordered_dicts_and_big_ints() -> TestResult {
        // pickle.dumps({'s': {1, 2}, 'f': frozenset([3]), 'ba': bytearray(b'\x00\xff'),
        //               'od': OrderedDict([('k', 1)]), 'b': b'\x01\xfe'}, protocol=2)
        let p2 = b"\x80\x02}q\x00(X\x01\x00\x00\x00sq\x01c__builtin__\nset\nq\x02]q\x03(K\x01K\x02e\x85q\x04Rq\x05X\x01\x00\x00\x00fq\x06c__builtin__\nfrozenset\nq\x07]q\x08K\x03a\x85q\tRq\nX\x02\x00\x00\x00baq\x0bc__builtin__\nbytearray\nq\x0cc_codecs\nencode\nq\rX\x03\x00\x00\x00\x00\xc3\xbfq\x0eX\x06\x00\x00\x00latin1q\x0f\x86q\x10Rq\x11\x85q\x12Rq\x13X\x02\x00\x00\x00odq\x14ccollections\nOrderedDict\nq\x15)Rq\x16X\x01\x00\x00\x00kq\x17K\x01sX\x01\x00\x00\x00bq\x18h\rX\x03\x00\x00\x00\x01\xc3\xbeq\x19h\x0f\x86q\x1aRq\x1bu.";
        let v = load(p2)?;
        assert_eq!(
            v.get("s"),
            Some(&PyValue::List(vec![PyValue::Int(1), PyValue::Int(2)]))
        );
        assert_eq!(v.get("f"), Some(&PyValue::List(vec![PyValue::Int(3)])));
        assert_eq!(v.get("ba"), Some(&PyValue::Bytes(vec![0, 255])));
        assert_eq!(
            v.get("od"),
            Some(&PyValue::Dict(vec![(s("k"), PyValue::Int(1))]))
        );
        assert_eq!(v.get("b"), Some(&PyValue::Bytes(vec![1, 254])));
        // The same with protocol 4 (EMPTY_SET/ADDITEMS, FROZENSET, LONG1) plus 2**63-1 and -2**63.
        let p4 = b"\x80\x04\x95a\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01s\x94\x8f\x94(K\x01K\x02\x90\x8c\x01f\x94(K\x03\x91\x94\x8c\x02ba\x94\x8c\x08builtins\x94\x8c\tbytearray\x94\x93\x94C\x02\x00\xff\x94\x85\x94R\x94\x8c\x03big\x94\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f\x8c\x03neg\x94\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80u.";
        let v = load(p4)?;
        assert_eq!(
            v.get("s"),
            Some(&PyValue::List(vec![PyValue::Int(1), PyValue::Int(2)]))
        );
        assert_eq!(v.get("f"), Some(&PyValue::List(vec![PyValue::Int(3)])));
        assert_eq!(v.get("ba"), Some(&PyValue::Bytes(vec![0, 255])));
        assert_eq!(v.get("big"), Some(&PyValue::Int(i64::MAX)));
        assert_eq!(v.get("neg"), Some(&PyValue::Int(i64::MIN)));
        // protocol 5: BYTEARRAY8.
        let p5 = b"\x80\x05\x95\x16\x00\x00\x00\x00\x00\x00\x00]\x94(\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x94C\x02cd\x94e.";
        assert_eq!(
            load(p5)?,
            PyValue::List(vec![
                PyValue::Bytes(b"ab".to_vec()),
                PyValue::Bytes(b"cd".to_vec())
            ])
        );
        // 2**64 does not fit; a 9-byte sign extension of -1 does.
        assert!(
            format_message(load(
                b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."
            ))
            .contains("does not fit in 64 bits")
        );
        assert_eq!(
            load(b"\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff.")?,
            PyValue::Int(-1)
        );
        assert_eq!(load(b"\x80\x02\x8a\x00.")?, PyValue::Int(0));
        assert!(
            format_message(load(
                b"\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\x7f\xff."
            ))
            .contains("64 bits")
        );
        Ok(())
    }

    #[test]
    fn python2_numpy_pickle_with_binstring_data() -> TestResult {
        // numpy under Python 2 stored the raw data as a (Latin-1) str: BINSTRING/SHORT_BINSTRING.
        let mut p = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85U\x01b\x87R".to_vec();
        p.extend_from_slice(b"(K\x01K\x02\x85cnumpy\ndtype\nU\x02f8K\x00K\x01\x87R");
        p.extend_from_slice(b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x10");
        p.extend_from_slice(&1.5f64.to_le_bytes());
        p.extend_from_slice(&(-2.0f64).to_le_bytes());
        p.extend_from_slice(b"tb.");
        let a = req(load(&p)?.into_array(), "an array");
        assert_eq!(a.to_f64_c_order()?, vec![1.5, -2.0]);
        Ok(())
    }

    #[test]
    fn duplicate_dict_keys_keep_first_position_and_last_value() -> TestResult {
        // {'a': 1, 'b': 2, 'a': 3} built with SETITEMS.
        let p =
            b"\x80\x02}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00bK\x02X\x01\x00\x00\x00aK\x03u.";
        assert_eq!(
            load(p)?,
            PyValue::Dict(vec![(s("a"), PyValue::Int(3)), (s("b"), PyValue::Int(2))])
        );
        Ok(())
    }

    #[test]
    fn shared_references_are_cloned_and_mutation_after_memoize_is_seen() -> TestResult {
        // l = []; d = {'x': l, 'y': l}; l.append(1) — the list is memoized empty, then filled.
        let p = b"\x80\x02}q\x00(X\x01\x00\x00\x00x]q\x01X\x01\x00\x00\x00yh\x01uh\x01K\x01a0.";
        let v = load(p)?;
        let one = PyValue::List(vec![PyValue::Int(1)]);
        assert_eq!(v.get("x"), Some(&one));
        assert_eq!(v.get("y"), Some(&one));
        Ok(())
    }

    #[test]
    fn malformed_streams_are_errors() {
        let cases: Vec<(&[u8], &str)> = vec![
            (b"\x80\x02\xff.", "unknown or unsupported opcode 0xff"),
            (b"\x80\x02h\x05.", "memo index 5, which was never stored"),
            (b"\x80\x02j\x00\x00\x00\x01.", "memo index 16777216"),
            (b"\x80\x02a.", "APPEND: stack underflow"),
            (b".", "STOP: stack underflow"),
            (b"\x80\x02K\x01(.", "STOP: stack underflow"),
            (b"\x80\x02]K\x01e.", "APPENDS without a matching MARK"),
            (b"\x80\x02t.", "TUPLE without a matching MARK"),
            (b"\x80\x021.", "POP_MARK without a matching MARK"),
            (b"\x80\x020.", "POP: stack underflow"),
            (b"\x80\x02(K\x01d.", "odd number of values"),
            (b"\x80\x02K\x01K\x02a.", "expected a list or set, found int"),
            (b"\x80\x02K\x01K\x02K\x03s.", "expected a dict, found int"),
            (b"\x80\x02K\x01)R.", "cannot call a int"),
            (b"\x80\x02K\x01K\x02b.", "BUILD on a int"),
            (b"\x80\x02", "without a STOP"),
            (b"\x80\x02K", "truncated"),
            (b"\x80\x06N.", "unsupported pickle protocol 6"),
            (b"\x80\x05\x97.", "out-of-band buffers"),
            (b"\x80\x05\x98.", "out-of-band buffers"),
            (b"\x80\x02Q.", "persistent ids"),
            (b"\x80\x02X\x02\x00\x00\x00\xff\xfe.", "not valid UTF-8"),
            (b"\x80\x02]q\x00h\x00a.", "reference cycle"),
            (b"\x80\x02I12x\n.", "INT \"12x\""),
            (b"\x80\x02T\xff\xff\xff\xff.", "BINSTRING length -1 is negative"),
            (b"\x80\x02cnumpy\ndtype\nX\x03\x00\x00\x00c16\x85R.", "unsupported dtype 'c16'"),
            (b"\x80\x02cnumpy\ndtype\n.", "bare reference to numpy.dtype"),
            (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R.", "never filled"),
        ];
        for (bytes, needle) in cases {
            let message = format_message(load(bytes));
            assert!(
                message.contains(needle),
                "{bytes:?}: {message:?} lacks {needle:?}"
            );
            assert!(message.starts_with("pickle byte "), "{message}");
        }
    }

    #[test]
    fn huge_lengths_in_short_streams_are_errors_without_allocating() {
        let mut b8 = b"\x80\x04\x8e".to_vec();
        b8.extend_from_slice(&(1u64 << 35).to_le_bytes());
        b8.extend_from_slice(b"short");
        assert!(format_message(load(&b8)).contains("claims 34359738368 bytes, stream has 5"));
        let mut too_big = b"\x80\x04\x8d".to_vec();
        too_big.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(format_message(load(&too_big)).contains("exceeds the supported maximum"));
        let b4 = b"\x80\x03B\xff\xff\xff\xffabc";
        assert!(format_message(load(b4)).contains("stream has 3"));
        let long4 = b"\x80\x02\x8b\xff\xff\xff\x7f\x00";
        assert!(format_message(load(long4)).contains("does not fit in 64 bits"));
    }

    #[test]
    fn large_payloads_are_read_in_growing_steps() -> TestResult {
        let n = 3_000_017usize;
        let payload: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
        let mut p = b"\x80\x04\x8e".to_vec();
        p.extend_from_slice(&(n as u64).to_le_bytes());
        p.extend_from_slice(&payload);
        p.push(b'.');
        let PyValue::Bytes(b) = load(&p)? else {
            panic!("not bytes")
        };
        assert_eq!(b.capacity(), n, "an honest payload is allocated exactly");
        assert!(b == payload);
        Ok(())
    }

    #[test]
    fn deep_nesting_and_exponential_sharing_are_errors() {
        // 1000 nested lists: push 1000 empty lists, then APPEND each into the one below.
        let mut deep = b"\x80\x02".to_vec();
        deep.extend(std::iter::repeat_n(b']', 1000));
        deep.extend(std::iter::repeat_n(b'a', 999));
        deep.push(b'.');
        assert!(format_message(load(&deep)).contains("nested deeper than 256"));
        // Nesting that only shows along a path other than the first one walked.
        let mut sneaky = b"\x80\x02]r\x00\x00\x00\x00".to_vec();
        for i in 1u32..400 {
            sneaky.extend_from_slice(b"]j");
            sneaky.extend_from_slice(&(i - 1).to_le_bytes());
            sneaky.push(b'a');
            sneaky.push(b'r');
            sneaky.extend_from_slice(&i.to_le_bytes());
            sneaky.push(b'0');
        }
        sneaky.extend_from_slice(b"](");
        for i in 0u32..400 {
            sneaky.push(b'j');
            sneaky.extend_from_slice(&i.to_le_bytes());
        }
        sneaky.extend_from_slice(b"e.");
        assert!(format_message(load(&sneaky)).contains("nested deeper"));
        // "Billion laughs": each level lists the previous one 30 times.
        let mut laughs = b"\x80\x02]q\x00".to_vec();
        for level in 1u8..10 {
            laughs.extend_from_slice(b"](");
            for _ in 0..30 {
                laughs.extend_from_slice(&[b'h', level - 1]);
            }
            laughs.extend_from_slice(&[b'e', b'q', level]);
        }
        laughs.push(b'.');
        assert!(format_message(load(&laughs)).contains("shared references expand"));
    }

    #[test]
    fn helpers() {
        let mut d = PyValue::Dict(vec![(s("a"), PyValue::Int(1)), (PyValue::Int(2), s("b"))]);
        assert_eq!(d.get("a").and_then(PyValue::as_f64), Some(1.0));
        assert_eq!(d.get("b"), None);
        assert_eq!(PyValue::Int(1).get("a"), None);
        assert_eq!(d.remove("a"), Some(PyValue::Int(1)));
        assert_eq!(d.remove("a"), None);
        assert_eq!(PyValue::Bool(true).as_i64(), Some(1));
        assert_eq!(PyValue::Bool(true).as_f64(), None);
        assert_eq!(
            PyValue::List(vec![]).as_list().map(<[PyValue]>::len),
            Some(0)
        );
        assert_eq!(s("x").as_array(), None);
        let names = [
            "NoneType", "bool", "int", "float", "str", "bytes", "list", "tuple", "dict",
        ];
        let values = [
            PyValue::None,
            PyValue::Bool(false),
            PyValue::Int(0),
            PyValue::Float(0.0),
            s(""),
            PyValue::Bytes(vec![]),
            PyValue::List(vec![]),
            PyValue::Tuple(vec![]),
            PyValue::Dict(vec![]),
        ];
        for (v, n) in values.iter().zip(names) {
            assert_eq!(v.type_name(), n);
        }
    }

    #[test]
    fn latin1_in_place_conversion_matches_the_copying_one() {
        let text: String = (0u32..256)
            .filter_map(char::from_u32)
            .cycle()
            .take(5000)
            .collect();
        assert_eq!(
            latin1_into_bytes(text.clone()).ok(),
            latin1_bytes(&text).ok()
        );
        assert!(latin1_into_bytes("€".to_string()).is_err());
        assert!(latin1_bytes("€").is_err());
    }

    proptest! {
        #[test]
        fn unpickle_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = load(&bytes);
            let mut p2 = vec![0x80, 2];
            p2.extend_from_slice(&bytes);
            let _ = load(&p2);
        }

        #[test]
        fn unpickle_never_panics_on_mutated_fixtures(
            which in 0usize..5,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let names = ["steinmetz_p2.npy", "steinmetz_p3.npy", "steinmetz_p4.npy", "steinmetz_p5.npy", "steinmetz_numpy1_p3.npy"];
            let mut bytes = std::fs::read(fixture(names[which])).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // Skip the npy header: mutate the pickle itself.
            let start = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
            let mut pickle = bytes.split_off(start);
            for (index, value) in flips {
                let i = index.index(pickle.len());
                pickle[i] = value;
            }
            let end = cut.index(pickle.len() + 1);
            let _ = load(&pickle);
            let _ = load(&pickle[..end]);
        }
    }
}
