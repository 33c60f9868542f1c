//! Builds Airtable formulas from untrusted text. Everything a user, an LLM or a file supplies
//! goes through [`string_literal`], [`field`] or [`number`], so it can only ever be a value
//! or a field name, never more formula.
//!
//! The output is written to mean the same in Airtable and in the sandbox: it sticks to
//! single-quoted text, backslash escapes and functions that behave alike in both.

use std::fmt::Write;

/// `text` as a single-quoted formula string. Backslashes and single quotes are escaped, and a
/// newline is written `\n` so formulas stay on one line in URLs and logs; all other characters
/// (double quotes, braces, unicode) are safe between single quotes as they are.
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

/// A `{Field Name}` reference, with `\` and `}` escaped so that any name reads back exactly.
/// An empty name gives `{}`, which Airtable refuses: there is no such field.
pub fn field(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('{');
    for c in name.chars() {
        if matches!(c, '\\' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('}');
    out
}

/// A number literal, in plain decimal (never exponent notation). NaN and infinities have no
/// formula spelling, so they become `BLANK()`, which compares like an empty cell.
pub fn number(n: f64) -> String {
    if !n.is_finite() {
        return "BLANK()".into();
    }
    if n == 0.0 {
        // Avoids "-0", which would read as the negation of 0 rather than a literal.
        return "0".into();
    }
    n.to_string()
}

/// `TRUE()` or `FALSE()`.
pub fn boolean(value: bool) -> String {
    if value { "TRUE()" } else { "FALSE()" }.into()
}

/// A comparison operator for [`compare_number`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "!=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// `{Field} = 'text'`: the field's text is exactly `text`, case included. An empty `text`
/// also matches blank cells, as in Airtable.
pub fn eq(field_name: &str, text: &str) -> String {
    format!("{} = {}", field(field_name), string_literal(text))
}

/// `{Field} != 'text'`.
pub fn ne(field_name: &str, text: &str) -> String {
    format!("{} != {}", field(field_name), string_literal(text))
}

/// `{Field} <op> n`, e.g. `{Amount} >= 100`.
pub fn compare_number(field_name: &str, op: Comparison, n: f64) -> String {
    format!("{} {} {}", field(field_name), op.symbol(), number(n))
}

/// The field contains `needle`, ignoring case. Lowercasing both sides with FIND (rather than
/// relying on SEARCH) behaves the same in Airtable and the sandbox; `& ''` turns blanks and
/// lists (multiple selects, links, lookups) into text first. An empty needle matches all.
pub fn contains_text(field_name: &str, needle: &str) -> String {
    if needle.is_empty() {
        return boolean(true);
    }
    format!(
        "FIND(LOWER({}), LOWER({} & '')) > 0",
        string_literal(needle),
        field(field_name)
    )
}

/// The list field (multiple select, linked records by name, lookup) has `item` as one of its
/// items. It matches on `, ` boundaries, so an item that itself contains `, ` may also match
/// a neighbouring pair.
pub fn list_contains(field_name: &str, item: &str) -> String {
    format!(
        "FIND(', ' & {} & ', ', ', ' & {} & ', ') > 0",
        string_literal(item),
        field(field_name)
    )
}

/// The cell is empty: no text, no items, no number (0 is not empty).
pub fn is_blank(field_name: &str) -> String {
    format!("LEN({} & '') = 0", field(field_name))
}

/// The cell has something in it.
pub fn is_not_blank(field_name: &str) -> String {
    format!("LEN({} & '') > 0", field(field_name))
}

/// The date field is before `date` (ISO 8601 text, e.g. `2024-03-01`).
pub fn date_before(field_name: &str, date: &str) -> String {
    format!("IS_BEFORE({}, {})", field(field_name), string_literal(date))
}

/// The date field is after `date` (ISO 8601 text).
pub fn date_after(field_name: &str, date: &str) -> String {
    format!("IS_AFTER({}, {})", field(field_name), string_literal(date))
}

/// The date field falls on the same UTC day as `date` (ISO 8601 text).
pub fn date_same_day(field_name: &str, date: &str) -> String {
    format!(
        "IS_SAME({}, {}, 'day')",
        field(field_name),
        string_literal(date)
    )
}

/// The record is one of `ids`. No IDs matches nothing. Callers should batch long lists: each
/// ID adds about 35 characters and the sandbox accepts 32 768 characters per formula.
pub fn record_id_in<S: AsRef<str>>(ids: &[S]) -> String {
    let parts: Vec<String> = ids
        .iter()
        .map(|id| format!("RECORD_ID() = {}", string_literal(id.as_ref())))
        .collect();
    or(&parts)
}

/// All of `parts` hold. No parts is always true; one part is returned as it is.
pub fn and(parts: &[String]) -> String {
    combine("AND", parts, "TRUE()")
}

/// Any of `parts` holds. No parts is always false; one part is returned as it is.
pub fn or(parts: &[String]) -> String {
    combine("OR", parts, "FALSE()")
}

/// `part` does not hold.
pub fn not(part: &str) -> String {
    format!("NOT({part})")
}

fn combine(function: &str, parts: &[String], empty: &str) -> String {
    match parts {
        [] => empty.into(),
        [only] => only.clone(),
        parts => {
            let mut out = format!("{function}(");
            for (i, part) in parts.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(out, "{separator}{part}");
            }
            out + ")"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::formula::{Formula, Row};
    use serde_json::{Map, Value, json};

    /// Strings that try to break out of a literal, or are merely awkward.
    const HOSTILE: &[&str] = &[
        "",
        " ",
        "'",
        "''",
        "\"",
        "\\",
        "\\'",
        "\\\\'",
        "'\\",
        "\\n",
        "\n",
        "\r\n",
        "\t",
        "line one\nline two",
        "'); DROP TABLE records; --",
        "' OR 1=1 OR '",
        "' & {Secret} & '",
        "\" & {Secret} & \"",
        "x'}",
        "{Name}",
        "}",
        "{",
        "a}b{c",
        "0",
        "1",
        "1.0",
        "-0",
        "1e3",
        "TRUE",
        "BLANK()",
        "$1 ${x}",
        "%s %d",
        "😀 ü ß 中文 العربية",
        "\u{0}",
        "\u{202e}reversed",
        "\u{feff}bom",
        "ends with backslash \\",
        "' \\' \\\\' \\\\\\'",
    ];

    fn row_with(name: &str, value: Value) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert(name.to_owned(), value);
        fields
    }

    fn matches(formula: &Formula, fields: &Map<String, Value>) -> bool {
        formula.matches(&Row {
            id: "recAAAAAAAAAAAAAA",
            created_ms: 0,
            modified_ms: 0,
            fields,
            now_ms: 0,
        })
    }

    #[test]
    fn eq_of_hostile_text_matches_exactly_that_text() {
        for text in HOSTILE {
            let formula =
                Formula::parse(&eq("Name", text)).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(formula.field_names(), ["Name"], "{text:?}");
            assert!(
                matches(&formula, &row_with("Name", json!(text))),
                "{text:?}"
            );
            let other = format!("{text}x");
            assert!(
                !matches(&formula, &row_with("Name", json!(other))),
                "{text:?}"
            );
            assert!(
                !matches(&formula, &row_with("Name", json!("something else"))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_long_hostile_string_round_trips() {
        let text = HOSTILE.concat().repeat(50);
        let formula = Formula::parse(&eq("Name", &text)).unwrap();
        assert!(matches(&formula, &row_with("Name", json!(text))));
    }

    #[test]
    fn string_literal_evaluates_back_to_the_original_text() {
        for text in HOSTILE {
            let formula = Formula::parse(&string_literal(text)).unwrap();
            assert_eq!(formula.eval(&row_of(&Map::new())), json!(text), "{text:?}");
        }
    }

    fn row_of(fields: &Map<String, Value>) -> Row<'_> {
        Row {
            id: "recAAAAAAAAAAAAAA",
            created_ms: 0,
            modified_ms: 0,
            fields,
            now_ms: 0,
        }
    }

    #[test]
    fn field_of_hostile_names_is_read_back_exactly() {
        for name in HOSTILE.iter().filter(|n| !n.is_empty()) {
            let formula = Formula::parse(&field(name)).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert_eq!(formula.field_names(), [*name], "{name:?}");
        }
    }

    #[test]
    fn a_hostile_field_name_reads_that_fields_value() {
        for name in HOSTILE.iter().filter(|n| !n.is_empty()) {
            let formula = Formula::parse(&eq(name, "v")).unwrap();
            assert!(matches(&formula, &row_with(name, json!("v"))), "{name:?}");
        }
    }

    #[test]
    fn string_literal_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(string_literal("it's a\\b\nc\"d"), r#"'it\'s a\\b\nc"d'"#);
    }

    #[test]
    fn field_escapes_closing_braces_and_backslashes() {
        assert_eq!(field(r"a}b\c{d"), r"{a\}b\\c{d}");
    }

    #[test]
    fn numbers_are_written_in_plain_decimal() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(-2.5), "-2.5");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(1e21), "1000000000000000000000");
    }

    #[test]
    fn non_finite_numbers_become_blank() {
        assert_eq!(number(f64::NAN), "BLANK()");
        assert_eq!(number(f64::INFINITY), "BLANK()");
    }

    #[test]
    fn numbers_read_back_as_the_same_value() {
        for n in [
            0.0,
            1.0,
            -1.0,
            0.1,
            -123.456,
            1e-7,
            9_007_199_254_740_993.0,
            1e300,
        ] {
            let formula = Formula::parse(&number(n)).unwrap();
            let back = formula.eval(&row_of(&Map::new())).as_f64().unwrap();
            assert_eq!(back, n, "{n}");
        }
    }

    #[test]
    fn compare_number_writes_the_operator_between_field_and_number() {
        assert_eq!(
            compare_number("Amount", Comparison::Ge, 100.0),
            "{Amount} >= 100"
        );
        let formula = Formula::parse(&compare_number("Amount", Comparison::Lt, -1.5)).unwrap();
        assert!(matches(&formula, &row_with("Amount", json!(-2))));
        assert!(!matches(&formula, &row_with("Amount", json!(-1.5))));
    }

    #[test]
    fn ne_excludes_exactly_that_text() {
        let formula = Formula::parse(&ne("Name", "O'Neil")).unwrap();
        assert!(!matches(&formula, &row_with("Name", json!("O'Neil"))));
        assert!(matches(&formula, &row_with("Name", json!("o'neil"))));
    }

    #[test]
    fn contains_text_ignores_case() {
        let formula = Formula::parse(&contains_text("Notes", "DON'T")).unwrap();
        assert!(matches(&formula, &row_with("Notes", json!("I don't know"))));
        assert!(!matches(&formula, &row_with("Notes", json!("I do"))));
    }

    #[test]
    fn contains_text_of_hostile_needles_matches_text_containing_them() {
        for needle in HOSTILE.iter().filter(|n| !n.is_empty()) {
            let formula = Formula::parse(&contains_text("Notes", needle)).unwrap();
            let haystack = format!("BEFORE {needle} AFTER");
            assert!(
                matches(&formula, &row_with("Notes", json!(haystack))),
                "{needle:?}"
            );
        }
    }

    #[test]
    fn contains_text_never_matches_a_blank_cell() {
        let formula = Formula::parse(&contains_text("Notes", "x")).unwrap();
        assert!(!matches(&formula, &Map::new()));
    }

    #[test]
    fn contains_text_looks_inside_list_fields() {
        let formula = Formula::parse(&contains_text("Tags", "urg")).unwrap();
        assert!(matches(
            &formula,
            &row_with("Tags", json!(["Bug", "Urgent"]))
        ));
    }

    #[test]
    fn an_empty_needle_is_contained_in_everything() {
        assert_eq!(contains_text("Notes", ""), "TRUE()");
    }

    #[test]
    fn list_contains_matches_whole_items_only() {
        let formula = Formula::parse(&list_contains("Tags", "Bug")).unwrap();
        assert!(matches(
            &formula,
            &row_with("Tags", json!(["Urgent", "Bug"]))
        ));
        assert!(matches(&formula, &row_with("Tags", json!(["Bug"]))));
        assert!(!matches(&formula, &row_with("Tags", json!(["Bugfix"]))));
        assert!(!matches(&formula, &Map::new()));
    }

    #[test]
    fn is_blank_and_is_not_blank_treat_zero_as_a_value() {
        let blank = Formula::parse(&is_blank("N")).unwrap();
        let not_blank = Formula::parse(&is_not_blank("N")).unwrap();
        assert!(matches(&blank, &Map::new()));
        assert!(matches(&blank, &row_with("N", json!([]))));
        assert!(!matches(&blank, &row_with("N", json!(0))));
        assert!(matches(&not_blank, &row_with("N", json!(0))));
    }

    #[test]
    fn date_helpers_compare_against_iso_dates() {
        let fields = row_with("Due", json!("2024-03-01T10:00:00.000Z"));
        let check = |source: String| matches(&Formula::parse(&source).unwrap(), &fields);
        assert!(check(date_before("Due", "2024-03-02")));
        assert!(check(date_after("Due", "2024-03-01")));
        assert!(check(date_same_day("Due", "2024-03-01")));
        assert!(!check(date_same_day("Due", "2024-03-02')")));
    }

    #[test]
    fn record_id_in_matches_only_the_listed_records() {
        let formula = Formula::parse(&record_id_in(&["recAAAAAAAAAAAAAA", "rec'B"])).unwrap();
        assert!(matches(&formula, &Map::new()));
        let other = Formula::parse(&record_id_in(&["recBBBBBBBBBBBBBB"])).unwrap();
        assert!(!matches(&other, &Map::new()));
    }

    #[test]
    fn record_id_in_of_no_ids_matches_nothing() {
        assert_eq!(record_id_in::<&str>(&[]), "FALSE()");
    }

    #[test]
    fn and_and_or_join_their_parts() {
        let parts = [eq("A", "1"), eq("B", "2")];
        assert_eq!(and(&parts), "AND({A} = '1', {B} = '2')");
        assert_eq!(or(&parts), "OR({A} = '1', {B} = '2')");
    }

    #[test]
    fn and_and_or_of_one_part_are_that_part() {
        assert_eq!(and(&[eq("A", "1")]), "{A} = '1'");
    }

    #[test]
    fn and_of_nothing_is_true_and_or_of_nothing_is_false() {
        assert_eq!(and(&[]), "TRUE()");
        assert_eq!(or(&[]), "FALSE()");
    }

    #[test]
    fn not_negates_a_part() {
        let formula = Formula::parse(&not(&eq("A", "x"))).unwrap();
        assert!(matches(&formula, &row_with("A", json!("y"))));
    }

    #[test]
    fn booleans_parse_as_true_and_false() {
        let empty = Map::new();
        assert!(matches(&Formula::parse(&boolean(true)).unwrap(), &empty));
        assert!(!matches(&Formula::parse(&boolean(false)).unwrap(), &empty));
    }
}
