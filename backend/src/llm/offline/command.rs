//! Reading a chat message as one of the offline assistant's commands. Keywords match in any
//! case; names and values keep theirs. Double quotes keep a name or value whole when it holds a
//! comma or a keyword.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::{Map, Value};

use crate::airtable::filters::FilterOp;
use crate::model::airtable::RecordId;

/// Records shown when the command doesn't say how many.
pub(super) const DEFAULT_LIMIT: u32 = 10;
/// The field each line goes to when the command doesn't name one.
pub(super) const DEFAULT_LINE_FIELD: &str = "Name";
/// The most records one page holds (the tools' limit).
const MAX_LIMIT: u32 = 100;

/// One condition of `show … where …`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Condition {
    pub field: String,
    pub op: FilterOp,
    /// `None` for is_empty and is_not_empty.
    pub value: Option<String>,
}

/// What the user asked for; tables are named as the user wrote them (the tools resolve them).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Command {
    Help,
    ListBases,
    ListTables,
    Describe { table: String },
    Show { table: String, limit: u32, conditions: Vec<Condition> },
    Get { table: String, record_id: String },
    Search { table: String, query: String },
    Add { table: String, fields: Map<String, Value> },
    /// A record for each line of the documents attached to the message, the line in `field`.
    AddLines { table: String, field: String },
    /// An uploaded file, by its name, imported into a table (a new one when none has its name).
    Import { file: String, table: String },
    Update { table: String, record_id: String, fields: Map<String, Value> },
    Delete { table: String, record_ids: Vec<String> },
    Count { table: String },
    /// The next page of the last listing.
    More,
}

/// What a message was read as.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Parsed {
    Command(Command),
    /// The command was recognised, but part of it can't be used: what to change, in Markdown.
    Problem(String),
    Unknown,
}

/// Any table or field name: a quoted one, or words without quotes.
const NAME: &str = r#"(?:"[^"]+"|'[^']+'|[^"]+?)"#;

/// A pattern matching a whole (normalised) message, any case; `{NAME}` stands for [`NAME`].
macro_rules! re {
    ($pattern:literal) => {{
        static RE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(&format!("(?i)^(?:{})$", $pattern.replace("{NAME}", NAME))).expect("a valid pattern"));
        &*RE
    }};
}

