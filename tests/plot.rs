//! Figures render from hand-made inputs: files have the requested pixel size, are not blank,
//! and degenerate inputs give a "no data" figure or a clear error, never a panic.
//!
//! Set `NEUROPOP_PLOT_DIR=/some/dir` to keep the rendered files for inspection.

use std::path::{Path, PathBuf};

use neuropop::plot::{
    CorrelationStats, FigureOptions, HierarchyPanel, MeanCi, RdmHeatmaps, RdmPanel, RegionGroup,
    RegionalHierarchy, ScatterGrid, ScatterPanel, rdm_heatmap, rdm_heatmaps, regional_hierarchy,
    render_rgb, scatter_grid,
};
use neuropop::rsa::rdm::Rdm;

/// 100 mm × 60 mm at 254 dpi = exactly 1000 × 600 px.
fn opts() -> FigureOptions {
    FigureOptions::default()
        .with_width_mm(100.0)
        .with_height_mm(60.0)
        .with_dpi(254.0)
}

struct Out {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn out_dir(name: &str) -> Out {
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var_os("NEUROPOP_PLOT_DIR") {
        Some(d) => PathBuf::from(d).join(name),
        None => tmp.path().to_path_buf(),
    };
    std::fs::create_dir_all(&dir).unwrap();
    Out { _tmp: tmp, dir }
}

/// Width and height from the PNG signature and IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// Fraction of pixels that are not the white background, and the number of distinct
/// clearly coloured (non-grey) pixels values.
fn ink(rgb: &[u8]) -> (f64, usize) {
    let px: Vec<&[u8]> = rgb.chunks(3).collect();
    let non_white = px.iter().filter(|p| p.iter().any(|&v| v < 250)).count();
    let mut colours: Vec<[u8; 3]> = px
        .iter()
        .filter(|p| {
            let (mx, mn) = (*p.iter().max().unwrap(), *p.iter().min().unwrap());
            mx - mn > 60
        })
        .map(|p| [p[0] & 0xF0, p[1] & 0xF0, p[2] & 0xF0])
        .collect();
    colours.sort_unstable();
    colours.dedup();
    (non_white as f64 / px.len() as f64, colours.len())
}

/// The strings drawn as `<text>` in an SVG written by plotters (content on the next line,
/// XML-escaped).
fn svg_texts(svg: &str) -> Vec<String> {
    let lines: Vec<&str> = svg.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].starts_with("<text"))
        .map(|w| {
            w[1].replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

fn count(texts: &[String], s: &str) -> usize {
    texts.iter().filter(|t| *t == s).count()
}

fn group(name: &str, i: usize, values: Vec<f64>, ci: Option<(f64, f64)>) -> RegionGroup {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    RegionGroup {
        name: name.into(),
        colour_index: i,
        summary: ci.map(|(lo, hi)| MeanCi {
            n: finite.len(),
            mean: finite.iter().sum::<f64>() / finite.len() as f64,
            ci_low: lo,
            ci_high: hi,
        }),
        values,
    }
}

fn hierarchy_panels() -> Vec<HierarchyPanel> {
    let p = |title: &str| HierarchyPanel {
        title: title.into(),
        axis_label: "split-half RDM Spearman ρ".into(),
        groups: vec![
            group(
                "Visual",
                0,
                vec![0.6, 0.7, 0.8, 0.65, 0.72],
                Some((0.62, 0.76)),
            ),
            group(
                "Thalamus",
                1,
                vec![0.3, 0.2, 0.4, f64::NAN],
                Some((0.2, 0.4)),
            ),
            group("Hippocampus", 2, vec![-0.1, 0.05, 0.1], Some((-0.1, 0.1))),
            // Too few values for a CI: points only.
            group("Other", 7, vec![0.1, 0.2], None),
            // No values at all: left out.
            group("Midbrain", 6, vec![], None),
        ],
        reference: Some(0.0),
    };
    vec![p("Shesha"), p("WUC")]
}

#[test]
fn regional_hierarchy_png_has_requested_size_and_ink() {
    let out = out_dir("hierarchy");
    let path = out.dir.join("hierarchy.png");
    regional_hierarchy(&hierarchy_panels(), &path, &opts()).unwrap();
    assert_eq!(png_size(&path), (1000, 600));
    let fig = RegionalHierarchy {
        panels: hierarchy_panels(),
        ncols: 2,
    };
    let (w, h, rgb) = render_rgb(&fig, &opts()).unwrap();
    assert_eq!((w, h), (1000, 600));
    let (frac, colours) = ink(&rgb);
    assert!(frac > 0.01 && frac < 0.5, "ink fraction {frac}");
    assert!(colours >= 3, "expected region colours, found {colours}");
    // SVG: one <text> per region label, per panel (4 drawn regions × 2 panels) at least.
    let svg = out.dir.join("hierarchy.svg");
    regional_hierarchy(&hierarchy_panels(), &svg, &opts()).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let texts = svg_texts(&text);
    assert_eq!(count(&texts, "Visual (n = 5)"), 2);
    assert_eq!(count(&texts, "Thalamus (n = 3)"), 2);
    assert_eq!(count(&texts, "Other (n = 2, no CI)"), 2);
    assert!(!text.contains("Midbrain"));
}

#[test]
fn regional_hierarchy_all_nan_says_no_data() {
    let out = out_dir("hierarchy_nan");
    let panel = HierarchyPanel {
        title: "Centroid drift".into(),
        axis_label: "cosine similarity".into(),
        groups: vec![group("Visual", 0, vec![f64::NAN; 4], None)],
        reference: None,
    };
    let svg = out.dir.join("nan.svg");
    regional_hierarchy(std::slice::from_ref(&panel), &svg, &opts()).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("no data"));
    // Text only, from the embedded font: the figure is still not blank.
    let fig = RegionalHierarchy {
        panels: vec![panel],
        ncols: 1,
    };
    let (_, _, rgb) = render_rgb(&fig, &opts()).unwrap();
    assert!(ink(&rgb).0 > 0.001);
    // No panels at all.
    let png = out.dir.join("empty.png");
    regional_hierarchy(&[], &png, &opts()).unwrap();
    assert_eq!(png_size(&png), (1000, 600));
}

fn scatter_panels() -> Vec<ScatterPanel> {
    let pts = |k: f64| -> Vec<(f64, f64, usize)> {
        (0..30)
            .map(|i| {
                let x = i as f64 / 30.0;
                (x, k * x + 0.1 * ((i * 7) % 5) as f64, i % 4)
            })
            .chain([(f64::NAN, 1.0, 0), (0.5, f64::INFINITY, 1)])
            .collect()
    };
    let mut a = ScatterPanel::new("Shesha", "mean accuracy", pts(1.0));
    a.stats = Some(CorrelationStats {
        rho: 0.81,
        ci_low: 0.62,
        ci_high: 0.9,
        p_value: 1e-7,
        n: 30,
    });
    let mut b = ScatterPanel::new("Shesha", "accuracy change", pts(-0.5));
    b.no_stats_reason = Some("< 10 pairs".into());
    let c = ScatterPanel::new("Shesha", "tangling", vec![(f64::NAN, 1.0, 0)]);
    vec![a, b, c]
}

fn groups() -> Vec<String> {
    ["Visual", "Thalamus", "Hippocampus", "Motor"]
        .map(String::from)
        .to_vec()
}

#[test]
fn scatter_grid_png_has_requested_size_and_ink() {
    let out = out_dir("scatter");
    let path = out.dir.join("scatter.png");
    scatter_grid(&scatter_panels(), &groups(), &path, &opts()).unwrap();
    assert_eq!(png_size(&path), (1000, 600));
    let fig = ScatterGrid {
        panels: scatter_panels(),
        groups: groups(),
        ncols: 2,
    };
    let (_, _, rgb) = render_rgb(&fig, &opts()).unwrap();
    let (frac, colours) = ink(&rgb);
    assert!(frac > 0.01 && frac < 0.5, "ink fraction {frac}");
    assert!(colours >= 4, "expected 4 group colours, found {colours}");
    let svg = out.dir.join("scatter.svg");
    scatter_grid(&scatter_panels(), &groups(), &svg, &opts()).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    let texts = svg_texts(&text);
    assert_eq!(count(&texts, "ρ = 0.81 [0.62, 0.90], p < 0.001, n = 30"), 1);
    assert_eq!(count(&texts, "n = 30 (< 10 pairs)"), 1);
    // The all-NaN panel says so; the legend lists each group once.
    assert_eq!(count(&texts, "no data: no pair with both values finite"), 1);
    for g in groups() {
        assert_eq!(count(&texts, &g), 1, "{g}");
    }
    // 60 finite points and 4 legend markers, each a fill and an edge circle.
    assert_eq!(text.matches("<circle").count(), (60 + 4) * 2);
}

#[test]
fn scatter_without_panels_or_points_renders() {
    let out = out_dir("scatter_empty");
    scatter_grid(&[], &[], &out.dir.join("none.png"), &opts()).unwrap();
    let p = ScatterPanel::new("x", "y", vec![]);
    scatter_grid(&[p], &[], &out.dir.join("nopoints.png"), &opts()).unwrap();
    assert_eq!(png_size(&out.dir.join("nopoints.png")), (1000, 600));
}

fn labelled(n: usize, f: impl Fn(usize, usize) -> f64) -> Rdm {
    let condensed = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| f(i, j))
        .collect();
    let contrasts = [0.0, 0.25, 0.5, 1.0];
    let labels = (0..n)
        .map(|k| format!("L{}/R{}", contrasts[k / 4 % 4], contrasts[k % 4]))
        .collect();
    Rdm::new(n, condensed).unwrap().with_labels(labels).unwrap()
}

