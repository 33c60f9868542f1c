//! Turning a command into the catalog's tool calls, with arguments exactly as the tools take
//! them.

use serde_json::{Map, Value, json};

use super::command::{self, Command, Condition, DEFAULT_LIMIT, Parsed};
use super::markdown::{bold, count, escape, id};
use super::{NO_BASE, Step, calls_by_id, help, unknown};
use crate::llm::{Message, Request};

/// The step that answers the user's message, with the texts of the documents attached to it.
pub(super) fn for_message(text: &str, documents: &[&str], request: &Request) -> Step {
    match command::parse(text) {
        Parsed::Command(command) => plan(&command, documents, request),
        Parsed::Problem(problem) => Step::Say(problem),
        Parsed::Unknown => Step::Say(unknown(text)),
    }
}

fn plan(command: &Command, documents: &[&str], request: &Request) -> Step {
    let base = request.base_id.as_deref().map(str::trim).filter(|b| !b.is_empty());
    match (command, base) {
        (Command::Help, _) => Step::Say(help()),
        (Command::ListBases, _) => Step::call("Looking up the bases this connection reaches.", "list_bases", json!({})),
        (Command::More, _) => more(&request.messages),
        (_, None) => Step::Say(NO_BASE.to_owned()),
        (command, Some(base)) => on_base(command, base, documents),
    }
}

/// The calls for a command on the selected base.
fn on_base(command: &Command, base: &str, documents: &[&str]) -> Step {
    let target = |table: &str| {
        let mut arguments = Map::new();
        arguments.insert("base_id".into(), base.into());
        arguments.insert("table".into(), table.into());
        arguments
    };
    let with = |table: &str, extra: Value| {
        let mut arguments = target(table);
        if let Value::Object(extra) = extra {
            arguments.extend(extra);
        }
        Value::Object(arguments)
    };
    // Listings also read the table's field names, so their columns follow the table's order.
    let field_names = |table: &str| ("describe_table", with(table, json!({ "detail": "names" })));
    match command {
        Command::ListTables => Step::call("Looking at the tables of this base.", "list_tables", json!({ "base_id": base })),
        Command::Describe { table } => Step::call(format!("Looking at the fields of {}.", bold(table)), "describe_table", with(table, json!({ "detail": "fields" }))),
        Command::Show { table, limit, conditions } => {
            let mut extra = json!({ "page_size": limit });
            if !conditions.is_empty() {
                extra["filter"] = conditions.iter().map(condition).collect();
            }
            Step::Call { text: format!("Looking at the records of {}.", bold(table)), calls: vec![field_names(table), ("list_records", with(table, extra))] }
        }
        Command::Get { table, record_id } => Step::Call {
            text: format!("Looking at record {} of {}.", id(record_id), bold(table)),
            calls: vec![field_names(table), ("get_record", with(table, json!({ "record_id": record_id })))],
        },
        Command::Search { table, query } => Step::Call {
            text: format!("Searching {} for “{}”.", bold(table), escape(query)),
            calls: vec![field_names(table), ("search_records", with(table, json!({ "query": query, "page_size": DEFAULT_LIMIT })))],
        },
        Command::Add { table, fields } => {
            Step::call(format!("Adding a record to {}.", bold(table)), "create_records", with(table, json!({ "records": [fields], "typecast": true })))
        }
        Command::AddLines { table, field } => match lines(documents) {
            Err(problem) => Step::Say(problem),
            Ok(lines) => {
                let records: Vec<Value> = lines.iter().map(|line| json!({ field.as_str(): line })).collect();
                Step::call(
                    format!("Adding {} to {}, one for each line.", count(records.len(), "record", "records"), bold(table)),
                    "create_records",
                    with(table, json!({ "records": records, "typecast": true })),
                )
            }
        },
        // The file is named; its ID comes from the listing (results.rs makes the import call).
        Command::Import { file, table } => Step::call(format!("Looking for {} among your files, to import it into {}.", bold(file), bold(table)), "list_files", json!({})),
        Command::Update { table, record_id, fields } => Step::call(
            format!("Updating record {} in {}.", id(record_id), bold(table)),
            "update_records",
            with(table, json!({ "records": [{ "id": record_id, "fields": fields }], "typecast": true })),
        ),
        Command::Delete { table, record_ids } => {
            let what = match record_ids.as_slice() {
                [one] => format!("record {}", id(one)),
                many => count(many.len(), "record", "records"),
            };
            Step::call(format!("Deleting {what} from {}.", bold(table)), "delete_records", with(table, json!({ "record_ids": record_ids })))
        }
        // First the primary field's name, so the count reads one field, not every field.
        Command::Count { table } => Step::call(format!("Counting the records of {}.", bold(table)), "describe_table", with(table, json!({ "detail": "names" }))),
        Command::Help | Command::ListBases | Command::More => unreachable!("answered without a base"),
    }
}

