//! A generic renderer for the line-per-item outputs of `plan`, `apply` and `verify`: table,
//! Markdown, CSV and JUnit from the same rows (their JSON is their own).

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::cli::Format;

/// Rows to render.
#[derive(Debug)]
pub struct Rows {
    /// `plan`, `apply` or `verify` (suite name).
    pub title: &'static str,
    /// Column names.
    pub header: Vec<&'static str>,
    /// Cells, and a failure message for rows that failed.
    pub rows: Vec<(Vec<String>, Option<String>)>,
    /// A closing line (table and Markdown).
    pub footer: Option<String>,
}

fn xml_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Writes `rows` in `format` (`Json` is the caller's).
pub fn write(rows: &Rows, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table | Format::Json => {
            let mut table = comfy_table::Table::new();
            table
                .load_style(comfy_table::presets::ASCII_FULL_CONDENSED)
                .set_header(rows.header.clone());
            for (cells, _) in &rows.rows {
                table.add_row(cells.iter().map(|c| super::visible(c).into_owned()));
            }
            if !rows.rows.is_empty() {
                writeln!(out, "{table}")?;
            }
            if let Some(f) = &rows.footer {
                writeln!(out, "{f}")?;
            }
            Ok(())
        }
        Format::Markdown => {
            writeln!(out, "## scimdrift {}\n", rows.title)?;
            writeln!(out, "| {} |", rows.header.join(" | "))?;
            writeln!(out, "|{}", " --- |".repeat(rows.header.len()))?;
            for (cells, _) in &rows.rows {
                let cells: Vec<String> = cells
                    .iter()
                    .map(|c| super::visible(c).replace('|', "\\|"))
                    .collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
            if let Some(f) = &rows.footer {
                writeln!(out, "\n{f}")?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&rows.header)?;
            for (cells, _) in &rows.rows {
                w.write_record(
                    cells
                        .iter()
                        .map(|c| super::spreadsheet_safe(c).into_owned()),
                )?;
            }
            w.flush()
        }
        Format::Junit => {
            let mut w = Writer::new_with_indent(out, b' ', 2);
            w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
                .map_err(xml_err)?;
            let failures = rows.rows.iter().filter(|(_, f)| f.is_some()).count();
            let mut suite = BytesStart::new("testsuite");
            suite.push_attribute(("name", format!("scimdrift {}", rows.title).as_str()));
            suite.push_attribute(("tests", rows.rows.len().to_string().as_str()));
            suite.push_attribute(("failures", failures.to_string().as_str()));
            w.write_event(Event::Start(suite)).map_err(xml_err)?;
            for (cells, failure) in &rows.rows {
                let cells: Vec<String> = cells
                    .iter()
                    .map(|c| super::visible(c).into_owned())
                    .collect();
                let failure = failure.as_deref().map(super::visible);
                let mut case = BytesStart::new("testcase");
                case.push_attribute(("name", cells.first().map_or("", String::as_str)));
                case.push_attribute(("classname", format!("scimdrift.{}", rows.title).as_str()));
                w.write_event(Event::Start(case)).map_err(xml_err)?;
                if let Some(message) = failure {
                    let mut f = BytesStart::new("failure");
                    f.push_attribute(("message", &*message));
                    w.write_event(Event::Start(f)).map_err(xml_err)?;
                    w.write_event(Event::Text(BytesText::new(&cells.join(" | "))))
                        .map_err(xml_err)?;
                    w.write_event(Event::End(BytesEnd::new("failure")))
                        .map_err(xml_err)?;
                }
                w.write_event(Event::End(BytesEnd::new("testcase")))
                    .map_err(xml_err)?;
            }
            w.write_event(Event::End(BytesEnd::new("testsuite")))
                .map_err(xml_err)?;
            w.get_mut().write_all(b"\n")
        }
    }
}
