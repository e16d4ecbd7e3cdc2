//! RDM heatmaps: one or more RDMs over the same conditions side by side (e.g. the odd- and
//! even-trial halves of a split-half Shesha), on one shared colour scale with a colour bar,
//! condition labels on the left and (rotated) below.
//!
//! The colour scale spans the off-diagonal values (the zero diagonal would otherwise take the
//! whole low end); diagonal cells are grey, undefined (NaN) cells white. Labels shrink to fit
//! small cells and, below 4 pt, only every k-th label is written.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{lighten, viridis};
use super::{
    DrawError, Figure, FigureOptions, Scale, nice_ticks, no_data, padded_range, tick_decimals,
    tick_step,
};
use crate::error::{Error, Result};
use crate::rsa::rdm::Rdm;

/// One heatmap with its title.
#[derive(Clone, Debug, PartialEq)]
pub struct RdmPanel {
    /// Title above the heatmap (e.g. "odd trials").
    pub title: String,
    /// The RDM; its labels (if any) name the conditions.
    pub rdm: Rdm,
}

/// RDM heatmaps side by side on one colour scale.
#[derive(Clone, Debug, PartialEq)]
pub struct RdmHeatmaps {
    /// The heatmaps (all over the same number of conditions).
    pub panels: Vec<RdmPanel>,
    /// Figure title (e.g. the area-session and its Shesha value).
    pub title: Option<String>,
    /// Colour-bar label (e.g. "cosine distance").
    pub colorbar_label: String,
}

const MIN_LABEL_PT: f64 = 4.0;

/// A colour-bar label: the same number of decimals for every tick.
fn fixed(v: f64, step: f64) -> String {
    let s = format!("{:.*}", tick_decimals(step), v);
    let s = if s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    };
    s.replacen('-', "\u{2212}", 1)
}

struct Layout {
    label_pt: f64,
    stride: usize,
    label_px: i32,
    cell: f64,
    x_start: f64,
    top: f64,
    gap: f64,
}

impl RdmHeatmaps {
    fn n(&self) -> usize {
        self.panels.first().map_or(0, |p| p.rdm.n())
    }

    fn labels(&self) -> Vec<String> {
        let n = self.n();
        self.panels
            .iter()
            .find_map(|p| p.rdm.labels().map(<[String]>::to_vec))
            .unwrap_or_else(|| (0..n).map(|i| i.to_string()).collect())
    }

    /// Checks that every panel has the same size.
    ///
    /// # Errors
    /// [`Error::Invalid`] for panels of different sizes.
    pub fn check(&self) -> Result<()> {
        let n = self.n();
        if let Some(p) = self.panels.iter().find(|p| p.rdm.n() != n) {
            return Err(Error::invalid(
                format!("RDM heatmap panel '{}'", p.title),
                format!("{n} conditions like the first panel"),
                p.rdm.n().to_string(),
            ));
        }
        Ok(())
    }

    fn value_range(&self) -> Option<(f64, f64)> {
        let r = padded_range(
            self.panels
                .iter()
                .flat_map(|p| p.rdm.upper().iter().copied()),
            0.0,
        )?;
        Some(r)
    }

    fn tick_width<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        ticks: &[f64],
        step: f64,
        s: &Scale,
    ) -> std::result::Result<i32, DrawError> {
        let style = s.text(s.theme.tick_pt);
        let mut w = 0;
        for &v in ticks {
            w = w.max(area.estimate_text_size(&fixed(v, step), &style)?.0 as i32);
        }
        Ok(w)
    }

    fn colorbar_width(&self, tick_w: i32, s: &Scale) -> f64 {
        s.px(6.0 + 6.0 + 2.0 + 4.0) + tick_w as f64 + s.px(s.theme.label_pt * 1.4 + 2.0)
    }

    fn layout<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        cb_w: f64,
        s: &Scale,
    ) -> std::result::Result<Layout, DrawError> {
        let t = s.theme;
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as f64, h as f64);
        let n = self.n() as f64;
        let p = self.panels.len() as f64;
        let m = s.px(t.margin_pt);
        let mut top = m;
        if self.title.is_some() {
            top += s.px(t.title_pt * 1.6);
        }
        if self.panels.iter().any(|p| !p.title.is_empty()) {
            top += s.px(t.label_pt * 1.5);
        }
        let gap = s.px(8.0);
        let labels = self.labels();
        let label_width = |pt: f64| -> std::result::Result<i32, DrawError> {
            let style = s.text(pt);
            let mut mw = 0;
            for l in &labels {
                mw = mw.max(area.estimate_text_size(l, &style)?.0 as i32);
            }
            Ok(mw + s.pxi(3.0))
        };
        let cell_for = |lw: f64| {
            let cw = (w - 2.0 * m - lw - cb_w - (p - 1.0) * gap) / (p * n);
            let ch = (h - top - lw - m) / n;
            cw.min(ch).max(1.0)
        };
        let mut label_pt = t.tick_pt;
        let mut lw = label_width(label_pt)? as f64;
        let mut cell = cell_for(lw);
        // Text needs about 1.15 × its size in height; shrink, then thin out the labels.
        let fits = |cell: f64, pt: f64| cell >= s.px(pt * 1.15);
        if !fits(cell, label_pt) {
            label_pt = (cell / s.px(1.15)).max(MIN_LABEL_PT).min(t.tick_pt);
            lw = label_width(label_pt)? as f64;
            cell = cell_for(lw);
        }
        let stride = if fits(cell, label_pt) {
            1
        } else {
            (s.px(label_pt * 1.15) / cell).ceil() as usize
        };
        let used = lw + p * n * cell + (p - 1.0) * gap + cb_w;
        let x_start = m + ((w - 2.0 * m - used) / 2.0).max(0.0);
        Ok(Layout {
            label_pt,
            stride: stride.max(1),
            label_px: lw as i32,
            cell,
            x_start,
            top,
            gap,
        })
    }
}

