//! Regional hierarchy: one metric per region as a bootstrap mean with its 95 % CI, over the
//! individual (area-session) values as deterministically jittered points; regions ordered by
//! mean, most stable on top, `n` in each label.
//!
//! Regions are rows (a horizontal point-range chart), so long region names never collide.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{darken, lighten};
use super::{DrawError, Figure, FigureOptions, Scale, grid, jitter, no_data, padded_range};
use crate::error::Result;

/// Mean and confidence interval of a group (e.g. one row of `regional_summary.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct MeanCi {
    /// Number of values the mean is over.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Lower CI bound (NaN: not drawn).
    pub ci_low: f64,
    /// Upper CI bound (NaN: not drawn).
    pub ci_high: f64,
}

/// One region of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionGroup {
    /// Region name.
    pub name: String,
    /// Index into the theme palette, so a region has the same colour in every figure.
    pub colour_index: usize,
    /// Individual values (non-finite values are not drawn and not counted).
    pub values: Vec<f64>,
    /// Summary; `None` (e.g. too few values for a bootstrap) draws the points only.
    pub summary: Option<MeanCi>,
}

/// One metric: a panel of the figure.
#[derive(Clone, Debug, PartialEq)]
pub struct HierarchyPanel {
    /// Panel title (the metric).
    pub title: String,
    /// Value-axis label, with units or definition.
    pub axis_label: String,
    /// Regions in any order (the panel orders them by mean).
    pub groups: Vec<RegionGroup>,
    /// A vertical reference line (e.g. 0 for correlations), drawn if inside the range.
    pub reference: Option<f64>,
}

/// Panels of [`HierarchyPanel`] in a grid, lettered A, B, … when there are several.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionalHierarchy {
    /// The panels.
    pub panels: Vec<HierarchyPanel>,
    /// Panels per row.
    pub ncols: usize,
}

struct Row<'a> {
    group: &'a RegionGroup,
    finite: Vec<f64>,
    centre: f64,
}

impl HierarchyPanel {
    /// Rows to draw, top first: regions with a summary by mean (descending), then regions with
    /// values but no summary by their plain mean; regions without finite values are left out.
    fn rows(&self) -> Vec<Row<'_>> {
        let mut rows: Vec<Row> = self
            .groups
            .iter()
            .filter_map(|g| {
                let finite: Vec<f64> = g.values.iter().copied().filter(|v| v.is_finite()).collect();
                let centre = match &g.summary {
                    Some(s) if s.mean.is_finite() => s.mean,
                    _ if finite.is_empty() => return None,
                    _ => finite.iter().sum::<f64>() / finite.len() as f64,
                };
                Some(Row {
                    group: g,
                    finite,
                    centre,
                })
            })
            .collect();
        let has = |r: &Row| r.group.summary.as_ref().is_some_and(|s| s.mean.is_finite());
        rows.sort_by(|a, b| has(b).cmp(&has(a)).then(b.centre.total_cmp(&a.centre)));
        rows
    }

    fn label(row: &Row) -> String {
        match &row.group.summary {
            Some(s) if s.mean.is_finite() => format!("{} (n = {})", row.group.name, s.n),
            _ => format!("{} (n = {}, no CI)", row.group.name, row.finite.len()),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        letter: Option<usize>,
        s: &Scale,
    ) -> std::result::Result<(), DrawError> {
        let t = s.theme;
        let rows = self.rows();
        let k = rows.len();
        let range = padded_range(
            rows.iter()
                .flat_map(|r| {
                    let (lo, hi) = r
                        .group
                        .summary
                        .as_ref()
                        .map_or((f64::NAN, f64::NAN), |m| (m.ci_low, m.ci_high));
                    r.finite.iter().copied().chain([lo, hi, r.centre])
                })
                .chain(self.reference),
            0.06,
        );
        let Some((lo, hi)) = range.filter(|_| k > 0) else {
            super::panel_header(area, letter, "", s)?;
            return no_data(area, &self.title, "no finite values in any region", s);
        };
        let header = super::panel_header(area, letter, &self.title, s)?;
        let labels: Vec<String> = rows.iter().map(Self::label).collect();
        let tick = s.text(t.tick_pt);
        let label_w = labels
            .iter()
            .map(|l| area.estimate_text_size(l, &tick).map(|(w, _)| w))
            .collect::<std::result::Result<Vec<_>, _>>()?
            .into_iter()
            .max()
            .unwrap_or(0) as i32;
        let m = s.pxi(t.margin_pt);
        let y_area = label_w + s.pxi(5.0);
        let plot_w = area.dim_in_pixel().0 as i32 - y_area - 2 * m;
        let (x_desc, desc_pt) =
            super::fit_text(area, &self.axis_label, t.label_pt, t.tick_pt, plot_w, s)?;
        let y_at = |i: usize| (k - 1 - i) as f64;
        let mut chart = ChartBuilder::on(area)
            .margin(m)
            .margin_top(header)
            .x_label_area_size(s.pxi(t.tick_pt + t.label_pt + 7.0))
            .y_label_area_size(y_area)
            .build_cartesian_2d(lo..hi, -0.6..k as f64 - 0.4)?;
        let step = super::tick_step(lo, hi, 5) / 2.5;
        let axis = ShapeStyle::from(&t.foreground).stroke_width(s.stroke(t.line_pt));
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(axis)
            .set_all_tick_mark_size(s.pxi(2.0))
            .x_labels(5)
            .x_label_formatter(&|v| super::fmt_tick(*v, step))
            .y_labels(0)
            .x_label_style(tick.clone())
            .y_label_style(tick.clone())
            .x_desc(x_desc)
            .axis_desc_style(s.text(desc_pt))
            .draw()?;
        // Region names: drawn by hand at each row (plotters' numeric y labels cannot be
        // placed at the rows).
        let base = area.get_base_pixel();
        let label_style = tick.pos(Pos::new(HPos::Right, VPos::Center));
        for (i, label) in labels.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(lo, y_at(i)));
            area.draw(&Text::new(
                label.clone(),
                (x - base.0 - s.pxi(3.0), y - base.1),
                label_style.clone(),
            ))?;
        }
        if let Some(r) = self.reference.filter(|r| *r > lo && *r < hi) {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(r, -0.6), (r, k as f64 - 0.4)],
                ShapeStyle::from(&t.muted).stroke_width(s.stroke(t.line_pt)),
            )))?;
        }
        let r_point = s.pxi(t.marker_pt).max(1);
        let r_mean = s.pxi(t.marker_pt * 1.7).max(2);
        let cap = 0.18;
        let line = |c: &RGBColor| ShapeStyle::from(c).stroke_width(s.stroke(t.line_pt * 1.6));
        for (i, row) in rows.iter().enumerate() {
            let y = y_at(i);
            let c = t.category(row.group.colour_index);
            let salt = row.group.colour_index as u64 + 1;
            let edge = ShapeStyle::from(&darken(c, 0.35)).stroke_width(s.stroke(t.line_pt * 0.5));
            chart.draw_series(row.finite.iter().enumerate().flat_map(|(j, &v)| {
                let at = (v, y + 0.55 * jitter(j, salt));
                [
                    Circle::new(at, r_point, lighten(c, 0.3).mix(0.8).filled()),
                    Circle::new(at, r_point, edge),
                ]
            }))?;
            let Some(m) = row.group.summary.as_ref().filter(|m| m.mean.is_finite()) else {
                continue;
            };
            if m.ci_low.is_finite() && m.ci_high.is_finite() {
                let fg = t.foreground;
                chart.draw_series([
                    PathElement::new(vec![(m.ci_low, y), (m.ci_high, y)], line(&fg)),
                    PathElement::new(vec![(m.ci_low, y - cap), (m.ci_low, y + cap)], line(&fg)),
                    PathElement::new(vec![(m.ci_high, y - cap), (m.ci_high, y + cap)], line(&fg)),
                ])?;
            }
            chart.draw_series([
                Circle::new((m.mean, y), r_mean, c.filled()),
                Circle::new(
                    (m.mean, y),
                    r_mean,
                    ShapeStyle::from(&t.foreground).stroke_width(s.stroke(t.line_pt)),
                ),
            ])?;
        }
        Ok(())
    }
}

