//! Figures of a pipeline run: each written as PNG and SVG into `DIR/figures/`, with its
//! caption; a figure that cannot be made is recorded (manifest, report) and never stops the run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One figure written (PNG path relative to the output directory; an SVG sits beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FigureFile {
    /// Path of the PNG relative to the output directory, e.g. `figures/regional_hierarchy.png`.
    pub file: PathBuf,
    /// What the figure shows.
    pub caption: String,
}

/// A figure that could not be made, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FigureFailure {
    /// Figure name.
    pub figure: String,
    /// The error.
    pub error: String,
}

/// The figures of a run: written files and failures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FiguresReport {
    /// Written figures.
    pub files: Vec<FigureFile>,
    /// Figures that failed.
    pub failures: Vec<FigureFailure>,
}

/// Writes a run's figures into `DIR/figures/` and keeps the account of them.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let mut w = neuropop::pipeline::figures::FigureWriter::new(dir.path());
/// w.emit("broken", "never drawn".into(), &|_p| Err(neuropop::Error::invalid("x", "y", "z")));
/// let report = w.finish();
/// assert!(report.files.is_empty());
/// assert_eq!(report.failures[0].figure, "broken");
/// ```
#[derive(Debug)]
pub struct FigureWriter {
    dir: Option<PathBuf>,
    report: FiguresReport,
}

impl FigureWriter {
    /// A writer into `out/figures/` (created here; a failure to create it is recorded).
    pub fn new(out: &Path) -> FigureWriter {
        let dir = out.join("figures");
        let mut report = FiguresReport::default();
        let dir = match std::fs::create_dir_all(&dir) {
            Ok(()) => Some(dir),
            Err(e) => {
                report.failures.push(FigureFailure {
                    figure: "figures/".into(),
                    error: Error::io(&dir, e).to_string(),
                });
                None
            }
        };
        FigureWriter { dir, report }
    }

    /// Draws figure `name` twice, as `figures/NAME.png` and `figures/NAME.svg` (the drawing
    /// function picks the backend from the extension), recording it or its failure.
    pub fn emit(&mut self, name: &str, caption: String, draw: &dyn Fn(&Path) -> Result<()>) {
        let Some(dir) = &self.dir else { return };
        let result = draw(&dir.join(format!("{name}.png")))
            .and_then(|()| draw(&dir.join(format!("{name}.svg"))));
        match result {
            Ok(()) => self.report.files.push(FigureFile {
                file: PathBuf::from("figures").join(format!("{name}.png")),
                caption,
            }),
            Err(e) => self.fail(name, e.to_string()),
        }
    }

    /// Records a figure that could not be made.
    pub fn fail(&mut self, name: &str, error: String) {
        self.report.failures.push(FigureFailure {
            figure: name.into(),
            error,
        });
    }

    /// The account of the figures.
    pub fn finish(self) -> FiguresReport {
        self.report
    }
}

/// A file-name-safe version of a name (area, region): ASCII letters and digits kept, the
/// rest `_`.
///
/// ```
/// assert_eq!(neuropop::pipeline::figures::file_safe("CA1/2 (x)"), "CA1_2__x_");
/// ```
pub fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The report sections of a run's figures: each written figure with its caption, then a list
/// of those that failed.
///
/// # Errors
/// An unreadable or non-PNG figure file.
pub fn figure_sections(out: &Path, figures: &FiguresReport) -> Result<Vec<crate::report::Section>> {
    use crate::report::{Section, figure_from_png};
    let mut s = Vec::new();
    for f in &figures.files {
        s.push(figure_from_png(&out.join(&f.file), &f.caption)?);
    }
    if !figures.failures.is_empty() {
        s.push(Section::Paragraph("Figures that could not be made:".into()));
        s.push(Section::List(
            figures
                .failures
                .iter()
                .map(|f| format!("{}: {}", f.figure, f.error))
                .collect(),
        ));
    }
    Ok(s)
}
