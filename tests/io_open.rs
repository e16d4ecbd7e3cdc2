//! `io::open` gives every format the same shape — recordings and the reader's `Meta` — and
//! `open_with` passes each format its options.

use std::path::{Path, PathBuf};

use neuropop::io::{Format, OpenOptions, open, open_as, open_with};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

#[test]
fn every_format_returns_recordings_and_a_meta_counting_units() {
    // (fixture, format, sessions, units offered, units imported)
    let cases = [
        ("steinmetz/nma_part0.npz", Format::SteinmetzNpz, 3, 150, 150),
        ("alf/Tiny_2016-12-14", Format::SteinmetzAlf, 1, 6, 5),
        ("nwb/units_electrodes.nwb", Format::Nwb, 1, 3, 3),
        ("nwb/lfp_only.nwb", Format::Nwb, 1, 0, 0),
        ("maze/session_small.maze.h5", Format::Maze, 1, 3, 3),
    ];
    for (rel, format, sessions, requested, used) in cases {
        let p = fixture(rel);
        let (recs, meta) = open(&p).unwrap();
        assert_eq!(recs.len(), sessions, "{rel}");
        assert_eq!((meta.n_requested, meta.n_used), (requested, used), "{rel}");
        assert_eq!(
            recs.iter().map(|r| r.units.len()).sum::<usize>(),
            used,
            "{rel}"
        );
        let (f, recs2, meta2) = open_as(&p, Some(format)).unwrap();
        assert_eq!(f, format, "{rel}");
        assert_eq!((recs2.len(), meta2), (recs.len(), meta.clone()), "{rel}");
    }
    // What each reader left out is in the Meta: the ALF cluster below quality 2, the NMA
    // session keys not imported, the ragged NWB trial column.
    let (_, meta) = open(&fixture("alf/Tiny_2016-12-14")).unwrap();
    assert!(!meta.dropped.is_empty());
    let (_, meta) = open(&fixture("steinmetz/nma_part0.npz")).unwrap();
    assert!(
        meta.dropped
            .iter()
            .any(|d| d.item == "session key 'wheel'" && d.reason.contains("3 of the sessions")),
        "{:?}",
        meta.dropped
    );
    let (_, meta) = open(&fixture("nwb/units_electrodes.nwb")).unwrap();
    assert!(
        meta.dropped
            .iter()
            .any(|d| d.item == "trials column 'licks'")
    );
}

#[test]
fn open_with_passes_each_format_its_options() {
    let p = fixture("alf/Tiny_2016-12-14");
    let mut o = OpenOptions::default();
    o.steinmetz_alf.min_phy_annotation = 0;
    let (_, recs, meta) = open_with(&p, None, &o).unwrap();
    assert_eq!((meta.n_requested, meta.n_used), (6, 6));
    assert_eq!(recs[0].units.len(), 6);
    // Options are plain data: they round-trip through JSON (a config file can hold them).
    let text = serde_json::to_string(&o).unwrap();
    let back: OpenOptions = serde_json::from_str(&text).unwrap();
    assert_eq!(back, o);
}
