//! numpy dtypes as the npy reader and the unpickler decode them: the element kinds neuropop
//! reads, a parsed `descr`, and the decoding of raw element bytes into [`NpyData`].

use crate::io::value::{CHUNK, NpyData};

/// Largest element count accepted for zero-width items (`<U0`, `|S0`): those cost no file bytes,
/// so the byte-count check that protects every other dtype cannot bound them.
pub(crate) const MAX_ZERO_WIDTH_ELEMENTS: u128 = 1 << 24;

/// The element kinds neuropop decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
    /// UTF-32 text, `itemsize / 4` code points per element.
    Unicode,
    /// Byte strings, `itemsize` bytes per element.
    Bytes,
    /// Python objects (stored as a pickle).
    Object,
}

/// A parsed numpy dtype: kind, bytes per element and byte order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DType {
    pub(crate) kind: Kind,
    pub(crate) itemsize: usize,
    pub(crate) big_endian: bool,
}

impl DType {
    /// Parses a numpy type string such as `<f8`, `>i4`, `|b1`, `<U12`, `|S3`, `|O`.
    ///
    /// `=` (native) and a missing byte-order mark are read as little-endian: numpy writes an
    /// explicit `<` or `>` for every multi-byte type, and all platforms neuropop targets are
    /// little-endian.
    pub(crate) fn parse(descr: &str) -> std::result::Result<DType, String> {
        let (big_endian, rest) = match descr.as_bytes().first() {
            Some(b'>') | Some(b'!') => (true, &descr[1..]),
            Some(b'<') | Some(b'|') | Some(b'=') => (false, &descr[1..]),
            _ => (false, descr),
        };
        let fixed = |kind, itemsize| {
            Ok(DType {
                kind,
                itemsize,
                big_endian,
            })
        };
        match rest {
            "?" | "b1" => return fixed(Kind::Bool, 1),
            "u1" | "B" => return fixed(Kind::U8, 1),
            "i1" | "b" => return fixed(Kind::I8, 1),
            "u2" => return fixed(Kind::U16, 2),
            "i2" => return fixed(Kind::I16, 2),
            "u4" => return fixed(Kind::U32, 4),
            "i4" => return fixed(Kind::I32, 4),
            "u8" => return fixed(Kind::U64, 8),
            "i8" => return fixed(Kind::I64, 8),
            "f4" => return fixed(Kind::F32, 4),
            "f8" => return fixed(Kind::F64, 8),
            "O" | "O8" | "O4" => return fixed(Kind::Object, 8),
            _ => {}
        }
        let unknown = || {
            format!(
                "unsupported dtype '{descr}' (supported: b1, u1, i1, u2, i2, u4, i4, u8, i8, f4, f8, U<n>, S<n>, O)"
            )
        };
        let mut chars = rest.chars();
        let kind = match chars.next() {
            Some('U') => Kind::Unicode,
            Some('S') | Some('a') => Kind::Bytes,
            _ => return Err(unknown()),
        };
        let digits = chars.as_str();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unknown());
        }
        let n: usize = digits
            .parse()
            .map_err(|_| format!("dtype '{descr}': width {digits} is too large"))?;
        let itemsize = if kind == Kind::Unicode {
            n.checked_mul(4)
        } else {
            Some(n)
        };
        match itemsize {
            Some(size) if size <= CHUNK => Ok(DType {
                kind,
                itemsize: size,
                big_endian,
            }),
            _ => Err(format!(
                "dtype '{descr}': element width {n} exceeds the supported maximum of {CHUNK} bytes"
            )),
        }
    }

    /// The dtype as a numpy type string, for messages.
    pub(crate) fn descr(&self) -> String {
        let order = if self.big_endian { '>' } else { '<' };
        match self.kind {
            Kind::Bool => "|b1".into(),
            Kind::U8 => "|u1".into(),
            Kind::I8 => "|i1".into(),
            Kind::U16 => format!("{order}u2"),
            Kind::I16 => format!("{order}i2"),
            Kind::U32 => format!("{order}u4"),
            Kind::I32 => format!("{order}i4"),
            Kind::U64 => format!("{order}u8"),
            Kind::I64 => format!("{order}i8"),
            Kind::F32 => format!("{order}f4"),
            Kind::F64 => format!("{order}f8"),
            Kind::Unicode => format!("{order}U{}", self.itemsize / 4),
            Kind::Bytes => format!("|S{}", self.itemsize),
            Kind::Object => "|O".into(),
        }
    }

    /// Empty storage of the matching variant.
    pub(crate) fn empty_data(&self) -> NpyData {
        match self.kind {
            Kind::Bool => NpyData::Bool(Vec::new()),
            Kind::U8 => NpyData::U8(Vec::new().into()),
            Kind::I8 => NpyData::I8(Vec::new()),
            Kind::U16 => NpyData::U16(Vec::new()),
            Kind::I16 => NpyData::I16(Vec::new()),
            Kind::U32 => NpyData::U32(Vec::new()),
            Kind::I32 => NpyData::I32(Vec::new()),
            Kind::U64 => NpyData::U64(Vec::new()),
            Kind::I64 => NpyData::I64(Vec::new()),
            Kind::F32 => NpyData::F32(Vec::new()),
            Kind::F64 => NpyData::F64(Vec::new()),
            Kind::Unicode | Kind::Bytes => NpyData::Str(Vec::new()),
            Kind::Object => NpyData::Object(Vec::new()),
        }
    }
}

