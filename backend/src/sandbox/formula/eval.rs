//! Evaluates an expression tree against one record: fields, operators, and the functions that
//! must not evaluate every argument (IF, SWITCH, AND, OR, ISERROR).

use std::cmp::Ordering;

use regex::Regex;

use super::functions::{self, Function};
use super::lexer::Op;
use super::parser::Expr;
use super::value::{Value, compare, equal};
use super::{Budget, Row};

/// Evaluates `expr`, charging each node and the text it makes to `budget`; once the budget is
/// spent, every node is an error, so what is left of the tree unwinds at once.
pub(super) fn eval(expr: &Expr, row: &Row<'_>, budget: &Budget) -> Value {
    if !budget.step(1) {
        return Value::Error;
    }
    let value = match expr {
        Expr::Number(n) => Value::Number(*n),
        Expr::Text(text) => Value::Text(text.clone()),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Field(name) => row.fields.get(name).map_or(Value::Blank, Value::from_json),
        Expr::Negate(inner) => eval(inner, row, budget)
            .to_number()
            .map_or(Value::Error, |n| Value::number(-n)),
        Expr::Chain { first, rest } => {
            rest.iter().fold(eval(first, row, budget), |left, (op, right)| {
                binary(*op, left, &eval(right, row, budget))
            })
        }
        Expr::Call {
            function,
            args,
            pattern,
        } => call(*function, args, pattern.as_ref(), row, budget),
    };
    if budget.bytes(value.size()) {
        value
    } else {
        Value::Error
    }
}

fn binary(op: Op, left: Value, right: &Value) -> Value {
    if left.is_error() || right.is_error() {
        return Value::Error;
    }
    let ordered =
        |accept: fn(Ordering) -> bool| Value::Bool(compare(&left, right).is_some_and(accept));
    match op {
        Op::Concat => {
            // Appending to the left text in place keeps a long `a & b & c …` linear.
            let mut text = match left {
                Value::Text(text) => text,
                other => other.to_text(),
            };
            text += &right.to_text();
            Value::text(text)
        }
        Op::Eq => Value::Bool(equal(&left, right)),
        Op::Ne => Value::Bool(!equal(&left, right)),
        Op::Lt => ordered(Ordering::is_lt),
        Op::Gt => ordered(Ordering::is_gt),
        Op::Le => ordered(Ordering::is_le),
        Op::Ge => ordered(Ordering::is_ge),
        Op::Plus | Op::Minus | Op::Times | Op::Divide => {
            let (Some(a), Some(b)) = (left.to_number(), right.to_number()) else {
                return Value::Error;
            };
            match op {
                Op::Plus => Value::number(a + b),
                Op::Minus => Value::number(a - b),
                Op::Times => Value::number(a * b),
                _ if b == 0.0 => Value::Error,
                _ => Value::number(a / b),
            }
        }
    }
}

fn call(
    function: Function,
    args: &[Expr],
    pattern: Option<&Regex>,
    row: &Row<'_>,
    budget: &Budget,
) -> Value {
    let arg = |index: usize| args.get(index).map_or(Value::Error, |a| eval(a, row, budget));
    match function {
        Function::If => {
            let condition = arg(0);
            if condition.is_error() {
                Value::Error
            } else if condition.is_truthy() {
                arg(1)
            } else {
                args.get(2).map_or(Value::Blank, |other| eval(other, row, budget))
            }
        }
        Function::Switch => switch(args, row, budget),
        Function::And | Function::Or => {
            // Stops at the first argument that decides the result, as a filter usually can.
            let deciding = function == Function::Or;
            for arg in args {
                let value = eval(arg, row, budget);
                if value.is_error() {
                    return Value::Error;
                }
                if value.is_truthy() == deciding {
                    return Value::Bool(deciding);
                }
            }
            Value::Bool(!deciding)
        }
        Function::IsError => Value::Bool(arg(0).is_error()),
        _ => {
            let values: Vec<Value> = args.iter().map(|arg| eval(arg, row, budget)).collect();
            if values.iter().any(Value::is_error) {
                return Value::Error;
            }
            if function.pattern_arg() && pattern.is_none() {
                // A pattern from a field or an expression: compiled once per listing.
                let Some(text) = values.get(1).map(Value::to_text) else {
                    return Value::Error;
                };
                return match budget.regex(&text) {
                    Some(regex) => functions::apply(function, &values, Some(&regex), row),
                    None => Value::Error,
                };
            }
            functions::apply(function, &values, pattern, row)
        }
    }
}

