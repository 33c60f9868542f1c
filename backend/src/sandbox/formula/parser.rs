//! Turns tokens into an expression tree, with Airtable's (Excel's) precedence: comparison
//! lowest, then `&`, then `+ -`, then `* /`, then unary minus.

use regex::Regex;

use super::functions::Function;
use super::lexer::{Op, Token, TokenKind};
use super::{FormulaError, MAX_DEPTH, regexes};

#[derive(Debug, Clone)]
pub(super) enum Expr {
    Number(f64),
    Text(String),
    Bool(bool),
    Field(String),
    Negate(Box<Expr>),
    /// Operators of one precedence level applied left to right. Keeping `1 + 2 + 3 + …` flat
    /// rather than nested means a long chain cannot make evaluation recurse deeply.
    Chain {
        first: Box<Expr>,
        rest: Vec<(Op, Expr)>,
    },
    Call {
        function: Function,
        args: Vec<Expr>,
        /// The pattern of a REGEX_ function, compiled once when it is a literal.
        pattern: Option<Regex>,
    },
}

impl Expr {
    /// Appends the field names this expression reads that `names` lacks.
    pub(super) fn collect_fields<'a>(&'a self, names: &mut Vec<&'a str>) {
        match self {
            Expr::Field(name) => {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
            Expr::Negate(inner) => inner.collect_fields(names),
            Expr::Chain { first, rest } => {
                first.collect_fields(names);
                for (_, operand) in rest {
                    operand.collect_fields(names);
                }
            }
            Expr::Call { args, .. } => {
                for arg in args {
                    arg.collect_fields(names);
                }
            }
            Expr::Number(_) | Expr::Text(_) | Expr::Bool(_) => {}
        }
    }
}

/// Parses a whole formula from `tokens` (which end with `End`).
///
/// # Errors
/// `Empty`, `Syntax`, `UnknownFunction`, `WrongArity`, `TooDeep` or `InvalidRegex`.
pub(super) fn parse(tokens: &[Token]) -> Result<Expr, FormulaError> {
    if tokens[0].kind == TokenKind::End {
        return Err(FormulaError::Empty);
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        depth: 0,
    };
    let expr = parser.comparison()?;
    let rest = parser.peek();
    if rest.kind != TokenKind::End {
        return Err(unexpected(rest, "an operator or the end of the formula"));
    }
    Ok(expr)
}

struct Parser<'t> {
    tokens: &'t [Token],
    next: usize,
    depth: usize,
}

/// The binary precedence levels, lowest first.
const LEVELS: [&[Op]; 4] = [
    &[Op::Eq, Op::Ne, Op::Lt, Op::Gt, Op::Le, Op::Ge],
    &[Op::Concat],
    &[Op::Plus, Op::Minus],
    &[Op::Times, Op::Divide],
];

