//! Airtable's formula language for the sandbox's `filterByFormula`: parsing, and evaluation
//! against one record with Airtable's loose typing (blank equals `''` and `0`, numeric text
//! does arithmetic, arrays read as `a, b` in text).
//!
//! Formulas come from API callers, so parsing bounds the source length and nesting depth,
//! text results are capped in size, regular expressions run in linear time, and a listing's
//! evaluations share a [`Budget`] of steps, bytes and time.

mod dates;
mod eval;
mod functions;
mod lexer;
mod math;
mod parser;
mod regexes;
mod text;
mod value;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use regex::Regex;
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
    /// Evaluating it over the table took more steps, text or time than one listing may use.
    #[error(
        "the formula is too complex to evaluate over this table: it needs more than the sandbox \
         allows for one listing; simplify it, e.g. with fewer terms or shorter text"
    )]
    TooComplex,
}

/// Evaluation steps one listing may take, over all its records: an expression node counts one.
pub const MAX_STEPS: u64 = 5_000_000;

/// Bytes of text one listing's evaluations may build or read, over all its records.
pub const MAX_BYTES: u64 = 128 << 20;

/// Wall-clock time one listing's evaluations may take.
pub const MAX_TIME: Duration = Duration::from_secs(5);

/// Patterns read from fields that a listing keeps compiled, so REGEX_* with a field-valued
/// pattern does not compile it again for every record.
const REGEX_CACHE_ENTRIES: usize = 64;

/// Steps between looks at the clock, which is slower than counting.
const CLOCK_EVERY: u64 = 4_096;

/// What evaluating a formula may cost, shared by every record of one listing. Once spent,
/// every further evaluation answers [`FormulaError::TooComplex`].
#[derive(Debug)]
pub struct Budget {
    steps_left: Cell<u64>,
    bytes_left: Cell<u64>,
    deadline: Instant,
    spent: Cell<bool>,
    patterns: RefCell<HashMap<String, Option<Regex>>>,
}

impl Budget {
    /// The sandbox's limits for one listing: [`MAX_STEPS`], [`MAX_BYTES`] and [`MAX_TIME`].
    pub fn per_listing() -> Self {
        Self::new(MAX_STEPS, MAX_BYTES, MAX_TIME)
    }

    pub fn new(steps: u64, bytes: u64, time: Duration) -> Self {
        Self {
            steps_left: Cell::new(steps),
            bytes_left: Cell::new(bytes),
            deadline: Instant::now() + time,
            spent: Cell::new(false),
            patterns: RefCell::new(HashMap::new()),
        }
    }

    /// Whether the budget ran out.
    pub fn is_spent(&self) -> bool {
        self.spent.get()
    }

    /// Takes `steps`; false once the budget is spent.
    fn step(&self, steps: u64) -> bool {
        if self.spent.get() {
            return false;
        }
        let left = self.steps_left.get();
        let after = left.saturating_sub(steps);
        self.steps_left.set(after);
        let clock_due = left / CLOCK_EVERY != after / CLOCK_EVERY;
        if after == 0 || (clock_due && Instant::now() >= self.deadline) {
            self.spent.set(true);
        }
        !self.spent.get()
    }

    /// Takes `bytes` of text; false once the budget is spent.
    fn bytes(&self, bytes: usize) -> bool {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        match self.bytes_left.get().checked_sub(bytes) {
            Some(left) => self.bytes_left.set(left),
            None => self.spent.set(true),
        }
        !self.spent.get()
    }

    /// `pattern` compiled, from the cache when it was seen before; `None` when it is invalid.
    fn regex(&self, pattern: &str) -> Option<Regex> {
        if let Some(cached) = self.patterns.borrow().get(pattern) {
            return cached.clone();
        }
        // Compiling costs about as much as reading the pattern many times over.
        if !self.step(1_000) || !self.bytes(pattern.len()) {
            return None;
        }
        let compiled = regexes::compile(pattern).ok();
        let mut patterns = self.patterns.borrow_mut();
        if patterns.len() < REGEX_CACHE_ENTRIES {
            patterns.insert(pattern.to_owned(), compiled.clone());
        }
        compiled
    }
}

/// One record as a formula sees it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// The record ID, for `RECORD_ID()`.
    pub id: &'a str,
    /// Unix milliseconds, for `CREATED_TIME()`.
    pub created_ms: i64,
    /// Unix milliseconds of the last change to the record's cells, for `LAST_MODIFIED_TIME()`;
    /// `created_ms` for a record never changed.
    pub modified_ms: i64,
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

    /// Evaluates to a JSON value: number, string, bool, array, or null for blank and errors
    /// (a spent [`Budget::per_listing`] included). Dates come out as ISO 8601 strings in UTC,
    /// as Airtable's API returns them.
    pub fn eval(&self, row: &Row<'_>) -> Json {
        eval::eval(&self.root, row, &Budget::per_listing()).to_json()
    }

    /// Whether the record passes the filter: Airtable treats 0, `''`, blank, false, an empty
    /// array and errors as false, and everything else as true.
    pub fn matches(&self, row: &Row<'_>) -> bool {
        eval::eval(&self.root, row, &Budget::per_listing()).is_truthy()
    }

    /// Like [`Formula::matches`], drawing on `budget`, which the records of one listing share.
    ///
    /// # Errors
    /// [`FormulaError::TooComplex`] once the budget is spent.
    pub fn matches_within(&self, row: &Row<'_>, budget: &Budget) -> Result<bool, FormulaError> {
        let value = eval::eval(&self.root, row, budget);
        if budget.is_spent() {
            Err(FormulaError::TooComplex)
        } else {
            Ok(value.is_truthy())
        }
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
    /// 2024-03-10T08:30:00Z.
    pub(super) const MODIFIED_MS: i64 = 1_710_059_400_000;
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
            modified_ms: MODIFIED_MS,
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
    fn a_formula_that_builds_too_much_text_spends_the_budget() {
        let terms = vec!["LEN(REPT('a', 1000000)) > 0"; 1_000].join(", ");
        let formula = Formula::parse(&format!("AND({terms})")).unwrap();
        let fields = Map::new();
        let budget = Budget::per_listing();
        assert_eq!(
            formula.matches_within(&super::testing::row(&fields), &budget),
            Err(FormulaError::TooComplex)
        );
        assert!(budget.is_spent());
    }

    #[test]
    fn a_listing_stops_once_its_steps_are_spent() {
        let formula = Formula::parse("1 + 1 = 2").unwrap();
        let fields = Map::new();
        let row = super::testing::row(&fields);
        // "1 + 1 = 2" is five nodes: the comparison, the sum, and three numbers.
        let budget = Budget::new(12, MAX_BYTES, MAX_TIME);
        assert_eq!(formula.matches_within(&row, &budget), Ok(true));
        assert_eq!(formula.matches_within(&row, &budget), Ok(true));
        assert_eq!(formula.matches_within(&row, &budget), Err(FormulaError::TooComplex));
    }

    #[test]
    fn field_valued_patterns_are_compiled_once_and_the_cache_stays_small() {
        let formula = Formula::parse("REGEX_MATCH({Name}, {Pattern})").unwrap();
        let budget = Budget::per_listing();
        for i in 0..200 {
            let fields = json!({"Name": format!("item {i}"), "Pattern": format!("^item {}$", i % 100)});
            let fields = fields.as_object().cloned().unwrap_or_default();
            let row = super::testing::row(&fields);
            assert_eq!(formula.matches_within(&row, &budget), Ok(i < 100), "{i}");
        }
        assert_eq!(budget.patterns.borrow().len(), REGEX_CACHE_ENTRIES);
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