impl Figure for RdmHeatmaps {
    fn default_width_mm(&self) -> f64 {
        if self.panels.len() > 1 {
            super::style::ONE_AND_HALF_COLUMN_MM
        } else {
            super::style::SINGLE_COLUMN_MM * 0.8
        }
    }

    fn natural_height_mm(&self, width_mm: f64) -> f64 {
        let pt_mm = 25.4 / 72.0;
        let t = crate::plot::Theme::default();
        let chars = self
            .labels()
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1);
        let label_mm = chars as f64 * 0.6 * t.tick_pt * pt_mm + 3.0 * pt_mm;
        let cb_mm = 40.0 * pt_mm;
        let p = self.panels.len().max(1) as f64;
        let panel_mm =
            (width_mm - 2.0 * t.margin_pt * pt_mm - label_mm - cb_mm - (p - 1.0) * 8.0 * pt_mm) / p;
        let panel_titles = self.panels.iter().any(|p| !p.title.is_empty());
        let top_mm = (t.margin_pt
            + if panel_titles { t.label_pt * 1.5 } else { 0.0 }
            + if self.title.is_some() {
                t.title_pt * 1.6
            } else {
                0.0
            })
            * pt_mm;
        top_mm + panel_mm.max(10.0) + label_mm + t.margin_pt * pt_mm
    }

    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        s: &Scale,
    ) -> std::result::Result<(), DrawError> {
        let t = s.theme;
        let title = self.title.clone().unwrap_or_else(|| "RDM".into());
        if self.check().is_err() {
            return no_data(area, &title, "panels of different sizes", s);
        }
        let n = self.n();
        let range = self.value_range();
        let (Some((vmin, vmax)), true) = (range, n >= 2) else {
            return no_data(area, &title, "no finite dissimilarity", s);
        };
        let ticks = nice_ticks(vmin, vmax, 4);
        let step = tick_step(vmin, vmax, 4);
        let tick_w = self.tick_width(area, &ticks, step, s)?;
        let cb_w = self.colorbar_width(tick_w, s);
        let l = self.layout(area, cb_w, s)?;
        let (w, _) = area.dim_in_pixel();
        if let Some(tt) = &self.title {
            area.draw(&Text::new(
                tt.clone(),
                (w as i32 / 2, s.pxi(t.margin_pt)),
                s.text(t.title_pt).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        let labels = self.labels();
        let c = l.cell;
        let side = c * n as f64;
        let px = |v: f64| v.round() as i32;
        let frame = ShapeStyle::from(&t.foreground).stroke_width(s.stroke(t.line_pt * 0.8));
        let colour = |v: f64| {
            if !v.is_finite() {
                t.background
            } else {
                viridis((v - vmin) / (vmax - vmin))
            }
        };
        let label_style = s.text(l.label_pt);
        for (k, panel) in self.panels.iter().enumerate() {
            let x0 = l.x_start + l.label_px as f64 + k as f64 * (side + l.gap);
            let y0 = l.top;
            let sq = panel.rdm.square();
            for i in 0..n {
                for j in 0..n {
                    let fill = if i == j {
                        lighten(t.muted, 0.5)
                    } else {
                        colour(sq[[i, j]])
                    };
                    area.draw(&Rectangle::new(
                        [
                            (px(x0 + j as f64 * c), px(y0 + i as f64 * c)),
                            (px(x0 + (j + 1) as f64 * c), px(y0 + (i + 1) as f64 * c)),
                        ],
                        fill.filled(),
                    ))?;
                }
            }
            area.draw(&Rectangle::new(
                [(px(x0), px(y0)), (px(x0 + side), px(y0 + side))],
                frame,
            ))?;
            area.draw(&Text::new(
                panel.title.clone(),
                (px(x0 + side / 2.0), px(y0 - s.px(2.0))),
                s.text(t.label_pt).pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
            for (i, lab) in labels.iter().enumerate().step_by(l.stride) {
                let centre = px(x0 + (i as f64 + 0.5) * c);
                area.draw(&Text::new(
                    lab.clone(),
                    (centre, px(y0 + side + s.px(2.0))),
                    label_style
                        .transform(FontTransform::Rotate270)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                ))?;
                if k == 0 {
                    area.draw(&Text::new(
                        lab.clone(),
                        (px(x0 - s.px(2.0)), px(y0 + (i as f64 + 0.5) * c)),
                        label_style.pos(Pos::new(HPos::Right, VPos::Center)),
                    ))?;
                }
            }
        }
        // Colour bar, as tall as the heatmaps.
        let p = self.panels.len() as f64;
        let cx0 = l.x_start + l.label_px as f64 + p * side + (p - 1.0) * l.gap + s.px(6.0);
        let cx1 = cx0 + s.px(6.0);
        let steps = 128;
        for k in 0..steps {
            let f0 = k as f64 / steps as f64;
            let f1 = (k + 1) as f64 / steps as f64;
            area.draw(&Rectangle::new(
                [
                    (px(cx0), px(l.top + side * (1.0 - f1))),
                    (px(cx1), px(l.top + side * (1.0 - f0))),
                ],
                viridis((f0 + f1) / 2.0).filled(),
            ))?;
        }
        area.draw(&Rectangle::new(
            [(px(cx0), px(l.top)), (px(cx1), px(l.top + side))],
            frame,
        ))?;
        let tick_style = s.text(t.tick_pt).pos(Pos::new(HPos::Left, VPos::Center));
        for &v in &ticks {
            let y = px(l.top + side * (vmax - v) / (vmax - vmin));
            area.draw(&PathElement::new(
                vec![(px(cx1), y), (px(cx1 + s.px(2.0)), y)],
                frame,
            ))?;
            area.draw(&Text::new(
                fixed(v, step),
                (px(cx1 + s.px(3.0)), y),
                tick_style.clone(),
            ))?;
        }
        area.draw(&Text::new(
            self.colorbar_label.clone(),
            (px(cx1 + s.px(7.0)) + tick_w, px(l.top + side / 2.0)),
            s.text(t.label_pt)
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        Ok(())
    }
}

/// Writes RDM heatmaps side by side (one shared colour scale) to `path` (`.png` or `.svg`).
///
/// # Errors
/// [`Error::Invalid`] for panels of different sizes; see also [`super::save`].
///
/// ```
/// use neuropop::plot::{rdm_heatmaps, FigureOptions, RdmPanel};
/// use neuropop::rsa::rdm::Rdm;
/// let labels: Vec<String> = ["L0/R0", "L0.5/R0", "L0/R0.5", "L1/R0"].map(String::from).to_vec();
/// let odd = Rdm::new(4, vec![0.1, 0.4, 0.5, 0.3, 0.6, 0.2]).unwrap().with_labels(labels.clone()).unwrap();
/// let even = Rdm::new(4, vec![0.2, 0.4, 0.6, 0.3, 0.5, 0.1]).unwrap().with_labels(labels).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("rdms.png");
/// let panels = [RdmPanel { title: "odd trials".into(), rdm: odd }, RdmPanel { title: "even trials".into(), rdm: even }];
/// rdm_heatmaps(&panels, Some("VISp: Shesha ρ = 0.94"), "cosine distance", &path,
///              &FigureOptions::default().with_dpi(100.0)).unwrap();
/// assert!(path.exists());
/// ```
pub fn rdm_heatmaps(
    panels: &[RdmPanel],
    title: Option<&str>,
    colorbar_label: &str,
    path: &Path,
    opts: &FigureOptions,
) -> Result<()> {
    let fig = RdmHeatmaps {
        panels: panels.to_vec(),
        title: title.map(str::to_string),
        colorbar_label: colorbar_label.to_string(),
    };
    fig.check()?;
    super::save(&fig, path, opts)
}

/// Writes one RDM heatmap to `path` (`.png` or `.svg`); conditions are named by the RDM's
/// labels, else by their index.
///
/// # Errors
/// See [`super::save`].
///
/// ```
/// use neuropop::plot::{rdm_heatmap, FigureOptions};
/// let r = neuropop::rsa::rdm::Rdm::new(3, vec![0.2, 0.5, 0.4]).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("rdm.svg");
/// rdm_heatmap(&r, "cosine RDM", "cosine distance", &path, &FigureOptions::default()).unwrap();
/// assert!(std::fs::read_to_string(&path).unwrap().contains("cosine distance"));
/// ```
pub fn rdm_heatmap(
    rdm: &Rdm,
    title: &str,
    colorbar_label: &str,
    path: &Path,
    opts: &FigureOptions,
) -> Result<()> {
    let fig = RdmHeatmaps {
        panels: vec![RdmPanel {
            title: String::new(),
            rdm: rdm.clone(),
        }],
        title: Some(title.to_string()),
        colorbar_label: colorbar_label.to_string(),
    };
    super::save(&fig, path, opts)
}
