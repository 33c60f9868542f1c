//! Text and array functions. Positions and lengths count characters, from 1, as in Airtable.

use std::fmt::Write;

use super::value::{MAX_TEXT_BYTES, Value, join};

/// A count or position argument as a whole number, or `None` if it is negative or not a number.
fn whole(value: &Value) -> Option<usize> {
    let n = value.to_number()?.trunc();
    // `as` saturates, so a huge count just means "all of it".
    (n >= 0.0).then_some(n as usize)
}

/// The byte offset of character `index` (from 0); the end of `text` if it is exactly there.
fn byte_offset(text: &str, index: usize) -> Option<usize> {
    text.char_indices()
        .map(|(offset, _)| offset)
        .chain([text.len()])
        .nth(index)
}

/// FIND (case-sensitive, 0 when absent) and SEARCH (ignoring case, blank when absent).
pub(super) fn find(args: &[Value], ignore_case: bool) -> Value {
    let needle = args[0].to_text();
    let haystack = args[1].to_text();
    let start = match args.get(2) {
        None => 1,
        Some(start) => match whole(start) {
            Some(start) => start.max(1),
            None => return Value::Error,
        },
    };
    match position(&haystack, &needle, start - 1, ignore_case) {
        Some(found) => Value::Number(found as f64),
        None if ignore_case => Value::Blank,
        None => Value::Number(0.0),
    }
}

/// The 1-based character position of `needle` in `haystack` at or after character `from`.
fn position(haystack: &str, needle: &str, from: usize, ignore_case: bool) -> Option<usize> {
    let tail = &haystack[byte_offset(haystack, from)?..];
    if needle.is_empty() {
        return Some(from + 1);
    }
    let found = if ignore_case {
        // Lowercasing can change byte lengths, so remember where each character starts.
        let mut lowered = String::with_capacity(tail.len());
        let mut starts = Vec::new();
        for c in tail.chars() {
            starts.push(lowered.len());
            lowered.extend(c.to_lowercase());
        }
        let at = lowered.find(&needle.to_lowercase())?;
        starts.partition_point(|&start| start <= at) - 1
    } else {
        let at = tail.find(needle)?;
        tail[..at].chars().count()
    };
    Some(from + found + 1)
}

pub(super) fn left(args: &[Value]) -> Value {
    match whole(&args[1]) {
        Some(count) => Value::Text(args[0].to_text().chars().take(count).collect()),
        None => Value::Error,
    }
}

pub(super) fn right(args: &[Value]) -> Value {
    let text = args[0].to_text();
    match whole(&args[1]) {
        Some(count) => {
            let skip = text.chars().count().saturating_sub(count);
            Value::Text(text.chars().skip(skip).collect())
        }
        None => Value::Error,
    }
}

/// MID(text, start, count).
pub(super) fn mid(args: &[Value]) -> Value {
    match (whole(&args[1]), whole(&args[2])) {
        (Some(start), Some(count)) => Value::Text(
            args[0]
                .to_text()
                .chars()
                .skip(start.max(1) - 1)
                .take(count)
                .collect(),
        ),
        _ => Value::Error,
    }
}

/// REPLACE(text, start, count, replacement): swaps `count` characters from `start`.
pub(super) fn replace(args: &[Value]) -> Value {
    let (Some(start), Some(count)) = (whole(&args[1]), whole(&args[2])) else {
        return Value::Error;
    };
    let text = args[0].to_text();
    let before = start.max(1) - 1;
    let mut out: String = text.chars().take(before).collect();
    out += &args[3].to_text();
    out.extend(text.chars().skip(before.saturating_add(count)));
    Value::text(out)
}

/// SUBSTITUTE(text, old, new, [which]): replaces every occurrence, or only the `which`th.
pub(super) fn substitute(args: &[Value]) -> Value {
    let text = args[0].to_text();
    let old = args[1].to_text();
    let new = args[2].to_text();
    if old.is_empty() {
        return Value::Text(text);
    }
    match args.get(3) {
        None => {
            let occurrences = text.matches(old.as_str()).count();
            let grown = occurrences.saturating_mul(new.len());
            if text.len().saturating_add(grown) > MAX_TEXT_BYTES {
                return Value::Error;
            }
            Value::Text(text.replace(old.as_str(), &new))
        }
        Some(which) => match whole(which) {
            Some(which) if which >= 1 => match text.match_indices(old.as_str()).nth(which - 1) {
                Some((at, _)) => {
                    Value::text(format!("{}{new}{}", &text[..at], &text[at + old.len()..]))
                }
                None => Value::Text(text),
            },
            _ => Value::Error,
        },
    }
}

