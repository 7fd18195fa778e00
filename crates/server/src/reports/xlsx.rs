//! Tables as an Excel workbook (Office Open XML, one sheet per table), written here rather
//! than by a dependency: a workbook is five small XML parts in a zip, and this one holds
//! only text and numbers with inline strings, a bold header, column widths and an A4
//! landscape page set-up. The zip is deflated with `flate2`, already in the build.
//! Any reader of `.xlsx` opens it (the tests read it with Python's openpyxl).

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

use super::table::{Cell, Table, number};

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

/// The workbook of `tables`, a sheet each, named by their titles.
pub fn workbook(tables: &[Table]) -> std::io::Result<Vec<u8>> {
    let names = sheet_names(tables);
    let mut zip = Zip::default();
    let mut types = String::from(
        "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>",
    );
    let (mut sheets, mut rels) = (String::new(), String::new());
    for (i, name) in names.iter().enumerate() {
        let n = i + 1;
        types.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" \
             ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        ));
        sheets.push_str(&format!("<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>", escape(name)));
        rels.push_str(&format!(
            "<Relationship Id=\"rId{n}\" Type=\"{REL}/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
        ));
    }
    let styles_id = names.len() + 1;
    rels.push_str(&format!("<Relationship Id=\"rId{styles_id}\" Type=\"{REL}/styles\" Target=\"styles.xml\"/>"));
    zip.add(
        "[Content_Types].xml",
        &format!(
            "{XML_HEAD}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">{types}</Types>"
        ),
    )?;
    zip.add(
        "_rels/.rels",
        &format!(
            "{XML_HEAD}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"{REL}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
        ),
    )?;
    zip.add(
        "xl/workbook.xml",
        &format!("{XML_HEAD}<workbook xmlns=\"{MAIN}\" xmlns:r=\"{REL}\"><sheets>{sheets}</sheets></workbook>"),
    )?;
    zip.add(
        "xl/_rels/workbook.xml.rels",
        &format!(
            "{XML_HEAD}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}</Relationships>"
        ),
    )?;
    zip.add("xl/styles.xml", &styles())?;
    for (i, table) in tables.iter().enumerate() {
        zip.add(&format!("xl/worksheets/sheet{}.xml", i + 1), &sheet(table))?;
    }
    zip.finish()
}

/// Sheet names as Excel allows them: at most 31 characters, none of `[]:*?/\`, unique.
/// A title that names its period ("言語別 2026-11 …") gives the words before it.
fn sheet_names(tables: &[Table]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(tables.len());
    for (i, t) in tables.iter().enumerate() {
        let words = t
            .title
            .char_indices()
            .find(|&(at, c)| c == ' ' && t.title[at + 1..].starts_with(|d: char| d.is_ascii_digit()))
            .map_or(t.title.as_str(), |(at, _)| &t.title[..at]);
        let clean: String = words.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(28).collect();
        let clean = if clean.trim().is_empty() { format!("Sheet{}", i + 1) } else { clean };
        let name = if names.contains(&clean) { format!("{clean} {}", i + 1) } else { clean };
        names.push(name);
    }
    names
}

fn styles() -> String {
    format!(
        "{XML_HEAD}<styleSheet xmlns=\"{MAIN}\">\
         <fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Yu Gothic\"/></font>\
         <font><b/><sz val=\"11\"/><name val=\"Yu Gothic\"/></font></fonts>\
         <fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
         <borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
         <cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
         <cellXfs count=\"2\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>\
         <xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/></cellXfs>\
         <cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles></styleSheet>"
    )
}

/// One worksheet: the title and the header row in bold, columns as wide as their widest
/// cell (within reason), printed on A4 landscape, one page wide.
fn sheet(table: &Table) -> String {
    let lines = table.lines();
    let header_row = table.totals.len() + 3;
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![6usize; columns];
    // The title spans the page: it does not widen the first column.
    for line in lines.iter().skip(1) {
        for (c, cell) in line.iter().enumerate() {
            let w = match cell {
                Cell::Text(s) => s.chars().map(|ch| if ch.is_ascii() { 1 } else { 2 }).sum(),
                Cell::Int(n) => n.to_string().len(),
                Cell::Num(x) => number(*x).len(),
                Cell::Empty => 0,
            };
            widths[c] = widths[c].max(w + 2).min(40);
        }
    }
    let mut out = format!("{XML_HEAD}<worksheet xmlns=\"{MAIN}\"><sheetPr><pageSetUpPr fitToPage=\"1\"/></sheetPr>");
    if columns > 0 {
        out.push_str("<cols>");
        for (c, w) in widths.iter().enumerate() {
            out.push_str(&format!("<col min=\"{0}\" max=\"{0}\" width=\"{w}\" customWidth=\"1\"/>", c + 1));
        }
        out.push_str("</cols>");
    }
    out.push_str("<sheetData>");
    for (r, line) in lines.iter().enumerate() {
        let row = r + 1;
        out.push_str(&format!("<row r=\"{row}\">"));
        let style = if row == 1 || row == header_row { " s=\"1\"" } else { "" };
        for (c, cell) in line.iter().enumerate() {
            let at = format!("{}{row}", column(c));
            match cell {
                Cell::Empty => {}
                Cell::Int(n) => out.push_str(&format!("<c r=\"{at}\"{style}><v>{n}</v></c>")),
                Cell::Num(x) if x.is_finite() => out.push_str(&format!("<c r=\"{at}\"{style}><v>{x}</v></c>")),
                Cell::Num(_) => {}
                Cell::Text(s) => out.push_str(&format!(
                    "<c r=\"{at}\" t=\"inlineStr\"{style}><is><t xml:space=\"preserve\">{}</t></is></c>",
                    escape(s)
                )),
            }
        }
        out.push_str("</row>");
    }
    out.push_str(
        "</sheetData><pageMargins left=\"0.4\" right=\"0.4\" top=\"0.6\" bottom=\"0.6\" header=\"0.3\" footer=\"0.3\"/>\
         <pageSetup paperSize=\"9\" orientation=\"landscape\" fitToWidth=\"1\" fitToHeight=\"0\"/></worksheet>",
    );
    out
}