impl Figure for RegionalHierarchy {
    fn default_width_mm(&self) -> f64 {
        super::grid_default_width_mm(self.panels.len(), self.ncols)
    }

    fn natural_height_mm(&self, _width_mm: f64) -> f64 {
        let ncols = self.ncols.clamp(1, self.panels.len().max(1));
        let nrows = self.panels.len().div_ceil(ncols).max(1);
        let max_rows = self
            .panels
            .iter()
            .map(|p| p.groups.len())
            .max()
            .unwrap_or(0)
            .max(3);
        // Title, axis, and about 12 pt per region row, converted from pt to mm.
        let panel_pt = 44.0 + 12.0 * max_rows as f64;
        nrows as f64 * panel_pt * 25.4 / 72.0
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        scale: &Scale,
    ) -> std::result::Result<(), DrawError> {
        if self.panels.is_empty() {
            return no_data(area, "Regional hierarchy", "no metrics to show", scale);
        }
        let cells = grid(area, self.panels.len(), self.ncols);
        let lettered = self.panels.len() > 1;
        for (i, (panel, cell)) in self.panels.iter().zip(&cells).enumerate() {
            panel.draw(cell, lettered.then_some(i), scale)?;
        }
        Ok(())
    }
}

/// Writes the regional hierarchy of `panels` (two per row) to `path` (`.png` or `.svg`).
///
/// A panel without any finite value says "no data" instead of failing.
///
/// # Errors
/// See [`super::save`].
///
/// ```
/// use neuropop::plot::{regional_hierarchy, FigureOptions, HierarchyPanel, MeanCi, RegionGroup};
/// let group = |name: &str, i: usize, values: Vec<f64>| RegionGroup {
///     name: name.into(),
///     colour_index: i,
///     summary: Some(MeanCi { n: values.len(), mean: values.iter().sum::<f64>() / values.len() as f64,
///                            ci_low: 0.2, ci_high: 0.7 }),
///     values,
/// };
/// let panel = HierarchyPanel {
///     title: "Shesha".into(),
///     axis_label: "split-half RDM Spearman ρ".into(),
///     groups: vec![group("Visual", 0, vec![0.6, 0.7, 0.5]), group("Thalamus", 1, vec![0.3, 0.2, 0.4])],
///     reference: Some(0.0),
/// };
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hierarchy.png");
/// regional_hierarchy(&[panel], &path, &FigureOptions::default().with_dpi(100.0)).unwrap();
/// assert!(path.exists());
/// ```
pub fn regional_hierarchy(
    panels: &[HierarchyPanel],
    path: &Path,
    opts: &FigureOptions,
) -> Result<()> {
    let fig = RegionalHierarchy {
        panels: panels.to_vec(),
        ncols: 2,
    };
    super::save(&fig, path, opts)
}
