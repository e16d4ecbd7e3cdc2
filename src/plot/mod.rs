//! Publication figures, drawn with plotters from analysis results.
//!
//! * [`style`] — the shared theme: journal widths, font sizes in pt, Okabe–Ito palette,
//!   viridis / diverging colour maps, [`Scale`] (pt → px at the output resolution).
//! * [`font`] — DejaVu Sans embedded in the binary, so text renders without system fonts.
//! * [`hierarchy`] — a metric per region: bootstrap mean ± CI over jittered points.
//! * [`scatter`] — small multiples of x vs y coloured by group, with Spearman statistics.
//! * [`rdm`] — RDM heatmaps (e.g. odd vs even split halves) with labels and a colour bar.
//!
//! Every figure is a value implementing [`Figure`] (so it can also be drawn into a panel of a
//! larger layout) and has a function `xxx(data, path, opts)` that writes it with [`save`]:
//! PNG or SVG by the file extension, through a temporary file renamed into place.
//! See `docs/figures.md` for the figures the pipelines write.

pub mod font;
pub mod hierarchy;
pub mod rdm;
pub mod scatter;
pub mod style;

use std::fmt;
use std::io::Write;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};
pub use hierarchy::{HierarchyPanel, MeanCi, RegionGroup, RegionalHierarchy, regional_hierarchy};
pub use rdm::{RdmHeatmaps, RdmPanel, rdm_heatmap, rdm_heatmaps};
pub use scatter::{CorrelationStats, ScatterGrid, ScatterPanel, scatter_grid};
pub use style::{Scale, Theme};

/// Size, resolution and theme of a rendered figure.
///
/// ```
/// use neuropop::plot::FigureOptions;
/// let o = FigureOptions::default().with_width_mm(120.0).with_dpi(150.0);
/// assert_eq!(o.width_mm, Some(120.0));
/// assert_eq!(o.dpi, 150.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FigureOptions {
    /// Figure width in mm (`None`: the figure's own default, one or two journal columns).
    pub width_mm: Option<f64>,
    /// Figure height in mm (`None`: the figure's natural height for its width).
    pub height_mm: Option<f64>,
    /// Resolution of PNG output in pixels per inch (SVG is always 96 px per inch).
    pub dpi: f64,
    /// Fonts, sizes and colours.
    pub theme: Theme,
}

impl Default for FigureOptions {
    fn default() -> Self {
        FigureOptions {
            width_mm: None,
            height_mm: None,
            dpi: 300.0,
            theme: Theme::default(),
        }
    }
}

impl FigureOptions {
    /// Sets the width in mm.
    pub fn with_width_mm(mut self, width_mm: f64) -> Self {
        self.width_mm = Some(width_mm);
        self
    }
    /// Sets the height in mm.
    ///
    /// ```
    /// assert_eq!(neuropop::plot::FigureOptions::default().with_height_mm(50.0).height_mm, Some(50.0));
    /// ```
    pub fn with_height_mm(mut self, height_mm: f64) -> Self {
        self.height_mm = Some(height_mm);
        self
    }
    /// Sets the PNG resolution.
    pub fn with_dpi(mut self, dpi: f64) -> Self {
        self.dpi = dpi;
        self
    }

    /// The figure's size in mm under these options.
    fn size_mm<F: Figure + ?Sized>(&self, fig: &F) -> (f64, f64) {
        let w = self.width_mm.unwrap_or_else(|| fig.default_width_mm());
        let h = self.height_mm.unwrap_or_else(|| fig.natural_height_mm(w));
        (w, h)
    }

    /// The figure's size in pixels at `dpi`, checked to be drawable.
    fn size_px<F: Figure + ?Sized>(&self, fig: &F, dpi: f64) -> Result<(u32, u32)> {
        let (w, h) = self.size_mm(fig);
        let px = |mm: f64| mm / 25.4 * dpi;
        let (wp, hp) = (px(w), px(h));
        let ok = |v: f64| v.is_finite() && (16.0..=20_000.0).contains(&v);
        if !ok(wp) || !ok(hp) || !dpi.is_finite() || dpi <= 0.0 {
            return Err(Error::invalid(
                "figure size",
                "16 to 20000 pixels per side (check width_mm, height_mm, dpi)",
                format!("{w:.1} × {h:.1} mm at {dpi} dpi = {wp:.0} × {hp:.0} px"),
            ));
        }
        Ok((wp.round() as u32, hp.round() as u32))
    }
}