/// Reads one message.
pub(super) fn parse(message: &str) -> Parsed {
    let text = normalize(message);
    let text = text.as_str();
    let table = |c: &Captures| unquote(&c["t"]);

    if re!(r"(?:help|commands|\?|what can you do|what can i (?:say|ask|do)|what do you (?:understand|know)|how does this work|hi|hello|hey)?").is_match(text) {
        return Parsed::Command(Command::Help);
    }
    if re!(r"(?:(?:list|show|get|see|what are|which are)(?: me)?(?: all)?(?: (?:the|my))? bases|bases|(?:what|which) bases (?:are there|do i have|can you see))").is_match(text) {
        return Parsed::Command(Command::ListBases);
    }
    if re!(r"(?:(?:list|show|get|see|what are|which are)(?: me)?(?: all)?(?: (?:the|my|its))? tables(?: (?:in|of) (?:this|the|my) base)?|tables|(?:what|which) tables (?:are there|do i have|are in (?:this|the) base|does (?:this|the) base have))").is_match(text) {
        return Parsed::Command(Command::ListTables);
    }
    if re!(r"(?:show|list|get|see)(?: me)?(?: more| the next page| the next| next)(?: records| rows| page)?|more|next|next page|continue|load more").is_match(text) {
        return Parsed::Command(Command::More);
    }
    if let Some(c) = re!(r"describe (?:the )?(?P<t>{NAME})")
        .captures(text)
        .or_else(|| re!(r"(?:show|list|get|see|what are|which are)(?: me)?(?: all)?(?: the)? (?:fields|columns) (?:of|in|for|on) (?:the )?(?P<t>{NAME})").captures(text))
        .or_else(|| re!(r"(?:what|which) (?:fields|columns) (?:does|do|has) (?:the )?(?P<t>{NAME})(?: have)?").captures(text))
        .or_else(|| re!(r"(?:what|which) (?:fields|columns) are (?:in|on) (?:the )?(?P<t>{NAME})").captures(text))
    {
        return Parsed::Command(Command::Describe { table: table(&c) });
    }
    if let Some(c) = re!(r"(?:show|list|get|display|see|give)(?: me)?(?: all)?(?: the)?(?: (?:first|top))?(?: (?P<n>\d+))? (?:records?|rows?|entries|entry) (?:from|in|of) (?:the )?(?P<t>{NAME})(?: where (?P<c>.+))?").captures(text) {
        let limit = c.name("n").map_or(DEFAULT_LIMIT, |n| n.as_str().parse::<u64>().unwrap_or(u64::MAX).clamp(1, MAX_LIMIT.into()) as u32);
        let conditions = match c.name("c") {
            None => Vec::new(),
            Some(text) => match conditions(text.as_str()) {
                Ok(conditions) => conditions,
                Err(problem) => return Parsed::Problem(problem),
            },
        };
        return Parsed::Command(Command::Show { table: table(&c), limit, conditions });
    }
    if let Some(c) = re!(r"(?:show|get|open|display|see)(?: me)?(?: the)?(?: record)? (?P<id>rec\S*) (?:from|in|of) (?:the )?(?P<t>{NAME})").captures(text) {
        return match record_id(&c["id"]) {
            Ok(id) => Parsed::Command(Command::Get { table: table(&c), record_id: id }),
            Err(problem) => Parsed::Problem(problem),
        };
    }
    let find = re!(r"(?:find|search for|look for|search)(?: records?)?(?: (?:with|containing|matching|mentioning))? (?P<q>.+) in (?:the )?(?P<t>{NAME})");
    // "search for x in T" is the find form; "search T for x" names the table first.
    if let Some(c) = find
        .captures(text)
        .filter(|_| starts_with_any(text, &["find ", "search for ", "look for "]))
        .or_else(|| re!(r"search (?:in )?(?:the )?(?P<t>{NAME}) for (?P<q>.+)").captures(text))
        .or_else(|| find.captures(text))
    {
        return Parsed::Command(Command::Search { table: table(&c), query: unquote(&c["q"]) });
    }
    if let Some(c) = re!(r"import(?: the)?(?: file)? (?P<f>{NAME}) (?:into|to|in) (?:the )?(?:table )?(?P<t>{NAME})").captures(text) {
        return Parsed::Command(Command::Import { file: unquote(&c["f"]), table: table(&c) });
    }
    if let Some(c) = re!(r"(?:add|create|insert|make)(?: an?| one)?(?: new)? (?:record|row|entry|task)s? (?:to|in|into) (?:the )?(?P<t>{NAME}),? (?:for|from) (?:each|every) (?:line|item)(?: (?:of|in) (?:the|this|my) (?:attached )?(?:file|document|attachment|text))?(?:,? (?:as|into|in) (?:the )?(?:field )?(?P<f>{NAME}))?").captures(text) {
        let field = c.name("f").map_or_else(|| DEFAULT_LINE_FIELD.to_owned(), |f| unquote(f.as_str()));
        return Parsed::Command(Command::AddLines { table: table(&c), field });
    }
    if let Some(c) = re!(r"(?:add|create|insert|new)(?: an?| one)?(?: new)? (?:record|row|entry) (?:to|in|into|for) (?:the )?(?P<t>{NAME})(?:,? with |: |, )(?P<a>.+)").captures(text) {
        return match assignments(&c["a"]) {
            Ok(fields) => Parsed::Command(Command::Add { table: table(&c), fields }),
            Err(problem) => Parsed::Problem(problem),
        };
    }
    if let Some(c) = re!(r"(?:add|create|insert|new)(?: an?| one)?(?: new)? (?:record|row|entry) (?:to|in|into|for) (?:the )?(?P<t>{NAME})").captures(text) {
        return Parsed::Problem(format!(
            "Say which values the new record gets, as `Field=value` pairs separated by commas, e.g. `add a record to {} with Name=\"Write report\", Status=Todo`.",
            example_name(&table(&c))
        ));
    }
    if let Some(c) = re!(r"(?:update|change|edit|modify|set)(?: the)?(?: record)? (?P<id>\S+) (?:in|of|from) (?:the )?(?P<t>{NAME}),? (?:set|with|to|setting) (?P<a>.+)").captures(text) {
        let id = match record_id(&c["id"]) {
            Ok(id) => id,
            Err(problem) => return Parsed::Problem(problem),
        };
        return match assignments(&c["a"]) {
            Ok(fields) => Parsed::Command(Command::Update { table: table(&c), record_id: id, fields }),
            Err(problem) => Parsed::Problem(problem),
        };
    }
    if let Some(c) = re!(r"(?:delete|remove)(?: the)?(?: records?)? (?P<ids>.+?) (?:from|in) (?:the )?(?P<t>{NAME})").captures(text) {
        let ids: Result<Vec<String>, String> = c["ids"]
            .split(|ch: char| ch == ',' || ch.is_whitespace())
            .filter(|word| !word.is_empty() && !word.eq_ignore_ascii_case("and"))
            .map(record_id)
            .collect();
        return match ids {
            Ok(ids) => Parsed::Command(Command::Delete { table: table(&c), record_ids: ids }),
            Err(problem) => Parsed::Problem(problem),
        };
    }
    if let Some(c) = re!(r"count(?: all)?(?: the)?(?: (?:records|rows))?(?: (?:in|of|from))? (?:the )?(?P<t>{NAME})")
        .captures(text)
        .or_else(|| re!(r"how many (?:records|rows) (?:are )?(?:there )?(?:in|does) (?:the )?(?P<t>{NAME})(?: have)?").captures(text))
    {
        return Parsed::Command(Command::Count { table: table(&c) });
    }
    Parsed::Unknown
}

