//! Small multiples of scatter plots (e.g. Shesha vs each behavioural measure), points coloured
//! by group (region) with one shared legend, and the Spearman statistics in each panel title.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::darken;

use super::{
    DrawError, Figure, FigureOptions, Scale, fit_text, fmt_num, fmt_p, fmt_tick, grid, no_data,
    padded_range, tick_step,
};
use crate::error::Result;

/// A correlation with its bootstrap CI, as in `behavior_coupling.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationStats {
    /// Spearman ρ.
    pub rho: f64,
    /// Lower CI bound (NaN: not shown).
    pub ci_low: f64,
    /// Upper CI bound.
    pub ci_high: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Number of pairs.
    pub n: usize,
}

impl CorrelationStats {
    /// "ρ = 0.42 [0.12, 0.63], p = 0.003, n = 40".
    ///
    /// ```
    /// let c = neuropop::plot::CorrelationStats { rho: 0.4213, ci_low: 0.12, ci_high: 0.634, p_value: 0.0031, n: 40 };
    /// assert_eq!(c.summary(), "ρ = 0.42 [0.12, 0.63], p = 0.0031, n = 40");
    /// ```
    pub fn summary(&self) -> String {
        let ci = if self.ci_low.is_finite() && self.ci_high.is_finite() {
            format!(
                " [{}, {}]",
                fmt_num(self.ci_low, 2),
                fmt_num(self.ci_high, 2)
            )
        } else {
            String::new()
        };
        format!(
            "ρ = {}{ci}, {}, n = {}",
            fmt_num(self.rho, 2),
            fmt_p(self.p_value),
            self.n
        )
    }
}

/// One panel: points `(x, y, group)`; non-finite pairs are not drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterPanel {
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Points with the index of their group in [`ScatterGrid::groups`].
    pub points: Vec<(f64, f64, usize)>,
    /// Statistics shown as the title; `None` shows the number of finite pairs.
    pub stats: Option<CorrelationStats>,
    /// Why there are no statistics (e.g. "fewer than 10 pairs"), shown after n.
    pub no_stats_reason: Option<String>,
}

impl ScatterPanel {
    /// A panel without statistics.
    ///
    /// ```
    /// let p = neuropop::plot::ScatterPanel::new("x", "y", vec![(1.0, 2.0, 0)]);
    /// assert!(p.stats.is_none());
    /// ```
    pub fn new(x_label: &str, y_label: &str, points: Vec<(f64, f64, usize)>) -> Self {
        ScatterPanel {
            x_label: x_label.into(),
            y_label: y_label.into(),
            points,
            stats: None,
            no_stats_reason: None,
        }
    }

    fn finite(&self) -> Vec<(f64, f64, usize)> {
        self.points
            .iter()
            .copied()
            .filter(|(x, y, _)| x.is_finite() && y.is_finite())
            .collect()
    }

    fn title(&self, n_finite: usize) -> String {
        match (&self.stats, &self.no_stats_reason) {
            (Some(s), _) => s.summary(),
            (None, Some(r)) => format!("n = {n_finite} ({r})"),
            (None, None) => format!("n = {n_finite}"),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        letter: Option<usize>,
        s: &Scale,
    ) -> std::result::Result<(), DrawError> {
        let t = s.theme;
        let pts = self.finite();
        let (Some(xr), Some(yr)) = (
            padded_range(pts.iter().map(|p| p.0), 0.06),
            padded_range(pts.iter().map(|p| p.1), 0.08),
        ) else {
            super::panel_header(area, letter, "", s)?;
            let what = format!("{} vs {}", self.y_label, self.x_label);
            return no_data(area, &what, "no pair with both values finite", s);
        };
        let header = super::panel_header(area, letter, &self.title(pts.len()), s)?;
        let m = s.pxi(t.margin_pt);
        let x_area = s.pxi(t.tick_pt + t.label_pt + 7.0);
        let y_area = s.pxi(t.tick_pt * 2.6 + t.label_pt + 5.0);
        let (w, h) = area.dim_in_pixel();
        let plot_w = w as i32 - y_area - 2 * m;
        let plot_h = h as i32 - header - x_area - m;
        let (x_desc, x_pt) = fit_text(area, &self.x_label, t.label_pt, t.tick_pt, plot_w, s)?;
        let (y_desc, y_pt) = fit_text(area, &self.y_label, t.label_pt, t.tick_pt, plot_h, s)?;
        let mut chart = ChartBuilder::on(area)
            .margin(m)
            .margin_top(header)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
        let x_step = tick_step(xr.0, xr.1, 5) / 2.5;
        let y_step = tick_step(yr.0, yr.1, 5) / 2.5;
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(ShapeStyle::from(&t.foreground).stroke_width(s.stroke(t.line_pt)))
            .set_all_tick_mark_size(s.pxi(2.0))
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&|v| fmt_tick(*v, x_step))
            .y_label_formatter(&|v| fmt_tick(*v, y_step))
            .x_label_style(s.text(t.tick_pt))
            .y_label_style(s.text(t.tick_pt))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .axis_desc_style(s.text(x_pt.min(y_pt)))
            .draw()?;
        let r = s.pxi(t.marker_pt * 1.2).max(2);
        let edge = |g: usize| {
            ShapeStyle::from(&darken(t.category(g), 0.35)).stroke_width(s.stroke(t.line_pt * 0.5))
        };
        chart.draw_series(pts.iter().flat_map(|&(x, y, g)| {
            [
                Circle::new((x, y), r, t.category(g).mix(0.85).filled()),
                Circle::new((x, y), r, edge(g)),
            ]
        }))?;
        Ok(())
    }
}

