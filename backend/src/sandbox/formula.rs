//! Airtable's formula language for the sandbox's `filterByFormula`: parsing, and evaluation
//! against one record with Airtable's loose typing (blank equals `''` and `0`, numeric text
//! does arithmetic, arrays read as `a, b` in text).
//!
//! Formulas come from API callers, so parsing bounds the source length and nesting depth,
//! text results are capped in size, and regular expressions run in linear time.

mod dates;
mod eval;
mod functions;
mod lexer;
mod math;
mod parser;
mod regexes;
mod text;
mod value;

use serde_json::{Map, Value as Json};

use parser::Expr;

/// Longest formula accepted, in characters. A GET URL tops out near 16 000 characters, so this
/// leaves room for POSTed filters while bounding the work one filter costs per record.
pub const MAX_SOURCE_CHARS: usize = 32_768;

/// Deepest nesting of parentheses, function calls and unary minus accepted. Parsing and
/// evaluation recurse on it, so this is what keeps hostile input from exhausting the stack.
pub const MAX_DEPTH: usize = 100;

/// A parsed formula, ready to evaluate against any number of records.
#[derive(Debug, Clone)]
pub struct Formula {
    root: Expr,
}

/// Why a formula was refused. The message is shown to API users after "The formula for
/// filtering records is invalid: ", so it names the problem and where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormulaError {
    #[error("the formula is empty")]
    Empty,
    #[error("the formula is {length} characters long; the limit is {limit}")]
    TooLong { length: usize, limit: usize },
    /// `at` counts characters from 1, as an editor's column would.
    #[error("{message} (at character {at})")]
    Syntax { at: usize, message: String },
    #[error(
        "there is no function called {name}() (at character {at}); check its spelling against \
         Airtable's formula reference"
    )]
    UnknownFunction { name: String, at: usize },
    #[error("{function}() takes {expected}, but was given {given} (at character {at})")]
    WrongArity {
        function: &'static str,
        expected: String,
        given: usize,
        at: usize,
    },
    #[error(
        "the formula nests parentheses and function calls more than {limit} levels deep \
         (at character {at}); flatten it, e.g. OR(a, b, c) instead of OR(a, OR(b, c))"
    )]
    TooDeep { limit: usize, at: usize },
    #[error("the regular expression {pattern:?} (at character {at}) is invalid: {reason}")]
    InvalidRegex {
        pattern: String,
        reason: String,
        at: usize,
    },
}

/// One record as a formula sees it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The record ID, for `RECORD_ID()`.
    pub id: &'a str,
    /// Unix milliseconds, for `CREATED_TIME()`.
    pub created_ms: i64,
    /// Cell values keyed by field name, in Airtable's JSON forms; a missing key is a blank cell.
    pub fields: &'a Map<String, Json>,
    /// Unix milliseconds for `NOW()` and `TODAY()`, passed in so results are reproducible.
    pub now_ms: i64,
}

impl Formula {
    /// Parses `source`, checking function names, argument counts and literal regexes up front
    /// so that a typo is reported once rather than silently matching nothing.
    ///
    /// # Errors
    /// A [`FormulaError`] saying what is wrong and at which character.
    pub fn parse(source: &str) -> Result<Formula, FormulaError> {
        let length = source.chars().count();
        if length > MAX_SOURCE_CHARS {
            return Err(FormulaError::TooLong {
                length,
                limit: MAX_SOURCE_CHARS,
            });
        }
        let tokens = lexer::tokenize(source)?;
        let root = parser::parse(&tokens)?;
        Ok(Formula { root })
    }

    /// Every field name the formula references, once each, in order of first mention.
    pub fn field_names(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.root.collect_fields(&mut names);
        names
    }

    /// Evaluates to a JSON value: number, string, bool, array, or null for blank and errors.
    /// Dates come out as ISO 8601 strings in UTC, as Airtable's API returns them.
    pub fn eval(&self, row: &Row<'_>) -> Json {
        eval::eval(&self.root, row).to_json()
    }

    /// Whether the record passes the filter: Airtable treats 0, `''`, blank, false, an empty
    /// array and errors as false, and everything else as true.
    pub fn matches(&self, row: &Row<'_>) -> bool {
        eval::eval(&self.root, row).is_truthy()
    }
}

#[cfg(test)]
mod testing {
    //! A fixed record and clock shared by the submodules' tests.

    use super::{Formula, Row};
    use serde_json::Value as Json;

    /// 2024-03-15T12:00:00Z.
    pub(super) const NOW_MS: i64 = 1_710_504_000_000;
    /// 2024-03-01T10:00:00Z.
    pub(super) const CREATED_MS: i64 = 1_709_287_200_000;
    pub(super) const RECORD_ID: &str = "recAAAAAAAAAAAAAA";

    /// Evaluates `source` against a record holding `fields` (a JSON object).
    pub(super) fn eval_with(source: &str, fields: Json) -> Json {
        let formula = Formula::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let fields = fields.as_object().cloned().unwrap_or_default();
        formula.eval(&row(&fields))
    }