/// The message with smart quotes made straight, spaces collapsed outside quotes, and the
/// politeness and punctuation around a command taken off.
fn normalize(message: &str) -> String {
    let mut text = String::with_capacity(message.len());
    let mut quoted = false;
    let mut space = false;
    for c in message.trim().chars() {
        let c = match c {
            '“' | '”' | '„' => '"',
            '‘' | '’' => '\'',
            c => c,
        };
        if c == '"' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            space = true;
            continue;
        }
        if space && !text.is_empty() {
            text.push(' ');
        }
        space = false;
        text.push(c);
    }
    const BEFORE: [&str; 18] = [
        "please ", "pls ", "kindly ", "can you ", "could you ", "would you ", "will you ", "can i ", "i want to ", "i'd like to ",
        "i would like to ", "let's ", "now ", "ok ", "okay ", "hey, ", "hi, ", "hello, ",
    ];
    const AFTER: [&str; 4] = [" please", " thanks", " thank you", " for me"];
    loop {
        let before = text.len();
        text = text.trim_end_matches(['.', '!', '?', ',', ' ']).trim_start().to_owned();
        if let Some(prefix) = BEFORE.iter().find(|p| starts_with_any(&text, &[p])) {
            text.drain(..prefix.len());
        }
        if let Some(suffix) = AFTER.iter().find(|s| text.len() >= s.len() && text.is_char_boundary(text.len() - s.len()) && text[text.len() - s.len()..].eq_ignore_ascii_case(s)) {
            text.truncate(text.len() - suffix.len());
        }
        if text.len() == before {
            return text;
        }
    }
}

fn starts_with_any(text: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| text.get(..p.len()).is_some_and(|head| head.eq_ignore_ascii_case(p)))
}

/// A name or value as given, without the quotes around it.
fn unquote(raw: &str) -> String {
    let raw = raw.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = raw.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            return inner.to_owned();
        }
    }
    raw.to_owned()
}

/// The table name as an example would write it: quoted when it has spaces.
fn example_name(table: &str) -> String {
    if table.contains(' ') { format!("\"{table}\"") } else { table.to_owned() }
}

fn record_id(text: &str) -> Result<String, String> {
    let text = unquote(text);
    RecordId::parse(&text).map(|id| id.as_str().to_owned()).map_err(|_| {
        format!(
            "“{}” is not a record ID: record IDs start with `rec` and are 17 letters and digits, like `recAbC123dEf456gH`. `show records from <table>` lists them.",
            super::markdown::escape(&text.chars().take(40).collect::<String>())
        )
    })
}

