//! numpy `.npz` archives: zip files whose members are `.npy` arrays.
//!
//! `numpy.savez` stores members uncompressed, `numpy.savez_compressed` deflates them; both are
//! read here by streaming each member's decompressor straight into
//! [`parse_npy`](crate::io::npy::parse_npy), with the member's uncompressed size as the
//! expected length. Object members (such as `dat` in the Steinmetz Neuromatch files) go
//! through the data-only unpickler of [`crate::io::pickle`]. Member names are reported the way
//! `numpy.load(...).files` does, without the `.npy` suffix.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use zip::ZipArchive;
use zip::result::ZipError;

use crate::error::{Error, Result};
use crate::io::npy::{NdArray, parse_npy};

/// The member name without its `.npy` suffix, as numpy reports it.
fn display_name(member: &str) -> &str {
    member.strip_suffix(".npy").unwrap_or(member)
}

fn zip_error(path: &Path, location: &str, e: ZipError) -> Error {
    match e {
        ZipError::Io(io) if location.is_empty() => Error::io(path, io),
        other => Error::format(
            path,
            if location.is_empty() {
                "zip archive".to_string()
            } else {
                location.to_string()
            },
            other.to_string(),
        ),
    }
}

fn open(path: &Path) -> Result<ZipArchive<BufReader<File>>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    ZipArchive::new(BufReader::new(file)).map_err(|e| zip_error(path, "", e))
}

/// Names of the arrays in an `.npz` archive, in archive order, without the `.npy` suffix
/// (like `numpy.load(path).files`).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("a.npz");
/// # // Build a tiny npz with one stored member.
/// # let npy_path = dir.path().join("x.npy");
/// # neuropop::io::npy::write_npy_f64(&npy_path, &ndarray::arr1(&[1.0, 2.0]).into_dyn())?;
/// # let bytes = std::fs::read(&npy_path)?;
/// # let mut w = zip::ZipWriter::new(std::fs::File::create(&path)?);
/// # let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
/// # w.start_file("x.npy", opts)?;
/// # std::io::Write::write_all(&mut w, &bytes)?;
/// # w.finish()?;
/// assert_eq!(neuropop::io::npz::list_members(&path)?, vec!["x"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn list_members(path: &Path) -> Result<Vec<String>> {
    let mut archive = open(path)?;
    let mut names = Vec::with_capacity(archive.len().min(1 << 16));
    for i in 0..archive.len() {
        let file = archive
            .by_index_raw(i)
            .map_err(|e| zip_error(path, &format!("member #{i}"), e))?;
        if !file.is_dir() {
            names.push(display_name(file.name()).to_string());
        }
    }
    Ok(names)
}

/// Reads one array of an `.npz` archive; `name` may be given with or without `.npy`.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("a.npz");
/// # let npy_path = dir.path().join("x.npy");
/// # neuropop::io::npy::write_npy_f64(&npy_path, &ndarray::arr1(&[1.0, 2.0]).into_dyn())?;
/// # let bytes = std::fs::read(&npy_path)?;
/// # let mut w = zip::ZipWriter::new(std::fs::File::create(&path)?);
/// # w.start_file("x.npy", zip::write::SimpleFileOptions::default())?;
/// # std::io::Write::write_all(&mut w, &bytes)?;
/// # w.finish()?;
/// use neuropop::io::npz::read_member;
/// assert_eq!(read_member(&path, "x")?.to_f64_c_order()?, vec![1.0, 2.0]);
/// assert_eq!(read_member(&path, "x.npy")?.len(), 2);
/// assert!(read_member(&path, "y").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_member(path: &Path, name: &str) -> Result<NdArray> {
    let mut archive = open(path)?;
    read_member_from(&mut archive, path, name)
}