/// REPT(text, times), refused when the result would be oversized.
pub(super) fn rept(args: &[Value]) -> Value {
    let text = args[0].to_text();
    match whole(&args[1]) {
        Some(times) if text.len().saturating_mul(times) <= MAX_TEXT_BYTES => {
            Value::Text(text.repeat(times))
        }
        _ => Value::Error,
    }
}

/// Percent-encodes like JavaScript's `encodeURIComponent`.
pub(super) fn encode_url_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The items of an array argument; any other value is a one-item list, and blank an empty one.
fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Blank => Vec::new(),
        other => vec![other.clone()],
    }
}

/// ARRAYJOIN(array, [separator]), with `, ` by default.
pub(super) fn array_join(args: &[Value]) -> Value {
    let separator = args.get(1).map_or_else(|| ", ".to_owned(), Value::to_text);
    Value::text(join(&items(&args[0]), &separator))
}

/// ARRAYCOMPACT: drops blank items.
pub(super) fn array_compact(value: &Value) -> Value {
    Value::Array(items(value).into_iter().filter(|v| !v.is_blank()).collect())
}

/// ARRAYUNIQUE: keeps the first of each distinct item.
pub(super) fn array_unique(value: &Value) -> Value {
    let mut unique: Vec<Value> = Vec::new();
    for item in items(value) {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    Value::Array(unique)
}

/// ARRAYFLATTEN: the items of nested arrays, in order.
pub(super) fn flatten(value: &Value) -> Vec<Value> {
    items(value)
        .iter()
        .flat_map(|item| match item {
            Value::Array(_) => flatten(item),
            other => vec![other.clone()],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_with};
    use serde_json::json;

    #[test]
    fn find_is_case_sensitive_and_one_based() {
        assert_eq!(eval("FIND('b', 'abcb')"), json!(2));
        assert_eq!(eval("FIND('B', 'abcb')"), json!(0));
    }

    #[test]
    fn find_starts_from_the_given_position() {
        assert_eq!(eval("FIND('b', 'abcb', 3)"), json!(4));
        assert_eq!(eval("FIND('b', 'abcb', 9)"), json!(0));
    }

    #[test]
    fn find_counts_characters_not_bytes() {
        assert_eq!(eval("FIND('x', 'ééx')"), json!(3));
    }

    #[test]
    fn find_in_a_blank_field_is_zero() {
        assert_eq!(eval("FIND('x', {Missing})"), json!(0));
    }

    #[test]
    fn search_ignores_case_and_is_blank_when_absent() {
        assert_eq!(eval("SEARCH('B', 'abcb')"), json!(2));
        assert_eq!(eval("SEARCH('z', 'abcb')"), json!(null));
        assert_eq!(eval("SEARCH('C', 'aBcb', 3)"), json!(3));
    }

    #[test]
    fn search_positions_survive_letters_that_lowercase_longer() {
        assert_eq!(eval("SEARCH('x', 'İİx')"), json!(3));
    }

    #[test]
    fn an_empty_needle_is_found_at_the_start_position() {
        assert_eq!(eval("FIND('', 'abc', 2)"), json!(2));
    }

    #[test]
    fn lower_and_upper_change_case_beyond_ascii() {
        assert_eq!(eval("LOWER('ÀB')"), json!("àb"));
        assert_eq!(eval("UPPER('straße')"), json!("STRASSE"));
    }

    #[test]
    fn len_counts_characters() {
        assert_eq!(eval("LEN('héllo')"), json!(5));
        assert_eq!(eval("LEN({Missing})"), json!(0));
    }

    #[test]
    fn trim_removes_surrounding_whitespace() {
        assert_eq!(eval("TRIM('  a b \n')"), json!("a b"));
    }

    #[test]
    fn left_and_right_take_characters_from_either_end() {
        assert_eq!(eval("LEFT('héllo', 2)"), json!("hé"));
        assert_eq!(eval("RIGHT('héllo', 3)"), json!("llo"));
        assert_eq!(eval("RIGHT('ab', 5)"), json!("ab"));
    }

    #[test]
    fn a_negative_count_is_an_error() {
        assert_eq!(eval("LEFT('abc', -1)"), json!(null));
    }

    #[test]
    fn mid_takes_a_count_from_a_one_based_start() {
        assert_eq!(eval("MID('abcdef', 2, 3)"), json!("bcd"));
        assert_eq!(eval("MID('abc', 5, 3)"), json!(""));
    }

    #[test]
    fn substitute_replaces_every_occurrence() {
        assert_eq!(eval("SUBSTITUTE('a-b-c', '-', '+')"), json!("a+b+c"));
    }

    #[test]
    fn substitute_with_an_index_replaces_only_that_occurrence() {
        assert_eq!(eval("SUBSTITUTE('a-b-c', '-', '+', 2)"), json!("a-b+c"));
        assert_eq!(eval("SUBSTITUTE('a-b-c', '-', '+', 3)"), json!("a-b-c"));
    }

    #[test]
    fn substituting_the_empty_string_changes_nothing() {
        assert_eq!(eval("SUBSTITUTE('abc', '', 'x')"), json!("abc"));
    }

    #[test]
    fn concatenate_joins_text_numbers_and_blanks() {
        assert_eq!(eval("CONCATENATE('a', 1, {Missing}, 2.5)"), json!("a12.5"));
    }

    #[test]
    fn replace_swaps_characters_at_a_position() {
        assert_eq!(eval("REPLACE('abcdef', 2, 3, 'XY')"), json!("aXYef"));
    }

    #[test]
    fn rept_repeats_text() {
        assert_eq!(eval("REPT('ab', 3)"), json!("ababab"));
    }

    #[test]
    fn rept_refuses_to_build_huge_text() {
        assert_eq!(eval("REPT('abc', 1e12)"), json!(null));
    }

    #[test]
    fn nested_substitutions_cannot_grow_text_without_bound() {
        let mut source = "'aaaaaaaaaaaaaaaa'".to_owned();
        for _ in 0..20 {
            source = format!("SUBSTITUTE({source}, 'a', 'aaaaaaaaaaaaaaaa')");
        }
        assert_eq!(eval(&source), json!(null));
    }

    #[test]
    fn t_keeps_text_and_blanks_everything_else() {
        assert_eq!(eval("T('a')"), json!("a"));
        assert_eq!(eval("T(1)"), json!(null));
    }

    #[test]
    fn encode_url_component_escapes_like_javascript() {
        assert_eq!(
            eval("ENCODE_URL_COMPONENT('a b&c/é(1)')"),
            json!("a%20b%26c%2F%C3%A9(1)")
        );
    }

    #[test]
    fn arrayjoin_joins_with_a_comma_by_default() {
        let fields = json!({"Tags": ["a", "b"]});
        assert_eq!(
            eval_with("ARRAYJOIN({Tags})", fields.clone()),
            json!("a, b")
        );
        assert_eq!(eval_with("ARRAYJOIN({Tags}, '|')", fields), json!("a|b"));
    }

    #[test]
    fn arraycompact_drops_blank_items() {
        let fields = json!({"L": ["a", "", null, 0]});
        assert_eq!(eval_with("ARRAYCOMPACT({L})", fields), json!(["a", 0]));
    }

    #[test]
    fn arrayunique_keeps_first_occurrences() {
        let fields = json!({"L": ["b", "a", "b", 1, 1]});
        assert_eq!(eval_with("ARRAYUNIQUE({L})", fields), json!(["b", "a", 1]));
    }

    #[test]
    fn arrayflatten_flattens_nested_arrays() {
        let fields = json!({"L": [["a", ["b"]], "c"]});
        assert_eq!(
            eval_with("ARRAYFLATTEN({L})", fields),
            json!(["a", "b", "c"])
        );
    }

    #[test]
    fn a_multiple_select_reads_as_joined_text() {
        let fields = json!({"Tags": ["Urgent", "Bug"]});
        assert_eq!(eval_with("FIND('Bug', {Tags})", fields.clone()), json!(9));
        assert_eq!(eval_with("{Tags} & '!'", fields), json!("Urgent, Bug!"));
    }
}
