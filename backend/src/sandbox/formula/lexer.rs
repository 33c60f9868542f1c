//! Splits formula source into tokens, each tagged with the character it starts at.

use super::FormulaError;

/// A binary operator, as written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Plus,
    Minus,
    Times,
    Divide,
    Concat,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            Op::Plus => "+",
            Op::Minus => "-",
            Op::Times => "*",
            Op::Divide => "/",
            Op::Concat => "&",
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    Number(f64),
    Text(String),
    /// `{Field Name}`, unescaped.
    Field(String),
    /// A bare word: a function name before `(`, otherwise a field name or TRUE/FALSE.
    Word(String),
    Open,
    Close,
    Comma,
    Op(Op),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    /// Character position, counting from 1.
    pub(super) at: usize,
}

impl Token {
    /// How the token reads in an error message.
    pub(super) fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Number(n) => format!("the number {n}"),
            TokenKind::Text(_) => "a text value".into(),
            TokenKind::Field(name) => format!("the field {{{name}}}"),
            TokenKind::Word(word) => format!("'{word}'"),
            TokenKind::Open => "'('".into(),
            TokenKind::Close => "')'".into(),
            TokenKind::Comma => "','".into(),
            TokenKind::Op(op) => format!("'{}'", op.symbol()),
            TokenKind::End => "the end of the formula".into(),
        }
    }
}

/// Tokenizes `source`; the last token is always `End`.
///
/// # Errors
/// `Syntax` for unterminated text or field names and characters with no meaning in a formula.
pub(super) fn tokenize(source: &str) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        let syntax = |message: String| FormulaError::Syntax { at, message };
        let (kind, next) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (TokenKind::Open, i + 1),
            ')' => (TokenKind::Close, i + 1),
            ',' => (TokenKind::Comma, i + 1),
            '+' => (TokenKind::Op(Op::Plus), i + 1),
            '-' => (TokenKind::Op(Op::Minus), i + 1),
            '*' => (TokenKind::Op(Op::Times), i + 1),
            '/' => (TokenKind::Op(Op::Divide), i + 1),
            '&' => (TokenKind::Op(Op::Concat), i + 1),
            '=' if chars.get(i + 1) == Some(&'=') => {
                return Err(syntax(
                    "use a single '=' to compare values, not '=='".into(),
                ));
            }
            '=' => (TokenKind::Op(Op::Eq), i + 1),
            '!' if chars.get(i + 1) == Some(&'=') => (TokenKind::Op(Op::Ne), i + 2),
            '<' if chars.get(i + 1) == Some(&'>') => (TokenKind::Op(Op::Ne), i + 2),
            '<' if chars.get(i + 1) == Some(&'=') => (TokenKind::Op(Op::Le), i + 2),
            '<' => (TokenKind::Op(Op::Lt), i + 1),
            '>' if chars.get(i + 1) == Some(&'=') => (TokenKind::Op(Op::Ge), i + 2),
            '>' => (TokenKind::Op(Op::Gt), i + 1),
            '\'' | '"' => {
                let (text, next) = quoted(&chars, i)
                    .ok_or_else(|| syntax(format!("this text is missing its closing {c}")))?;
                (TokenKind::Text(text), next)
            }
            '{' => {
                let (name, next) = braced(&chars, i)
                    .ok_or_else(|| syntax("this field name is missing its closing }".into()))?;
                if name.is_empty() {
                    return Err(syntax("{} needs a field name between the braces".into()));
                }
                (TokenKind::Field(name), next)
            }
            c if c.is_ascii_digit() || (c == '.' && next_is_digit(&chars, i)) => {
                let (n, next) = number(&chars, i)
                    .ok_or_else(|| syntax("this number is malformed or too large".into()))?;
                (TokenKind::Number(n), next)
            }
            c if c.is_alphabetic() || c == '_' => {
                let end = (i..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                (TokenKind::Word(chars[i..end].iter().collect()), end)
            }
            '‘' | '’' | '“' | '”' => {
                return Err(syntax(format!(
                    "{c} is a typographic quote; put text between straight quotes ' or \""
                )));
            }
            '!' => return Err(syntax("'!' is only valid as part of '!='".into())),
            other => return Err(syntax(format!("{other:?} has no meaning in a formula"))),
        };
        tokens.push(Token { kind, at });
        i = next;
    }
    tokens.push(Token {
        kind: TokenKind::End,
        at: chars.len() + 1,
    });
    Ok(tokens)
}

fn next_is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i + 1).is_some_and(char::is_ascii_digit)
}

