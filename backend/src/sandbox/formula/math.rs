//! Numeric functions. Results that are not finite numbers become error values.

use super::text::flatten;
use super::value::{Value, parse_number};

/// The number in argument `index`, as `to_number` reads it.
fn arg(args: &[Value], index: usize) -> Option<f64> {
    args.get(index)?.to_number()
}

/// Applies `f` to the single numeric argument.
pub(super) fn unary(args: &[Value], f: impl Fn(f64) -> f64) -> Value {
    arg(args, 0).map_or(Value::Error, |n| Value::number(f(n)))
}

/// Applies `f` to the two numeric arguments.
pub(super) fn binary(args: &[Value], f: fn(f64, f64) -> f64) -> Value {
    match (arg(args, 0), arg(args, 1)) {
        (Some(a), Some(b)) => Value::number(f(a, b)),
        _ => Value::Error,
    }
}

/// VALUE(text): reads a number out of text, ignoring currency signs, thousands separators and
/// spaces; `50%` is 0.5.
pub(super) fn value(value: &Value) -> Value {
    let Value::Text(text) = value else {
        return value.to_number().map_or(Value::Error, Value::number);
    };
    let cleaned: String = text
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, ',' | '$' | '€' | '£' | '¥')))
        .collect();
    if cleaned.is_empty() {
        return Value::Number(0.0);
    }
    let (digits, scale) = match cleaned.strip_suffix('%') {
        Some(digits) => (digits, 0.01),
        None => (cleaned.as_str(), 1.0),
    };
    parse_number(digits).map_or(Value::Error, |n| Value::number(n * scale))
}

/// ROUND, ROUNDUP and ROUNDDOWN: `to_whole` rounds to an integer, applied at `precision`
/// decimal places (negative places round to tens, hundreds…).
pub(super) fn round(args: &[Value], to_whole: fn(f64) -> f64) -> Value {
    let Some(n) = arg(args, 0) else {
        return Value::Error;
    };
    let places = match args.get(1) {
        None => 0.0,
        Some(places) => match places.to_number() {
            Some(places) => places.trunc(),
            None => return Value::Error,
        },
    };
    // Beyond 15 places an f64 has nothing left to round.
    if places > 15.0 {
        return Value::Number(n);
    }
    let factor = 10f64.powf(places.max(-308.0));
    let scaled = n * factor;
    if !scaled.is_finite() {
        return Value::Number(n);
    }
    Value::number(to_whole(scaled) / factor)
}

/// CEILING and FLOOR: rounds to a multiple of the significance (1 by default).
pub(super) fn to_multiple(args: &[Value], to_whole: fn(f64) -> f64) -> Value {
    let significance = if args.len() > 1 {
        arg(args, 1)
    } else {
        Some(1.0)
    };
    match (arg(args, 0), significance) {
        (Some(_), Some(0.0)) => Value::Number(0.0),
        (Some(n), Some(significance)) => Value::number(to_whole(n / significance) * significance),
        _ => Value::Error,
    }
}

/// MOD(n, divisor), with the sign of `n` as in JavaScript; an error for a zero divisor.
pub(super) fn modulo(args: &[Value]) -> Value {
    match (arg(args, 0), arg(args, 1)) {
        (Some(_), Some(0.0)) => Value::Error,
        (Some(n), Some(divisor)) => Value::number(n % divisor),
        _ => Value::Error,
    }
}

/// LOG(n, [base]), base 10 by default.
pub(super) fn log(args: &[Value]) -> Value {
    let base = if args.len() > 1 {
        arg(args, 1)
    } else {
        Some(10.0)
    };
    match (arg(args, 0), base) {
        (Some(n), Some(base)) if n > 0.0 && base > 0.0 && base != 1.0 => {
            // The dedicated functions are exact where ln(n) / ln(base) is not: LOG(1000) is 3.
            let log = match base {
                10.0 => n.log10(),
                2.0 => n.log2(),
                _ => n.ln() / base.ln(),
            };
            Value::number(log)
        }
        _ => Value::Error,
    }
}

