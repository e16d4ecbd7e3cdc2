//! Every file neuropop writes is created with mode 0666 minus the umask, like numpy's, h5py's or
//! a shell's output, so a lab's shared data directory stays readable to its members (maze files
//! used to be 0600). One test function: the umask is per process, so nothing else in this test
//! binary may create files while it changes it.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use neuropop::io::{maze, npy, pickle::PyValue, pickle_write, steinmetz_npz};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Writes one file with every writer of the crate into `dir`; returns their paths.
fn write_all(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let rec = maze::read(&fixture("maze/session_small.maze.h5")).unwrap();
    let p = dir.join("session.maze.h5");
    maze::write(&p, &rec).unwrap();
    out.push(p);

    neuropop::output::write_atomic(dir, "table.csv", b"a,b\n1,2\n").unwrap();
    out.push(dir.join("table.csv"));

    let p = dir.join("x.npy");
    npy::write_npy_f64(&p, &ndarray::arr1(&[1.0, 2.0]).into_dyn()).unwrap();
    out.push(p);
    let p = dir.join("i.npy");
    npy::write_npy_i64(&p, &ndarray::arr1(&[1i64, 2]).into_dyn()).unwrap();
    out.push(p);

    let p = dir.join("objects.npz");
    pickle_write::write_object_npz(&p, "dat", vec![PyValue::Int(1)]).unwrap();
    out.push(p);
    let sessions = steinmetz_npz::read(&fixture("steinmetz/nma_part1.npz")).unwrap();
    let p = dir.join("sessions.npz");
    steinmetz_npz::write(&p, &sessions).unwrap();
    out.push(p);
    out
}

#[test]
fn outputs_are_0666_minus_the_umask() {
    for umask in [0o022, 0o027, 0o002] {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
        let old = unsafe { libc::umask(umask) };
        let written = write_all(dir.path());
        unsafe { libc::umask(old) };
        for p in &written {
            assert_eq!(
                mode(p),
                0o666 & !umask,
                "{} under umask {umask:03o}: mode {:03o}",
                p.display(),
                mode(p)
            );
        }
        // Only the targets are left: every temporary file was renamed or removed.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "i.npy",
                "objects.npz",
                "session.maze.h5",
                "sessions.npz",
                "table.csv",
                "x.npy"
            ]
        );
    }
}