#[test]
fn rdm_heatmaps_render_with_labels_and_colour_bar() {
    let out = out_dir("rdm");
    let odd = labelled(12, |i, j| (i as f64 - j as f64).abs() / 12.0);
    let even = labelled(12, |i, j| ((i * j) % 5) as f64 / 5.0 + 0.1);
    let panels = [
        RdmPanel {
            title: "odd trials".into(),
            rdm: odd,
        },
        RdmPanel {
            title: "even trials".into(),
            rdm: even,
        },
    ];
    let path = out.dir.join("rdms.png");
    let title = Some("session 3 · VISp (Visual) · Shesha ρ = 0.52");
    rdm_heatmaps(&panels, title, "cosine distance", &path, &opts()).unwrap();
    assert_eq!(png_size(&path), (1000, 600));
    let fig = RdmHeatmaps {
        panels: panels.to_vec(),
        title: title.map(String::from),
        colorbar_label: "cosine distance".into(),
    };
    let (_, _, rgb) = render_rgb(&fig, &opts()).unwrap();
    let (frac, colours) = ink(&rgb);
    assert!(frac > 0.1, "heatmaps should fill a good part: {frac}");
    assert!(colours > 10, "viridis cells and colour bar: {colours}");
    let svg = out.dir.join("rdms.svg");
    rdm_heatmaps(&panels, title, "cosine distance", &svg, &opts()).unwrap();
    let texts = svg_texts(&std::fs::read_to_string(&svg).unwrap());
    // Every label on both x axes and once on the y axis.
    assert_eq!(count(&texts, "L0.25/R0.5"), 3);
    assert_eq!(count(&texts, "cosine distance"), 1);
}

