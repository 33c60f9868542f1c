//! Writing Airtable's text into the offline assistant's Markdown so that whatever a cell holds
//! (pipes, newlines, asterisks, HTML) reads as the text it is and never breaks a table.

use serde_json::Value;

/// `text` as literal Markdown inline text: every character Markdown could read as syntax is
/// backslash-escaped, and line breaks become spaces, so it fits on one line of a list or a table.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push(' ');
                }
            }
            '\n' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to `max` characters, with an ellipsis when something was cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

/// A name in bold, escaped.
pub(super) fn bold(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() { "(unnamed)".to_owned() } else { format!("**{}**", escape(name)) }
}

/// An Airtable ID as code; anything that isn't letters and digits is escaped text instead.
pub(super) fn id(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric()) { format!("`{text}`") } else { escape(text) }
}

/// A cell's value as plain text: lists joined with commas, attachments, collaborators and
/// buttons by their names.
pub(super) fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(true) => "✓".to_owned(),
        Value::Bool(false) => String::new(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "),
        Value::Object(map) => ["name", "filename", "email", "label", "text", "url", "error", "specialValue"]
            .iter()
            .find_map(|key| map.get(*key).and_then(Value::as_str))
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string()),
    }
}

/// A cell of a Markdown table: plain text on one line, shortened to `max` characters, escaped.
pub(super) fn cell(value: &Value, max: usize) -> String {
    escape(&shorten(&plain(value).split_whitespace().collect::<Vec<_>>().join(" "), max))
}

/// A Markdown table; the cells must already be escaped.
pub(super) fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |", cells.iter().map(|c| if c.is_empty() { " " } else { c.as_str() }).collect::<Vec<_>>().join(" | "));
    let mut out = vec![line(headers), format!("|{}", "---|".repeat(headers.len()))];
    out.extend(rows.iter().map(|row| line(row)));
    out.join("\n")
}

/// Airtable's type name in words: `singleLineText` becomes "single line text".
pub(super) fn type_words(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// "1 record", "3 records".
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pipes_and_newlines_in_a_cell_cannot_break_a_table() {
        let cell = cell(&json!("a | b\nc\r\nd"), 80);
        assert_eq!(cell, "a \\| b c d");
        assert!(!cell.contains('\n'));
    }

    #[test]
    fn html_and_emphasis_are_escaped_as_literal_text() {
        assert_eq!(escape("<script>alert(1)</script> *bold* _x_ [l](u) &amp;"), "\\<script\\>alert(1)\\</script\\> \\*bold\\* \\_x\\_ \\[l\\](u) \\&amp;");
    }

    #[test]
    fn long_cells_are_cut_with_an_ellipsis() {
        assert_eq!(cell(&json!("abcdefghij"), 5), "abcd…");
        assert_eq!(cell(&json!("abc"), 5), "abc");
    }

    #[test]
    fn lists_attachments_and_collaborators_read_as_their_names() {
        assert_eq!(plain(&json!(["Red", "Blue"])), "Red, Blue");
        assert_eq!(plain(&json!([{ "id": "att1", "filename": "a.pdf", "url": "https://x" }])), "a.pdf");
        assert_eq!(plain(&json!({ "id": "usr1", "email": "ada@example.com", "name": "Ada" })), "Ada");
        assert_eq!(plain(&json!(true)), "✓");
        assert_eq!(plain(&json!(2.5)), "2.5");
    }

    #[test]
    fn a_table_has_a_header_a_rule_and_a_row_per_record() {
        let out = table(&["ID".into(), "Name".into()], &[vec!["`recA`".into(), String::new()]]);
        assert_eq!(out, "| ID | Name |\n|---|---|\n| `recA` |   |");
    }

    #[test]
    fn type_names_read_as_words() {
        assert_eq!(type_words("singleLineText"), "single line text");
        assert_eq!(type_words("url"), "url");
    }

    #[test]
    fn only_plain_ids_become_code() {
        assert_eq!(id("recAAAAAAAAAAAAAA"), "`recAAAAAAAAAAAAAA`");
        assert_eq!(id("rec`x"), "rec\\`x");
    }
}
