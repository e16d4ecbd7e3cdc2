//! A self-contained HTML report (`report.html`): headings, paragraphs, tables and PNG figures
//! embedded as base64 data URIs, with inline CSS and no scripts or external resources, so it
//! opens anywhere and can be mailed as one file.
//!
//! A report is a list of [`Section`]s; each pipeline contributes its sections (see
//! [`steinmetz_sections`]) and `neuropop demo` assembles them ([`demo_report`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::demo::DemoSummary;
use crate::error::{Error, Result};
use crate::pipeline::RunSummary;

/// A table: header, rows of cells (text, escaped on output), optional caption and note.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Caption above the table.
    pub caption: Option<String>,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
    /// Note below the table (e.g. "first 10 of 120 rows").
    pub note: Option<String>,
}

/// A PNG figure embedded in the page.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddedFigure {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Caption.
    pub caption: String,
    /// Alternative text.
    pub alt: String,
}

/// One block of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Section {
    /// A heading (`level` 1–4 → `<h1>`–`<h4>`).
    Heading {
        /// Heading level.
        level: u8,
        /// Text.
        text: String,
    },
    /// A paragraph of plain text.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table.
    Table(Table),
    /// A figure.
    Figure(EmbeddedFigure),
}

/// A report: a title and its sections in order.
///
/// ```
/// use neuropop::report::{Report, Section, Table};
/// let mut r = Report::new("Demo");
/// r.push(Section::Paragraph("1 < 2".into()));
/// r.push(Section::Table(Table { header: vec!["a".into()], rows: vec![vec!["x".into()]], ..Table::default() }));
/// let html = r.to_html();
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("<p>1 &lt; 2</p>"));
/// assert!(html.contains("<td>x</td>"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Page title (also the first heading).
    pub title: String,
    /// Sections in order.
    pub sections: Vec<Section>,
}