/// Decodes `bytes` (exactly `count` elements of `dtype`) and appends them to `out`, which must
/// be the variant [`DType::empty_data`] returns. `first` is the index of the first element, for
/// messages. Returns a message on failure; callers add file and location.
pub(crate) fn append_decoded(
    dtype: &DType,
    bytes: &[u8],
    count: usize,
    first: usize,
    out: &mut NpyData,
) -> std::result::Result<(), String> {
    if Some(bytes.len()) != count.checked_mul(dtype.itemsize) {
        return Err(format!(
            "{count} elements of dtype {} need {} bytes, found {}",
            dtype.descr(),
            count as u128 * dtype.itemsize as u128,
            bytes.len()
        ));
    }
    let big = dtype.big_endian;
    macro_rules! numbers {
        ($vec:expr, $t:ty, $n:expr) => {
            $vec.extend(bytes.chunks_exact($n).map(|c| {
                let mut a = [0u8; $n];
                a.copy_from_slice(c);
                if big {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                }
            }))
        };
    }
    match (dtype.kind, out) {
        // numpy treats any non-zero byte as True.
        (Kind::Bool, NpyData::Bool(v)) => v.extend(bytes.iter().map(|&b| b != 0)),
        (Kind::U8, NpyData::U8(v)) => v.to_mut().extend_from_slice(bytes),
        (Kind::I8, NpyData::I8(v)) => v.extend(bytes.iter().map(|&b| i8::from_ne_bytes([b]))),
        (Kind::U16, NpyData::U16(v)) => numbers!(v, u16, 2),
        (Kind::I16, NpyData::I16(v)) => numbers!(v, i16, 2),
        (Kind::U32, NpyData::U32(v)) => numbers!(v, u32, 4),
        (Kind::I32, NpyData::I32(v)) => numbers!(v, i32, 4),
        (Kind::U64, NpyData::U64(v)) => numbers!(v, u64, 8),
        (Kind::I64, NpyData::I64(v)) => numbers!(v, i64, 8),
        (Kind::F32, NpyData::F32(v)) => numbers!(v, f32, 4),
        (Kind::F64, NpyData::F64(v)) => numbers!(v, f64, 8),
        (Kind::Unicode | Kind::Bytes, NpyData::Str(v)) if dtype.itemsize == 0 => {
            if count as u128 > MAX_ZERO_WIDTH_ELEMENTS {
                return Err(format!(
                    "{count} zero-width text elements exceed the supported maximum of {MAX_ZERO_WIDTH_ELEMENTS}"
                ));
            }
            v.extend(std::iter::repeat_n(String::new(), count));
        }
        (Kind::Unicode, NpyData::Str(v)) => {
            for (i, item) in bytes.chunks_exact(dtype.itemsize).enumerate() {
                let mut s = String::with_capacity(item.len() / 4);
                for unit in item.chunks_exact(4) {
                    let mut a = [0u8; 4];
                    a.copy_from_slice(unit);
                    let code = if big {
                        u32::from_be_bytes(a)
                    } else {
                        u32::from_le_bytes(a)
                    };
                    let c = char::from_u32(code).ok_or_else(|| {
                        format!(
                            "element {}: invalid Unicode code point {code:#x} in UTF-32 text",
                            first + i
                        )
                    })?;
                    s.push(c);
                }
                // Fixed-width text is NUL-padded; numpy strips the trailing NULs on access.
                let trimmed = s.trim_end_matches('\0').len();
                s.truncate(trimmed);
                v.push(s);
            }
        }
        (Kind::Bytes, NpyData::Str(v)) => {
            for (i, item) in bytes.chunks_exact(dtype.itemsize).enumerate() {
                let end = item.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
                // Lossy decoding would silently corrupt labels; refuse non-UTF-8 bytes instead.
                let s = std::str::from_utf8(&item[..end]).map_err(|e| {
                    format!(
                        "element {}: byte string is not valid UTF-8 ({e})",
                        first + i
                    )
                })?;
                v.push(s.to_string());
            }
        }
        (Kind::Object, _) => {
            return Err("object elements are stored as a pickle, not raw bytes".to_string());
        }
        (_, out) => {
            return Err(format!(
                "internal: storage {} does not match dtype {}",
                out.dtype_name(),
                dtype.descr()
            ));
        }
    }
    Ok(())
}

/// Decodes a complete buffer of `count` elements.
pub(crate) fn decode_all(
    dtype: &DType,
    bytes: &[u8],
    count: usize,
) -> std::result::Result<NpyData, String> {
    let mut out = dtype.empty_data();
    append_decoded(dtype, bytes, count, 0, &mut out)?;
    Ok(out)
}