/// Reads `123`, `1.5`, `.5` or `2e3` starting at `start`.
fn number(chars: &[char], start: usize) -> Option<(f64, usize)> {
    let digits = |from: usize| {
        (from..chars.len())
            .find(|&j| !chars[j].is_ascii_digit())
            .unwrap_or(chars.len())
    };
    let mut end = digits(start);
    if chars.get(end) == Some(&'.') {
        end = digits(end + 1);
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(end + 1), Some('+' | '-')));
        if chars.get(end + 1 + sign).is_some_and(char::is_ascii_digit) {
            end = digits(end + 1 + sign);
        }
    }
    let literal: String = chars[start..end].iter().collect();
    let n: f64 = literal.parse().ok()?;
    n.is_finite().then_some((n, end))
}

/// Reads a quoted string opened at `start`; backslash escapes the quote, itself, `n`, `t`, `r`,
/// and any other character stands for itself.
fn quoted(chars: &[char], start: usize) -> Option<(String, usize)> {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match *chars.get(i)? {
            c if c == quote => return Some((text, i + 1)),
            '\\' => {
                let escaped = *chars.get(i + 1)?;
                text.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
                i += 2;
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
}

/// Reads a `{Field Name}` opened at `start`. Only `\}` and `\\` are escapes, so other
/// backslashes in a field name need no doubling.
fn braced(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut i = start + 1;
    loop {
        match *chars.get(i)? {
            '}' => return Some((name, i + 1)),
            '\\' if matches!(chars.get(i + 1), Some('}' | '\\')) => {
                name.push(chars[i + 1]);
                i += 2;
            }
            c => {
                name.push(c);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn error_at(source: &str) -> usize {
        match tokenize(source) {
            Err(FormulaError::Syntax { at, .. }) => at,
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn numbers_may_have_fractions_exponents_and_a_leading_point() {
        assert_eq!(
            kinds("12 1.5 .25 2e3 1E-2"),
            [12.0, 1.5, 0.25, 2000.0, 0.01]
                .map(TokenKind::Number)
                .into_iter()
                .chain([TokenKind::End])
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_number_too_large_for_a_float_is_a_syntax_error() {
        assert_eq!(error_at("1e999"), 1);
    }

    #[test]
    fn both_quote_styles_make_text() {
        assert_eq!(
            kinds(r#"'a' "b""#),
            [
                TokenKind::Text("a".into()),
                TokenKind::Text("b".into()),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn backslash_escapes_quotes_backslashes_and_newlines_in_text() {
        assert_eq!(
            kinds(r#"'it\'s \"x\" a\\b \n'"#)[0],
            TokenKind::Text("it's \"x\" a\\b \n".into())
        );
    }

    #[test]
    fn the_other_quote_needs_no_escape_inside_text() {
        assert_eq!(kinds(r#""it's""#)[0], TokenKind::Text("it's".into()));
    }

    #[test]
    fn unterminated_text_is_reported_where_it_starts() {
        assert_eq!(error_at("{A} = 'abc"), 7);
    }

    #[test]
    fn a_trailing_backslash_leaves_text_unterminated() {
        assert_eq!(error_at(r"'abc\"), 1);
    }

    #[test]
    fn field_names_unescape_closing_braces_and_backslashes_only() {
        assert_eq!(
            kinds(r"{a\}b\\c\d}")[0],
            TokenKind::Field(r"a}b\c\d".into())
        );
    }

    #[test]
    fn field_names_keep_spaces_and_quotes() {
        assert_eq!(
            kinds("{Bob's \"Due\" Date}")[0],
            TokenKind::Field("Bob's \"Due\" Date".into())
        );
    }

    #[test]
    fn an_unclosed_field_name_is_a_syntax_error() {
        assert_eq!(error_at("1 + {Name"), 5);
    }

    #[test]
    fn an_empty_field_name_is_a_syntax_error() {
        assert_eq!(error_at("{} = 1"), 1);
    }

    #[test]
    fn all_comparison_operators_are_recognised() {
        let ops: Vec<TokenKind> = [Op::Eq, Op::Ne, Op::Ne, Op::Lt, Op::Gt, Op::Le, Op::Ge]
            .map(TokenKind::Op)
            .into_iter()
            .chain([TokenKind::End])
            .collect();
        assert_eq!(kinds("= != <> < > <= >="), ops);
    }

    #[test]
    fn a_double_equals_sign_is_refused_with_a_hint() {
        let err = tokenize("{A} == 1").unwrap_err();
        assert!(err.to_string().contains("single '='"));
    }

    #[test]
    fn words_may_contain_digits_underscores_and_letters_beyond_ascii() {
        assert_eq!(kinds("Größe_2")[0], TokenKind::Word("Größe_2".into()));
    }

    #[test]
    fn typographic_quotes_are_refused_with_a_hint() {
        let err = tokenize("{A} = ‘x’").unwrap_err();
        assert!(err.to_string().contains("straight quotes"));
    }

    #[test]
    fn stray_characters_are_reported_by_position() {
        assert_eq!(error_at("1 + 2 # 3"), 7);
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let tokens = tokenize("'é' + 1").unwrap();
        assert_eq!(tokens[1].at, 5);
    }
}