const CSS: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:60em;\
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em}h2{font-size:1.3em;margin-top:2em;border-bottom:1px solid #ddd}\
h3{font-size:1.1em}table{border-collapse:collapse;margin:0.5em 0;font-size:0.85em}\
th,td{border:1px solid #ccc;padding:0.2em 0.5em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
caption{text-align:left;font-weight:bold;padding:0.3em 0}\
.note{color:#666;font-size:0.85em}figure{margin:1.5em 0}\
figure img{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{font-size:0.9em;color:#444;margin-top:0.3em}\
.scroll{overflow-x:auto}";

impl Report {
    /// An empty report.
    pub fn new(title: &str) -> Self {
        Report {
            title: title.to_string(),
            sections: Vec::new(),
        }
    }

    /// Appends a section.
    pub fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// The page as one HTML document.
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
            t = escape(&self.title)
        );
        let mut n_fig = 0;
        for s in &self.sections {
            match s {
                Section::Heading { level, text } => {
                    let l = (*level).clamp(1, 4);
                    let _ = writeln!(h, "<h{l}>{}</h{l}>", escape(text));
                }
                Section::Paragraph(p) => {
                    let _ = writeln!(h, "<p>{}</p>", escape(p));
                }
                Section::List(items) => {
                    h.push_str("<ul>\n");
                    for i in items {
                        let _ = writeln!(h, "<li>{}</li>", escape(i));
                    }
                    h.push_str("</ul>\n");
                }
                Section::Table(t) => table_html(&mut h, t),
                Section::Figure(f) => {
                    n_fig += 1;
                    let _ = writeln!(
                        h,
                        "<figure>\n<img src=\"data:image/png;base64,{}\" alt=\"{}\">\n\
                         <figcaption><b>Figure {n_fig}.</b> {}</figcaption>\n</figure>",
                        base64(&f.png),
                        escape(&f.alt),
                        escape(&f.caption)
                    );
                }
            }
        }
        h.push_str("</body>\n</html>\n");
        h
    }

    /// Writes the page to `path` (temporary file in the same directory, then rename).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("report.html");
    /// neuropop::report::Report::new("Empty").write(&path).unwrap();
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("<h1>Empty</h1>"));
    /// ```
    pub fn write(&self, path: &Path) -> Result<()> {
        let (dir, name) = crate::output::dir_and_name(path, "report.html");
        crate::output::write_atomic(dir, name, self.to_html().as_bytes())
    }
}

fn table_html(h: &mut String, t: &Table) {
    h.push_str("<div class=\"scroll\"><table>\n");
    if let Some(c) = &t.caption {
        let _ = writeln!(h, "<caption>{}</caption>", escape(c));
    }
    h.push_str("<tr>");
    for c in &t.header {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    for r in &t.rows {
        h.push_str("<tr>");
        for c in r {
            let _ = write!(h, "<td>{}</td>", escape(c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
    if let Some(n) = &t.note {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(n));
    }
}

/// HTML-escapes text (`& < > " '`).
///
/// ```
/// assert_eq!(neuropop::report::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
/// ```
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Standard base64 (RFC 4648, with `=` padding), for data URIs.
///
/// ```
/// use neuropop::report::base64;
/// assert_eq!(base64(b""), "");
/// assert_eq!(base64(b"f"), "Zg==");
/// assert_eq!(base64(b"fo"), "Zm8=");
/// assert_eq!(base64(b"foobar"), "Zm9vYmFy");
/// ```
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A figure section from a PNG file.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] if it is not a PNG.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("x.png");
/// std::fs::write(&p, b"not a png").unwrap();
/// assert!(neuropop::report::figure_from_png(&p, "caption").is_err());
/// ```
pub fn figure_from_png(path: &Path, caption: &str) -> Result<Section> {
    let png = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(Error::format(path, "signature", "not a PNG file"));
    }
    Ok(Section::Figure(EmbeddedFigure {
        png,
        caption: caption.to_string(),
        alt: path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    }))
}

fn f3(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        String::new()
    }
}

fn p_fmt(p: f64) -> String {
    if !p.is_finite() {
        String::new()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// The sections of a Steinmetz Shesha run: the regional summary, behaviour coupling and the
/// first `max_rows` area-sessions as tables, its figures with captions, and the provenance
/// from `manifest.json` in the run's output directory (version, commit, seed, input hashes,
/// timings).
///
/// # Errors
/// An unreadable figure or manifest.
pub fn steinmetz_sections(run: &RunSummary, max_rows: usize) -> Result<Vec<Section>> {
    let mut s = Vec::new();
    let h = |level: u8, text: &str| Section::Heading {
        level,
        text: text.into(),
    };
    s.push(h(2, "Steinmetz geometric-stability replication"));
    s.push(Section::Paragraph(format!(
        "{} area-sessions analysed, {} sessions or areas skipped (skipped.csv), {} failures. \
         Output directory: {}.",
        run.rows.len(),
        run.skipped.len(),
        run.n_failures,
        run.out_dir.display()
    )));
    s.push(Section::Table(Table {
        caption: Some("Regional summary (regional_summary.csv)".into()),
        header: ["region", "metric", "n", "mean", "CI low", "CI high"]
            .map(String::from)
            .to_vec(),
        rows: run
            .regional
            .iter()
            .map(|r| {
                vec![
                    r.region.clone(),
                    r.metric.clone(),
                    r.n.to_string(),
                    f3(r.mean),
                    f3(r.ci_low),
                    f3(r.ci_high),
                ]
            })
            .collect(),
        note: Some("Mean over area-sessions with a 95 % percentile-bootstrap CI.".into()),
    }));
    s.push(Section::Table(Table {
        caption: Some("Behaviour coupling (behavior_coupling.csv)".into()),
        header: [
            "behaviour",
            "metric",
            "Spearman ρ",
            "CI low",
            "CI high",
            "p",
            "n",
        ]
        .map(String::from)
        .to_vec(),
        rows: run
            .coupling
            .iter()
            .map(|r| {
                vec![
                    r.ground_truth.clone(),
                    r.metric.clone(),
                    f3(r.rho),
                    f3(r.ci_low),
                    f3(r.ci_high),
                    p_fmt(r.p_value),
                    r.n.to_string(),
                ]
            })
            .collect(),
        note: None,
    }));
    let shown = run.rows.len().min(max_rows);
    s.push(Section::Table(Table {
        caption: Some("Area-sessions (area_sessions.csv, selected columns)".into()),
        header: [
            "session",
            "area",
            "region",
            "neurons",
            "trials",
            "conditions",
            "shesha",
            "wuc",
            "rsa_cv",
            "centroid_drift",
            "tangling",
            "mean_accuracy",
        ]
        .map(String::from)
        .to_vec(),
        rows: run.rows[..shown]
            .iter()
            .map(|r| {
                vec![
                    r.session.to_string(),
                    r.area.clone(),
                    r.region_coarse.clone(),
                    r.n_neurons.to_string(),
                    r.n_trials.to_string(),
                    r.n_conditions.to_string(),
                    f3(r.shesha),
                    f3(r.wuc),
                    f3(r.rsa_cv),
                    f3(r.centroid_drift),
                    f3(r.tangling),
                    f3(r.mean_accuracy),
                ]
            })
            .collect(),
        note: Some(format!(
            "First {shown} of {} rows; all 22 columns are in area_sessions.csv / .parquet.",
            run.rows.len()
        )),
    }));
    s.push(h(3, "Figures"));
    for f in &run.figures.files {
        s.push(figure_from_png(&run.out_dir.join(&f.file), &f.caption)?);
    }
    if !run.figures.failures.is_empty() {
        s.push(Section::Paragraph("Figures that could not be made:".into()));
        s.push(Section::List(
            run.figures
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.figure, f.error))
                .collect(),
        ));
    }
    s.extend(provenance(&run.out_dir.join("manifest.json"))?);
    Ok(s)
}

/// Provenance sections from a pipeline's `manifest.json`.
fn provenance(path: &Path) -> Result<Vec<Section>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let m: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::format(path, format!("line {}", e.line()), e.to_string()))?;
    let str_of = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "unknown".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut s = vec![Section::Heading {
        level: 3,
        text: "Provenance (manifest.json)".into(),
    }];
    s.push(Section::Table(Table {
        caption: None,
        header: vec!["item".into(), "value".into()],
        rows: [
            "pipeline",
            "neuropop_version",
            "git_commit",
            "seed",
            "threads",
        ]
        .iter()
        .map(|k| vec![(*k).to_string(), str_of(&m[*k])])
        .collect(),
        note: None,
    }));
    if let Some(inputs) = m["inputs"].as_array() {
        s.push(Section::Table(Table {
            caption: Some("Input files".into()),
            header: ["path", "bytes", "SHA-256", "sessions"]
                .map(String::from)
                .to_vec(),
            rows: inputs
                .iter()
                .map(|i| {
                    vec![
                        str_of(&i["path"]),
                        str_of(&i["size_bytes"]),
                        str_of(&i["sha256"]),
                        str_of(&i["n_sessions"]),
                    ]
                })
                .collect(),
            note: None,
        }));
    }
    if let Some(stages) = m["stage_wall_time_s"].as_object() {
        s.push(Section::Table(Table {
            caption: Some("Wall time per stage".into()),
            header: vec!["stage".into(), "seconds".into()],
            rows: stages
                .iter()
                .map(|(k, v)| {
                    let secs = v.as_f64().map_or_else(|| str_of(v), |x| format!("{x:.3}"));
                    vec![k.trim_end_matches("_s").to_string(), secs]
                })
                .collect(),
            note: None,
        }));
    }
    Ok(s)
}

/// The demo's report: what was simulated, the planted tuning vs the recovered Shesha per area,
/// then the Steinmetz pipeline's sections.
///
/// # Errors
/// See [`steinmetz_sections`].
pub fn demo_report(demo: &DemoSummary, run: &RunSummary) -> Result<Report> {
    let mut r = Report::new("neuropop demo report");
    r.push(Section::Paragraph(format!(
        "neuropop {} simulated Steinmetz-like recordings with planted per-area tuning, wrote \
         them in the NMA .npz format and ran the analyses on them.",
        env!("CARGO_PKG_VERSION")
    )));
    r.push(Section::Heading {
        level: 2,
        text: "Simulated data".into(),
    });
    let mut trials_by_session = std::collections::BTreeMap::new();
    for row in &run.rows {
        trials_by_session.insert(row.session, row.n_trials);
    }
    r.push(Section::List(vec![
        format!(
            "{} sessions in {} files: {}",
            demo.n_sessions,
            demo.data_files.len(),
            demo.data_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "{} trials in the analysed sessions",
            trials_by_session.values().sum::<usize>()
        ),
        format!(
            "{} area-sessions with ≥ 10 neurons, {} neurons in them",
            run.rows.len(),
            run.rows.iter().map(|x| x.n_neurons).sum::<usize>()
        ),
    ]));
    r.push(Section::Table(Table {
        caption: Some("Planted truth vs recovered".into()),
        header: [
            "area",
            "planted tuning gain",
            "mean Shesha",
            "area-sessions",
        ]
        .map(String::from)
        .to_vec(),
        rows: demo
            .area_stability
            .iter()
            .map(|(a, g, m, n)| vec![a.clone(), format!("{g:.2}"), f3(*m), n.to_string()])
            .collect(),
        note: Some(
            "Areas with a larger planted tuning gain should have a higher split-half Shesha \
             (odd vs even trials, cosine RDMs over contrast conditions)."
                .into(),
        ),
    }));
    for s in steinmetz_sections(run, 10)? {
        r.push(s);
    }
    if let Some(m) = &demo.maze {
        r.push(Section::Heading {
            level: 2,
            text: "Monkey maze recordings (simulated)".into(),
        });
        r.push(Section::Paragraph(format!(
            "{} sessions, {} units, {} trials and {} choice steps were simulated as spike \
             times, written as maze v1 HDF5 files ({}) and read back through the maze loader.",
            m.files.len(),
            m.n_units,
            m.n_trials,
            m.n_steps,
            m.files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
        r.push(Section::Table(Table {
            caption: Some("Planted codes vs recovered geometric stability, per region".into()),
            header: [
                "region",
                "planted goal gain (Hz)",
                "goal Shesha",
                "planted location gain (Hz)",
                "location Shesha",
                "sessions",
            ]
            .map(String::from)
            .to_vec(),
            rows: m
                .regions
                .iter()
                .map(|x| {
                    vec![
                        x.region.clone(),
                        format!("{:.1}", x.goal_gain_hz),
                        f3(x.goal_shesha),
                        format!("{:.1}", x.location_gain_hz),
                        f3(x.location_shesha),
                        format!("{} / {}", x.n_sessions.0, x.n_sessions.1),
                    ]
                })
                .collect(),
            note: Some(
                "Goal Shesha: odd/even split-half stability of the 4-goal RDM of spike counts \
                 0.1–0.6 s after the goal cue (one row per trial). Location Shesha: the same for \
                 the RDM over grid positions, counts 0–0.2 s after the choice options appear \
                 (one row per step). dmPFC carries the strongest planted goal code, vlPFC the \
                 strongest location code."
                    .into(),
            ),
        }));
    }
    Ok(r)
}

/// Writes the demo's report to `out/report.html` and returns its path.
///
/// # Errors
/// See [`demo_report`] and [`Report::write`].
pub fn write_demo_report(out: &Path, demo: &DemoSummary, run: &RunSummary) -> Result<PathBuf> {
    let path = out.join("report.html");
    demo_report(demo, run)?.write(&path)?;
    Ok(path)
}