/// A drawing failure inside plotters (backend, font, or coordinate error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawError(pub String);

impl fmt::Display for DrawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DrawError {}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
}

/// A figure that can draw itself into any plotters drawing area (a whole image or one panel).
pub trait Figure {
    /// Width in mm when [`FigureOptions::width_mm`] is `None`.
    fn default_width_mm(&self) -> f64;
    /// Height in mm for `width_mm` when [`FigureOptions::height_mm`] is `None`.
    fn natural_height_mm(&self, width_mm: f64) -> f64;
    /// Draws the figure onto `area` (already filled with the background).
    ///
    /// # Errors
    /// A plotters failure.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        scale: &Scale,
    ) -> std::result::Result<(), DrawError>;
}

/// Output format of a figure file, from its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Bitmap at [`FigureOptions::dpi`].
    Png,
    /// Vector graphics (text as `<text>` in the reader's sans-serif font).
    Svg,
}

impl Format {
    /// The format of `path` (`.png` or `.svg`, any case).
    ///
    /// # Errors
    /// [`Error::Invalid`] for another extension.
    ///
    /// ```
    /// use neuropop::plot::Format;
    /// assert_eq!(Format::from_path("a/b.PNG".as_ref()).unwrap(), Format::Png);
    /// assert!(Format::from_path("a/b.pdf".as_ref()).is_err());
    /// ```
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            other => Err(Error::invalid(
                format!("figure path {}", path.display()),
                "a .png or .svg extension",
                other.map_or("no extension".to_string(), |e| format!(".{e}")),
            )),
        }
    }
}

fn draw_error(path: &Path, e: impl fmt::Display) -> Error {
    Error::io(
        path,
        std::io::Error::other(format!("rendering figure failed: {e}")),
    )
}

/// Renders `fig` to `path` (PNG or SVG by extension), writing a temporary file in the same
/// directory and renaming it, so a reader never sees a half-written figure.
///
/// # Errors
/// Unsupported extension, impossible size, missing directory, or a drawing failure — all
/// naming `path`.
///
/// ```
/// use neuropop::plot::{save, FigureOptions, ScatterGrid, ScatterPanel};
/// let dir = tempfile::tempdir().unwrap();
/// let fig = ScatterGrid {
///     panels: vec![ScatterPanel::new("x", "y", vec![(0.1, 0.2, 0), (0.5, 0.4, 1)])],
///     groups: vec!["A".into(), "B".into()],
///     ncols: 1,
/// };
/// save(&fig, &dir.path().join("s.svg"), &FigureOptions::default()).unwrap();
/// assert!(std::fs::read_to_string(dir.path().join("s.svg")).unwrap().starts_with("<svg"));
/// ```
pub fn save<F: Figure>(fig: &F, path: &Path, opts: &FigureOptions) -> Result<()> {
    font::ensure_registered()?;
    let format = Format::from_path(path)?;
    let (dir, name) = crate::output::dir_and_name(path, "figure");
    let suffix = match format {
        Format::Png => ".png",
        Format::Svg => ".svg",
    };
    let mut tmp = crate::output::temp_file_in(dir, name, suffix)?;
    match format {
        Format::Png => {
            let size = opts.size_px(fig, opts.dpi)?;
            let scale = Scale::new(&opts.theme, opts.dpi);
            let root = BitMapBackend::new(tmp.path(), size).into_drawing_area();
            paint(&root, fig, &scale).map_err(|e| draw_error(path, e))?;
        }
        Format::Svg => {
            let size = opts.size_px(fig, 96.0)?;
            let scale = Scale::new(&opts.theme, 96.0);
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
                paint(&root, fig, &scale).map_err(|e| draw_error(path, e))?;
            }
            tmp.write_all(text.as_bytes())
                .map_err(|e| Error::io(tmp.path(), e))?;
        }
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

fn paint<DB: DrawingBackend, F: Figure>(
    root: &DrawingArea<DB, Shift>,
    fig: &F,
    scale: &Scale,
) -> std::result::Result<(), DrawError> {
    root.fill(&scale.theme.background)?;
    fig.draw(root, scale)?;
    root.present()?;
    Ok(())
}

/// Renders `fig` in memory at `opts.dpi`: `(width, height, RGB bytes row by row)`. For tests and
/// for embedding without a file.
///
/// # Errors
/// Impossible size or a drawing failure.
///
/// ```
/// use neuropop::plot::{render_rgb, FigureOptions, ScatterGrid, ScatterPanel};
/// let fig = ScatterGrid {
///     panels: vec![ScatterPanel::new("x", "y", vec![(0.1, 0.2, 0), (0.5, 0.4, 0)])],
///     groups: vec!["A".into()],
///     ncols: 1,
/// };
/// let (w, h, rgb) = render_rgb(&fig, &FigureOptions::default().with_dpi(72.0)).unwrap();
/// assert_eq!(rgb.len(), (w * h * 3) as usize);
/// assert!(rgb.iter().any(|&v| v < 128)); // something dark was drawn
/// ```
pub fn render_rgb<F: Figure>(fig: &F, opts: &FigureOptions) -> Result<(u32, u32, Vec<u8>)> {
    font::ensure_registered()?;
    let (w, h) = opts.size_px(fig, opts.dpi)?;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let scale = Scale::new(&opts.theme, opts.dpi);
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        paint(&root, fig, &scale)
            .map_err(|e| Error::invalid("rendering figure in memory", "success", e.to_string()))?;
    }
    Ok((w, h, buf))
}

