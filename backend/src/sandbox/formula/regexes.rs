//! REGEX_MATCH, REGEX_EXTRACT and REGEX_REPLACE on the `regex` crate, which runs in linear
//! time, so a hostile pattern cannot stall the server the way a backtracking engine can.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};

use super::value::{MAX_TEXT_BYTES, Value};

/// Largest compiled program a pattern may become, in bytes. Patterns like `(a{1000}){1000}`
/// stay short in the source but blow up when compiled.
const SIZE_LIMIT: usize = 1 << 20;

/// Compiles `pattern`, returning a one-line reason when it is invalid or too complex.
pub(super) fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
        .map_err(|err| match err {
            regex::Error::CompiledTooBig(_) => "it is too large to run once compiled".to_owned(),
            other => {
                // The crate's message draws a caret under the pattern over several lines; the
                // line starting "error: " is the part that reads well in one sentence.
                let message = other.to_string();
                message
                    .lines()
                    .find_map(|line| line.strip_prefix("error: "))
                    .unwrap_or(message.lines().last().unwrap_or("unknown error"))
                    .to_owned()
            }
        })
}

/// The literal pattern compiled at parse time, or else the pattern argument compiled now.
fn regex<'a>(args: &[Value], compiled: Option<&'a Regex>) -> Option<Cow<'a, Regex>> {
    match compiled {
        Some(regex) => Some(Cow::Borrowed(regex)),
        None => compile(&args[1].to_text()).ok().map(Cow::Owned),
    }
}

pub(super) fn is_match(args: &[Value], compiled: Option<&Regex>) -> Value {
    match regex(args, compiled) {
        Some(regex) => Value::Bool(regex.is_match(&args[0].to_text())),
        None => Value::Error,
    }
}

/// The first match; an error when there is none, as in Airtable.
pub(super) fn extract(args: &[Value], compiled: Option<&Regex>) -> Value {
    let text = args[0].to_text();
    match regex(args, compiled).and_then(|regex| regex.find(&text).map(|m| m.as_str().to_owned())) {
        Some(found) => Value::Text(found),
        None => Value::Error,
    }
}

/// Replaces every match; `$1` and `${name}` in the replacement insert groups.
pub(super) fn replace(args: &[Value], compiled: Option<&Regex>) -> Value {
    let Some(regex) = regex(args, compiled) else {
        return Value::Error;
    };
    let text = args[0].to_text();
    let replacement = args[2].to_text();
    // Bound the result before building it: each `$` inserts a group, which is at most the
    // whole match.
    let dollars = replacement.matches('$').count();
    let bound = regex.find_iter(&text).fold(text.len(), |bound, found| {
        bound
            .saturating_add(replacement.len())
            .saturating_add(dollars.saturating_mul(found.len()))
    });
    if bound > MAX_TEXT_BYTES {
        return Value::Error;
    }
    Value::Text(regex.replace_all(&text, replacement.as_str()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_with};
    use super::*;
    use serde_json::json;

    #[test]
    fn regex_match_tests_for_a_match_anywhere() {
        assert_eq!(eval(r"REGEX_MATCH('order 66', '\\d+')"), json!(true));
        assert_eq!(eval("REGEX_MATCH('order', '^\\\\d')"), json!(false));
    }

    #[test]
    fn regex_match_accepts_inline_flags() {
        assert_eq!(eval("REGEX_MATCH('ABC', '(?i)^abc$')"), json!(true));
    }

    #[test]
    fn a_pattern_from_a_field_is_compiled_when_evaluated() {
        let fields = json!({"P": "^a.c$", "Bad": "("});
        assert_eq!(
            eval_with("REGEX_MATCH('abc', {P})", fields.clone()),
            json!(true)
        );
        assert_eq!(eval_with("REGEX_MATCH('abc', {Bad})", fields), json!(null));
    }

    #[test]
    fn regex_extract_returns_the_first_match() {
        assert_eq!(eval("REGEX_EXTRACT('a1b22', '[0-9]+')"), json!("1"));
    }

    #[test]
    fn regex_extract_without_a_match_is_an_error() {
        assert_eq!(eval("REGEX_EXTRACT('abc', '[0-9]+')"), json!(null));
    }

    #[test]
    fn regex_replace_replaces_every_match_with_groups() {
        assert_eq!(
            eval("REGEX_REPLACE('2024-03-01', '(\\\\d+)-(\\\\d+)-(\\\\d+)', '$3/$2/$1')"),
            json!("01/03/2024")
        );
    }

    #[test]
    fn regex_replace_refuses_to_build_huge_text() {
        let fields = json!({"Big": "x".repeat(100_000)});
        assert_eq!(
            eval_with(
                "REGEX_REPLACE({Big}, 'x', '$0$0$0$0$0$0$0$0$0$0$0$0')",
                fields
            ),
            json!(null)
        );
    }

    #[test]
    fn a_pattern_that_compiles_too_large_is_refused() {
        let err = compile("(\\w{1000}){1000}").unwrap_err();
        assert!(err.contains("too large"), "{err}");
    }

    #[test]
    fn compile_errors_read_as_one_line() {
        assert_eq!(compile("[a").unwrap_err(), "unclosed character class");
    }
}
