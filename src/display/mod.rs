//! Notebook display: HTML tables for evcxr, plain-text tables for terminals.
//!
//! evcxr shows the value on a cell's last line by calling its
//! `evcxr_display` method when one is in scope. [`Render`] provides it for
//! every result type of the crate: it prints one block
//!
//! ```text
//! EVCXR_BEGIN_CONTENT text/html
//! <table>…</table>
//! EVCXR_END_CONTENT
//! ```
//!
//! in a single write, so output from other threads cannot interleave. The
//! HTML itself comes from a pure function ([`Render::to_html`]) that tests can
//! call. Tables escape every cell, right-align numbers, and show at most a
//! fixed number of rows with an "… n more rows" marker.

use std::fmt::Write as _;
use std::io::Write as _;

/// A value that renders itself in a notebook.
///
/// Implementors write [`to_html`](Render::to_html); `evcxr_display` comes
/// for free once the trait is in scope (it is in the prelude).
pub trait Render {
    /// The HTML fragment shown in the notebook.
    fn to_html(&self) -> String;

    /// Called by evcxr on a cell's last value: prints the HTML as one
    /// `text/html` MIME block.
    fn evcxr_display(&self) {
        let block = mime_block("text/html", &self.to_html());
        let mut out = std::io::stdout().lock();
        // A closed stdout in a notebook is not worth a panic.
        let _ = out.write_all(block.as_bytes());
        let _ = out.flush();
    }
}

/// Implements [`Render`] (HTML) and `Display` (text) for types whose
/// `table(&self) -> Table` method says how they look.
#[macro_export]
#[doc(hidden)]
macro_rules! shows_as_table {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::display::Render for $t {
            fn to_html(&self) -> String {
                self.table().to_html()
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.table().to_text())
            }
        }
    )+};
}

/// Wraps `content` in evcxr's MIME markers.
pub fn mime_block(mime: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT\n")
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Left-aligned text.
    Text(String),
    /// A number shown with the given number of decimals (right-aligned).
    Num(f64, usize),
    /// A fraction shown as a percentage with the given decimals.
    Pct(f64, usize),
    /// An integer (right-aligned).
    Int(i64),
}

impl Cell {
    /// The cell as display text (`NaN` shows as an empty cell).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(v, d) if v.is_finite() => format!("{v:.d$}", d = *d),
            Cell::Pct(v, d) if v.is_finite() => format!("{:.d$}%", v * 100.0, d = *d),
            Cell::Num(v, _) | Cell::Pct(v, _) => {
                if v.is_nan() {
                    String::new()
                } else {
                    format!("{v}")
                }
            }
            Cell::Int(i) => i.to_string(),
        }
    }

    fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

/// A table with a caption, a header row, body rows and an optional gap
/// marker standing for rows that are not shown.
#[derive(Debug, Clone, Default)]
pub struct Table {
    caption: String,
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
    /// `(after, hidden)`: after body row `after`, a marker for `hidden` rows.
    gap: Option<(usize, usize)>,
    /// Columns that exist but are not shown.
    hidden_columns: usize,
}

/// Default number of body rows a table shows before it elides the middle.
pub const MAX_ROWS: usize = 20;

