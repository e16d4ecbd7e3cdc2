//! Array inputs given by path: a `.npy` file, one member of an `.npz` archive
//! (`FILE.npz:MEMBER`), or an archive holding exactly one array — read as a matrix of f64
//! (any numeric dtype, C or Fortran order) or as a label vector.

use crate::io::npy::{NdArray, read_npy};
use crate::{Error, Result};
use ndarray::Array2;
use std::path::Path;

/// Reads an array input: a `.npy` file, `FILE.npz:MEMBER` (one member of an npz archive), or
/// `FILE.npz` when the archive holds exactly one array.
///
/// # Errors
/// File/format errors; [`Error::Invalid`] naming the members when an npz has several and none
/// was chosen; [`Error::Missing`] for an absent member.
///
/// ```
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy");
/// let y = neuropop::io::arrays::read_array(&dir.join("savez.npz:y")).unwrap();
/// assert_eq!(y.shape, vec![1, 2]);
/// assert!(neuropop::io::arrays::read_array(&dir.join("savez.npz")).is_err()); // two members: say which
/// ```
pub fn read_array(path: &Path) -> Result<NdArray> {
    let text = path.to_string_lossy();
    if let Some(i) = text.find(".npz:") {
        let (file, member) = (&text[..i + 4], &text[i + 5..]);
        return crate::io::npz::read_member(Path::new(file), member);
    }
    if text.ends_with(".npz") {
        let members = crate::io::npz::list_members(path)?;
        return match members.as_slice() {
            [only] => crate::io::npz::read_member(path, only.trim_end_matches(".npy")),
            _ => Err(Error::invalid(
                format!("{}", path.display()),
                "an archive with one array, or FILE.npz:MEMBER",
                format!("members {members:?}"),
            )),
        };
    }
    read_npy(path)
}

/// Reads a 2-D numeric `.npy` (or npz member, see [`read_array`]) as f64 (any numeric dtype, C or Fortran order).
///
/// # Errors
/// File/format errors from the reader; [`Error::Invalid`] if it is not 2-D or holds NaN/inf
/// where `finite` is required.
pub fn read_matrix(path: &Path, finite: bool) -> Result<Array2<f64>> {
    let a = read_array(path)?;
    if a.shape.len() != 2 {
        return Err(Error::invalid(
            format!("{}", path.display()),
            "a 2-D array (rows × columns)",
            format!("shape {:?}", a.shape),
        ));
    }
    let (r, c) = (a.shape[0], a.shape[1]);
    let v = a.to_f64_c_order().map_err(|_| {
        Error::invalid(
            format!("{}", path.display()),
            "a numeric dtype",
            a.dtype_name().to_string(),
        )
    })?;
    if finite && let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid(
            format!(
                "{} row {} column {}",
                path.display(),
                i / c.max(1),
                i % c.max(1)
            ),
            "finite values",
            format!("{}", v[i]),
        ));
    }
    Array2::from_shape_vec((r, c), v).map_err(|e| {
        Error::invalid(
            format!("{}", path.display()),
            "consistent shape",
            e.to_string(),
        )
    })
}

/// Reads a 1-D label vector: integers (any integer dtype, or integral floats) or strings.
///
/// # Errors
/// File/format errors; [`Error::Invalid`] if not 1-D or not integral/strings.
pub fn read_labels(path: &Path) -> Result<crate::data::Labels> {
    use crate::data::{Key, Labels};
    let a = read_array(path)?;
    if a.shape.len() != 1 {
        return Err(Error::invalid(
            format!("{}", path.display()),
            "a 1-D label vector",
            format!("shape {:?}", a.shape),
        ));
    }
    if let Ok(s) = a.strings() {
        return Ok(Labels::from_keys(s.into_iter().map(Key::Str).collect()));
    }
    let v = a.to_f64_c_order()?;
    let mut keys = Vec::with_capacity(v.len());
    for (i, x) in v.iter().enumerate() {
        if !x.is_finite() || x.fract() != 0.0 {
            return Err(Error::invalid(
                format!("{} element {i}", path.display()),
                "an integer condition label",
                format!("{x}"),
            ));
        }
        keys.push(Key::Int(*x as i64));
    }
    Ok(Labels::from_keys(keys))
}