/// Splits `text` at every `separator` (ASCII, any case) that is not between double quotes.
fn split_unquoted<'a>(text: &'a str, separator: &str) -> Vec<&'a str> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            quoted = !quoted;
        } else if !quoted && bytes[i..].len() >= separator.len() && bytes[i..i + separator.len()].eq_ignore_ascii_case(separator.as_bytes()) {
            parts.push(&text[start..i]);
            i += separator.len();
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

/// `Field=value, Field="value, with a comma"` as fields. Unquoted numbers and true/false are
/// sent as such; quoted values stay text; an empty value clears the field.
fn assignments(text: &str) -> Result<Map<String, Value>, String> {
    let mut fields = Map::new();
    for part in split_unquoted(text, ",").into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let eq = split_unquoted(part, "=");
        let (field, value) = match eq.as_slice() {
            [field, rest @ ..] if !rest.is_empty() => (unquote(field), part[field.len() + 1..].trim()),
            _ => return Err(format!("I couldn't read “{}”: write each value as `Field=value`, separated by commas, e.g. `Name=\"Write report\", Status=Todo`.", super::markdown::escape(part))),
        };
        if field.is_empty() {
            return Err(format!("“{}” names no field: write it as `Field=value`.", super::markdown::escape(part)));
        }
        fields.insert(field, value_of(value));
    }
    if fields.is_empty() {
        return Err("Say which values to set, as `Field=value` pairs separated by commas.".to_owned());
    }
    Ok(fields)
}

fn value_of(raw: &str) -> Value {
    static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$").expect("a valid pattern"));
    if raw.len() >= 2 && ((raw.starts_with('"') && raw.ends_with('"')) || (raw.starts_with('\'') && raw.ends_with('\''))) {
        return Value::String(raw[1..raw.len() - 1].to_owned());
    }
    if raw.is_empty() {
        return Value::Null;
    }
    if raw.eq_ignore_ascii_case("true") || raw.eq_ignore_ascii_case("false") {
        return Value::Bool(raw.eq_ignore_ascii_case("true"));
    }
    if NUMBER.is_match(raw)
        && let Some(n) = raw.parse::<f64>().ok().and_then(|n| if raw.contains('.') { serde_json::Number::from_f64(n) } else { raw.parse::<i64>().ok().map(Into::into) })
    {
        return Value::Number(n);
    }
    Value::String(raw.to_owned())
}

/// Operators written as words, longest first so "is not empty" wins over "is not" and "is".
const WORD_OPS: [(&str, FilterOp); 24] = [
    ("is not empty", FilterOp::IsNotEmpty),
    ("is not blank", FilterOp::IsNotEmpty),
    ("isn't empty", FilterOp::IsNotEmpty),
    ("is empty", FilterOp::IsEmpty),
    ("is blank", FilterOp::IsEmpty),
    ("does not contain", FilterOp::DoesNotContain),
    ("doesn't contain", FilterOp::DoesNotContain),
    ("contains", FilterOp::Contains),
    ("is greater than", FilterOp::GreaterThan),
    ("is more than", FilterOp::GreaterThan),
    ("is less than", FilterOp::LessThan),
    ("is at least", FilterOp::AtLeast),
    ("is at most", FilterOp::AtMost),
    ("is after", FilterOp::GreaterThan),
    ("is before", FilterOp::LessThan),
    ("greater than", FilterOp::GreaterThan),
    ("more than", FilterOp::GreaterThan),
    ("less than", FilterOp::LessThan),
    ("at least", FilterOp::AtLeast),
    ("at most", FilterOp::AtMost),
    ("is not", FilterOp::IsNot),
    ("isn't", FilterOp::IsNot),
    ("equals", FilterOp::Is),
    ("is", FilterOp::Is),
];

/// Operators written as symbols, which need no spaces around them.
const SYMBOL_OPS: [(&str, FilterOp); 7] =
    [(">=", FilterOp::AtLeast), ("<=", FilterOp::AtMost), ("!=", FilterOp::IsNot), ("<>", FilterOp::IsNot), ("=", FilterOp::Is), (">", FilterOp::GreaterThan), ("<", FilterOp::LessThan)];