#[test]
fn rdm_degenerate_inputs() {
    let out = out_dir("rdm_degenerate");
    // All NaN: a "no data" figure.
    let nan = Rdm::new(4, vec![f64::NAN; 6]).unwrap();
    let svg = out.dir.join("nan.svg");
    rdm_heatmap(&nan, "all NaN", "cosine distance", &svg, &opts()).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().contains("no data"));
    // One condition: nothing to show either.
    let one = Rdm::new(1, vec![]).unwrap();
    rdm_heatmap(&one, "one", "d", &out.dir.join("one.png"), &opts()).unwrap();
    // Constant RDM: renders (one colour).
    let flat = Rdm::new(3, vec![0.5; 3]).unwrap();
    rdm_heatmap(&flat, "flat", "d", &out.dir.join("flat.png"), &opts()).unwrap();
    // Panels of different sizes: a clear error.
    let panels = [
        RdmPanel {
            title: "a".into(),
            rdm: Rdm::new(3, vec![0.1, 0.2, 0.3]).unwrap(),
        },
        RdmPanel {
            title: "b".into(),
            rdm: Rdm::new(2, vec![0.1]).unwrap(),
        },
    ];
    let err = rdm_heatmaps(&panels, None, "d", &out.dir.join("x.png"), &opts()).unwrap_err();
    assert!(err.to_string().contains("3 conditions"), "{err}");
    // Many conditions: labels thin out instead of overlapping; still renders.
    let big = labelled(64, |i, j| ((i + 2 * j) % 11) as f64);
    rdm_heatmap(
        &big,
        "64 conditions",
        "d",
        &out.dir.join("big.png"),
        &opts(),
    )
    .unwrap();
}