impl Table {
    /// A table with the given header.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table { header: header.into_iter().map(Into::into).collect(), ..Table::default() }
    }

    /// Sets the caption (shown above the table).
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = caption.into();
        self
    }

    /// Appends a body row.
    pub fn row(mut self, cells: Vec<Cell>) -> Self {
        self.rows.push(cells);
        self
    }

    /// Appends a body row in place.
    pub fn push(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Records that `hidden` rows stand between body row `after - 1` and
    /// body row `after`.
    pub fn gap(mut self, after: usize, hidden: usize) -> Self {
        if hidden > 0 {
            self.gap = Some((after, hidden));
        }
        self
    }

    /// Records that `n` further columns exist but are not shown.
    pub fn hidden_columns(mut self, n: usize) -> Self {
        self.hidden_columns = n;
        self
    }

    /// Keeps the first and last `max / 2` rows and marks the rest as hidden.
    pub fn capped(mut self, max: usize) -> Self {
        let n = self.rows.len();
        if n > max && self.gap.is_none() {
            let head = max.div_ceil(2);
            let tail = max / 2;
            let hidden = n - head - tail;
            self.rows.drain(head..n - tail);
            self.gap = Some((head, hidden));
        }
        self
    }

    /// Number of body rows kept.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no body rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table as an HTML fragment.
    pub fn to_html(&self) -> String {
        // The caption sits above the table in its own block, so a long
        // caption is not squeezed to the width of a narrow table.
        let mut h = String::from("<div class=\"assetalloc\">");
        if !self.caption.is_empty() {
            let _ = write!(h, "<div style=\"font-weight:bold;margin:0.3em 0\">{}</div>", escape(&self.caption));
        }
        h.push_str("<table style=\"border-collapse:collapse;font-variant-numeric:tabular-nums\">");
        h.push_str("<thead><tr>");
        for (j, name) in self.header.iter().enumerate() {
            // Align each header like its column.
            let numeric = self.rows.first().and_then(|r| r.get(j)).is_some_and(Cell::numeric);
            let _ =
                write!(h, "<th style=\"text-align:{}\">{}</th>", if numeric { "right" } else { "left" }, escape(name));
        }
        if self.hidden_columns > 0 {
            let _ = write!(h, "<th>… {} more columns</th>", self.hidden_columns);
        }
        h.push_str("</tr></thead><tbody>");
        let width = self.header.len() + usize::from(self.hidden_columns > 0);
        for (i, row) in self.rows.iter().enumerate() {
            if let Some((after, hidden)) = self.gap {
                if i == after {
                    gap_row_html(&mut h, width, hidden);
                }
            }
            h.push_str("<tr>");
            for cell in row {
                // Explicit both ways: notebook front ends right-align cells by default.
                let style = if cell.numeric() { " style=\"text-align:right\"" } else { " style=\"text-align:left\"" };
                let _ = write!(h, "<td{style}>{}</td>", escape(&cell.text()));
            }
            if self.hidden_columns > 0 {
                h.push_str("<td>…</td>");
            }
            h.push_str("</tr>");
        }
        if let Some((after, hidden)) = self.gap {
            if after >= self.rows.len() {
                gap_row_html(&mut h, width, hidden);
            }
        }
        h.push_str("</tbody></table></div>");
        h
    }

    /// Renders the table as fixed-width text for terminals.
    pub fn to_text(&self) -> String {
        let texts: Vec<Vec<String>> = self.rows.iter().map(|r| r.iter().map(Cell::text).collect()).collect();
        let ncol = self.header.len();
        let mut width: Vec<usize> = self.header.iter().map(|s| s.chars().count()).collect();
        for r in &texts {
            for (j, t) in r.iter().enumerate().take(ncol) {
                width[j] = width[j].max(t.chars().count());
            }
        }
        let numeric: Vec<bool> =
            (0..ncol).map(|j| self.rows.first().and_then(|r| r.get(j)).is_some_and(Cell::numeric)).collect();
        let line = |cells: &[String]| -> String {
            let mut s = String::new();
            for (j, t) in cells.iter().enumerate().take(ncol) {
                if j > 0 {
                    s.push_str("  ");
                }
                let pad = width[j].saturating_sub(t.chars().count());
                if numeric[j] {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(t);
                } else {
                    s.push_str(t);
                    s.push_str(&" ".repeat(pad));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = String::new();
        if !self.caption.is_empty() {
            out.push_str(&self.caption);
            out.push('\n');
        }
        out.push_str(&line(&self.header));
        if self.hidden_columns > 0 {
            let _ = write!(out, "  … {} more columns", self.hidden_columns);
        }
        out.push('\n');
        for (i, r) in texts.iter().enumerate() {
            if let Some((after, hidden)) = self.gap {
                if i == after {
                    let _ = writeln!(out, "… {hidden} more rows");
                }
            }
            out.push_str(&line(r));
            out.push('\n');
        }
        if let Some((after, hidden)) = self.gap {
            if after >= texts.len() {
                let _ = writeln!(out, "… {hidden} more rows");
            }
        }
        out
    }
}

fn gap_row_html(h: &mut String, width: usize, hidden: usize) {
    let _ = write!(
        h,
        "<tr><td colspan=\"{width}\" style=\"text-align:center;font-style:italic\">… {hidden} more rows</td></tr>"
    );
}

impl Render for Table {
    fn to_html(&self) -> String {
        Table::to_html(self)
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_cells_and_caption() {
        let t = Table::new(["<b>"]).caption("a & b").row(vec![Cell::from("<script>'x'</script>")]);
        let h = t.to_html();
        assert!(h.contains("&lt;b&gt;"));
        assert!(h.contains("a &amp; b"));
        assert!(h.contains("&lt;script&gt;&#39;x&#39;&lt;/script&gt;"));
        assert!(!h.contains("<script>"));
    }

    #[test]
    fn numbers_are_right_aligned_and_nan_is_blank() {
        let t = Table::new(["name", "v"]).row(vec![Cell::from("a"), Cell::Num(1.23456, 2)]);
        let h = t.to_html();
        assert!(h.contains("<td style=\"text-align:right\">1.23</td>"));
        assert!(h.contains("<th style=\"text-align:right\">v</th>"));
        assert_eq!(Cell::Num(f64::NAN, 2).text(), "");
        assert_eq!(Cell::Pct(0.1234, 1).text(), "12.3%");
    }

    #[test]
    fn capping_keeps_head_and_tail_and_counts_the_rest() {
        let mut t = Table::new(["i"]);
        for i in 0..100 {
            t.push(vec![Cell::Int(i)]);
        }
        let t = t.capped(10);
        assert_eq!(t.len(), 10);
        let h = t.to_html();
        assert!(h.contains("… 90 more rows"));
        assert!(h.contains("<td style=\"text-align:right\">4</td>"));
        assert!(h.contains("<td style=\"text-align:right\">95</td>"));
        assert!(!h.contains(">50<"));
        let txt = t.to_text();
        assert!(txt.contains("… 90 more rows"));
    }

    #[test]
    fn mime_block_has_evcxr_markers() {
        let b = mime_block("text/html", "<p>x</p>");
        assert_eq!(b, "EVCXR_BEGIN_CONTENT text/html\n<p>x</p>\nEVCXR_END_CONTENT\n");
    }
}
