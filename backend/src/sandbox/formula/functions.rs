//! The function catalog: names, argument counts, and dispatch of the eagerly evaluated ones.

use chrono::{Datelike, Timelike};
use regex::Regex;

use super::value::Value;
use super::{Row, dates, math, regexes, text};

/// No upper limit on arguments.
const MANY: usize = usize::MAX;

macro_rules! catalog {
    ($($variant:ident = $name:literal, $min:expr, $max:expr;)*) => {
        /// A function Airtable formulas can call.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum Function {
            $($variant,)*
        }

        impl Function {
            /// Every function, for tests and documentation.
            #[cfg(test)]
            pub(super) const ALL: &[Function] = &[$(Function::$variant,)*];

            /// Finds a function by name, ignoring case as Airtable does.
            pub(super) fn lookup(name: &str) -> Option<Function> {
                match name.to_ascii_uppercase().as_str() {
                    $($name => Some(Function::$variant),)*
                    _ => None,
                }
            }

            pub(super) fn name(self) -> &'static str {
                match self {
                    $(Function::$variant => $name,)*
                }
            }

            /// The fewest and most arguments the function takes.
            pub(super) fn arity(self) -> (usize, usize) {
                match self {
                    $(Function::$variant => ($min, $max),)*
                }
            }
        }
    };
}

catalog! {
    // Logic; IF, SWITCH, AND, OR and ISERROR are evaluated lazily in `eval`.
    And = "AND", 1, MANY;
    Or = "OR", 1, MANY;
    Not = "NOT", 1, 1;
    Xor = "XOR", 1, MANY;
    If = "IF", 2, 3;
    Switch = "SWITCH", 3, MANY;
    IsError = "ISERROR", 1, 1;
    Error = "ERROR", 0, 0;
    Blank = "BLANK", 0, 0;
    True = "TRUE", 0, 0;
    False = "FALSE", 0, 0;
    RecordId = "RECORD_ID", 0, 0;
    CreatedTime = "CREATED_TIME", 0, 0;
    LastModifiedTime = "LAST_MODIFIED_TIME", 0, 0;
    // Text and arrays.
    Find = "FIND", 2, 3;
    Search = "SEARCH", 2, 3;
    Lower = "LOWER", 1, 1;
    Upper = "UPPER", 1, 1;
    Len = "LEN", 1, 1;
    Trim = "TRIM", 1, 1;
    Left = "LEFT", 2, 2;
    Right = "RIGHT", 2, 2;
    Mid = "MID", 3, 3;
    Substitute = "SUBSTITUTE", 3, 4;
    Concatenate = "CONCATENATE", 1, MANY;
    Replace = "REPLACE", 4, 4;
    Rept = "REPT", 2, 2;
    T = "T", 1, 1;
    EncodeUrlComponent = "ENCODE_URL_COMPONENT", 1, 1;
    ArrayJoin = "ARRAYJOIN", 1, 2;
    ArrayCompact = "ARRAYCOMPACT", 1, 1;
    ArrayUnique = "ARRAYUNIQUE", 1, 1;
    ArrayFlatten = "ARRAYFLATTEN", 1, 1;
    RegexMatch = "REGEX_MATCH", 2, 2;
    RegexExtract = "REGEX_EXTRACT", 2, 2;
    RegexReplace = "REGEX_REPLACE", 3, 3;
    // Numbers.
    Value = "VALUE", 1, 1;
    Round = "ROUND", 1, 2;
    RoundUp = "ROUNDUP", 1, 2;
    RoundDown = "ROUNDDOWN", 1, 2;
    Abs = "ABS", 1, 1;
    Min = "MIN", 1, MANY;
    Max = "MAX", 1, MANY;
    Sum = "SUM", 1, MANY;
    Average = "AVERAGE", 1, MANY;
    Count = "COUNT", 1, MANY;
    CountA = "COUNTA", 1, MANY;
    CountAll = "COUNTALL", 1, MANY;
    Int = "INT", 1, 1;
    Ceiling = "CEILING", 1, 2;
    Floor = "FLOOR", 1, 2;
    Mod = "MOD", 2, 2;
    Power = "POWER", 2, 2;
    Sqrt = "SQRT", 1, 1;
    Exp = "EXP", 1, 1;
    Log = "LOG", 1, 2;
    Even = "EVEN", 1, 1;
    Odd = "ODD", 1, 1;
    // Dates.
    Today = "TODAY", 0, 0;
    Now = "NOW", 0, 0;
    IsBefore = "IS_BEFORE", 2, 2;
    IsAfter = "IS_AFTER", 2, 2;
    IsSame = "IS_SAME", 2, 3;
    DateAdd = "DATEADD", 3, 3;
    DatetimeDiff = "DATETIME_DIFF", 2, 3;
    DatetimeFormat = "DATETIME_FORMAT", 1, 2;
    DatetimeParse = "DATETIME_PARSE", 1, 3;
    Year = "YEAR", 1, 1;
    Month = "MONTH", 1, 1;
    Day = "DAY", 1, 1;
    Hour = "HOUR", 1, 1;
    Minute = "MINUTE", 1, 1;
    Second = "SECOND", 1, 1;
    Weekday = "WEEKDAY", 1, 2;
    DateStr = "DATESTR", 1, 1;
    TimeStr = "TIMESTR", 1, 1;
}