/// The column letters of a zero-based index: A … Z, AA …
fn column(mut c: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Text for XML: the five escapes, and characters XML 1.0 cannot hold dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A zip archive being written, every entry deflated.
#[derive(Default)]
struct Zip {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

fn too_big() -> std::io::Error {
    std::io::Error::other("workbook too large for a zip without ZIP64")
}

impl Zip {
    fn add(&mut self, name: &str, text: &str) -> std::io::Result<()> {
        let mut crc = flate2::Crc::new();
        crc.update(text.as_bytes());
        let mut z = DeflateEncoder::new(Vec::new(), Compression::default());
        z.write_all(text.as_bytes())?;
        let data = z.finish()?;
        let offset = u32::try_from(self.out.len()).map_err(|_| too_big())?;
        let size = u32::try_from(text.len()).map_err(|_| too_big())?;
        let packed = u32::try_from(data.len()).map_err(|_| too_big())?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_big())?;
        // Version 2.0, UTF-8 names, deflate, 1980-01-01 00:00.
        let common = |b: &mut Vec<u8>| {
            for v in [20u16, 0x0800, 8, 0, 0x21] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc.sum(), packed, size] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(&name_len.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes());
        };
        self.out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut self.out);
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(&data);
        self.central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        self.central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut self.central);
        // Comment length, disk, internal and external attributes, the entry's offset.
        self.central.extend_from_slice(&[0; 10]);
        self.central.extend_from_slice(&offset.to_le_bytes());
        self.central.extend_from_slice(name.as_bytes());
        self.entries = self.entries.checked_add(1).ok_or_else(too_big)?;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<Vec<u8>> {
        let offset = u32::try_from(self.out.len()).map_err(|_| too_big())?;
        let size = u32::try_from(self.central.len()).map_err(|_| too_big())?;
        self.out.append(&mut self.central);
        self.out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        self.out.extend_from_slice(&self.entries.to_le_bytes());
        self.out.extend_from_slice(&self.entries.to_le_bytes());
        self.out.extend_from_slice(&size.to_le_bytes());
        self.out.extend_from_slice(&offset.to_le_bytes());
        self.out.extend_from_slice(&0u16.to_le_bytes());
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_names_and_escapes() {
        assert_eq!(
            (column(0), column(25), column(26), column(701), column(702)),
            ("A".into(), "Z".into(), "AA".into(), "ZZ".into(), "AAA".into())
        );
        assert_eq!(escape("a<b>&\"'\u{1}\tc"), "a&lt;b&gt;&amp;&quot;&apos;\tc");
        let t = |title: &str| Table { title: title.into(), ..Table::default() };
        assert_eq!(sheet_names(&[t("a/b:[c]"), t("a/b:[c]"), t("  ")]), vec!["abc", "abc 2", "Sheet3"]);
        assert_eq!(
            sheet_names(&[t("言語別 2026-11 Asahi"), t("By language 2026-11 Asahi 2")]),
            vec!["言語別", "By language"]
        );
    }

    #[test]
    fn a_workbook_is_a_zip_with_its_parts() {
        let t = Table {
            title: "日報".into(),
            header: vec!["a".into()],
            rows: vec![vec![Cell::Int(1)]],
            ..Table::default()
        };
        let bytes = workbook(&[t]).unwrap();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let eocd = &bytes[bytes.len() - 22..];
        assert_eq!(&eocd[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([eocd[10], eocd[11]]), 6, "six parts");
        let central = u32::from_le_bytes([eocd[16], eocd[17], eocd[18], eocd[19]]) as usize;
        let size = u32::from_le_bytes([eocd[12], eocd[13], eocd[14], eocd[15]]) as usize;
        assert_eq!(central + size, bytes.len() - 22);
        // Each central entry: 46 bytes and its name, the first one's name `[Content_Types].xml`.
        assert_eq!(&bytes[central..central + 4], b"PK\x01\x02");
        assert_eq!(&bytes[central + 46..central + 65], b"[Content_Types].xml");
    }
}