#[test]
fn bad_paths_and_sizes_are_clear_errors() {
    let out = out_dir("errors");
    let r = Rdm::new(3, vec![0.1, 0.2, 0.3]).unwrap();
    let e = rdm_heatmap(&r, "t", "d", &out.dir.join("r.pdf"), &opts()).unwrap_err();
    assert!(e.to_string().contains(".png or .svg"), "{e}");
    let missing = out.dir.join("no/such/dir/r.png");
    let e = rdm_heatmap(&r, "t", "d", &missing, &opts()).unwrap_err();
    assert!(e.to_string().contains("no/such/dir"), "{e}");
    let e = rdm_heatmap(&r, "t", "d", &out.dir.join("r.png"), &opts().with_dpi(0.0)).unwrap_err();
    assert!(e.to_string().contains("figure size"), "{e}");
    // Nothing half-written is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());
}

// ---- pipeline figures and the report ----

use neuropop::pipeline::steinmetz::figures::{
    SplitHalfExample, choose_examples, sources_from_statuses, split_half_examples, write_figures,
};
use neuropop::pipeline::steinmetz::run;
use neuropop::pipeline::{RunOptions, SteinmetzConfig};
use neuropop::report::{EmbeddedFigure, Report, Section, Table};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/steinmetz")
        .join(name)
}

#[test]
fn pipeline_writes_figures_and_examples_match_the_table() {
    let out = out_dir("pipeline");
    let dir = out.dir.join("run");
    let config = SteinmetzConfig {
        n_bootstrap: 200,
        n_permutations: 20,
        ..SteinmetzConfig::default()
    };
    let files = vec![fixture("nma_part0.npz"), fixture("nma_part1.npz")];
    let opts = RunOptions {
        quiet: true,
        force: true,
        ..RunOptions::default()
    };
    let summary = run(&files, &dir, &config, &opts).unwrap();
    assert!(
        summary.figures.failures.is_empty(),
        "{:?}",
        summary.figures.failures
    );
    let names: Vec<String> = summary
        .figures
        .files
        .iter()
        .map(|f| f.file.display().to_string())
        .collect();
    assert!(names.contains(&"figures/regional_hierarchy.png".to_string()));
    assert!(names.contains(&"figures/shesha_vs_behavior.png".to_string()));
    let examples = choose_examples(&summary.output.rows, 6);
    assert!(!examples.is_empty());
    assert_eq!(names.len(), 2 + examples.len());
    for f in &summary.figures.files {
        let png = dir.join(&f.file);
        let (w, h) = png_size(&png);
        assert!(w > 500 && h > 300, "{}: {w}×{h}", png.display());
        assert!(png.with_extension("svg").exists());
        assert!(!f.caption.is_empty());
    }
    // The examples are the highest and lowest Shesha with >= 6 conditions, and their
    // recomputed RDMs give back the table's value.
    let best = summary
        .output
        .rows
        .iter()
        .filter(|r| r.n_conditions >= 6 && r.shesha.is_finite())
        .map(|r| r.shesha)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(examples[0].shesha, best);
    let sources = sources_from_statuses(&summary.sessions);
    // Recomputed from the files (what `merge` does) equals what the run kept.
    let ex = split_half_examples(&examples, &sources, &Default::default(), &config).unwrap();
    let kept = split_half_examples(
        &examples,
        &sources,
        &summary.output.split_half_rdms,
        &config,
    )
    .unwrap();
    let key = |v: &[SplitHalfExample]| {
        v.iter()
            .map(|e| {
                (
                    e.row.session,
                    e.row.area.clone(),
                    e.odd.clone(),
                    e.even.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&ex), key(&kept));
    assert!(summary.output.split_half_rdms.len() >= examples.len());
    for e in &ex {
        let a = e.odd.upper().to_vec();
        let b = e.even.upper().to_vec();
        let rho = neuropop::stats::correlation::spearman(&a, &b)
            .unwrap()
            .value;
        assert!((rho - e.row.shesha).abs() < 1e-9);
        assert_eq!(e.odd.n(), e.row.n_conditions);
        assert!(e.odd.labels().unwrap()[0].starts_with('L'));
    }
    // The manifest lists them.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["figures"]["files"].as_array().unwrap().len(), names.len());
}

#[test]
fn figures_of_an_empty_run_say_no_data_and_record_the_missing_examples() {
    let out = out_dir("pipeline_empty");
    let report = write_figures(
        &out.dir,
        &Default::default(),
        &Default::default(),
        &SteinmetzConfig::default(),
    );
    assert_eq!(report.files.len(), 2);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].figure, "split_half_rdms");
    let svg = std::fs::read_to_string(out.dir.join("figures/regional_hierarchy.svg")).unwrap();
    assert_eq!(svg.matches("no data").count(), 4);
}

