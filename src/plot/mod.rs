//! Charts as `plotly::Plot` values.
//!
//! Every function returns a [`Plot`] and never displays it: in a notebook
//! the plot shows itself when it is a cell's last value (plotly's own
//! `evcxr_display`, MIME type `application/vnd.plotly.v1+json`); in a program
//! call `plot.write_html(path)`. Values are rounded to 6 significant digits
//! before they are written into the figure, which keeps a 33-year daily
//! chart of 20 assets to a few MB without a visible change.

use chrono::NaiveDate;
use ndarray::ArrayView2;
use plotly::color::NamedColor;
use plotly::common::{ColorScale, ColorScalePalette, ErrorData, ErrorType, Line, Mode};
use plotly::layout::{Axis, AxisType, BarMode, HoverMode, Layout};
use plotly::{Bar, HeatMap, Plot, Scatter};

/// Rounds to 6 significant digits (NaN stays NaN and plots as a gap).
pub(crate) fn round6(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let mag = 10f64.powi(5 - x.abs().log10().floor() as i32);
    (x * mag).round() / mag
}

fn date_strings(dates: &[NaiveDate]) -> Vec<String> {
    dates.iter().map(|d| d.format("%Y-%m-%d").to_string()).collect()
}

/// Line chart of several series over dates.
///
/// `series` are (name, values) pairs, each as long as `dates`.
pub fn lines(title: &str, dates: &[NaiveDate], series: &[(String, Vec<f64>)], y_title: &str, log_y: bool) -> Plot {
    let x = date_strings(dates);
    let mut plot = Plot::new();
    for (name, y) in series {
        let y: Vec<f64> = y.iter().copied().map(round6).collect();
        plot.add_trace(Scatter::new(x.clone(), y).name(name).mode(Mode::Lines).line(Line::new().width(1.2)));
    }
    let mut y_axis = Axis::new().title(y_title);
    if log_y {
        // Plotly labels the ticks between powers of ten by their leading
        // digit alone ("2" for 200); a format labels each in full.
        y_axis = y_axis.type_(AxisType::Log).tick_format(",~g");
    }
    plot.set_layout(Layout::new().title(title).y_axis(y_axis).hover_mode(HoverMode::XUnified).height(480));
    plot
}

/// Histogram of each column of `values`, pre-binned on common bins, drawn as
/// overlaid bars of density, with a normal density of the pooled mean and
/// standard deviation for comparison.
pub fn histogram(title: &str, names: &[String], values: ArrayView2<'_, f64>, bins: usize) -> Plot {
    let all: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let mut plot = Plot::new();
    if all.is_empty() || bins == 0 {
        plot.set_layout(Layout::new().title(title));
        return plot;
    }
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
    let centers: Vec<f64> = (0..bins).map(|b| round6(lo + (b as f64 + 0.5) * width)).collect();
    // Smallest and largest positive bar height, to fit the log axis to the
    // data rather than to the normal curve's far tails.
    let (mut floor, mut top) = (f64::INFINITY, 0.0f64);
    for (j, name) in names.iter().enumerate() {
        let col: Vec<f64> = values.column(j).iter().copied().filter(|v| v.is_finite()).collect();
        let mut counts = vec![0usize; bins];
        for v in &col {
            let b = (((v - lo) / width) as usize).min(bins - 1);
            counts[b] += 1;
        }
        let n = col.len().max(1) as f64;
        let density: Vec<f64> = counts.iter().map(|&c| round6(c as f64 / (n * width))).collect();
        for &d in density.iter().filter(|d| **d > 0.0) {
            floor = floor.min(d);
            top = top.max(d);
        }
        plot.add_trace(Bar::new(centers.clone(), density).name(name).opacity(0.5));
    }
    let m = crate::stats::mean(&all);
    let s = crate::stats::std(&all);
    if s > 0.0 {
        let (xs, ys): (Vec<f64>, Vec<f64>) = (0..=200)
            .map(|i| lo + (hi - lo) * i as f64 / 200.0)
            .map(|x| (x, (-(x - m).powi(2) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())))
            .filter(|(_, y)| *y >= floor / 2.0)
            .map(|(x, y)| (round6(x), round6(y)))
            .unzip();
        top = top.max(ys.iter().copied().fold(0.0, f64::max));
        plot.add_trace(
            Scatter::new(xs, ys)
                .name("normal (pooled mean, sd)")
                .mode(Mode::Lines)
                .line(Line::new().color(NamedColor::Black).width(1.5)),
        );
    }
    let y_range =
        if floor.is_finite() && top > 0.0 { vec![(floor / 2.0).log10(), (top * 2.0).log10()] } else { vec![-3.0, 3.0] };
    plot.set_layout(
        Layout::new()
            .title(title)
            .bar_mode(BarMode::Overlay)
            .x_axis(Axis::new().title("return"))
            .y_axis(Axis::new().title("density").type_(AxisType::Log).range(y_range))
            .height(480),
    );
    plot
}

