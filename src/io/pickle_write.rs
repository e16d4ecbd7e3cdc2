//! Writes data-only pickles the way numpy 1.x does (protocol 3), and NMA-format `.npz` files.
//!
//! Used by the simulators so `neuropop demo` writes the Steinmetz sessions in exactly the format
//! of the Neuromatch Academy files (an npz whose `dat.npy` is an object array of dicts), which
//! `numpy.load(..., allow_pickle=True)` and neuropop's own reader both decode.

use super::npy::{NdArray, NpyData};
use super::pickle::PyValue;
use crate::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Serialises `value` as a protocol-3 pickle (numpy arrays as `numpy.core.multiarray._reconstruct`).
///
/// # Errors
/// [`Error::Invalid`] for array data kinds the writer does not emit (nested object arrays of non-str).
///
/// ```
/// use neuropop::io::pickle::{PyValue, unpickle};
/// let v = PyValue::Dict(vec![(PyValue::Str("x".into()), PyValue::Float(0.5))]);
/// let bytes = neuropop::io::pickle_write::to_pickle(&v).unwrap();
/// let back = unpickle(&bytes[..], std::path::Path::new("mem")).unwrap();
/// assert_eq!(back, v);
/// ```
pub fn to_pickle(value: &PyValue) -> Result<Vec<u8>> {
    let mut out = vec![0x80, 3];
    write_value(&mut out, value)?;
    out.push(b'.');
    Ok(out)
}

fn unicode(out: &mut Vec<u8>, s: &str) {
    out.push(b'X');
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    if b.len() < 256 {
        out.push(b'C');
        out.push(b.len() as u8);
    } else {
        out.push(b'B');
        out.extend((b.len() as u32).to_le_bytes());
    }
    out.extend(b);
}

fn int(out: &mut Vec<u8>, v: i64) {
    if let Ok(x) = i32::try_from(v) {
        out.push(b'J');
        out.extend(x.to_le_bytes());
    } else {
        out.push(0x8a); // LONG1
        out.push(8);
        out.extend(v.to_le_bytes());
    }
}

fn write_value(out: &mut Vec<u8>, v: &PyValue) -> Result<()> {
    match v {
        PyValue::None => out.push(b'N'),
        PyValue::Bool(b) => out.push(if *b { 0x88 } else { 0x89 }),
        PyValue::Int(i) => int(out, *i),
        PyValue::Float(f) => {
            out.push(b'G');
            out.extend(f.to_be_bytes());
        }
        PyValue::Str(s) => unicode(out, s),
        PyValue::Bytes(b) => bytes(out, b),
        PyValue::List(items) => {
            out.push(b']');
            if !items.is_empty() {
                out.push(b'(');
                for i in items {
                    write_value(out, i)?;
                }
                out.push(b'e');
            }
        }
        PyValue::Tuple(items) => {
            out.push(b'(');
            for i in items {
                write_value(out, i)?;
            }
            out.push(b't');
        }
        PyValue::Dict(items) => {
            out.push(b'}');
            if !items.is_empty() {
                out.push(b'(');
                for (k, val) in items {
                    write_value(out, k)?;
                    write_value(out, val)?;
                }
                out.push(b'u');
            }
        }
        PyValue::Array(a) => write_array(out, a)?,
    }
    Ok(())
}

fn global(out: &mut Vec<u8>, module: &str, name: &str) {
    out.push(b'c');
    out.extend(module.as_bytes());
    out.push(b'\n');
    out.extend(name.as_bytes());
    out.push(b'\n');
}

/// dtype(descr, False, True) + BUILD (3, order, None, None, None, elsize, alignment, flags).
fn dtype(out: &mut Vec<u8>, code: &str, order: &str, elsize: i64, align: i64, flags: i64) {
    global(out, "numpy", "dtype");
    unicode(out, code);
    out.extend([0x89, 0x88, 0x87, b'R']); // False, True, TUPLE3, REDUCE
    out.push(b'(');
    int(out, 3);
    unicode(out, order);
    out.extend([b'N', b'N', b'N']);
    int(out, elsize);
    int(out, align);
    int(out, flags);
    out.extend([b't', b'b']);
}