fn condition(condition: &Condition) -> Value {
    let mut value = json!({ "field": condition.field, "op": condition.op });
    if let Some(v) = &condition.value {
        value["value"] = json!(v);
    }
    value
}

/// The last listing's call again, from where its last page ended.
fn more(messages: &[Message]) -> Step {
    let calls = calls_by_id(messages);
    let last = messages
        .iter()
        .rev()
        .filter_map(|m| if let Message::ToolResults(results) = m { Some(results) } else { None })
        .flat_map(|results| results.iter().rev())
        .find(|r| matches!(r.name.as_str(), "list_records" | "search_records") && r.content.get("error").is_none());
    let Some(last) = last else {
        return Step::Say("There is no listing to continue yet. Start one with `show records from Tasks` or `search Tasks for launch`.".to_owned());
    };
    let table = last.content.get("table").and_then(Value::as_str).unwrap_or("the table");
    let cursor = last.content.get("next_cursor").and_then(Value::as_str).filter(|c| !c.is_empty());
    match (cursor, calls.get(last.call_id.as_str())) {
        (Some(cursor), Some(call)) => {
            let mut arguments = call.arguments.clone();
            arguments["cursor"] = json!(cursor);
            let name = if last.name == "search_records" { "search_records" } else { "list_records" };
            Step::call(format!("Looking at the next records of {}.", bold(table)), name, arguments)
        }
        _ => Step::Say(format!("That was the last page: there are no more records of {} to show.", bold(table))),
    }
}

/// The non-empty lines of the attached documents, without list markers (`-`, `*`, `•`,
/// `1.`, `[ ]`), at most as many as one call writes.
fn lines(documents: &[&str]) -> Result<Vec<String>, String> {
    if documents.is_empty() {
        return Err("Attach a text file first (the paperclip beside the message box), then ask again in the same message.".into());
    }
    let lines: Vec<String> = documents.iter().flat_map(|d| d.lines()).map(without_marker).filter(|l| !l.is_empty()).collect();
    match lines.len() {
        0 => Err("The attached file has no lines with text in them.".into()),
        n if n > MAX_LINES => Err(format!(
            "The attached file has {n} lines; I add at most {MAX_LINES} at a time. For more, import it into the table from the Files page."
        )),
        _ => Ok(lines),
    }
}

/// Records one command may add from a file's lines (the tools' limit for one call).
const MAX_LINES: usize = 100;

