//! A self-contained HTML report (`report.html`): headings, paragraphs, tables and PNG figures
//! embedded as base64 data URIs, with inline CSS and no scripts or external resources, so it
//! opens anywhere and can be mailed as one file.
//!
//! A report is a list of [`Section`]s. It knows headings, paragraphs, lists, tables and
//! figures, nothing of who calls it: each pipeline contributes its own sections and
//! `neuropop demo` assembles them.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};

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

/// A number with three decimals for a report table; empty when undefined (NaN).
///
/// ```
/// assert_eq!(neuropop::report::fmt3(0.12345), "0.123");
/// assert_eq!(neuropop::report::fmt3(f64::NAN), "");
/// ```
pub fn fmt3(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        String::new()
    }
}

/// A p-value for a report table: three decimals, scientific below 0.001, empty when undefined.
///
/// ```
/// assert_eq!(neuropop::report::fmt_p(0.0412), "0.041");
/// assert_eq!(neuropop::report::fmt_p(0.00012), "1.2e-4");
/// ```
pub fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        String::new()
    } else if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}