/// SWITCH(expression, pattern, result, …, [default]): the result of the first pattern equal
/// to the expression, else the default or blank.
fn switch(args: &[Expr], row: &Row<'_>, budget: &Budget) -> Value {
    let Some((subject, rest)) = args.split_first() else {
        return Value::Error;
    };
    let subject = eval(subject, row, budget);
    if subject.is_error() {
        return Value::Error;
    }
    let mut cases = rest.chunks_exact(2);
    for case in cases.by_ref() {
        if let [pattern, result] = case
            && equal(&subject, &eval(pattern, row, budget))
        {
            return eval(result, row, budget);
        }
    }
    match cases.remainder() {
        [default] => eval(default, row, budget),
        _ => Value::Blank,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_with, matches_with};
    use serde_json::json;

    #[test]
    fn a_missing_field_equals_the_empty_string() {
        assert!(matches_with("{Name} = ''", json!({})));
    }

    #[test]
    fn a_missing_field_equals_zero() {
        assert!(matches_with("{Amount} = 0", json!({})));
    }

    #[test]
    fn a_null_field_is_blank() {
        assert!(matches_with("{Name} = BLANK()", json!({"Name": null})));
    }

    #[test]
    fn text_comparison_is_case_sensitive() {
        assert!(!matches_with("{Name} = 'ada'", json!({"Name": "Ada"})));
    }

    #[test]
    fn a_number_field_equals_numeric_text() {
        assert!(matches_with("{Amount} = '42'", json!({"Amount": 42})));
    }

    #[test]
    fn not_equal_has_two_spellings() {
        assert_eq!(eval("1 != 2"), json!(true));
        assert_eq!(eval("1 <> 1"), json!(false));
    }

    #[test]
    fn ordering_operators_compare_numbers() {
        assert_eq!(eval("2 < 10"), json!(true));
        assert_eq!(eval("2 > 10"), json!(false));
        assert_eq!(eval("2 <= 2"), json!(true));
        assert_eq!(eval("3 >= 2"), json!(true));
    }

    #[test]
    fn ordering_a_numeric_field_against_text_converts_the_text() {
        assert!(matches_with("{Amount} > '9'", json!({"Amount": 10})));
    }

    #[test]
    fn arithmetic_follows_precedence() {
        assert_eq!(eval("1 + 2 * 3 - 4 / 2"), json!(5));
        assert_eq!(eval("(1 + 2) * 3"), json!(9));
        assert_eq!(eval("-2 * -3"), json!(6));
        assert_eq!(eval("10 - 4 - 3"), json!(3));
    }

    #[test]
    fn arithmetic_on_numeric_text_works() {
        assert_eq!(eval("'3' * '4'"), json!(12));
        assert_eq!(eval_with("{N} + 1", json!({"N": "41"})), json!(42));
    }

    #[test]
    fn arithmetic_on_other_text_is_an_error() {
        assert_eq!(eval("'three' + 1"), json!(null));
    }

    #[test]
    fn arithmetic_treats_blank_as_zero() {
        assert_eq!(eval("{Missing} + 1"), json!(1));
    }

    #[test]
    fn negating_text_that_is_not_a_number_is_an_error() {
        assert_eq!(eval("-{N}"), json!(0));
        assert_eq!(eval_with("-{N}", json!({"N": "x"})), json!(null));
    }

    #[test]
    fn division_by_zero_is_an_error_and_falsy() {
        assert_eq!(eval("1 / 0"), json!(null));
        assert!(!matches_with("1 / 0", json!({})));
        assert!(!matches_with("NOT(1 / 0)", json!({})));
    }

    #[test]
    fn errors_spread_through_operators() {
        assert_eq!(eval("(1 / 0) = BLANK()"), json!(null));
        assert_eq!(eval("(1 / 0) & 'x'"), json!(null));
    }

    #[test]
    fn concatenation_renders_numbers_without_a_trailing_zero() {
        assert_eq!(eval("'n' & 3.0 & '/' & 2.5"), json!("n3/2.5"));
    }

    #[test]
    fn concatenation_renders_blank_as_empty() {
        assert_eq!(eval("'[' & {Missing} & ']'"), json!("[]"));
    }

    #[test]
    fn concatenation_binds_looser_than_addition() {
        assert_eq!(eval("1 + 2 & 3"), json!("33"));
    }

    #[test]
    fn comparison_binds_looser_than_concatenation() {
        assert_eq!(eval("'a' & 'b' = 'ab'"), json!(true));
    }

    #[test]
    fn if_picks_a_branch_by_truthiness() {
        assert_eq!(eval("IF(1, 'yes', 'no')"), json!("yes"));
        assert_eq!(eval("IF('', 'yes', 'no')"), json!("no"));
        assert_eq!(eval("IF(0, 'yes')"), json!(null));
    }

    #[test]
    fn if_does_not_evaluate_the_branch_it_skips() {
        assert_eq!(eval("IF({N} = 0, 0, 10 / {N})"), json!(0));
    }

    #[test]
    fn an_error_condition_makes_if_an_error() {
        assert_eq!(eval("IF(1/0, 'yes', 'no')"), json!(null));
    }

    #[test]
    fn switch_returns_the_result_of_the_first_equal_pattern() {
        let fields = json!({"S": "b"});
        assert_eq!(
            eval_with("SWITCH({S}, 'a', 1, 'b', 2, 'b', 3)", fields),
            json!(2)
        );
    }

    #[test]
    fn switch_falls_back_to_the_default_or_blank() {
        assert_eq!(eval("SWITCH('z', 'a', 1, 0)"), json!(0));
        assert_eq!(eval("SWITCH('z', 'a', 1)"), json!(null));
    }

    #[test]
    fn and_is_true_only_when_every_argument_is_truthy() {
        assert_eq!(eval("AND(1, 'x', TRUE)"), json!(true));
        assert_eq!(eval("AND(1, '', TRUE)"), json!(false));
    }

    #[test]
    fn or_is_true_when_any_argument_is_truthy() {
        assert_eq!(eval("OR(0, '', 'x')"), json!(true));
        assert_eq!(eval("OR(0, '', BLANK())"), json!(false));
    }

    #[test]
    fn and_and_or_stop_at_the_deciding_argument() {
        assert_eq!(eval("AND(0, 1/0)"), json!(false));
        assert_eq!(eval("OR(1, 1/0)"), json!(true));
        assert_eq!(eval("AND(1, 1/0)"), json!(null));
    }

    #[test]
    fn iserror_detects_errors_without_spreading_them() {
        assert_eq!(eval("ISERROR(1/0)"), json!(true));
        assert_eq!(eval("ISERROR(1)"), json!(false));
    }

    #[test]
    fn a_bare_word_reads_the_field_of_that_name() {
        assert!(matches_with("Status = 'Done'", json!({"Status": "Done"})));
    }

    #[test]
    fn a_checkbox_field_is_true_or_blank() {
        assert!(matches_with("{Done}", json!({"Done": true})));
        assert!(matches_with("{Done} = TRUE()", json!({"Done": true})));
        assert!(matches_with("{Done} = 1", json!({"Done": true})));
        assert!(!matches_with("{Done}", json!({})));
        assert!(matches_with("NOT({Done})", json!({})));
    }

    #[test]
    fn a_linked_record_field_reads_as_its_ids() {
        let fields = json!({"Owner": ["recB", "recC"]});
        assert!(matches_with("FIND('recC', {Owner})", fields));
    }

    #[test]
    fn a_single_select_compares_as_text() {
        assert!(matches_with("{Stage} = 'Won'", json!({"Stage": "Won"})));
    }

    #[test]
    fn a_long_concatenation_chain_stays_within_the_text_limit() {
        let fields = json!({"Big": "x".repeat(300_000)});
        assert_eq!(
            eval_with("{Big} & {Big} & {Big} & {Big}", fields),
            json!(null)
        );
    }
}