impl<'t> Parser<'t> {
    fn peek(&self) -> &'t Token {
        &self.tokens[self.next]
    }

    fn advance(&mut self) -> &'t Token {
        let token = &self.tokens[self.next];
        if token.kind != TokenKind::End {
            self.next += 1;
        }
        token
    }

    /// Counts one more level of nesting, refusing to go past the limit.
    fn enter(&mut self, at: usize) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FormulaError::TooDeep {
                limit: MAX_DEPTH,
                at,
            });
        }
        Ok(())
    }

    fn comparison(&mut self) -> Result<Expr, FormulaError> {
        self.level(0)
    }

    fn level(&mut self, level: usize) -> Result<Expr, FormulaError> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let first = self.level(level + 1)?;
        let mut rest = Vec::new();
        while let TokenKind::Op(op) = self.peek().kind {
            if !ops.contains(&op) {
                break;
            }
            self.advance();
            rest.push((op, self.level(level + 1)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Expr::Chain {
                first: Box::new(first),
                rest,
            }
        })
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        let token = self.peek();
        if token.kind != TokenKind::Op(Op::Minus) {
            return self.primary();
        }
        self.advance();
        self.enter(token.at)?;
        let operand = self.unary()?;
        self.depth -= 1;
        Ok(match operand {
            Expr::Number(n) => Expr::Number(-n),
            other => Expr::Negate(Box::new(other)),
        })
    }

    fn primary(&mut self) -> Result<Expr, FormulaError> {
        let token = self.advance();
        match &token.kind {
            TokenKind::Number(n) => Ok(Expr::Number(*n)),
            TokenKind::Text(text) => Ok(Expr::Text(text.clone())),
            TokenKind::Field(name) => Ok(Expr::Field(name.clone())),
            TokenKind::Word(word) if self.peek().kind == TokenKind::Open => self.call(word, token),
            TokenKind::Word(word) if word.eq_ignore_ascii_case("TRUE") => Ok(Expr::Bool(true)),
            TokenKind::Word(word) if word.eq_ignore_ascii_case("FALSE") => Ok(Expr::Bool(false)),
            // Airtable reads a bare word as a field name, e.g. `Status = 'Done'`.
            TokenKind::Word(word) => Ok(Expr::Field(word.clone())),
            TokenKind::Open => {
                self.enter(token.at)?;
                let inner = self.comparison()?;
                self.close(token)?;
                self.depth -= 1;
                Ok(inner)
            }
            _ => Err(unexpected(token, "a value, a field or a function")),
        }
    }

    /// Expects the `)` matching `open`.
    fn close(&mut self, open: &Token) -> Result<(), FormulaError> {
        let token = self.advance();
        match token.kind {
            TokenKind::Close => Ok(()),
            TokenKind::End => Err(FormulaError::Syntax {
                at: open.at,
                message: "this '(' is never closed".into(),
            }),
            _ => Err(unexpected(token, "',' or ')'")),
        }
    }

    fn call(&mut self, name: &str, name_token: &Token) -> Result<Expr, FormulaError> {
        let function = Function::lookup(name).ok_or_else(|| FormulaError::UnknownFunction {
            name: name.to_uppercase(),
            at: name_token.at,
        })?;
        let open = self.advance();
        self.enter(open.at)?;
        let mut args = Vec::new();
        if self.peek().kind != TokenKind::Close {
            loop {
                args.push(self.comparison()?);
                if self.peek().kind != TokenKind::Comma {
                    break;
                }
                self.advance();
            }
        }
        self.close(open)?;
        self.depth -= 1;
        let (min, max) = function.arity();
        if args.len() < min || args.len() > max {
            return Err(FormulaError::WrongArity {
                function: function.name(),
                expected: describe_arity(min, max),
                given: args.len(),
                at: name_token.at,
            });
        }
        let pattern = match (function.pattern_arg(), args.get(1)) {
            (true, Some(Expr::Text(pattern))) => Some(regexes::compile(pattern).map_err(
                |reason| FormulaError::InvalidRegex {
                    pattern: pattern.chars().take(60).collect(),
                    reason,
                    at: name_token.at,
                },
            )?),
            _ => None,
        };
        Ok(Expr::Call {
            function,
            args,
            pattern,
        })
    }
}

fn unexpected(token: &Token, wanted: &str) -> FormulaError {
    FormulaError::Syntax {
        at: token.at,
        message: format!("expected {wanted}, but found {}", token.describe()),
    }
}