/// One labelled point per name: `points` are (name, x, y); each axis is
/// (title, d3 tick format such as `".1%"`).
pub fn labelled_points(title: &str, points: &[(String, f64, f64)], x_axis: (&str, &str), y_axis: (&str, &str)) -> Plot {
    let mut plot = Plot::new();
    for (name, x, y) in points {
        plot.add_trace(
            Scatter::new(vec![round6(*x)], vec![round6(*y)])
                .name(name)
                .mode(Mode::MarkersText)
                .text_array(vec![name.clone()])
                .text_position(plotly::common::Position::TopCenter)
                // A label at the edge of the range runs into the margin
                // instead of being cut at the axis.
                .clip_on_axis(false),
        );
    }
    plot.set_layout(
        Layout::new()
            .title(title)
            .x_axis(Axis::new().title(x_axis.0).tick_format(x_axis.1))
            .y_axis(Axis::new().title(y_axis.0).tick_format(y_axis.1))
            .show_legend(false)
            .height(460),
    );
    plot
}

/// Grouped bar chart with ± error bars: `groups` are (name, values,
/// errors) over the same `labels`.
pub fn bars_with_errors(
    title: &str,
    labels: &[String],
    groups: &[(String, Vec<f64>, Vec<f64>)],
    y_title: &str,
) -> Plot {
    let mut plot = Plot::new();
    for (name, values, errors) in groups {
        plot.add_trace(
            Bar::new(labels.to_vec(), values.iter().copied().map(round6).collect())
                .name(name)
                .error_y(ErrorData::new(ErrorType::Data).array(errors.iter().copied().map(round6).collect())),
        );
    }
    plot.set_layout(Layout::new().title(title).bar_mode(BarMode::Group).y_axis(Axis::new().title(y_title)).height(460));
    plot
}

/// Heatmap of a square matrix (e.g. correlations) on a diverging scale
/// from −1 to 1: the first label at the top left, the diagonal running
/// down to the bottom right as in a table, every label shown.
pub fn heatmap(title: &str, labels: &[String], matrix: ArrayView2<'_, f64>) -> Plot {
    let mut plot = labelled_heatmap(title, labels, labels, matrix, 1.0);
    let side = (160 + 28 * labels.len()).clamp(400, 900);
    plot.set_layout(every_label(Layout::new().title(title).height(side).width(side + 80)));
    plot
}

/// Heatmap of a rows × columns matrix on a diverging scale from `−range`
/// to `range`, the first row at the top.
pub fn labelled_heatmap(
    title: &str,
    columns: &[String],
    rows: &[String],
    matrix: ArrayView2<'_, f64>,
    range: f64,
) -> Plot {
    // Plotly draws the first row at the bottom: rows bottom-up, so the
    // first label sits at the top as in a table.
    let z: Vec<Vec<f64>> = matrix.rows().into_iter().rev().map(|r| r.iter().copied().map(round6).collect()).collect();
    let y: Vec<String> = rows.iter().rev().cloned().collect();
    let mut plot = Plot::new();
    plot.add_trace(
        HeatMap::new(columns.to_vec(), y, z)
            .zmin(-range)
            .zmax(range)
            .color_scale(ColorScale::Palette(ColorScalePalette::RdBu))
            .reverse_scale(true),
    );
    let height = (160 + 22 * rows.len()).clamp(400, 1200);
    plot.set_layout(every_label(Layout::new().title(title).height(height)));
    plot
}

/// A tick for every category on both axes (Plotly otherwise thins them
/// out when they crowd).
fn every_label(layout: Layout) -> Layout {
    layout.x_axis(Axis::new().dtick(1.0).auto_margin(true)).y_axis(Axis::new().dtick(1.0).auto_margin(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_six_significant_digits() {
        assert_eq!(round6(123.456789), 123.457);
        assert_eq!(round6(0.000123456789), 0.000123457);
        assert!(round6(f64::NAN).is_nan());
    }

    #[test]
    fn heatmap_reads_like_a_table_with_every_label() {
        let labels: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let m = ndarray::array![[1.0, 0.5, 0.2], [0.5, 1.0, 0.1], [0.2, 0.1, 1.0]];
        let j = heatmap("t", &labels, m.view()).to_json();
        // Plotly draws y from the bottom: the first label comes last, the
        // first row of z is the matrix's last, so A's row is at the top and
        // the diagonal runs top left to bottom right.
        assert!(j.contains("\"y\":[\"C\",\"B\",\"A\"]"), "{j}");
        assert!(j.contains("\"z\":[[0.2,0.1,1.0],[0.5,1.0,0.1],[1.0,0.5,0.2]]"), "{j}");
        assert_eq!(j.matches("\"dtick\":1.0").count(), 2, "{j}");
    }

    #[test]
    fn line_chart_serialises_dates_and_names() {
        let d = vec![NaiveDate::from_ymd_opt(2020, 1, 2).unwrap(), NaiveDate::from_ymd_opt(2020, 1, 3).unwrap()];
        let p = lines("t", &d, &[("A&B".into(), vec![1.0, 2.0])], "y", true);
        let j = p.to_json();
        assert!(j.contains("\"2020-01-02\""));
        assert!(j.contains("\"name\":\"A&B\""));
        assert!(j.contains("\"type\":\"log\""));
        assert!(j.contains("\"tickformat\":\",~g\""), "{j}");
    }
}