/// [`read_member`] through a memory map of the archive: when the member is stored
/// uncompressed (`numpy.savez`), an object member's large uint8 buffers (the Steinmetz
/// `spks`) become windows of the map instead of copies, and the member's CRC-32 is checked
/// over the mapped bytes. Compressed members are read as by [`read_member`].
///
/// The map stays alive as long as any array refers to it. As with every memory-mapped read
/// (numpy's `mmap_mode` included), truncating the file while it is in use is not supported.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("a.npz");
/// # let npy_path = dir.path().join("x.npy");
/// # neuropop::io::npy::write_npy_f64(&npy_path, &ndarray::arr1(&[1.0, 2.0]).into_dyn())?;
/// # let bytes = std::fs::read(&npy_path)?;
/// # let mut w = zip::ZipWriter::new(std::fs::File::create(&path)?);
/// # let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
/// # w.start_file("x.npy", opts)?;
/// # std::io::Write::write_all(&mut w, &bytes)?;
/// # w.finish()?;
/// let a = neuropop::io::npz::read_member_mapped(&path, "x")?;
/// assert_eq!(a, neuropop::io::npz::read_member(&path, "x")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`read_member`], and a CRC mismatch of a stored member.
pub fn read_member_mapped(path: &Path, name: &str) -> Result<NdArray> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // SAFETY: the map is only read. Another process truncating or rewriting the file while
    // it is mapped is outside what this reader supports (documented above).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    let map = std::sync::Arc::new(map);
    let (member, start, len, crc) = {
        let mut archive = ZipArchive::new(std::io::Cursor::new(&map[..]))
            .map_err(|e| zip_error(path, "zip archive", e))?;
        let member = member_name(&archive, path, name)?;
        let file = archive
            .by_name(&member)
            .map_err(|e| zip_error(path, &member, e))?;
        if file.compression() != zip::CompressionMethod::Stored
            || file.size() != file.compressed_size()
        {
            drop(file);
            return read_member_from(&mut archive, path, name);
        }
        (member.clone(), file.data_start(), file.size(), file.crc32())
    };
    let (start, len) = match (usize::try_from(start), usize::try_from(len)) {
        (Ok(s), Ok(l)) if s.checked_add(l).is_some_and(|e| e <= map.len()) => (s, l),
        _ => {
            return Err(Error::format(
                path,
                member,
                format!(
                    "member data {start} + {len} bytes lies outside the {}-byte file",
                    map.len()
                ),
            ));
        }
    };
    let found = crc32fast::hash(&map[start..start + len]);
    if found != crc {
        return Err(Error::format(
            path,
            member,
            format!("CRC-32 mismatch: archive says {crc:08x}, data has {found:08x}"),
        ));
    }
    crate::io::npy::parse_npy_mapped(&map, start, len, path, &member)
}

/// Reads every array of an `.npz` archive, in archive order, named as by [`list_members`].
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("a.npz");
/// # let npy_path = dir.path().join("x.npy");
/// # neuropop::io::npy::write_npy_i64(&npy_path, &ndarray::arr1(&[4i64]).into_dyn())?;
/// # let bytes = std::fs::read(&npy_path)?;
/// # let mut w = zip::ZipWriter::new(std::fs::File::create(&path)?);
/// # w.start_file("x.npy", zip::write::SimpleFileOptions::default())?;
/// # std::io::Write::write_all(&mut w, &bytes)?;
/// # w.finish()?;
/// let all = neuropop::io::npz::read_all(&path)?;
/// assert_eq!(all[0].0, "x");
/// assert_eq!(all[0].1.to_i64_c_order()?, vec![4]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_all(path: &Path) -> Result<Vec<(String, NdArray)>> {
    let archive = open(path)?;
    read_all_archive(archive, path)
}

/// [`read_all`] on an archive held in any seekable reader (e.g. bytes in memory); `path` is
/// only used in error messages.
///
/// ```
/// use std::io::Cursor;
/// use std::path::Path;
/// let result = neuropop::io::npz::read_all_from(Cursor::new(b"not a zip".to_vec()), Path::new("mem.npz"));
/// assert!(result.is_err_and(|e| e.to_string().contains("mem.npz")));
/// ```
pub fn read_all_from<R: Read + Seek>(reader: R, path: &Path) -> Result<Vec<(String, NdArray)>> {
    let archive = ZipArchive::new(reader).map_err(|e| zip_error(path, "zip archive", e))?;
    read_all_archive(archive, path)
}