fn without_marker(line: &str) -> String {
    let line = line.trim();
    let line = line.strip_prefix("[ ]").or_else(|| line.strip_prefix("[x]")).unwrap_or(line).trim_start();
    let line = line.strip_prefix(['-', '*', '•']).unwrap_or(line).trim_start();
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let numbered = line.get(digits..).filter(|_| digits > 0).and_then(|rest| rest.strip_prefix(['.', ')']));
    numbered.unwrap_or(line).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{BASE, request};
    use super::super::{Step, answer};
    use super::*;
    use crate::llm::{ToolCall, ToolResult};
    use crate::tools::Catalog;

    /// The calls a message turns into, on the test base.
    fn calls(text: &str) -> Vec<(String, Value)> {
        let reply = answer(&request(Some(BASE), vec![Message::User(text.into())]));
        assert!(!reply.tool_calls.is_empty(), "{text:?} made no call: {}", reply.text);
        reply.tool_calls.into_iter().map(|c| (c.name, c.arguments)).collect()
    }

    fn call(text: &str) -> (String, Value) {
        calls(text).pop().unwrap()
    }

    #[test]
    fn each_line_of_an_attached_file_becomes_a_record_without_its_list_marker() {
        use crate::llm::documents::{Document, with_documents};
        let file = Document { name: "todo.txt", parts: "whole".into(), text: "- Call the printer\n\n2. Book the room\n[ ] Send the invites\n" };
        let (name, arguments) = call(&with_documents("add a record to Tasks for each line of the attached file", &[file]));
        assert_eq!(name, "create_records");
        assert_eq!(
            arguments["records"],
            json!([{ "Name": "Call the printer" }, { "Name": "Book the room" }, { "Name": "Send the invites" }])
        );
        let none = answer(&request(Some(BASE), vec![Message::User("add a record to Tasks for each line".into())]));
        assert!(none.tool_calls.is_empty() && none.text.contains("Attach a text file"), "{}", none.text);
    }

    /// Checks `value` against a tool's JSON Schema as schemars writes it: types, enums, required
    /// properties, and no property the schema doesn't name (a misspelt optional argument would
    /// otherwise be dropped silently by serde).
    fn check(value: &Value, schema: &Value, root: &Value, at: &str) -> Result<(), String> {
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference.trim_start_matches("#/").split('/').fold(root, |node, key| &node[key]),
            None => schema,
        };
        if let Some(options) = schema.get("oneOf").or_else(|| schema.get("anyOf")).and_then(Value::as_array) {
            return match options.iter().any(|option| check(value, option, root, at).is_ok()) {
                true => Ok(()),
                false => Err(format!("{at}: {value} fits none of {options:?}")),
            };
        }
        if let Some(constant) = schema.get("const").filter(|c| *c != value) {
            return Err(format!("{at}: {value} is not {constant}"));
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array).filter(|choices| !choices.contains(value)) {
            return Err(format!("{at}: {value} is not one of {choices:?}"));
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits = types.is_empty() || types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !fits {
            return Err(format!("{at}: {value} is {actual}, the schema wants {types:?}"));
        }
        let closed = Map::new();
        let properties = schema.get("properties").and_then(Value::as_object).or((schema.get("additionalProperties") == Some(&json!(false))).then_some(&closed));
        if let (Value::Object(map), Some(properties)) = (value, properties) {
            for (key, item) in map {
                let property = properties.get(key).ok_or_else(|| format!("{at}: the schema has no property {key:?}"))?;
                check(item, property, root, &format!("{at}.{key}"))?;
            }
            for required in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                if !map.contains_key(required) {
                    return Err(format!("{at}: {required} is required"));
                }
            }
        }
        if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                check(item, item_schema, root, &format!("{at}[{i}]"))?;
            }
        }
        Ok(())
    }

    fn check_call(name: &str, arguments: &Value) -> Result<(), String> {
        let catalog = Catalog::new();
        let schema = &catalog.info(name).ok_or_else(|| format!("no tool {name}"))?.input_schema;
        check(arguments, schema, schema, name)
    }

    /// Every call any command makes, the count's second step included, checked against the
    /// catalog's schema for its tool.
    #[test]
    fn every_command_makes_calls_the_catalog_accepts() {
        let messages = [
            "list bases",
            "list tables",
            "describe Tasks",
            "show 5 records from Tasks where Status is Done and Estimate > 3 and Notes is empty",
            "show recAbC123dEf456gH from Tasks",
            "search Tasks for launch",
            "add a record to Tasks with Name=\"Write report, then send\", Estimate=3, Done=true, Notes=",
            "update recAbC123dEf456gH in Tasks set Status=Done, Estimate=2.5",
            "delete recAAAAAAAAAAAAAA, recBBBBBBBBBBBBBB from Tasks",
            "count records in Tasks",
        ];
        let mut made: Vec<(String, Value)> = messages.iter().flat_map(|m| calls(m)).collect();
        made.push(counting_call());
        let mut names = std::collections::BTreeSet::new();
        for (name, arguments) in made {
            check_call(&name, &arguments).unwrap();
            names.insert(name);
        }
        assert_eq!(names.len(), 10, "{names:?}");
    }

    /// The count's second call, after its first was answered.
    fn counting_call() -> (String, Value) {
        let first = answer(&request(Some(BASE), vec![Message::User("count records in Tasks".into())])).tool_calls.remove(0);
        let described = json!({ "id": "tblAAAAAAAAAAAAAA", "name": "Tasks", "primary_field": "Name", "fields": ["Name"] });
        let results = vec![ToolResult { call_id: first.id.clone(), name: first.name.clone(), content: described }];
        let messages = vec![
            Message::User("count records in Tasks".into()),
            Message::Assistant { text: String::new(), tool_calls: vec![first] },
            Message::ToolResults(results),
        ];
        let second = answer(&request(Some(BASE), messages));
        let call = second.tool_calls.into_iter().next().expect("a second call");
        (call.name, call.arguments)
    }

    #[test]
    fn the_checker_refuses_a_misspelt_argument_and_an_unknown_operator() {
        let wrong = json!({ "base_id": BASE, "table": "Tasks", "conditions": [] });
        assert!(check_call("list_records", &wrong).is_err());
        let bad_op = json!({ "base_id": BASE, "table": "Tasks", "filter": [{ "field": "A", "op": "like", "value": "x" }] });
        assert!(check_call("list_records", &bad_op).is_err());
        let missing = json!({ "table": "Tasks" });
        assert!(check_call("list_records", &missing).is_err());
        assert!(check_call("list_bases", &json!({ "base_id": BASE })).is_err());
    }

    #[test]
    fn list_tables_reads_the_selected_base() {
        assert_eq!(call("list tables"), ("list_tables".into(), json!({ "base_id": BASE })));
    }

    #[test]
    fn describe_asks_for_field_types() {
        assert_eq!(call("describe Tasks"), ("describe_table".into(), json!({ "base_id": BASE, "table": "Tasks", "detail": "fields" })));
    }

    #[test]
    fn show_records_lists_with_conditions_and_a_page_size_after_reading_field_names() {
        let made = calls("show 5 records from Tasks where Status is Done");
        assert_eq!(made[0], ("describe_table".into(), json!({ "base_id": BASE, "table": "Tasks", "detail": "names" })));
        assert_eq!(
            made[1],
            (
                "list_records".into(),
                json!({ "base_id": BASE, "table": "Tasks", "page_size": 5, "filter": [{ "field": "Status", "op": "is", "value": "Done" }] })
            )
        );
    }

    #[test]
    fn conditions_without_a_value_send_none() {
        let (_, arguments) = call("show records from Tasks where Notes is not empty");
        assert_eq!(arguments["filter"], json!([{ "field": "Notes", "op": "is_not_empty" }]));
        assert_eq!(arguments["page_size"], json!(DEFAULT_LIMIT));
    }

    #[test]
    fn search_sends_the_text_as_given() {
        assert_eq!(
            call("find \"Q3 | launch\" in Tasks"),
            ("search_records".into(), json!({ "base_id": BASE, "table": "Tasks", "query": "Q3 | launch", "page_size": DEFAULT_LIMIT }))
        );
    }

    #[test]
    fn add_creates_one_record_with_typecast() {
        assert_eq!(
            call("add a record to Tasks with Name=Ada, Estimate=3"),
            ("create_records".into(), json!({ "base_id": BASE, "table": "Tasks", "records": [{ "Name": "Ada", "Estimate": 3 }], "typecast": true }))
        );
    }

    #[test]
    fn update_changes_one_record_by_id() {
        assert_eq!(
            call("update recAbC123dEf456gH in Tasks set Status=Done"),
            (
                "update_records".into(),
                json!({ "base_id": BASE, "table": "Tasks", "records": [{ "id": "recAbC123dEf456gH", "fields": { "Status": "Done" } }], "typecast": true })
            )
        );
    }

    #[test]
    fn delete_sends_the_record_ids() {
        assert_eq!(
            call("delete recAbC123dEf456gH from Tasks"),
            ("delete_records".into(), json!({ "base_id": BASE, "table": "Tasks", "record_ids": ["recAbC123dEf456gH"] }))
        );
    }

    #[test]
    fn get_reads_one_record() {
        assert_eq!(
            call("show recAbC123dEf456gH from Tasks"),
            ("get_record".into(), json!({ "base_id": BASE, "table": "Tasks", "record_id": "recAbC123dEf456gH" }))
        );
    }

    #[test]
    fn count_first_reads_the_field_names() {
        assert_eq!(call("count records in Tasks"), ("describe_table".into(), json!({ "base_id": BASE, "table": "Tasks", "detail": "names" })));
    }

    fn listed(next_cursor: Option<&str>) -> Vec<Message> {
        let call = ToolCall {
            id: "offline-2".into(),
            name: "list_records".into(),
            arguments: json!({ "base_id": BASE, "table": "Tasks", "page_size": 2 }),
            signature: None,
        };
        vec![
            Message::User("show 2 records from Tasks".into()),
            Message::Assistant { text: String::new(), tool_calls: vec![call] },
            Message::ToolResults(vec![ToolResult {
                call_id: "offline-2".into(),
                name: "list_records".into(),
                content: json!({ "table": "Tasks", "records": [], "count": 0, "next_cursor": next_cursor }),
            }]),
            Message::Assistant { text: "…".into(), tool_calls: vec![] },
            Message::User("more".into()),
        ]
    }

    #[test]
    fn more_repeats_the_last_listing_from_its_cursor() {
        let reply = answer(&request(Some(BASE), listed(Some("abc"))));
        assert_eq!(reply.tool_calls[0].name, "list_records");
        assert_eq!(reply.tool_calls[0].arguments, json!({ "base_id": BASE, "table": "Tasks", "page_size": 2, "cursor": "abc" }));
    }

    #[test]
    fn more_after_the_last_page_says_so() {
        let reply = answer(&request(Some(BASE), listed(None)));
        assert!(reply.tool_calls.is_empty());
        assert!(reply.text.contains("That was the last page"), "{}", reply.text);
    }

    #[test]
    fn more_without_a_listing_says_how_to_start_one() {
        let step = for_message("more", &[], &request(Some(BASE), vec![Message::User("more".into())]));
        let Step::Say(text) = step else { panic!("{step:?}") };
        assert!(text.contains("show records from"), "{text}");
    }
}
