//! A report as a table of cells, and its CSV: UTF-8 with a byte order mark and CRLF line
//! ends, so Excel on a Japanese Windows opens it in the right encoding. Cells that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are written as text.

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Num(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Cell {
        Cell::Int(n.into())
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A report ready to be written: a title, a block of totals (label, value) above the
/// table, then the table's header row and its rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// What it is ("日報 2026-12-04 船橋市"); also the sheet's name, shortened.
    pub title: String,
    /// Totals above the table.
    pub totals: Vec<(String, Cell)>,
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// Every line of the file, in order: title, totals, a blank line, header, rows.
    pub fn lines(&self) -> Vec<Vec<Cell>> {
        let mut lines = vec![vec![Cell::Text(self.title.clone())]];
        lines.extend(self.totals.iter().map(|(k, v)| vec![Cell::Text(k.clone()), v.clone()]));
        lines.push(Vec::new());
        lines.push(self.header.iter().map(|h| Cell::Text(h.clone())).collect());
        lines.extend(self.rows.iter().cloned());
        lines
    }
}

/// Tables as one CSV (RFC 4180, with a UTF-8 byte order mark), a blank line between them.
pub fn csv(tables: &[Table]) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    for (i, table) in tables.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        for line in table.lines() {
            let cells: Vec<String> = line.iter().map(csv_cell).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out.into_bytes()
}

/// Text that a spreadsheet must not run as a formula gets a leading apostrophe.
pub fn defused(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}").into() } else { s.into() }
}

fn csv_cell(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Int(n) => n.to_string(),
        Cell::Num(x) => number(*x),
        Cell::Text(s) => {
            let s = defused(s);
            if s.contains([',', '"', '\r', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into_owned() }
        }
    }
}

/// A number as reports print it: at most three decimals, no trailing zeros.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_defuses_and_starts_with_a_bom() {
        let t = Table {
            title: "日報".into(),
            totals: vec![("件数".into(), Cell::Int(2))],
            header: vec!["a".into(), "b".into()],
            rows: vec![
                vec![Cell::Text("x,\"y\"\nz".into()), Cell::Num(0.125)],
                vec![Cell::Text("=HYPERLINK(1)".into()), Cell::Empty],
            ],
        };
        let csv = String::from_utf8(csv(&[t])).unwrap();
        assert_eq!(csv, "\u{feff}日報\r\n件数,2\r\n\r\na,b\r\n\"x,\"\"y\"\"\nz\",0.125\r\n'=HYPERLINK(1),\r\n");
        assert_eq!((number(2.0), number(1.5), number(f64::NAN)), ("2".into(), "1.5".into(), String::new()));
    }
}
