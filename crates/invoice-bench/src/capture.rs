//! Captures the SQL the server really issues (PostgreSQL `log_statement=all`)
//! and turns one full-cancel transaction into a pgbench script, so the
//! ceiling is measured with the very statements of the current code.

use std::collections::HashMap;
use std::fmt::Write as _;

/// One logged statement with its bound parameters.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Prepared-statement name (`__diesel_stmt_3`, `<unnamed>`) or `simple`.
    pub kind: String,
    /// SQL text.
    pub sql: String,
    /// `$1…` values; `None` is SQL NULL.
    pub params: Vec<Option<String>>,
}

/// Parses a server log written with `log_line_prefix = '%m [%p] '` into
/// statements per backend pid, in order.
pub fn parse_log(text: &str) -> HashMap<u32, Vec<Logged>> {
    let mut out: HashMap<u32, Vec<Logged>> = HashMap::new();
    // (pid, level, message) entries, continuation lines folded in.
    let mut entries: Vec<(u32, String, String)> = Vec::new();
    for line in text.lines() {
        let header = line.find(" [").and_then(|open| {
            let close = open + line[open..].find("] ")?;
            let pid = line[open + 2..close].parse::<u32>().ok()?;
            let rest = &line[close + 2..];
            let (level, msg) = rest.split_once(":  ")?;
            line.starts_with(|c: char| c.is_ascii_digit())
                .then(|| (pid, level.to_string(), msg.to_string()))
        });
        match header {
            Some(e) => entries.push(e),
            None => {
                if let Some(last) = entries.last_mut() {
                    last.2.push('\n');
                    last.2.push_str(line.strip_prefix('\t').unwrap_or(line));
                }
            }
        }
    }
    for (pid, level, msg) in entries {
        let list = out.entry(pid).or_default();
        match level.as_str() {
            "LOG" => {
                if let Some(sql) = msg.strip_prefix("statement: ") {
                    list.push(Logged {
                        kind: "simple".into(),
                        sql: sql.to_string(),
                        params: Vec::new(),
                    });
                } else if let Some(rest) = msg.strip_prefix("execute ") {
                    if let Some((name, sql)) = rest.split_once(": ") {
                        list.push(Logged {
                            kind: name.to_string(),
                            sql: sql.to_string(),
                            params: Vec::new(),
                        });
                    }
                }
            }
            "DETAIL" => {
                if let (Some(p), Some(last)) = (msg.strip_prefix("parameters: "), list.last_mut()) {
                    last.params = parse_params(p);
                }
            }
            _ => {}
        }
    }
    out
}

/// Parses `$1 = '…', $2 = NULL` (quotes doubled inside values).
fn parse_params(text: &str) -> Vec<Option<String>> {
    let mut params = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let Some(eq) = text[i..].find(" = ") else { break };
        i += eq + 3;
        if text[i..].starts_with("NULL") {
            params.push(None);
            i += 4;
        } else if b.get(i) == Some(&b'\'') {
            i += 1;
            let mut v = String::new();
            loop {
                let Some(q) = text[i..].find('\'') else {
                    i = b.len();
                    break;
                };
                v.push_str(&text[i..i + q]);
                i += q + 1;
                if b.get(i) == Some(&b'\'') {
                    v.push('\'');
                    i += 1;
                } else {
                    break;
                }
            }
            params.push(Some(v));
        }
        // Skip ", " before the next "$k".
        while i < b.len() && b[i] != b'$' {
            i += 1;
        }
    }
    params
}

/// The statements of each transaction (`BEGIN …` to `COMMIT`) in the log.
pub fn transactions(log: &HashMap<u32, Vec<Logged>>) -> Vec<Vec<Logged>> {
    let mut txs = Vec::new();
    for list in log.values() {
        let mut current: Option<Vec<Logged>> = None;
        for s in list {
            let upper = s.sql.trim().to_ascii_uppercase();
            if upper.starts_with("BEGIN") {
                current = Some(vec![s.clone()]);
            } else if current.is_none() {
                // A statement outside any transaction is one by itself.
                txs.push(vec![s.clone()]);
            } else if let Some(tx) = current.as_mut() {
                tx.push(s.clone());
                if upper.starts_with("COMMIT") || upper.starts_with("ROLLBACK") {
                    txs.push(current.take().expect("open transaction"));
                }
            }
        }
    }
    txs
}

/// The transaction whose parameters mention `needle` and that writes.
pub fn find_write<'a>(txs: &'a [Vec<Logged>], needle: &str) -> Option<&'a Vec<Logged>> {
    txs.iter().find(|tx| {
        tx.iter().any(|s| s.sql.starts_with("UPDATE"))
            && tx.iter().any(|s| s.params.iter().flatten().any(|p| p.contains(needle)))
    })
}