/// `Status is Done and Estimate > 3` as conditions.
fn conditions(text: &str) -> Result<Vec<Condition>, String> {
    static CONDITION: LazyLock<Regex> = LazyLock::new(|| {
        let alternatives = |ops: &[(&str, FilterOp)]| ops.iter().map(|(op, _)| regex::escape(op)).collect::<Vec<_>>().join("|");
        let pattern = format!(
            r#"(?i)^(?P<field>"[^"]+"|.+?)(?:\s+(?P<word>{})(?:\s+(?P<wvalue>.+))?|\s*(?P<symbol>{})\s*(?P<svalue>.+)?)$"#,
            alternatives(&WORD_OPS),
            alternatives(&SYMBOL_OPS)
        );
        Regex::new(&pattern).expect("a valid pattern")
    });
    split_unquoted(text, " and ")
        .into_iter()
        .map(|part| {
            let part = part.trim();
            let problem = || {
                format!(
                    "I couldn't read the condition “{}”. Write it as `Field is value`, `Field is not value`, `Field contains text`, `Field > number` or `Field < number` (also `is empty`), joined with `and`, e.g. `where Status is Done and Estimate > 3`.",
                    super::markdown::escape(part)
                )
            };
            let c = CONDITION.captures(part).ok_or_else(problem)?;
            let (op_text, value) = match (c.name("word"), c.name("symbol")) {
                (Some(word), _) => (word.as_str(), c.name("wvalue")),
                (None, Some(symbol)) => (symbol.as_str(), c.name("svalue")),
                (None, None) => return Err(problem()),
            };
            let op = WORD_OPS.iter().chain(SYMBOL_OPS.iter()).find(|(text, _)| text.eq_ignore_ascii_case(op_text)).map(|(_, op)| *op).ok_or_else(problem)?;
            let value = value.map(|v| unquote(v.as_str()));
            let wants_value = !matches!(op, FilterOp::IsEmpty | FilterOp::IsNotEmpty);
            if wants_value != value.is_some() {
                return Err(problem());
            }
            Ok(Condition { field: unquote(&c["field"]), op, value })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn command(text: &str) -> Command {
        match parse(text) {
            Parsed::Command(c) => c,
            other => panic!("{text:?} was read as {other:?}"),
        }
    }

    fn cond(field: &str, op: FilterOp, value: Option<&str>) -> Condition {
        Condition { field: field.into(), op, value: value.map(Into::into) }
    }

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn help_is_understood_in_several_words() {
        for text in ["help", "Help!", "what can you do?", "?", "", "hello"] {
            assert_eq!(command(text), Command::Help, "{text}");
        }
    }

    #[test]
    fn bases_and_tables_are_listed_in_several_words() {
        for text in ["list bases", "Please show me my bases.", "which bases do I have?"] {
            assert_eq!(command(text), Command::ListBases, "{text}");
        }
        for text in ["list tables", "show all the tables in this base", "What tables are there?"] {
            assert_eq!(command(text), Command::ListTables, "{text}");
        }
    }

    #[test]
    fn every_describe_form_names_the_table() {
        for text in ["describe Tasks", "show fields of Tasks", "What fields does Tasks have?", "list the columns of Tasks", "describe \"Tasks\""] {
            assert_eq!(command(text), Command::Describe { table: "Tasks".into() }, "{text}");
        }
        assert_eq!(command("describe Table 1"), Command::Describe { table: "Table 1".into() });
    }

    #[test]
    fn show_records_takes_a_count_and_a_condition() {
        assert_eq!(
            command("show 5 records from Tasks where Status is Done"),
            Command::Show { table: "Tasks".into(), limit: 5, conditions: vec![cond("Status", FilterOp::Is, Some("Done"))] }
        );
    }

    #[test]
    fn show_records_defaults_to_ten_and_caps_at_a_hundred() {
        assert_eq!(command("list records in My Tasks"), Command::Show { table: "My Tasks".into(), limit: DEFAULT_LIMIT, conditions: vec![] });
        assert_eq!(command("show 5000 records from Tasks"), Command::Show { table: "Tasks".into(), limit: 100, conditions: vec![] });
        assert_eq!(command("show 0 records from Tasks"), Command::Show { table: "Tasks".into(), limit: 1, conditions: vec![] });
    }

    #[test]
    fn every_operator_is_read() {
        let cases = [
            ("Status is not Done", cond("Status", FilterOp::IsNot, Some("Done"))),
            ("Notes contains launch", cond("Notes", FilterOp::Contains, Some("launch"))),
            ("Estimate > 8", cond("Estimate", FilterOp::GreaterThan, Some("8"))),
            ("Estimate<8", cond("Estimate", FilterOp::LessThan, Some("8"))),
            ("Estimate >= 8", cond("Estimate", FilterOp::AtLeast, Some("8"))),
            ("Due is before 2026-01-01", cond("Due", FilterOp::LessThan, Some("2026-01-01"))),
            ("Notes is empty", cond("Notes", FilterOp::IsEmpty, None)),
            ("Notes is not empty", cond("Notes", FilterOp::IsNotEmpty, None)),
            ("Wish list is long", cond("Wish list", FilterOp::Is, Some("long"))),
            ("\"Is it done\" is \"yes and no\"", cond("Is it done", FilterOp::Is, Some("yes and no"))),
        ];
        for (text, expected) in cases {
            assert_eq!(conditions(text), Ok(vec![expected]), "{text}");
        }
    }

    #[test]
    fn conditions_join_with_and_outside_quotes() {
        assert_eq!(
            command("show records from Tasks where Status is \"To do and review\" and Estimate > 2"),
            Command::Show {
                table: "Tasks".into(),
                limit: DEFAULT_LIMIT,
                conditions: vec![cond("Status", FilterOp::Is, Some("To do and review")), cond("Estimate", FilterOp::GreaterThan, Some("2"))]
            }
        );
    }

    #[test]
    fn a_condition_without_an_operator_is_a_problem_that_shows_the_form() {
        let Parsed::Problem(problem) = parse("show records from Tasks where Status Done") else { panic!() };
        assert!(problem.contains("Status Done") && problem.contains("Field is value"), "{problem}");
        assert!(matches!(parse("show records from Tasks where Status is"), Parsed::Problem(_)));
    }

    #[test]
    fn both_search_forms_give_the_table_and_the_text() {
        let expected = Command::Search { table: "Tasks".into(), query: "launch plan".into() };
        for text in ["search Tasks for launch plan", "find launch plan in Tasks", "search for \"launch plan\" in Tasks", "Search in the Tasks for launch plan?"] {
            assert_eq!(command(text), expected, "{text}");
        }
        assert_eq!(command("find a in b in \"Items in stock\""), Command::Search { table: "Items in stock".into(), query: "a in b".into() });
        assert_eq!(command("search Tasks for stuff in bulk"), Command::Search { table: "Tasks".into(), query: "stuff in bulk".into() });
    }

    #[test]
    fn add_reads_values_with_commas_kept_inside_quotes() {
        assert_eq!(
            command(r#"Please add a record to Tasks with Name="Write report, then send", Status=Todo, Estimate=3, Done=false, Code="007"."#),
            Command::Add {
                table: "Tasks".into(),
                fields: fields(json!({ "Name": "Write report, then send", "Status": "Todo", "Estimate": 3, "Done": false, "Code": "007" })),
            }
        );
    }

    #[test]
    fn a_record_for_each_line_names_its_table_and_maybe_its_field() {
        assert_eq!(command("add a record to Tasks for each line of the attached file"), Command::AddLines { table: "Tasks".into(), field: "Name".into() });
        assert_eq!(
            command("Create records in \"My Tasks\" for every line of this document as Title."),
            Command::AddLines { table: "My Tasks".into(), field: "Title".into() }
        );
        assert_eq!(command("make a task in Tasks for each line, into the field \"Task name\""), Command::AddLines { table: "Tasks".into(), field: "Task name".into() });
    }

    #[test]
    fn import_names_the_file_and_the_table() {
        assert_eq!(command("import people.csv into Tasks"), Command::Import { file: "people.csv".into(), table: "Tasks".into() });
        assert_eq!(
            command("Import the file \"Q3 sales.xlsx\" into the table \"Sales in 2026\""),
            Command::Import { file: "Q3 sales.xlsx".into(), table: "Sales in 2026".into() }
        );
    }

    #[test]
    fn unquoted_values_that_only_look_like_numbers_stay_text() {
        assert_eq!(value_of("007"), json!("007"));
        assert_eq!(value_of("2.50"), json!(2.5));
        assert_eq!(value_of("+1 555"), json!("+1 555"));
        assert_eq!(value_of(""), Value::Null);
    }

    #[test]
    fn add_without_values_explains_the_form() {
        let Parsed::Problem(problem) = parse("add a record to My Tasks") else { panic!() };
        assert!(problem.contains("add a record to \"My Tasks\" with Name="), "{problem}");
        assert!(matches!(parse("add a record to Tasks with Name Ada"), Parsed::Problem(_)));
    }

    #[test]
    fn update_takes_a_record_id_and_values() {
        assert_eq!(
            command("update recAbC123dEf456gH in Tasks set Status=Done, Notes="),
            Command::Update { table: "Tasks".into(), record_id: "recAbC123dEf456gH".into(), fields: fields(json!({ "Status": "Done", "Notes": null })) }
        );
    }

    #[test]
    fn a_malformed_record_id_is_a_problem_not_a_call() {
        let Parsed::Problem(problem) = parse("update rec123 in Tasks set Status=Done") else { panic!() };
        assert!(problem.contains("rec123") && problem.contains("not a record ID"), "{problem}");
        assert!(matches!(parse("delete rec123 from Tasks"), Parsed::Problem(_)));
    }

    #[test]
    fn delete_takes_one_record_id_or_several() {
        assert_eq!(command("delete recAbC123dEf456gH from Tasks"), Command::Delete { table: "Tasks".into(), record_ids: vec!["recAbC123dEf456gH".into()] });
        assert_eq!(
            command("delete records recAAAAAAAAAAAAAA, recBBBBBBBBBBBBBB and recCCCCCCCCCCCCCC from Tasks"),
            Command::Delete { table: "Tasks".into(), record_ids: vec!["recAAAAAAAAAAAAAA".into(), "recBBBBBBBBBBBBBB".into(), "recCCCCCCCCCCCCCC".into()] }
        );
    }

    #[test]
    fn get_shows_one_record_by_id() {
        assert_eq!(command("show recAbC123dEf456gH from Tasks"), Command::Get { table: "Tasks".into(), record_id: "recAbC123dEf456gH".into() });
    }

    #[test]
    fn count_is_understood_in_several_words() {
        for text in ["count records in Tasks", "count Tasks", "How many records are in Tasks?", "how many rows does Tasks have"] {
            assert_eq!(command(text), Command::Count { table: "Tasks".into() }, "{text}");
        }
    }

    #[test]
    fn more_continues_the_last_listing() {
        for text in ["more", "show more", "next page", "Show me the next page please"] {
            assert_eq!(command(text), Command::More, "{text}");
        }
    }

    #[test]
    fn keywords_match_in_any_case_but_names_keep_theirs() {
        assert_eq!(command("SHOW 2 RECORDS FROM tasks WHERE status IS done"), Command::Show {
            table: "tasks".into(),
            limit: 2,
            conditions: vec![cond("status", FilterOp::Is, Some("done"))]
        });
    }

    #[test]
    fn smart_quotes_and_extra_spaces_are_forgiven() {
        assert_eq!(command("  describe   “Task list”  "), Command::Describe { table: "Task list".into() });
    }

    #[test]
    fn a_quoted_table_name_may_hold_keywords() {
        assert_eq!(
            command("show 3 records from \"Done where\" where Status is Done"),
            Command::Show { table: "Done where".into(), limit: 3, conditions: vec![cond("Status", FilterOp::Is, Some("Done"))] }
        );
        assert_eq!(command("add a record to \"Tasks with notes\" with Name=Ada"), Command::Add { table: "Tasks with notes".into(), fields: fields(json!({ "Name": "Ada" })) });
    }

    #[test]
    fn anything_else_is_unknown() {
        assert_eq!(parse("make me a sandwich"), Parsed::Unknown);
        assert_eq!(parse("show records"), Parsed::Unknown);
    }
}