/// Splits `area` into a grid of `n` panels, `ncols` per row (row-major).
///
/// ```
/// use plotters::prelude::*;
/// let mut buf = vec![0u8; 100 * 50 * 3];
/// let root = BitMapBackend::with_buffer(&mut buf, (100, 50)).into_drawing_area();
/// let panels = neuropop::plot::grid(&root, 3, 2);
/// assert_eq!(panels.len(), 3);
/// assert_eq!(panels[0].dim_in_pixel(), (50, 25));
/// ```
pub fn grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    n: usize,
    ncols: usize,
) -> Vec<DrawingArea<DB, Shift>> {
    let ncols = ncols.clamp(1, n.max(1));
    let nrows = n.div_ceil(ncols).max(1);
    let mut cells = area.split_evenly((nrows, ncols));
    cells.truncate(n);
    cells
}

/// Fills a panel that has nothing to show: its title and "no data" with the reason, centred.
///
/// # Errors
/// A plotters failure.
pub fn no_data<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    reason: &str,
    scale: &Scale,
) -> std::result::Result<(), DrawError> {
    let (w, h) = area.dim_in_pixel();
    let (cx, cy) = (w as i32 / 2, h as i32 / 2);
    let t = scale.theme;
    let centre = Pos::new(HPos::Center, VPos::Center);
    area.draw(&Text::new(
        title.to_string(),
        (cx, cy - scale.pxi(t.title_pt * 1.4)),
        scale.text(t.title_pt).pos(centre),
    ))?;
    area.draw(&Text::new(
        format!("no data: {reason}"),
        (cx, cy),
        scale.text_in(t.label_pt, t.muted).pos(centre),
    ))?;
    Ok(())
}

/// A deterministic offset in [−0.5, 0.5) for item `i` of group `salt` (splitmix64), so jittered
/// points sit at the same place in every rendering.
///
/// ```
/// let a = neuropop::plot::jitter(3, 1);
/// assert_eq!(a, neuropop::plot::jitter(3, 1));
/// assert!((-0.5..0.5).contains(&a));
/// ```
pub fn jitter(i: usize, salt: u64) -> f64 {
    let mut z = (i as u64)
        .wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

/// Finite-value range of `values` padded by `pad` of its span on each side; a single value or
/// a constant gets ±0.5 (or ±10 % of its magnitude). `None` without finite values.
///
/// ```
/// assert_eq!(neuropop::plot::padded_range([0.0, 1.0, f64::NAN], 0.1), Some((-0.1, 1.1)));
/// assert_eq!(neuropop::plot::padded_range([f64::NAN], 0.1), None);
/// ```
pub fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo > hi {
        return None;
    }
    if hi - lo < 1e-12 {
        let d = if lo.abs() > 1e-12 {
            0.1 * lo.abs()
        } else {
            0.5
        };
        return Some((lo - d, hi + d));
    }
    let d = (hi - lo) * pad;
    Some((lo - d, hi + d))
}