    /// Evaluates `source` against a record with no fields.
    pub(super) fn eval(source: &str) -> Json {
        eval_with(source, serde_json::json!({}))
    }

    /// Whether `source` matches a record holding `fields`.
    pub(super) fn matches_with(source: &str, fields: Json) -> bool {
        let formula = Formula::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let fields = fields.as_object().cloned().unwrap_or_default();
        formula.matches(&row(&fields))
    }

    pub(super) fn row(fields: &serde_json::Map<String, Json>) -> Row<'_> {
        Row {
            id: RECORD_ID,
            created_ms: CREATED_MS,
            fields,
            now_ms: NOW_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{eval, eval_with, matches_with};
    use super::*;
    use serde_json::json;

    #[test]
    fn a_filter_on_a_field_matches_only_records_with_that_value() {
        assert!(matches_with("{Status} = 'Done'", json!({"Status": "Done"})));
        assert!(!matches_with(
            "{Status} = 'Done'",
            json!({"Status": "Open"})
        ));
    }

    #[test]
    fn field_names_lists_each_referenced_field_once_in_order() {
        let formula = Formula::parse("AND({B} = 1, Name = 'x', {B} > 0, {Due Date})").unwrap();
        assert_eq!(formula.field_names(), ["B", "Name", "Due Date"]);
    }

    #[test]
    fn a_parsed_formula_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>(_: &T) {}
        shareable(&Formula::parse("REGEX_MATCH({A}, 'x')").unwrap());
    }

    #[test]
    fn a_formula_without_fields_references_none() {
        assert!(Formula::parse("1 + 2").unwrap().field_names().is_empty());
    }

    #[test]
    fn eval_returns_whole_numbers_as_json_integers() {
        assert_eq!(eval("1 + 2"), json!(3));
        assert_eq!(eval("7 / 2"), json!(3.5));
    }

    #[test]
    fn eval_returns_blank_and_errors_as_null() {
        assert_eq!(eval("BLANK()"), Json::Null);
        assert_eq!(eval("1 / 0"), Json::Null);
    }

    #[test]
    fn eval_returns_arrays_as_json_arrays() {
        assert_eq!(
            eval_with("{Tags}", json!({"Tags": ["a", "b"]})),
            json!(["a", "b"])
        );
    }

    #[test]
    fn eval_returns_dates_as_iso_strings_in_utc() {
        assert_eq!(eval("CREATED_TIME()"), json!("2024-03-01T10:00:00.000Z"));
    }

    #[test]
    fn falsy_results_do_not_match() {
        for source in ["0", "''", "BLANK()", "FALSE()", "{Empty}", "1/0", "{Tags}"] {
            assert!(!matches_with(source, json!({"Tags": []})), "{source}");
        }
    }

    #[test]
    fn truthy_results_match() {
        for source in ["1", "-1", "'0'", "'x'", "TRUE()", "{Tags}", "TODAY()"] {
            assert!(matches_with(source, json!({"Tags": ["a"]})), "{source}");
        }
    }

    #[test]
    fn an_empty_formula_is_refused() {
        assert_eq!(Formula::parse("  ").unwrap_err(), FormulaError::Empty);
    }

    #[test]
    fn an_overlong_formula_is_refused_before_parsing() {
        let source = "1+".repeat(MAX_SOURCE_CHARS) + "1";
        assert!(matches!(
            Formula::parse(&source),
            Err(FormulaError::TooLong { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let source = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(matches!(
            Formula::parse(&source),
            Err(FormulaError::TooDeep {
                limit: MAX_DEPTH,
                ..
            })
        ));
    }

    #[test]
    fn nesting_up_to_the_limit_parses_and_evaluates() {
        let source = "NOT(".repeat(MAX_DEPTH - 1) + "1" + &")".repeat(MAX_DEPTH - 1);
        assert_eq!(eval(&source), json!(false));
        let source = "(1 + 2 * -".repeat(MAX_DEPTH / 2) + "1" + &")".repeat(MAX_DEPTH / 2);
        assert!(eval(&source).is_number());
    }

    #[test]
    fn a_long_flat_chain_of_operators_evaluates() {
        let source = vec!["1"; 5_000].join(" + ");
        assert_eq!(eval(&source), json!(5_000));
    }

    #[test]
    fn error_messages_say_what_is_wrong_and_where() {
        let message = Formula::parse("{A} = 'x").unwrap_err().to_string();
        assert_eq!(
            message,
            "this text is missing its closing ' (at character 7)"
        );
    }

    #[test]
    fn unknown_functions_are_named_in_the_error() {
        let err = Formula::parse("FOO(1)").unwrap_err();
        assert_eq!(
            err,
            FormulaError::UnknownFunction {
                name: "FOO".into(),
                at: 1
            }
        );
        assert!(err.to_string().contains("no function called FOO()"));
    }

    #[test]
    fn wrong_argument_counts_say_what_was_expected() {
        let err = Formula::parse("IF(1)").unwrap_err();
        assert_eq!(
            err.to_string(),
            "IF() takes 2 or 3 arguments, but was given 1 (at character 1)"
        );
    }
}