fn read_all_archive<R: Read + Seek>(
    mut archive: ZipArchive<R>,
    path: &Path,
) -> Result<Vec<(String, NdArray)>> {
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let file = archive
            .by_index(i)
            .map_err(|e| zip_error(path, &format!("member #{i}"), e))?;
        if file.is_dir() {
            continue;
        }
        let member = file.name().to_string();
        let size = file.size();
        let array = parse_npy(file, Some(size), path, &member)?;
        out.push((display_name(&member).to_string(), array));
    }
    Ok(out)
}

/// The archive name of member `name`: numpy looks it up with ".npy" appended first, then as
/// given.
fn member_name<R: Read + Seek>(archive: &ZipArchive<R>, path: &Path, name: &str) -> Result<String> {
    let with_suffix = format!("{name}.npy");
    let candidates: Vec<&str> = if name.ends_with(".npy") {
        vec![name]
    } else {
        vec![&with_suffix, name]
    };
    candidates
        .into_iter()
        .find(|c| archive.index_for_name(c).is_some())
        .map(str::to_string)
        .ok_or_else(|| Error::missing(path.display().to_string(), "npz member", name))
}

fn read_member_from<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    path: &Path,
    name: &str,
) -> Result<NdArray> {
    let member = member_name(archive, path, name)?;
    let file = archive
        .by_name(&member)
        .map_err(|e| zip_error(path, &member, e))?;
    let size = file.size();
    parse_npy(file, Some(size), path, &member)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::npy::NpyData;
    use crate::io::pickle::PyValue;
    use crate::io::test_support::{check_array, check_value, expected, fixture, req};
    use proptest::prelude::*;
    use std::io::Cursor;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    const ARCHIVES: [&str; 4] = [
        "steinmetz_like.npz",
        "steinmetz_like_compressed.npz",
        "savez.npz",
        "savez_compressed.npz",
    ];

    #[test]
    fn mapped_reads_equal_streamed_reads() -> TestResult {
        for name in ARCHIVES {
            let path = fixture(name);
            for member in list_members(&path)? {
                let mapped = read_member_mapped(&path, &member)?;
                assert_eq!(mapped, read_member(&path, &member)?, "{name} {member}");
            }
        }
        Ok(())
    }

    #[test]
    fn mapped_large_u8_buffers_are_windows_and_crc_is_checked() -> TestResult {
        // An object array holding a 100 kB uint8 array, stored uncompressed as numpy.savez does.
        let dir = tempfile::tempdir()?;
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let inner = NdArray::new(vec![100_000], NpyData::U8(data.clone().into()))?;
        let deflated = dir.path().join("deflated.npz");
        crate::io::pickle_write::write_object_npz(&deflated, "dat", vec![PyValue::Array(inner)])?;
        let mut bytes = Vec::new();
        ZipArchive::new(File::open(&deflated)?)?
            .by_name("dat.npy")?
            .read_to_end(&mut bytes)?;
        let path = dir.path().join("a.npz");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path)?);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("dat.npy", opts)?;
        std::io::Write::write_all(&mut w, &bytes)?;
        w.finish()?;
        let a = read_member_mapped(&path, "dat")?;
        let NpyData::Object(items) = &a.data else {
            panic!("not an object array")
        };
        let Some(PyValue::Array(inner)) = items.first() else {
            panic!("no inner array")
        };
        let NpyData::U8(buf) = &inner.data else {
            panic!("not uint8")
        };
        assert!(buf.is_mapped());
        assert_eq!(&buf[..], &data[..]);
        drop(a);
        // Flip one byte of the payload: the CRC check names the member.
        let mut raw = std::fs::read(&path)?;
        let at = raw.len() / 2;
        raw[at] ^= 0xff;
        std::fs::write(&path, &raw)?;
        let e = read_member_mapped(&path, "dat").expect_err("corrupt member");
        assert!(e.to_string().contains("CRC-32 mismatch"), "{e}");
        assert!(e.to_string().contains("dat.npy"), "{e}");
        Ok(())
    }

    #[test]
    fn every_npz_fixture_matches_numpy() -> TestResult {
        let e = expected();
        for name in ARCHIVES {
            let path = fixture(name);
            let want = req(e[name]["members"].as_array(), "members");
            let names: Vec<String> = want
                .iter()
                .map(|m| m[0].as_str().unwrap_or_default().to_string())
                .collect();
            assert_eq!(list_members(&path)?, names, "{name}");
            let all = read_all(&path)?;
            assert_eq!(all.len(), want.len());
            for ((member, array), w) in all.iter().zip(want) {
                assert_eq!(Some(member.as_str()), w[0].as_str());
                check_array(array, &w[1], &format!("{name}/{member}"));
                // read_member agrees, with or without the suffix.
                assert_eq!(&read_member(&path, member)?, array);
                assert_eq!(&read_member(&path, &format!("{member}.npy"))?, array);
            }
        }
        Ok(())
    }

    #[test]
    fn steinmetz_dat_member_decodes() -> TestResult {
        let dat = read_member(&fixture("steinmetz_like_compressed.npz"), "dat")?;
        let NpyData::Object(sessions) = dat.data else {
            panic!("dat is not an object array")
        };
        assert_eq!(sessions.len(), 2);
        let e = expected();
        let want = &e["steinmetz_like.npz"]["members"][0][1]["v"][1];
        check_value(&sessions[1], want, "dat[1]");
        assert_eq!(
            sessions[1].get("mouse_name").and_then(PyValue::as_str),
            Some("Forssmann")
        );
        Ok(())
    }

    #[test]
    fn missing_member() {
        match read_member(&fixture("savez.npz"), "nope") {
            Err(Error::Missing {
                source_name, name, ..
            }) => {
                assert!(source_name.ends_with("savez.npz"));
                assert_eq!(name, "nope");
            }
            other => panic!("expected Missing, found {other:?}"),
        }
    }

    #[test]
    fn evil_member_is_refused_naming_archive_and_member() {
        match read_all(&fixture("evil.npz")) {
            Err(Error::UnsafePickle {
                path, module, name, ..
            }) => {
                assert!(path.ends_with("evil.npz/dat.npy"), "{}", path.display());
                assert_eq!(format!("{module}.{name}"), "os.system");
            }
            other => panic!("not refused: {other:?}"),
        }
        assert!(!Path::new("/tmp/neuropop_pwned_fixture").exists());
    }

    #[test]
    fn garbage_and_truncated_archives_are_errors() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("bad.npz");
        std::fs::write(&path, b"this is not a zip file at all")?;
        for result in [
            read_all(&path).map(|_| ()),
            list_members(&path).map(|_| ()),
            read_member(&path, "x").map(|_| ()),
        ] {
            let text = req(result.err(), "garbage must fail").to_string();
            assert!(text.contains("bad.npz"), "{text}");
        }
        let bytes = std::fs::read(fixture("steinmetz_like_compressed.npz"))?;
        for cut in (0..bytes.len()).step_by(97) {
            std::fs::write(&path, &bytes[..cut])?;
            assert!(read_all(&path).is_err(), "cut at {cut}");
        }
        assert!(matches!(
            list_members(Path::new("/nonexistent.npz")),
            Err(Error::Io { .. })
        ));
        Ok(())
    }

    #[test]
    fn corrupt_member_data_names_the_member() -> TestResult {
        let mut bytes = std::fs::read(fixture("steinmetz_like_compressed.npz"))?;
        // Damage the middle of the first member's deflate stream (the local header is 30 bytes
        // plus the name).
        for b in &mut bytes[200..260] {
            *b ^= 0x5a;
        }
        let text = req(
            read_all_from(Cursor::new(bytes), Path::new("x.npz")).err(),
            "corrupt data must fail",
        )
        .to_string();
        assert!(text.contains("x.npz") && text.contains("dat.npy"), "{text}");
        Ok(())
    }

    proptest! {
        #[test]
        fn read_all_from_never_panics(
            which in 0usize..4,
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = std::fs::read(fixture(ARCHIVES[which])).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (index, value) in flips {
                let i = index.index(bytes.len());
                bytes[i] = value;
            }
            let end = cut.index(bytes.len() + 1);
            let _ = read_all_from(Cursor::new(bytes[..end].to_vec()), Path::new("p.npz"));
            let _ = read_all_from(Cursor::new(bytes), Path::new("p.npz"));
        }

        #[test]
        fn read_all_from_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_all_from(Cursor::new(bytes), Path::new("p.npz"));
        }
    }
}