/// Formats a number for figure text: `digits` significant digits (at least the integer part),
/// a typographic minus, "–" for NaN.
///
/// ```
/// use neuropop::plot::fmt_num;
/// assert_eq!(fmt_num(0.41234, 2), "0.41");
/// assert_eq!(fmt_num(-12.4, 2), "−12");
/// assert_eq!(fmt_num(f64::NAN, 2), "–");
/// ```
pub fn fmt_num(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{:.*}", decimals, v);
    // Typographic minus, as journals print it.
    s.replacen('-', "\u{2212}", 1)
}

/// Formats a p-value: "p < 0.001" below 0.001, else two significant digits.
///
/// ```
/// assert_eq!(neuropop::plot::fmt_p(0.0004), "p < 0.001");
/// assert_eq!(neuropop::plot::fmt_p(0.0312), "p = 0.031");
/// ```
pub fn fmt_p(p: f64) -> String {
    if p.is_finite() && p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {}", fmt_num(p, 2))
    }
}

/// The round step (1, 2, 2.5 or 5 × 10^k) giving the number of ticks in `[lo, hi]` closest to
/// `target` (NaN for an empty or non-finite range).
///
/// ```
/// assert_eq!(neuropop::plot::tick_step(0.0, 1.0, 5), 0.25); // 0, 0.25, …, 1: five ticks
/// assert_eq!(neuropop::plot::tick_step(0.0, 1.0, 6), 0.2);
/// assert_eq!(neuropop::plot::tick_step(0.083, 0.917, 4), 0.2);
/// ```
pub fn tick_step(lo: f64, hi: f64, target: usize) -> f64 {
    if !lo.is_finite() || !hi.is_finite() || hi - lo < 1e-12 {
        return f64::NAN;
    }
    let target = target.max(1) as f64;
    let mag = 10f64.powi(((hi - lo) / target).log10().floor() as i32);
    let count = |step: f64| ((hi / step).floor() - (lo / step).ceil() + 1.0).max(0.0);
    [0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .min_by(|a, b| {
            let (da, db) = ((count(*a) - target).abs(), (count(*b) - target).abs());
            // On a tie prefer the larger (rounder, sparser) step.
            da.total_cmp(&db).then(b.total_cmp(a))
        })
        .unwrap_or(mag)
}

/// About `target` round tick values inside `[lo, hi]` (see [`tick_step`]).
///
/// ```
/// let t = neuropop::plot::nice_ticks(0.083, 0.917, 4);
/// assert_eq!(t.len(), 4);
/// assert!((t[0] - 0.2).abs() < 1e-12 && (t[3] - 0.8).abs() < 1e-12);
/// assert_eq!(neuropop::plot::nice_ticks(1.0, 1.0, 4), vec![1.0]);
/// ```
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if lo.is_finite() && (hi - lo).abs() < 1e-12 {
        return vec![lo];
    }
    let step = tick_step(lo, hi, target);
    if !step.is_finite() {
        return Vec::new();
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick label for `v` on an axis with tick spacing about `step`: enough decimals for the step,
/// trailing zeros trimmed, "0" for rounding noise, a typographic minus.
///
/// ```
/// use neuropop::plot::fmt_tick;
/// assert_eq!(fmt_tick(0.5000000001, 0.1), "0.5");
/// assert_eq!(fmt_tick(0.25, 0.25), "0.25");
/// assert_eq!(fmt_tick(-5.6e-17, 0.2), "0");
/// assert_eq!(fmt_tick(-0.4, 0.2), "\u{2212}0.4");
/// assert_eq!(fmt_tick(10.0, 5.0), "10");
/// ```
pub fn fmt_tick(v: f64, step: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let step = if step.is_finite() && step > 0.0 {
        step
    } else {
        v.abs().max(1e-12)
    };
    let decimals = (1 - step.log10().floor() as i32).clamp(0, 12) as usize;
    let mut s = format!("{:.*}", decimals, v);
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" {
        s = "0".into();
    }
    s.replacen('-', "\u{2212}", 1)
}

/// The number of decimals that writes every multiple of `step` exactly (at most 9), so all
/// labels of an axis with a known step have the same format (0.75, 1.00, 1.25).
///
/// ```
/// assert_eq!(neuropop::plot::tick_decimals(0.25), 2);
/// assert_eq!(neuropop::plot::tick_decimals(5.0), 0);
/// ```
pub fn tick_decimals(step: f64) -> usize {
    (0..9)
        .find(|&k| {
            let v = step * 10f64.powi(k as i32);
            (v - v.round()).abs() < 1e-6 * v.abs().max(1.0)
        })
        .unwrap_or(9)
}

/// `text` at `pt` points, shrunk (down to `min_pt`) and then shortened with "…" until it is at
/// most `max_px` wide, so axis labels and titles never run off their panel.
///
/// # Errors
/// A font failure.
pub fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    pt: f64,
    min_pt: f64,
    max_px: i32,
    scale: &Scale,
) -> std::result::Result<(String, f64), DrawError> {
    let width = |t: &str, pt: f64| -> std::result::Result<i32, DrawError> {
        Ok(area.estimate_text_size(t, &scale.text(pt))?.0 as i32)
    };
    let w = width(text, pt)?;
    if w <= max_px {
        return Ok((text.to_string(), pt));
    }
    let size = (pt * max_px as f64 / w.max(1) as f64).max(min_pt.min(pt));
    let mut chars: Vec<char> = text.chars().collect();
    let mut out = text.to_string();
    while width(&out, size)? > max_px && chars.len() > 1 {
        chars.pop();
        out = chars.iter().collect::<String>().trim_end().to_string() + "…";
    }
    Ok((out, size))
}