impl Function {
    /// Whether the second argument is a regular expression, to compile once when literal.
    pub(super) fn pattern_arg(self) -> bool {
        matches!(
            self,
            Function::RegexMatch | Function::RegexExtract | Function::RegexReplace
        )
    }
}

/// Applies a function to already evaluated arguments, none of them an error; `pattern` is
/// the precompiled regex, if any. The lazily evaluated functions are handled by `eval`.
pub(super) fn apply(
    function: Function,
    args: &[Value],
    pattern: Option<&Regex>,
    row: &Row<'_>,
) -> Value {
    use Function as F;
    match function {
        F::Not => Value::Bool(!args[0].is_truthy()),
        F::Xor => Value::Bool(args.iter().filter(|a| a.is_truthy()).count() % 2 == 1),
        F::Error => Value::Error,
        F::Blank => Value::Blank,
        F::True => Value::Bool(true),
        F::False => Value::Bool(false),
        F::RecordId => Value::Text(row.id.to_owned()),
        F::CreatedTime => dates::from_ms(row.created_ms),
        F::LastModifiedTime => dates::from_ms(row.modified_ms),

        F::Find => text::find(args, false),
        F::Search => text::find(args, true),
        F::Lower => Value::text(args[0].to_text().to_lowercase()),
        F::Upper => Value::text(args[0].to_text().to_uppercase()),
        F::Len => Value::Number(args[0].to_text().chars().count() as f64),
        F::Trim => Value::Text(args[0].to_text().trim().to_owned()),
        F::Left => text::left(args),
        F::Right => text::right(args),
        F::Mid => text::mid(args),
        F::Substitute => text::substitute(args),
        F::Concatenate => Value::text(args.iter().map(Value::to_text).collect()),
        F::Replace => text::replace(args),
        F::Rept => text::rept(args),
        F::T => match &args[0] {
            Value::Text(_) => args[0].clone(),
            _ => Value::Blank,
        },
        F::EncodeUrlComponent => Value::text(text::encode_url_component(&args[0].to_text())),
        F::ArrayJoin => text::array_join(args),
        F::ArrayCompact => text::array_compact(&args[0]),
        F::ArrayUnique => text::array_unique(&args[0]),
        F::ArrayFlatten => Value::Array(text::flatten(&args[0])),
        F::RegexMatch => regexes::is_match(args, pattern),
        F::RegexExtract => regexes::extract(args, pattern),
        F::RegexReplace => regexes::replace(args, pattern),

        F::Value => math::value(&args[0]),
        F::Round => math::round(args, f64::round),
        F::RoundUp => math::round(args, |n| n.signum() * n.abs().ceil()),
        F::RoundDown => math::round(args, f64::trunc),
        F::Abs => math::unary(args, f64::abs),
        F::Min => math::min(args),
        F::Max => math::max(args),
        F::Sum => math::sum(args),
        F::Average => math::average(args),
        F::Count => math::count(args),
        F::CountA => math::count_a(args),
        F::CountAll => math::count_all(args),
        F::Int => math::unary(args, f64::floor),
        F::Ceiling => math::to_multiple(args, f64::ceil),
        F::Floor => math::to_multiple(args, f64::floor),
        F::Mod => math::modulo(args),
        F::Power => math::binary(args, f64::powf),
        F::Sqrt => math::unary(args, f64::sqrt),
        F::Exp => math::unary(args, f64::exp),
        F::Log => math::log(args),
        F::Even => math::unary(args, |n| math::away_to_multiple_of_two(n, 0.0)),
        F::Odd => math::unary(args, |n| math::away_to_multiple_of_two(n, 1.0)),

        F::Today => dates::today(row.now_ms),
        F::Now => dates::from_ms(row.now_ms),
        F::IsBefore => dates::is_before(args),
        F::IsAfter => dates::is_after(args),
        F::IsSame => dates::is_same(args),
        F::DateAdd => dates::dateadd(args),
        F::DatetimeDiff => dates::datetime_diff(args),
        F::DatetimeFormat => dates::datetime_format(args),
        F::DatetimeParse => dates::datetime_parse(args),
        F::Year => dates::part(args, |d| i64::from(d.year())),
        F::Month => dates::part(args, |d| i64::from(d.month())),
        F::Day => dates::part(args, |d| i64::from(d.day())),
        F::Hour => dates::part(args, |d| i64::from(d.hour())),
        F::Minute => dates::part(args, |d| i64::from(d.minute())),
        F::Second => dates::part(args, |d| i64::from(d.second())),
        F::Weekday => dates::weekday(args),
        F::DateStr => dates::datetime_format(&[args[0].clone(), Value::Text("YYYY-MM-DD".into())]),
        F::TimeStr => dates::datetime_format(&[args[0].clone(), Value::Text("HH:mm:ss".into())]),

        // Evaluated lazily by `eval`, which never passes them here.
        F::And | F::Or | F::If | F::Switch | F::IsError => Value::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_with};
    use super::*;
    use serde_json::json;

    #[test]
    fn every_function_is_found_by_its_own_name() {
        for function in Function::ALL {
            assert_eq!(Function::lookup(function.name()), Some(*function));
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(
            Function::lookup("datetime_diff"),
            Some(Function::DatetimeDiff)
        );
    }

    #[test]
    fn every_function_parses_with_its_minimum_argument_count() {
        for function in Function::ALL {
            let (min, _) = function.arity();
            let args = vec!["'x'"; min];
            let source = format!("{}({})", function.name(), args.join(", "));
            assert!(super::super::Formula::parse(&source).is_ok(), "{source}");
        }
    }

    #[test]
    fn not_negates_truthiness() {
        assert_eq!(eval("NOT('')"), json!(true));
        assert_eq!(eval("NOT(2)"), json!(false));
    }

    #[test]
    fn xor_is_true_for_an_odd_number_of_true_arguments() {
        assert_eq!(eval("XOR(1, 0, 0)"), json!(true));
        assert_eq!(eval("XOR(1, 1, 0)"), json!(false));
        assert_eq!(eval("XOR(1, 1, 1)"), json!(true));
    }

    #[test]
    fn true_false_and_blank_are_values() {
        assert_eq!(eval("TRUE()"), json!(true));
        assert_eq!(eval("FALSE()"), json!(false));
        assert_eq!(eval("BLANK()"), json!(null));
    }

    #[test]
    fn true_counts_as_one_in_arithmetic_and_text() {
        assert_eq!(eval("TRUE() + TRUE"), json!(2));
        assert_eq!(eval("TRUE() & ''"), json!("1"));
    }

    #[test]
    fn error_makes_an_error_value() {
        assert_eq!(eval("ISERROR(ERROR())"), json!(true));
    }

    #[test]
    fn record_id_is_the_records_id() {
        assert_eq!(eval("RECORD_ID()"), json!("recAAAAAAAAAAAAAA"));
        assert_eq!(
            eval_with("RECORD_ID() = 'recAAAAAAAAAAAAAA'", json!({})),
            json!(true)
        );
    }

    #[test]
    fn an_error_argument_makes_an_eager_function_an_error() {
        assert_eq!(eval("LEN(1/0)"), json!(null));
        assert_eq!(eval("ISERROR(LEN(1/0))"), json!(true));
    }
}
