//! How panels show themselves: head and tail as an HTML or text table with
//! an "n rows × m assets" caption.

use super::{Panel, Prices, ReturnKind, Returns};
use crate::display::{Cell, Render, Table};

/// Rows shown at each end of a panel.
const EDGE: usize = 5;
/// Asset columns shown before the rest are counted as hidden.
const MAX_COLS: usize = 12;

/// A head/tail table of a panel with the given caption prefix.
pub(crate) fn panel_table(p: &Panel, what: &str, decimals: usize) -> Table {
    let shown = p.n_assets().min(MAX_COLS);
    let header = std::iter::once("date".to_string()).chain(p.assets()[..shown].iter().cloned());
    let mut t = Table::new(header).caption(format!(
        "{what} · {} rows × {} assets · {} → {}",
        p.len(),
        p.n_assets(),
        p.start(),
        p.end()
    ));
    let v = p.values();
    let row = |i: usize| -> Vec<Cell> {
        std::iter::once(Cell::from(p.dates()[i].to_string()))
            .chain((0..shown).map(|j| Cell::Num(v[[i, j]], decimals)))
            .collect()
    };
    let n = p.len();
    if n <= 2 * EDGE {
        for i in 0..n {
            t.push(row(i));
        }
    } else {
        for i in (0..EDGE).chain(n - EDGE..n) {
            t.push(row(i));
        }
        t = t.gap(EDGE, n - 2 * EDGE);
    }
    t.hidden_columns(p.n_assets() - shown)
}

fn returns_label(kind: ReturnKind) -> &'static str {
    match kind {
        ReturnKind::Simple => "Simple returns",
        ReturnKind::Log => "Log returns",
    }
}

impl Render for Panel {
    fn to_html(&self) -> String {
        panel_table(self, "Panel", 4).to_html()
    }
}

impl Render for Prices {
    fn to_html(&self) -> String {
        panel_table(self.panel(), "Prices", 2).to_html()
    }
}

impl Render for Returns {
    fn to_html(&self) -> String {
        panel_table(self.panel(), returns_label(self.kind()), 5).to_html()
    }
}

impl std::fmt::Display for Panel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&panel_table(self, "Panel", 4).to_text())
    }
}

impl std::fmt::Display for Prices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&panel_table(self.panel(), "Prices", 2).to_text())
    }
}

impl std::fmt::Display for Returns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&panel_table(self.panel(), returns_label(self.kind()), 5).to_text())
    }
}

impl Prices {
    /// Prices rebased to 100 on each asset's first date; `log_scale` puts
    /// the y axis on a log scale (equal distances are equal growth rates).
    pub fn plot_normalized(&self, log_scale: bool) -> plotly::Plot {
        let n = self.rebased(100.0);
        let series = columns(n.panel());
        crate::plot::lines(
            &format!("Prices rebased to 100 ({} → {})", self.start(), self.end()),
            self.dates(),
            &series,
            "value of 100 invested",
            log_scale,
        )
    }
}

impl Returns {
    /// Histogram of the returns of every asset (60 common bins, density on a
    /// log axis) with the normal density of the pooled mean and sd: fat
    /// tails show as bars above the curve far from the centre.
    pub fn plot_histogram(&self) -> plotly::Plot {
        let label = returns_label(self.kind());
        crate::plot::histogram(&format!("{label}: distribution"), self.assets(), self.values(), 60)
    }

    /// Heatmap of the correlation matrix.
    pub fn plot_correlation(&self) -> plotly::Plot {
        let c = self.correlation();
        crate::plot::heatmap(
            &format!(
                "Correlation of {} ({} → {})",
                returns_label(self.kind()).to_lowercase(),
                self.start(),
                self.end()
            ),
            self.assets(),
            c.view(),
        )
    }
}

/// (name, values) for every column of a panel.
fn columns(p: &Panel) -> Vec<(String, Vec<f64>)> {
    let v = p.values();
    p.assets().iter().enumerate().map(|(j, a)| (a.clone(), v.column(j).to_vec())).collect()
}