fn write_array(out: &mut Vec<u8>, a: &NdArray) -> Result<()> {
    global(out, "numpy.core.multiarray", "_reconstruct");
    global(out, "numpy", "ndarray");
    int(out, 0);
    out.push(0x85); // TUPLE1
    bytes(out, b"b");
    out.extend([0x87, b'R']); // TUPLE3, REDUCE
    // State: (1, shape, dtype, is_fortran, data)
    out.push(b'(');
    int(out, 1);
    out.push(b'(');
    for &d in &a.shape {
        int(out, d as i64);
    }
    out.push(b't');
    macro_rules! raw {
        ($v:expr, $code:expr, $order:expr) => {{
            dtype(out, $code, $order, -1, -1, 0);
            out.push(if a.fortran_order { 0x88 } else { 0x89 });
            let mut b = Vec::with_capacity(
                $v.len() * std::mem::size_of_val(&$v[0..1.min($v.len())]).max(1),
            );
            for x in $v.iter() {
                b.extend(x.to_le_bytes());
            }
            bytes(out, &b);
        }};
    }
    match &a.data {
        NpyData::Bool(v) => {
            dtype(out, "b1", "|", -1, -1, 0);
            out.push(if a.fortran_order { 0x88 } else { 0x89 });
            bytes(out, &v.iter().map(|&x| u8::from(x)).collect::<Vec<_>>());
        }
        NpyData::U8(v) => raw!(v, "u1", "|"),
        NpyData::I8(v) => raw!(v, "i1", "|"),
        NpyData::U16(v) => raw!(v, "u2", "<"),
        NpyData::I16(v) => raw!(v, "i2", "<"),
        NpyData::U32(v) => raw!(v, "u4", "<"),
        NpyData::I32(v) => raw!(v, "i4", "<"),
        NpyData::U64(v) => raw!(v, "u8", "<"),
        NpyData::I64(v) => raw!(v, "i8", "<"),
        NpyData::F32(v) => raw!(v, "f4", "<"),
        NpyData::F64(v) => raw!(v, "f8", "<"),
        NpyData::Str(v) => {
            let width = v
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                .max(1);
            dtype(out, &format!("U{width}"), "<", (4 * width) as i64, 4, 8);
            out.push(if a.fortran_order { 0x88 } else { 0x89 });
            let mut b = Vec::with_capacity(v.len() * width * 4);
            for s in v {
                let mut n = 0;
                for c in s.chars() {
                    b.extend((c as u32).to_le_bytes());
                    n += 1;
                }
                b.extend(std::iter::repeat_n(0u8, 4 * (width - n)));
            }
            bytes(out, &b);
        }
        NpyData::Object(items) => {
            dtype(out, "O8", "|", -1, -1, 63);
            out.push(if a.fortran_order { 0x88 } else { 0x89 });
            write_value(out, &PyValue::List(items.clone()))?;
        }
    }
    out.extend([b't', b'b']);
    Ok(())
}

/// Writes an `.npz` whose single member `{member}.npy` is a 1-D object array of the given values
/// (the Neuromatch Academy Steinmetz layout with `member = "dat"`), deflate-compressed like
/// `numpy.savez_compressed`; through a temporary file and a rename, with mode 0666 minus the
/// umask ([`crate::output::OutputFile`]).
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn write_object_npz(path: &Path, member: &str, items: Vec<PyValue>) -> Result<()> {
    let n = items.len();
    let arr = NdArray {
        shape: vec![n],
        fortran_order: false,
        data: NpyData::Object(items),
    };
    let mut pickled = to_pickle(&PyValue::Array(arr))?;
    // to_pickle wraps the array; npy object payloads are the pickle of the array itself.
    let header_dict = format!("{{'descr': '|O', 'fortran_order': False, 'shape': ({n},), }}");
    let mut header = header_dict.into_bytes();
    let total = 10 + header.len() + 1;
    let pad = (64 - total % 64) % 64;
    header.extend(std::iter::repeat_n(b' ', pad));
    header.push(b'\n');
    let mut npy = Vec::with_capacity(10 + header.len() + pickled.len());
    npy.extend(b"\x93NUMPY\x01\x00");
    npy.extend((header.len() as u16).to_le_bytes());
    npy.append(&mut header);
    npy.append(&mut pickled);
    let mut out = crate::output::OutputFile::create(path)?;
    {
        let mut zip = zip::ZipWriter::new(out.file());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let zerr = |e: zip::result::ZipError| Error::format(path, member, e.to_string());
        zip.start_file(format!("{member}.npy"), opts)
            .map_err(zerr)?;
        zip.write_all(&npy).map_err(|e| Error::io(path, e))?;
        zip.finish().map_err(zerr)?;
    }
    out.commit()
}