/// Legend entries `(group, x, row)` and the number of rows.
type LegendLayout = (Vec<(usize, i32, i32)>, i32);

/// Scatter panels in a grid with a legend of the groups that occur, below the panels.
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterGrid {
    /// The panels (lettered A, B, … when there are several).
    pub panels: Vec<ScatterPanel>,
    /// Group names; a point's group indexes this list and the theme palette.
    pub groups: Vec<String>,
    /// Panels per row.
    pub ncols: usize,
}

impl ScatterGrid {
    fn used_groups(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self
            .panels
            .iter()
            .flat_map(|p| p.finite().into_iter().map(|(_, _, g)| g))
            .collect();
        used.sort_unstable();
        used.dedup();
        used
    }

    /// Legend entries laid out in rows that fit `width` px, each row centred in `width`:
    /// `(group, x, row)` and the number of rows.
    fn legend_layout<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        width: i32,
        s: &Scale,
    ) -> std::result::Result<LegendLayout, DrawError> {
        let style = s.text(s.theme.label_pt);
        let gap = s.pxi(8.0);
        // (group, x, entry width) per row.
        let mut rows: Vec<Vec<(usize, i32, i32)>> = Vec::new();
        let mut x = 0;
        for g in self.used_groups() {
            let name = self.groups.get(g).map_or("?", String::as_str);
            let (w, _) = area.estimate_text_size(name, &style)?;
            let entry = s.pxi(s.theme.marker_pt * 2.4 + 3.0) + w as i32;
            if rows.is_empty() || (x > 0 && x + entry > width) {
                rows.push(Vec::new());
                x = 0;
            }
            if let Some(r) = rows.last_mut() {
                r.push((g, x, entry));
            }
            x += entry + gap;
        }
        let mut out = Vec::new();
        for (k, row) in rows.iter().enumerate() {
            let row_w = row.last().map_or(0, |&(_, x, w)| x + w);
            let x0 = ((width - row_w) / 2).max(0);
            out.extend(row.iter().map(|&(g, x, _)| (g, x0 + x, k as i32)));
        }
        Ok((out, rows.len() as i32))
    }
}

impl Figure for ScatterGrid {
    fn default_width_mm(&self) -> f64 {
        super::grid_default_width_mm(self.panels.len(), self.ncols)
    }

    fn natural_height_mm(&self, width_mm: f64) -> f64 {
        let ncols = self.ncols.clamp(1, self.panels.len().max(1));
        let nrows = self.panels.len().div_ceil(ncols).max(1) as f64;
        // Panels a little wider than tall, plus about one legend line.
        nrows * (width_mm / ncols as f64) * 0.72 + 8.0
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        s: &Scale,
    ) -> std::result::Result<(), DrawError> {
        if self.panels.is_empty() {
            return no_data(area, "Scatter", "no panels", s);
        }
        let (w, _) = area.dim_in_pixel();
        let margin = s.pxi(s.theme.margin_pt);
        let (entries, nrows) = self.legend_layout(area, w as i32 - 2 * margin, s)?;
        let line_h = s.pxi(s.theme.label_pt * 1.5);
        let legend_h = if nrows > 0 {
            nrows * line_h + margin
        } else {
            0
        };
        let (top, legend) = area.split_vertically(area.dim_in_pixel().1 as i32 - legend_h);
        let cells = grid(&top, self.panels.len(), self.ncols);
        let lettered = self.panels.len() > 1;
        for (i, (panel, cell)) in self.panels.iter().zip(&cells).enumerate() {
            panel.draw(cell, lettered.then_some(i), s)?;
        }
        let r = s.pxi(s.theme.marker_pt * 1.2).max(2);
        for &(g, x, row) in &entries {
            let cy = row * line_h + line_h / 2;
            let cx = margin + x + r;
            legend.draw(&Circle::new(
                (cx, cy),
                r,
                s.theme.category(g).mix(0.85).filled(),
            ))?;
            legend.draw(&Circle::new(
                (cx, cy),
                r,
                ShapeStyle::from(&darken(s.theme.category(g), 0.35))
                    .stroke_width(s.stroke(s.theme.line_pt * 0.5)),
            ))?;
            let name = self.groups.get(g).cloned().unwrap_or_else(|| "?".into());
            legend.draw(&Text::new(
                name,
                (cx + r + s.pxi(3.0), cy),
                s.text(s.theme.label_pt)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

/// Writes `panels` (two per row) with a legend of `groups` to `path` (`.png` or `.svg`).
/// A panel without finite pairs says "no data".
///
/// # Errors
/// See [`super::save`].
///
/// ```
/// use neuropop::plot::{scatter_grid, CorrelationStats, FigureOptions, ScatterPanel};
/// let mut panel = ScatterPanel::new("Shesha", "mean accuracy",
///     (0..20).map(|i| (i as f64 / 20.0, 0.5 + i as f64 / 50.0, i % 3)).collect());
/// panel.stats = Some(CorrelationStats { rho: 1.0, ci_low: 1.0, ci_high: 1.0, p_value: 0.0, n: 20 });
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("scatter.png");
/// let groups = vec!["Visual".to_string(), "Thalamus".into(), "Motor".into()];
/// scatter_grid(&[panel], &groups, &path, &FigureOptions::default().with_dpi(100.0)).unwrap();
/// assert!(path.exists());
/// ```
pub fn scatter_grid(
    panels: &[ScatterPanel],
    groups: &[String],
    path: &Path,
    opts: &FigureOptions,
) -> Result<()> {
    let fig = ScatterGrid {
        panels: panels.to_vec(),
        groups: groups.to_vec(),
        ncols: 2,
    };
    super::save(&fig, path, opts)
}