/// EVEN and ODD: rounds away from zero to the next integer whose remainder by 2 is
/// `remainder`.
pub(super) fn away_to_multiple_of_two(n: f64, remainder: f64) -> f64 {
    let up = |x: f64| ((x - remainder) / 2.0).ceil() * 2.0 + remainder;
    if n >= 0.0 {
        up(n.max(remainder))
    } else {
        -up(-n)
    }
}

/// The numbers among the arguments, with arrays (lookups, rollups) opened up. Blanks and text
/// that is not a number are skipped, as Airtable's aggregate functions do.
fn numbers(args: &[Value]) -> Vec<f64> {
    flatten(&Value::Array(args.to_vec()))
        .iter()
        .filter_map(|v| match v {
            Value::Blank => None,
            Value::Text(t) => parse_number(t),
            other => other.to_number(),
        })
        .collect()
}

pub(super) fn sum(args: &[Value]) -> Value {
    Value::number(numbers(args).iter().sum())
}

/// MIN of no numbers is 0, as in Airtable.
pub(super) fn min(args: &[Value]) -> Value {
    let numbers = numbers(args);
    Value::number(numbers.iter().copied().reduce(f64::min).unwrap_or(0.0))
}

/// MAX of no numbers is 0, as in Airtable.
pub(super) fn max(args: &[Value]) -> Value {
    let numbers = numbers(args);
    Value::number(numbers.iter().copied().reduce(f64::max).unwrap_or(0.0))
}

/// AVERAGE of no numbers is an error (a division by zero).
pub(super) fn average(args: &[Value]) -> Value {
    let numbers = numbers(args);
    if numbers.is_empty() {
        return Value::Error;
    }
    Value::number(numbers.iter().sum::<f64>() / numbers.len() as f64)
}

/// COUNT: how many items are numbers.
pub(super) fn count(args: &[Value]) -> Value {
    let items = flatten(&Value::Array(args.to_vec()));
    let numbers = items.iter().filter(|v| matches!(v, Value::Number(_)));
    Value::Number(numbers.count() as f64)
}

/// COUNTA: how many items are not blank.
pub(super) fn count_a(args: &[Value]) -> Value {
    let items = flatten(&Value::Array(args.to_vec()));
    Value::Number(items.iter().filter(|v| !v.is_blank()).count() as f64)
}