#[test]
fn report_html_has_sections_tables_and_embedded_pngs() {
    let out = out_dir("report");
    let png = out.dir.join("r.png");
    rdm_heatmap(
        &Rdm::new(3, vec![0.1, 0.2, 0.3]).unwrap(),
        "t",
        "d",
        &png,
        &opts(),
    )
    .unwrap();
    let mut r = Report::new("Test <report>");
    r.push(Section::Heading {
        level: 2,
        text: "Tables".into(),
    });
    r.push(Section::Table(Table {
        caption: Some("cap".into()),
        header: vec!["region".into(), "mean".into()],
        rows: vec![vec!["Visual".into(), "0.5".into()]],
        note: None,
    }));
    r.push(neuropop::report::figure_from_png(&png, "first").unwrap());
    r.push(Section::Figure(EmbeddedFigure {
        png: std::fs::read(&png).unwrap(),
        caption: "second".into(),
        alt: "a".into(),
    }));
    let path = out.dir.join("report.html");
    r.write(&path).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("<title>Test &lt;report&gt;</title>"));
    assert!(html.contains("<h2>Tables</h2>"));
    assert!(html.contains("<caption>cap</caption>"));
    assert!(html.contains("<td>Visual</td><td>0.5</td>"));
    assert_eq!(html.matches("data:image/png;base64,iVBORw0KGgo").count(), 2);
    assert!(html.contains("<b>Figure 2.</b> second"));
    assert!(!html.contains("<script") && !html.contains("http"));
}

#[test]
fn demo_writes_a_self_contained_report() {
    let out = out_dir("demo");
    let dir = out.dir.join("demo");
    let demo = neuropop::demo::run(&dir, true, true, 7, true).unwrap();
    assert_eq!(demo.report, dir.join("report.html"));
    let html = std::fs::read_to_string(&demo.report).unwrap();
    for h in [
        "<h2>Simulated data</h2>",
        "<caption>Planted truth vs recovered</caption>",
        "<caption>Regional summary (regional_summary.csv)</caption>",
        "<caption>Behaviour coupling (behavior_coupling.csv)</caption>",
        "<h3>Provenance (manifest.json)</h3>",
        "<caption>Input files</caption>",
    ] {
        assert!(html.contains(h), "missing {h}");
    }
    let figures = std::fs::read_dir(dir.join("shesha_steinmetz/figures"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .count();
    assert!(figures >= 3);
    assert_eq!(html.matches("data:image/png;base64,").count(), figures);
    assert!(!html.contains("<script") && !html.contains("src=\"http"));
}