/// The read (only `SELECT`s, in a transaction or alone) whose parameters mention `needle`.
pub fn find_read<'a>(txs: &'a [Vec<Logged>], needle: &str) -> Option<&'a Vec<Logged>> {
    txs.iter().find(|tx| {
        tx.iter()
            .any(|s| s.sql.trim_start().to_ascii_uppercase().starts_with("SELECT"))
            && !tx.iter().any(|s| {
                let u = s.sql.trim_start().to_ascii_uppercase();
                u.starts_with("UPDATE") || u.starts_with("INSERT") || u.starts_with("DELETE")
            })
            && tx.iter().any(|s| s.params.iter().flatten().any(|p| p.contains(needle)))
    })
}

/// Which column each `$k` is compared with or inserted into: (table, column, is_array).
fn param_columns(sql: &str) -> HashMap<usize, (String, String, bool)> {
    let mut map = HashMap::new();
    let words: Vec<&str> = sql.split_whitespace().collect();
    let table = match words.as_slice() {
        ["INSERT", "INTO", t, ..] | ["UPDATE", t, ..] => {
            t.trim_matches('"').split('(').next().unwrap_or("").to_string()
        }
        _ => String::new(),
    };
    // INSERT INTO t (cols) VALUES (…), (…)
    if sql.starts_with("INSERT INTO") {
        if let (Some(open), Some(values)) = (sql.find('('), sql.find(" VALUES ")) {
            let cols: Vec<String> = sql[open + 1..]
                .split(')')
                .next()
                .unwrap_or("")
                .split(',')
                .map(|c| c.trim().trim_matches('"').to_string())
                .collect();
            let mut depth = 0;
            let mut item = String::new();
            let mut index = 0;
            for ch in sql[values + 8..].chars() {
                match ch {
                    '(' => {
                        depth += 1;
                        if depth == 1 {
                            index = 0;
                            item.clear();
                            continue;
                        }
                    }
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            record_item(&mut map, &table, &cols, index, &item);
                            item.clear();
                            continue;
                        }
                    }
                    ',' if depth == 1 => {
                        record_item(&mut map, &table, &cols, index, &item);
                        index += 1;
                        item.clear();
                        continue;
                    }
                    _ if depth == 0 && ch.is_ascii_alphabetic() => break,
                    _ => {}
                }
                if depth >= 1 {
                    item.push(ch);
                }
            }
        }
    }
    // `"t"."col" = $k`, `col = $k`, `"col" = ANY($k)`
    let bytes = sql.as_bytes();
    let mut i = 0;
    while let Some(off) = sql[i..].find('$') {
        let at = i + off;
        let digits: String = sql[at + 1..].chars().take_while(char::is_ascii_digit).collect();
        i = at + 1;
        let Ok(k) = digits.parse::<usize>() else { continue };
        let mut before = sql[..at].trim_end();
        let mut array = false;
        if let Some(b) = before.strip_suffix("ANY(") {
            before = b.trim_end();
            array = true;
        }
        let Some(b) = before.strip_suffix('=') else { continue };
        let b = b.trim_end();
        let col = if let Some(b) = b.strip_suffix('"') {
            b.rsplit('"').next().unwrap_or("")
        } else {
            let start = b
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            &b[start..]
        };
        let col_table = {
            // `"t"."col"`: take t; otherwise the statement's table.
            let prefix = &b[..b.len().saturating_sub(col.len() + 2)];
            match prefix.strip_suffix("\".") {
                Some(p) => p.rsplit('"').next().unwrap_or("").to_string(),
                None => table.clone(),
            }
        };
        let _ = bytes;
        map.entry(k).or_insert((col_table, col.to_string(), array));
    }
    map
}

fn record_item(
    map: &mut HashMap<usize, (String, String, bool)>,
    table: &str,
    cols: &[String],
    index: usize,
    item: &str,
) {
    if let (Some(k), Some(col)) = (
        item.trim().strip_prefix('$').and_then(|d| d.parse().ok()),
        cols.get(index),
    ) {
        map.insert(k, (table.to_string(), col.clone(), false));
    }
}