/// COUNTALL: how many items there are, blanks included.
pub(super) fn count_all(args: &[Value]) -> Value {
    Value::Number(flatten(&Value::Array(args.to_vec())).len() as f64)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_with};
    use serde_json::json;

    #[test]
    fn value_reads_numbers_out_of_formatted_text() {
        assert_eq!(eval("VALUE('$1,234.50')"), json!(1234.5));
        assert_eq!(eval("VALUE('50%')"), json!(0.5));
        assert_eq!(eval("VALUE(' -3 ')"), json!(-3));
    }

    #[test]
    fn value_of_words_is_an_error() {
        assert_eq!(eval("VALUE('twelve')"), json!(null));
    }

    #[test]
    fn round_rounds_half_away_from_zero() {
        assert_eq!(eval("ROUND(2.5)"), json!(3));
        assert_eq!(eval("ROUND(-2.5)"), json!(-3));
    }

    #[test]
    fn round_takes_decimal_places_positive_or_negative() {
        assert_eq!(eval("ROUND(1.23456, 2)"), json!(1.23));
        assert_eq!(eval("ROUND(1234, -2)"), json!(1200));
    }

    #[test]
    fn roundup_and_rounddown_round_away_from_and_toward_zero() {
        assert_eq!(eval("ROUNDUP(1.21, 1)"), json!(1.3));
        assert_eq!(eval("ROUNDUP(-1.21, 1)"), json!(-1.3));
        assert_eq!(eval("ROUNDDOWN(1.29, 1)"), json!(1.2));
        assert_eq!(eval("ROUNDDOWN(-1.29, 1)"), json!(-1.2));
    }

    #[test]
    fn abs_drops_the_sign() {
        assert_eq!(eval("ABS(-4.5)"), json!(4.5));
    }

    #[test]
    fn min_and_max_open_up_arrays_and_skip_blanks() {
        let fields = json!({"L": [3, 1, null, 7]});
        assert_eq!(eval_with("MIN({L}, 2)", fields.clone()), json!(1));
        assert_eq!(eval_with("MAX({L}, 2)", fields), json!(7));
    }

    #[test]
    fn min_of_nothing_numeric_is_zero() {
        assert_eq!(eval("MIN({Missing})"), json!(0));
    }

    #[test]
    fn sum_adds_numbers_and_numeric_text() {
        assert_eq!(eval_with("SUM({L}, '4')", json!({"L": [1, 2]})), json!(7));
    }

    #[test]
    fn average_divides_by_the_count_of_numbers() {
        assert_eq!(eval("AVERAGE(1, 2, {Missing}, 6)"), json!(3));
        assert_eq!(eval("AVERAGE({Missing})"), json!(null));
    }

    #[test]
    fn count_counts_numbers_counta_non_blanks_and_countall_everything() {
        let fields = json!({"L": [1, "a", null, 2]});
        assert_eq!(eval_with("COUNT({L})", fields.clone()), json!(2));
        assert_eq!(eval_with("COUNTA({L})", fields.clone()), json!(3));
        assert_eq!(eval_with("COUNTALL({L})", fields), json!(4));
    }

    #[test]
    fn int_rounds_down() {
        assert_eq!(eval("INT(2.7)"), json!(2));
        assert_eq!(eval("INT(-2.1)"), json!(-3));
    }

    #[test]
    fn ceiling_and_floor_round_to_a_multiple() {
        assert_eq!(eval("CEILING(2.1)"), json!(3));
        assert_eq!(eval("CEILING(7, 5)"), json!(10));
        assert_eq!(eval("FLOOR(2.9)"), json!(2));
        assert_eq!(eval("FLOOR(7, 5)"), json!(5));
    }

    #[test]
    fn mod_keeps_the_sign_of_the_dividend() {
        assert_eq!(eval("MOD(7, 3)"), json!(1));
        assert_eq!(eval("MOD(-7, 3)"), json!(-1));
    }

    #[test]
    fn mod_by_zero_is_an_error() {
        assert_eq!(eval("MOD(7, 0)"), json!(null));
    }

    #[test]
    fn power_sqrt_exp_and_log_compute_as_expected() {
        assert_eq!(eval("POWER(2, 10)"), json!(1024));
        assert_eq!(eval("SQRT(16)"), json!(4));
        assert_eq!(eval("LOG(1000)"), json!(3));
        assert_eq!(eval("LOG(8, 2)"), json!(3));
        assert_eq!(eval("ROUND(EXP(2), 2)"), json!(7.39));
    }

    #[test]
    fn impossible_math_is_an_error() {
        assert_eq!(eval("SQRT(-1)"), json!(null));
        assert_eq!(eval("LOG(0)"), json!(null));
        assert_eq!(eval("POWER(10, 400)"), json!(null));
    }

    #[test]
    fn even_and_odd_round_away_from_zero() {
        assert_eq!(eval("EVEN(1.5)"), json!(2));
        assert_eq!(eval("EVEN(3)"), json!(4));
        assert_eq!(eval("EVEN(-1)"), json!(-2));
        assert_eq!(eval("ODD(2)"), json!(3));
        assert_eq!(eval("ODD(0)"), json!(1));
        assert_eq!(eval("ODD(-2)"), json!(-3));
    }

    #[test]
    fn math_on_text_that_is_not_a_number_is_an_error() {
        assert_eq!(eval("ABS('x')"), json!(null));
    }
}