fn describe_arity(min: usize, max: usize) -> String {
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    match (min, max) {
        (0, 0) => "no arguments".into(),
        (min, usize::MAX) => format!("at least {min} {}", plural(min)),
        (min, max) if min == max => format!("exactly {min} {}", plural(min)),
        (min, max) if min + 1 == max => format!("{min} or {max} arguments"),
        (min, max) => format!("{min} to {max} arguments"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn parse_str(source: &str) -> Result<Expr, FormulaError> {
        parse(&tokenize(source).unwrap())
    }

    /// Renders the tree with explicit parentheses, to check grouping.
    fn shape(expr: &Expr) -> String {
        match expr {
            Expr::Number(n) => n.to_string(),
            Expr::Text(t) => format!("'{t}'"),
            Expr::Bool(b) => b.to_string(),
            Expr::Field(f) => format!("{{{f}}}"),
            Expr::Negate(inner) => format!("-{}", shape(inner)),
            Expr::Chain { first, rest } => {
                let mut out = format!("({}", shape(first));
                for (op, operand) in rest {
                    out += &format!(" {} {}", op.symbol(), shape(operand));
                }
                out + ")"
            }
            Expr::Call { function, args, .. } => {
                let args: Vec<String> = args.iter().map(shape).collect();
                format!("{}({})", function.name(), args.join(", "))
            }
        }
    }

    fn grouping(source: &str) -> String {
        shape(&parse_str(source).unwrap())
    }

    fn syntax_error(source: &str) -> (usize, String) {
        match parse_str(source) {
            Err(FormulaError::Syntax { at, message }) => (at, message),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn multiplication_binds_tighter_than_addition() {
        assert_eq!(grouping("1 + 2 * 3"), "(1 + (2 * 3))");
    }

    #[test]
    fn addition_binds_tighter_than_concatenation() {
        assert_eq!(grouping("1 + 2 & 3"), "((1 + 2) & 3)");
    }

    #[test]
    fn concatenation_binds_tighter_than_comparison() {
        assert_eq!(grouping("{A} & 'x' = 'yx'"), "(({A} & 'x') = 'yx')");
    }

    #[test]
    fn unary_minus_binds_tighter_than_multiplication() {
        assert_eq!(grouping("-{A} * 2"), "(-{A} * 2)");
    }

    #[test]
    fn operators_of_one_level_group_left_to_right() {
        assert_eq!(grouping("8 - 2 - 1"), "(8 - 2 - 1)");
        assert_eq!(grouping("8 / 2 * 4"), "(8 / 2 * 4)");
    }

    #[test]
    fn parentheses_override_precedence() {
        assert_eq!(grouping("(1 + 2) * 3"), "((1 + 2) * 3)");
    }

    #[test]
    fn a_negative_literal_is_folded_into_the_number() {
        assert_eq!(grouping("--2"), "2");
    }

    #[test]
    fn function_names_are_case_insensitive() {
        assert_eq!(grouping("lower('A')"), "LOWER('A')");
    }

    #[test]
    fn true_and_false_work_without_parentheses() {
        assert_eq!(grouping("TRUE = true()"), "(true = TRUE())");
        assert_eq!(grouping("false"), "false");
    }

    #[test]
    fn a_bare_word_is_a_field_name() {
        assert_eq!(grouping("Name = 'x'"), "({Name} = 'x')");
    }

    #[test]
    fn a_bare_word_before_a_parenthesis_is_a_function_call() {
        assert!(matches!(
            parse_str("Name('x')"),
            Err(FormulaError::UnknownFunction { .. })
        ));
    }

    #[test]
    fn functions_without_arguments_need_empty_parentheses() {
        assert_eq!(grouping("NOW()"), "NOW()");
    }

    #[test]
    fn a_missing_operand_is_reported_where_it_should_be() {
        assert_eq!(
            syntax_error("1 +"),
            (
                4,
                "expected a value, a field or a function, but found the end of the formula".into()
            )
        );
    }

    #[test]
    fn two_values_in_a_row_are_a_syntax_error() {
        let (at, message) = syntax_error("{A} 'x'");
        assert_eq!(at, 5);
        assert!(message.contains("an operator"));
    }

    #[test]
    fn an_unclosed_parenthesis_is_reported_where_it_opens() {
        assert_eq!(
            syntax_error("AND(1, (2"),
            (8, "this '(' is never closed".into())
        );
    }

    #[test]
    fn an_extra_closing_parenthesis_is_a_syntax_error() {
        assert_eq!(syntax_error("(1))").0, 4);
    }

    #[test]
    fn an_empty_argument_is_a_syntax_error() {
        assert_eq!(syntax_error("IF(1,,2)").0, 6);
    }

    #[test]
    fn a_trailing_comma_is_a_syntax_error() {
        assert_eq!(syntax_error("AND(1,)").0, 7);
    }

    #[test]
    fn too_few_arguments_are_refused() {
        assert!(matches!(
            parse_str("LEFT('a')"),
            Err(FormulaError::WrongArity {
                function: "LEFT",
                given: 1,
                ..
            })
        ));
    }

    #[test]
    fn too_many_arguments_are_refused() {
        assert!(matches!(
            parse_str("NOW(1)"),
            Err(FormulaError::WrongArity { given: 1, .. })
        ));
    }

    #[test]
    fn an_invalid_literal_regex_is_refused_when_parsing() {
        let err = parse_str("REGEX_MATCH({A}, '(')").unwrap_err();
        assert!(matches!(err, FormulaError::InvalidRegex { at: 1, .. }));
        assert!(err.to_string().contains("unclosed group"), "{err}");
    }

    #[test]
    fn arity_is_described_in_words() {
        assert_eq!(describe_arity(0, 0), "no arguments");
        assert_eq!(describe_arity(1, 1), "exactly 1 argument");
        assert_eq!(describe_arity(2, 3), "2 or 3 arguments");
        assert_eq!(describe_arity(2, 4), "2 to 4 arguments");
        assert_eq!(describe_arity(1, usize::MAX), "at least 1 argument");
    }

    #[test]
    fn unary_minus_chains_count_towards_the_depth_limit() {
        let source = "-".repeat(MAX_DEPTH + 1) + "1";
        assert!(matches!(
            parse_str(&source),
            Err(FormulaError::TooDeep { .. })
        ));
    }
}
