//! The one theme of neuropop's figures: journal sizes, font sizes in points, line widths, a
//! colour-blind-safe categorical palette (Okabe & Ito 2008) and sequential / diverging colour
//! maps.
//!
//! Sizes are physical (mm for the figure, pt for text and lines) and converted to pixels by
//! [`Scale`] for the output resolution, so a figure looks the same at 150 or 600 dpi.

use plotters::style::{Color, FontFamily, RGBColor, TextStyle};

/// Width of a single journal column (Nature, Cell, eLife: 85–89 mm).
pub const SINGLE_COLUMN_MM: f64 = 89.0;
/// Width of a 1.5-column figure.
pub const ONE_AND_HALF_COLUMN_MM: f64 = 120.0;
/// Width of a full-page (double-column) figure.
pub const DOUBLE_COLUMN_MM: f64 = 183.0;

/// The Okabe–Ito palette, reordered so that the first colours are the most distinct on white
/// (blue, orange, bluish green, vermillion, sky blue, reddish purple, yellow, black).
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];

/// Fonts, sizes and colours shared by every figure.
///
/// ```
/// let t = neuropop::plot::Theme::default();
/// assert!(t.title_pt > t.tick_pt);
/// assert_eq!(t.category(0), neuropop::plot::style::OKABE_ITO[0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    /// Text size of axis labels and legends (pt).
    pub label_pt: f64,
    /// Text size of tick labels (pt).
    pub tick_pt: f64,
    /// Text size of panel titles (pt).
    pub title_pt: f64,
    /// Text size of panel letters A, B, C (pt).
    pub panel_letter_pt: f64,
    /// Width of axes and error bars (pt).
    pub line_pt: f64,
    /// Radius of data markers (pt).
    pub marker_pt: f64,
    /// Outer margin of every panel (pt).
    pub margin_pt: f64,
    /// Page colour.
    pub background: RGBColor,
    /// Text and axis colour.
    pub foreground: RGBColor,
    /// Light lines (reference lines, missing cells).
    pub muted: RGBColor,
    /// Categorical colours, cycled by [`Theme::category`].
    pub palette: Vec<RGBColor>,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            label_pt: 7.0,
            tick_pt: 6.0,
            title_pt: 7.0,
            panel_letter_pt: 9.0,
            line_pt: 0.6,
            marker_pt: 1.6,
            margin_pt: 4.0,
            background: RGBColor(0xFF, 0xFF, 0xFF),
            foreground: RGBColor(0x22, 0x22, 0x22),
            muted: RGBColor(0xBB, 0xBB, 0xBB),
            palette: OKABE_ITO.to_vec(),
        }
    }
}

impl Theme {
    /// The `i`-th categorical colour (cycling through the palette).
    pub fn category(&self, i: usize) -> RGBColor {
        if self.palette.is_empty() {
            self.foreground
        } else {
            self.palette[i % self.palette.len()]
        }
    }
}

/// A theme at one output resolution: converts points to pixels and builds text styles.
///
/// ```
/// use neuropop::plot::{Scale, Theme};
/// let theme = Theme::default();
/// let s = Scale::new(&theme, 144.0); // 2 px per pt
/// assert_eq!(s.px(3.0), 6.0);
/// assert_eq!(s.stroke(0.2), 1); // never thinner than one pixel
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Scale<'a> {
    /// The theme.
    pub theme: &'a Theme,
    /// Pixels per typographic point (dpi / 72).
    pub px_per_pt: f64,
}

impl<'a> Scale<'a> {
    /// The theme at `dpi` pixels per inch.
    pub fn new(theme: &'a Theme, dpi: f64) -> Self {
        Scale {
            theme,
            px_per_pt: dpi / 72.0,
        }
    }

    /// `pt` points in pixels.
    pub fn px(&self, pt: f64) -> f64 {
        pt * self.px_per_pt
    }

    /// `pt` points in whole pixels (rounded), for sizes plotters takes as integers.
    pub fn pxi(&self, pt: f64) -> i32 {
        self.px(pt).round() as i32
    }

    /// A line width of `pt` points in pixels, at least 1.
    pub fn stroke(&self, pt: f64) -> u32 {
        self.px(pt).round().max(1.0) as u32
    }

    /// Text of `pt` points in the theme's (embedded) sans-serif font and foreground colour.
    pub fn text(&self, pt: f64) -> TextStyle<'static> {
        self.text_in(pt, self.theme.foreground)
    }

    /// Text of `pt` points in `colour`.
    pub fn text_in(&self, pt: f64, colour: RGBColor) -> TextStyle<'static> {
        let mut style = TextStyle::from((FontFamily::SansSerif, self.px(pt)));
        style.color = colour.to_backend_color();
        style
    }
}

fn lerp_table(table: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (table.len() - 1) as f64;
    let i = (pos.floor() as usize).min(table.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (table[i], table[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Viridis (perceptually uniform, colour-blind safe, prints in grey) at `t` ∈ [0, 1];
/// values outside are clamped, NaN maps to the low end.
///
/// ```
/// use neuropop::plot::style::viridis;
/// assert_eq!(viridis(0.0), plotters::style::RGBColor(68, 1, 84));
/// assert_eq!(viridis(1.0), plotters::style::RGBColor(253, 231, 37));
/// ```
pub fn viridis(t: f64) -> RGBColor {
    // Viridis sampled at 0, 0.125, ..., 1 (matplotlib's table); linear in between.
    const V: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    lerp_table(&V, t)
}

/// A blue–white–red diverging map for signed values (e.g. correlations) at `t` ∈ [−1, 1],
/// white at 0 (ColorBrewer RdBu, reversed so positive is red).
///
/// ```
/// use neuropop::plot::style::diverging;
/// assert_eq!(diverging(0.0), plotters::style::RGBColor(247, 247, 247));
/// assert!(diverging(1.0).0 > diverging(1.0).2); // red end
/// ```
pub fn diverging(t: f64) -> RGBColor {
    const D: [(u8, u8, u8); 9] = [
        (33, 102, 172),
        (67, 147, 195),
        (146, 197, 222),
        (209, 229, 240),
        (247, 247, 247),
        (253, 219, 199),
        (244, 165, 130),
        (214, 96, 77),
        (178, 24, 43),
    ];
    lerp_table(&D, (t + 1.0) / 2.0)
}

/// A lighter version of `c`: mixed with white by `amount` ∈ [0, 1].
///
/// ```
/// use plotters::style::RGBColor;
/// assert_eq!(neuropop::plot::style::lighten(RGBColor(0, 0, 0), 0.5), RGBColor(128, 128, 128));
/// ```
pub fn lighten(c: RGBColor, amount: f64) -> RGBColor {
    let a = amount.clamp(0.0, 1.0);
    let m = |v: u8| (v as f64 + (255.0 - v as f64) * a).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// A darker version of `c`: mixed with black by `amount` ∈ [0, 1] (marker outlines, so light
/// palette colours such as yellow stay visible on white).
///
/// ```
/// use plotters::style::RGBColor;
/// assert_eq!(neuropop::plot::style::darken(RGBColor(200, 100, 0), 0.5), RGBColor(100, 50, 0));
/// ```
pub fn darken(c: RGBColor, amount: f64) -> RGBColor {
    let a = 1.0 - amount.clamp(0.0, 1.0);
    let m = |v: u8| (v as f64 * a).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}