/// Draws a panel's header: its letter (A, B, … for `letter` 0, 1, …) at the top left and the
/// title centred (or, if it would touch the letter, left-aligned after it), shrunk to fit.
/// Returns the header height in pixels, to be kept free above the plot.
///
/// # Errors
/// A plotters failure.
pub fn panel_header<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    letter: Option<usize>,
    title: &str,
    scale: &Scale,
) -> std::result::Result<i32, DrawError> {
    let t = scale.theme;
    let w = area.dim_in_pixel().0 as i32;
    let pad = scale.pxi(1.5);
    let mut left = pad;
    if let Some(i) = letter {
        let letter = char::from(b'A' + (i % 26) as u8).to_string();
        let style = scale.text(t.panel_letter_pt);
        let lw = area.estimate_text_size(&letter, &style)?.0 as i32;
        area.draw(&Text::new(
            letter,
            (pad, pad),
            style.pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
        left = pad + lw + scale.pxi(4.0);
    }
    let height = scale.pxi(t.panel_letter_pt.max(t.title_pt * 1.3)) + 2 * pad;
    if title.is_empty() {
        return Ok(height);
    }
    let (text, pt) = fit_text(area, title, t.title_pt, t.tick_pt, w - left - pad, scale)?;
    let tw = area.estimate_text_size(&text, &scale.text(pt))?.0 as i32;
    let x = ((w - tw) / 2).max(left);
    let y = pad + scale.pxi((t.panel_letter_pt - pt).max(0.0) * 0.5);
    area.draw(&Text::new(
        text,
        (x, y),
        scale.text(pt).pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(height)
}

/// Default width of a grid figure: a double journal column when it has several columns of
/// panels, a single column otherwise.
pub(crate) fn grid_default_width_mm(n_panels: usize, ncols: usize) -> f64 {
    if n_panels > 1 && ncols > 1 {
        style::DOUBLE_COLUMN_MM
    } else {
        style::SINGLE_COLUMN_MM
    }
}