/// An `E'…'` literal with no `:` left in it (pgbench would read `:x` as a
/// variable even inside quotes).
fn literal(value: &str) -> String {
    let mut out = String::from("E'");
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            ':' => out.push_str("\\x3a"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// True if `s` looks like a canonical lowercase UUID.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// What the generator replaces in the captured transaction.
pub struct Captured<'a> {
    /// The invoice number `n` the captured request worked on.
    pub n: u64,
    /// The statements, `BEGIN` to `COMMIT`.
    pub statements: &'a [Logged],
}

/// Rewrites one parameter value as pgbench SQL.
fn render(value: &Option<String>, col: Option<&(String, String, bool)>, n: u64, fresh: &mut Vec<String>) -> String {
    let Some(v) = value else { return "NULL".into() };
    if let Some((table, column, _)) = col {
        match (table.as_str(), column.as_str()) {
            (_, "tenant_id") => return ":tenant".into(),
            ("invoices", "number_seq") | ("credit_notes", "invoice_number_seq") if v == &n.to_string() => {
                return ":n".into()
            }
            ("credit_notes", "number_seq") => return ":cn_value".into(),
            // Printed numbers are unique per tenant: the invoice's is `INV-n`
            // (as seeded), the credit note's follows the drawn sequence.
            ("credit_notes", "number") => return "bench_number('CN', :cn_value)".into(),
            ("invoices", "number") | ("credit_notes", "invoice_number") if v == &crate::seed::invoice_number(n) => {
                return "bench_number('INV', :n)".into()
            }
            _ => {}
        }
    }
    // Replace every UUID inside the value, and the invoice's serial and
    // number inside JSON (version documents), which are unique per invoice.
    let invoice = crate::seed::invoice_id(n);
    let texts = [
        (
            format!("\"serial\":{n},"),
            "'\"serial\":' || CAST(:n AS text) || ','".to_string(),
        ),
        (
            format!("\"number_seq\":{n},"),
            "'\"number_seq\":' || CAST(:n AS text) || ','".to_string(),
        ),
        (crate::seed::invoice_number(n), "bench_number('INV', :n)".to_string()),
    ];
    let mut parts: Vec<String> = Vec::new();
    let mut rest = v.as_str();
    let mut replaced = false;
    loop {
        let hit = (0..rest.len()).filter(|&i| rest.is_char_boundary(i)).find_map(|i| {
            let tail = &rest[i..];
            if let Some((from, to)) = texts.iter().find(|(from, _)| tail.starts_with(from.as_str())) {
                return Some((i, from.len(), to.clone()));
            }
            let u = tail.get(..36).filter(|u| is_uuid(u))?;
            let expr = if u == invoice {
                "bench_id(8000, :n)".to_string()
            } else if let Some(k) =
                (0..10u64).find(|k| u == format!("00000000-0000-7000-8001-{}", 100_000_000_000 + n * 10 + k))
            {
                format!("bench_id(8001, :n * 10 + {k})")
            } else {
                let j = fresh.iter().position(|f| f == u).unwrap_or_else(|| {
                    fresh.push(u.to_string());
                    fresh.len() - 1
                });
                format!("bench_id({}, :n)", 8100 + j)
            };
            Some((i, 36, expr))
        });
        let Some((pos, len, expr)) = hit else { break };
        if pos > 0 {
            parts.push(literal(&rest[..pos]));
        }
        parts.push(expr);
        rest = &rest[pos + len..];
        replaced = true;
    }
    if !replaced {
        return literal(v);
    }
    if !rest.is_empty() {
        parts.push(literal(rest));
    }
    let cast = if col.is_some_and(|c| c.2) { "text[]" } else { "text" };
    format!("CAST({} AS {cast})", parts.join(" || "))
}

/// Builds the pgbench script for a captured full cancel. Each pgbench client
/// `c` works on invoices `base + c + clients * i` (`i` = its own counter), so
/// no invoice is touched twice; past `last` the client aborts on purpose.
pub fn pgbench_script(cap: &Captured<'_>, tenants: u64, first_tenant: i64) -> String {
    let header = format!(
        "-- Generated from the statements the server issued for one full cancel;\n\
         -- invoice ids, tenant, numbers and fresh ids are computed from :n.\n\
         \\set n :base + :client_id + :clients * :i\n\
         \\set i :i + 1\n\
         \\if :n > :last\n\
         \\set out_of_invoices 1 / 0\n\
         \\endif\n\
         \\set tenant {first_tenant} + :n % {tenants}"
    );
    script_with(cap, &header)
}

/// Builds the pgbench script for a captured read of one invoice: each
/// transaction reads a random seeded invoice (`1..=:last`), as the server's
/// GET benchmark does.
pub fn pgbench_read_script(cap: &Captured<'_>, tenants: u64, first_tenant: i64) -> String {
    let header = format!(
        "-- Generated from the statements the server issued for one GET;\n\
         -- a random seeded invoice :n each time.\n\
         \\set n random(1, :last)\n\
         \\set tenant {first_tenant} + :n % {tenants}"
    );
    script_with(cap, &header)
}

fn script_with(cap: &Captured<'_>, header: &str) -> String {
    let mut fresh = Vec::new();
    let mut out = String::new();
    let _ = writeln!(out, "{header}");
    for s in cap.statements {
        let cols = param_columns(&s.sql);
        // Replace $k from the highest index down so $1 does not eat $10.
        let mut sql = s.sql.clone();
        for k in (1..=s.params.len()).rev() {
            let value = render(&s.params[k - 1], cols.get(&k), cap.n, &mut fresh);
            sql = sql.replace(&format!("${k}"), &value);
        }
        if s.sql.contains("number_series") && s.sql.contains("RETURNING") {
            let _ = writeln!(out, "{sql}\n\\gset cn_");
        } else {
            let _ = writeln!(out, "{sql};");
        }
    }
    out
}

/// The SQL helper the script and the seed ids rely on.
///
/// Its body uses only immutable operators (`text || text`, `::text` casts),
/// so PostgreSQL inlines it into each statement instead of calling an SQL
/// function dozens of times per transaction.
pub const BENCH_ID_FUNCTION: &str = "CREATE OR REPLACE FUNCTION bench_id(grp integer, n bigint) RETURNS text \
     LANGUAGE sql IMMUTABLE PARALLEL SAFE \
     AS $$ SELECT '00000000-0000-7000-' || grp::text || '-' || (100000000000 + n)::text $$";

/// The printed number of sequence `n` in the default format
/// (`{SERIES}-{SEQ:6}`: at least six digits, never cut), inlined like
/// [`BENCH_ID_FUNCTION`].
pub const BENCH_NUMBER_FUNCTION: &str = "CREATE OR REPLACE FUNCTION bench_number(series text, n bigint) RETURNS text \
     LANGUAGE sql IMMUTABLE PARALLEL SAFE \
     AS $$ SELECT series || '-' || lpad(n::text, greatest(6, length(n::text)), '0') $$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_with_quotes_and_nulls() {
        let p = parse_params("$1 = '7', $2 = NULL, $3 = 'it''s, ok'");
        assert_eq!(p, vec![Some("7".into()), None, Some("it's, ok".into())]);
    }

    #[test]
    fn columns_of_inserts_updates_and_selects() {
        let m = param_columns(
            r#"INSERT INTO "credit_notes" ("tenant_id", "id", "number_seq") VALUES ($1, $2, $3), ($4, $5, $6)"#,
        );
        assert_eq!(m[&3].1, "number_seq");
        assert_eq!(m[&4].1, "tenant_id");
        assert_eq!(m[&4].0, "credit_notes");
        let m = param_columns(
            r#"UPDATE "invoices" SET "number_seq" = $1 WHERE (("invoices"."tenant_id" = $2) AND ("invoices"."id" = ANY($3)))"#,
        );
        assert_eq!(m[&1], ("invoices".into(), "number_seq".into(), false));
        assert_eq!(m[&2].1, "tenant_id");
        assert!(m[&3].2);
        let m = param_columns("SELECT 1 FROM invoices WHERE tenant_id = $1 AND id = $2 FOR UPDATE");
        assert_eq!(m[&1].1, "tenant_id");
    }

    #[test]
    fn literals_hide_colons_from_pgbench() {
        assert_eq!(literal("a:b'c"), "E'a\\x3ab\\'c'");
    }

    #[test]
    fn ids_become_expressions_of_n() {
        let mut fresh = Vec::new();
        let id = crate::seed::invoice_id(42);
        let v = Some(format!("{{\"id\":\"{id}\"}}"));
        let r = render(&v, None, 42, &mut fresh);
        assert_eq!(r, "CAST(E'{\"id\"\\x3a\"' || bench_id(8000, :n) || E'\"}' AS text)");
    }

    #[test]
    fn serials_and_printed_numbers_become_expressions_of_n() {
        let mut fresh = Vec::new();
        let v = Some(r#"{"serial":42,"number":"INV-000042","x":420}"#.to_string());
        let r = render(&v, None, 42, &mut fresh);
        assert_eq!(
            r,
            "CAST(E'{' || '\"serial\":' || CAST(:n AS text) || ',' || E'\"number\"\\x3a\"' || \
             bench_number('INV', :n) || E'\",\"x\"\\x3a420}' AS text)"
        );
        let cn = Some("CN-000007".to_string());
        let col = ("credit_notes".to_string(), "number".to_string(), false);
        assert_eq!(render(&cn, Some(&col), 42, &mut fresh), "bench_number('CN', :cn_value)");
    }
}
