//! Writes the figures that tests printed into a document, between markers,
//! so that no figure in the documentation is typed by hand.
//!
//! Tests print `figure: <section> | <column> | <text>` (a row of a section's
//! table) or `figure: <section> | <column> | <row> | <value>` (a cell of a
//! table with one column per backend). `figures <block> <doc> <log>...`
//! collects those lines from the logs (anywhere in a line, as test output
//! interleaves) and rewrites the part of `<doc>` between
//! `<!-- figures:<block>:begin … -->` and `<!-- figures:<block>:end -->`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

/// A section's figures: rows of text, or cells of a row × column table.
#[derive(Default)]
struct Section {
    rows: Vec<(String, String)>,
    cells: Vec<(String, String, String)>,
}

/// A table cell: pipes inside it escaped, so they do not split the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Columns in this order first (domain, then the backends), then by name.
fn rank(column: &str) -> (u8, String) {
    let first = match column {
        "domain" => 0,
        c if c.starts_with("sqlite") => 1,
        c if c.starts_with("postgres") => 2,
        _ => 3,
    };
    (first, column.to_string())
}

fn collect(logs: &[String]) -> BTreeMap<String, Section> {
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    for log in logs {
        for line in log.lines() {
            let Some((_, figure)) = line.split_once("figure: ") else {
                continue;
            };
            let parts: Vec<&str> = figure.split(" | ").map(str::trim).collect();
            match parts.as_slice() {
                [section, column, text] => {
                    let rows = &mut sections.entry((*section).to_string()).or_default().rows;
                    let row = ((*column).to_string(), (*text).to_string());
                    if !rows.contains(&row) {
                        rows.push(row);
                    }
                }
                [section, column, row, value] => {
                    let cells = &mut sections.entry((*section).to_string()).or_default().cells;
                    cells.retain(|(c, r, _)| !(c == column && r == row));
                    cells.push(((*column).to_string(), (*row).to_string(), (*value).to_string()));
                }
                _ => eprintln!("figures: ignoring a malformed line: {line}"),
            }
        }
    }
    sections
}

fn render(sections: &BTreeMap<String, Section>) -> String {
    let mut out = String::new();
    for (name, section) in sections {
        let _ = writeln!(out, "#### {name}\n");
        if !section.rows.is_empty() {
            let mut rows: Vec<&(String, String)> = section.rows.iter().collect();
            rows.sort_by_key(|(column, _)| rank(column));
            out.push_str("| run | figures |\n|---|---|\n");
            for (column, text) in rows {
                let _ = writeln!(out, "| {} | {} |", cell(column), cell(text));
            }
            out.push('\n');
        }
        if !section.cells.is_empty() {
            let mut columns: Vec<&String> = section.cells.iter().map(|(c, _, _)| c).collect();
            columns.sort_by_key(|c| rank(c));
            columns.dedup();
            let mut rows: Vec<&String> = Vec::new();
            for (_, row, _) in &section.cells {
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
            let _ = writeln!(
                out,
                "| | {} |\n|---|{}",
                columns.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" | "),
                "---:|".repeat(columns.len())
            );
            for row in rows {
                let values: Vec<&str> = columns
                    .iter()
                    .map(|c| {
                        section
                            .cells
                            .iter()
                            .find(|(cc, r, _)| cc == *c && r == row)
                            .map_or("–", |(_, _, v)| v.as_str())
                    })
                    .collect();
                let values: Vec<String> = values.into_iter().map(cell).collect();
                let _ = writeln!(out, "| {} | {} |", cell(row), values.join(" | "));
            }
            out.push('\n');
        }
    }
    out
}

fn run(args: &[String]) -> Result<String, String> {
    let [block, doc, logs @ ..] = args else {
        return Err("usage: figures <block> <doc.md> <log>...".into());
    };
    let logs: Vec<String> = logs
        .iter()
        .map(|p| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}")))
        .collect::<Result<_, _>>()?;
    let sections = collect(&logs);
    if sections.is_empty() {
        return Err("no `figure:` lines in the logs; the document is left as it was".into());
    }
    let begin = format!("<!-- figures:{block}:begin");
    let end = format!("<!-- figures:{block}:end -->");
    let text = std::fs::read_to_string(doc).map_err(|e| format!("{doc}: {e}"))?;
    let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) else {
        return Err(format!("{doc} has no {begin} … {end} markers"));
    };
    let body_start = text[b..]
        .find('\n')
        .map(|n| b + n + 1)
        .ok_or("the begin marker ends the file")?;
    if e < body_start {
        return Err(format!("{doc}: {end} comes before {begin}"));
    }
    let lines = sections.values().map(|s| s.rows.len() + s.cells.len()).sum::<usize>();
    let body = format!(
        "Written by `figures` on {} from {lines} figures printed by the run.\n\n{}",
        chrono::Utc::now().format("%Y-%m-%d"),
        render(&sections)
    );
    std::fs::write(doc, format!("{}{body}{}", &text[..body_start], &text[e..])).map_err(|e| e.to_string())?;
    Ok(format!(
        "figures: {lines} figures in {} sections written to {doc}",
        sections.len()
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(done) => {
            eprintln!("{done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("figures: {e}");
            ExitCode::FAILURE
        }
    }
}
