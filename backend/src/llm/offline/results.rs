//! Turning the tools' results into the offline assistant's Markdown answer: bases and tables as
//! lists, records as tables, writes confirmed with their IDs, failures and denials as sentences.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::command::{self, Command, Parsed};
use super::markdown::{bold, cell, count, escape, id, plain, shorten, table, type_words};
use super::{Step, calls_by_id, last_user_text};
use crate::llm::{Message, Request, ToolCall, ToolResult};

/// The most fields a listing shows as columns, besides the ID.
const MAX_COLUMNS: usize = 5;
/// The longest cell in a listing, in characters.
const LIST_CELL: usize = 60;
/// The longest value when one record is shown whole.
const RECORD_CELL: usize = 300;

/// The step after the tools answered: the answer, or occasionally the command's next call.
pub(super) fn answer(request: &Request, results: &[ToolResult]) -> Step {
    let calls = calls_by_id(&request.messages);
    let command = last_user_text(&request.messages).and_then(|text| match command::parse(text) {
        Parsed::Command(command) => Some(command),
        _ => None,
    });
    if let (Some(Command::Count { .. }), [only]) = (&command, results)
        && only.name == "describe_table"
        && only.content.get("error").is_none()
    {
        return count_next(only, calls.get(only.call_id.as_str()).copied());
    }
    if let (Some(Command::Import { file, table }), [only]) = (&command, results)
        && only.name == "list_files"
        && only.content.get("error").is_none()
    {
        return import_next(&only.content, file, table, request.base_id.as_deref().unwrap_or_default());
    }
    // A listing's field names only order its columns; they are not part of the answer.
    let auxiliary = |result: &ToolResult| {
        results.len() > 1
            && result.name == "describe_table"
            && calls.get(result.call_id.as_str()).is_some_and(|call| call.arguments.get("detail") == Some(&json!("names")))
    };
    let parts: Vec<String> = results
        .iter()
        .filter(|r| !auxiliary(r))
        .map(|result| one(result, calls.get(result.call_id.as_str()).copied(), &request.messages))
        .collect();
    Step::Say(parts.join("\n\n"))
}

/// The count's second step: the records, reading only the primary field.
fn count_next(described: &ToolResult, call: Option<&ToolCall>) -> Step {
    let content = &described.content;
    let arguments = call.map(|c| &c.arguments);
    let base = arguments.and_then(|a| a.get("base_id")).cloned().unwrap_or(Value::Null);
    let table = content.get("name").or_else(|| arguments.and_then(|a| a.get("table"))).cloned().unwrap_or(Value::Null);
    let fields: Vec<&Value> = content.get("primary_field").filter(|p| p.is_string()).into_iter().collect();
    Step::call("", "analyze_table_data", json!({ "base_id": base, "table": table, "fields": fields }))
}

/// The import of the newest file named `file` (in any case), or why there is none.
fn import_next(listed: &Value, file: &str, table: &str, base: &str) -> Step {
    let files = listed.get("files").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let named = files.iter().find(|f| f.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(file)));
    match named.and_then(|f| f.get("file_id")) {
        Some(file_id) => Step::call(
            format!("Importing {} into {} in the background.", bold(file), bold(table)),
            "import_file",
            json!({ "file_id": file_id, "base_id": base, "table": table }),
        ),
        None => {
            let names: Vec<String> = files.iter().filter_map(|f| f.get("name").and_then(Value::as_str)).take(10).map(bold).collect();
            let yours = if names.is_empty() { "You have no files yet.".to_owned() } else { format!("Your files: {}.", names.join(", ")) };
            Step::Say(format!("I found no file named {}. Upload it on the Files page first. {yours}", bold(file)))
        }
    }
}

/// One tool's result as Markdown.
fn one(result: &ToolResult, call: Option<&ToolCall>, messages: &[Message]) -> String {
    let content = &result.content;
    if let Some(error) = content.get("error") {
        return failure(&result.name, call, error);
    }
    match result.name.as_str() {
        "list_bases" => bases(content),
        "list_tables" => tables(content),
        "describe_table" => described(content),
        "list_records" | "search_records" => listing(content, call, messages),
        "get_record" => record(content, messages),
        "create_records" => written(content, "created", "Added", "to", None, messages),
        "update_records" => written(content, "updated", "Updated", "in", call, messages),
        "delete_records" => deleted(content),
        "analyze_table_data" => counted(content),
        "import_file" => escape(text(content, "message")),
        other => generic(other, content),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn bases(content: &Value) -> String {
    let bases = items(content, "bases");
    if bases.is_empty() {
        return "This connection reaches no bases yet. Give its Airtable token access to a base, then ask again.".to_owned();
    }
    let total = content.get("total").and_then(Value::as_u64).map_or(bases.len(), |n| n as usize);
    let mut out = format!("This connection reaches {}:\n", count(total, "base", "bases"));
    for base in bases {
        let level = text(base, "permissionLevel");
        let level = if level.is_empty() { String::new() } else { format!(", {}", escape(level)) };
        out.push_str(&format!("\n- {} ({}{level})", bold(text(base, "name")), id(text(base, "id"))));
    }
    if bases.len() < total {
        out.push_str(&format!("\n\nThat's the first {} of {total}.", bases.len()));
    }
    out.push_str("\n\nPick one in the chat's base selector to work with its tables.");
    out
}

fn tables(content: &Value) -> String {
    let tables = items(content, "tables");
    if tables.is_empty() {
        return "This base has no tables.".to_owned();
    }
    let mut out = format!("This base has {}:\n", count(tables.len(), "table", "tables"));
    for t in tables {
        let fields = t.get("field_count").and_then(Value::as_u64).map(|n| count(n as usize, "field", "fields")).unwrap_or_default();
        let primary = text(t, "primary_field");
        let primary = if primary.is_empty() { String::new() } else { format!(", primary field {}", escape(primary)) };
        let description = text(t, "description");
        let description = if description.is_empty() { String::new() } else { format!(" — {}", escape(&shorten(description, 120))) };
        out.push_str(&format!("\n- {}: {fields}{primary}{description}", bold(text(t, "name"))));
    }
    out.push_str("\n\nSay `describe <table>` to see a table's fields.");
    out
}

/// A `describe_table` answer, with field names only or with types.
fn described(content: &Value) -> String {
    let name = text(content, "name");
    let fields = items(content, "fields");
    let primary = text(content, "primary_field");
    let mut out = format!("{} has {}:\n", bold(name), count(fields.len(), "field", "fields"));
    let description = text(content, "description");
    if !description.is_empty() {
        out = format!("{}: {}\n\n{out}", bold(name), escape(&shorten(description, 300)));
    }
    for field in fields {
        let (field_name, field_type, description) = match field {
            Value::String(n) => (n.as_str(), "", ""),
            other => (text(other, "name"), text(other, "type"), text(other, "description")),
        };
        let mut line = format!("\n- {}", bold(field_name));
        let mut notes = Vec::new();
        if !field_type.is_empty() {
            notes.push(type_words(field_type));
        }
        if !primary.is_empty() && field_name == primary {
            notes.push("primary".to_owned());
        }
        if !notes.is_empty() {
            line.push_str(&format!(" ({})", escape(&notes.join(", "))));
        }
        if !description.is_empty() {
            line.push_str(&format!(": {}", escape(&shorten(description, 120))));
        }
        out.push_str(&line);
    }
    out
}

/// The field names of `table` in the table's order, primary first, from the latest
/// `describe_table` answer about it in the conversation.
fn field_order(messages: &[Message], table: &str) -> Option<Vec<String>> {
    let described = messages
        .iter()
        .rev()
        .filter_map(|m| if let Message::ToolResults(results) = m { Some(results) } else { None })
        .flatten()
        .find(|r| r.name == "describe_table" && r.content.get("error").is_none() && text(&r.content, "name") == table)?;
    let primary = text(&described.content, "primary_field");
    let mut names: Vec<String> = items(&described.content, "fields")
        .iter()
        .map(|f| f.as_str().unwrap_or_else(|| text(f, "name")).to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(at) = names.iter().position(|n| n == primary) {
        let name = names.remove(at);
        names.insert(0, name);
    }
    Some(names)
}

/// Every field that has a value in some record, in the table's order when it is known, else the
/// most often filled first.
fn fields_in(records: &[&Value], order: Option<&[String]>) -> Vec<String> {
    let mut filled: HashMap<&str, usize> = HashMap::new();
    for record in records {
        for (name, value) in record.get("fields").and_then(Value::as_object).into_iter().flatten() {
            if !plain(value).is_empty() {
                *filled.entry(name.as_str()).or_default() += 1;
            }
        }
    }
    let mut names: Vec<String> = order.unwrap_or(&[]).iter().filter(|n| filled.contains_key(n.as_str())).cloned().collect();
    let mut rest: Vec<(&str, usize)> = filled.iter().filter(|(n, _)| !names.iter().any(|k| k == *n)).map(|(n, c)| (*n, *c)).collect();
    rest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    names.extend(rest.into_iter().map(|(n, _)| n.to_owned()));
    names
}

/// A page of `list_records` or `search_records`.
fn listing(content: &Value, call: Option<&ToolCall>, messages: &[Message]) -> String {
    let table_name = text(content, "table");
    let records: Vec<&Value> = items(content, "records").iter().collect();
    let arguments = call.map(|c| c.arguments.clone()).unwrap_or(Value::Null);
    let query = content.get("query").and_then(Value::as_str).map(|q| format!("“{}”", escape(q)));
    let filter = describe_filter(items(&arguments, "filter"));
    let next_page = arguments.get("cursor").is_some();
    let t = bold(table_name);
    if records.is_empty() {
        return match (&query, &filter) {
            (Some(q), _) => format!("No records in {t} contain {q}."),
            (None, Some(f)) => format!("No records in {t} match {f}."),
            _ if next_page => format!("There are no more records in {t}."),
            _ => format!("{t} has no records."),
        };
    }
    let n = count(records.len(), "record", "records");
    let mut out = match (&query, &filter) {
        (Some(q), _) => format!("{n} in {t} {} {q}:", if records.len() == 1 { "contains" } else { "contain" }),
        (None, Some(f)) => format!("{n} of {t} where {f}:"),
        _ if next_page => format!("The next {n} of {t}:"),
        _ => format!("{n} of {t}:"),
    };
    let order = field_order(messages, table_name);
    let fields = fields_in(&records, order.as_deref());
    let shown = &fields[..fields.len().min(MAX_COLUMNS)];
    let headers: Vec<String> = std::iter::once("ID".to_owned()).chain(shown.iter().map(|f| escape(f))).collect();
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| std::iter::once(id(text(r, "id"))).chain(shown.iter().map(|f| cell(r.get("fields").and_then(|fs| fs.get(f)).unwrap_or(&Value::Null), LIST_CELL))).collect())
        .collect();
    out.push_str("\n\n");
    out.push_str(&table(&headers, &rows));
    let mut notes = Vec::new();
    if shown.len() < fields.len() {
        let first = Some(text(records[0], "id")).filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())).unwrap_or("<record ID>");
        notes.push(format!("Showing {} of {} fields; `show {first} from {}` shows a whole record.", shown.len(), fields.len(), example_name(table_name)));
    }
    if content.get("next_cursor").and_then(Value::as_str).is_some_and(|c| !c.is_empty()) {
        notes.push("There are more: say `more` for the next page.".to_owned());
    }
    if !notes.is_empty() {
        out.push_str("\n\n");
        out.push_str(&notes.join(" "));
    }
    out
}

fn example_name(table: &str) -> String {
    let plain_name = table.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-') && !table.is_empty();
    match (plain_name, table.contains(' ')) {
        (true, false) => table.to_owned(),
        (true, true) => format!("\"{table}\""),
        (false, _) => "<table>".to_owned(),
    }
}

/// The listing's conditions in words: "Status is Done and Estimate > 3".
fn describe_filter(conditions: &[Value]) -> Option<String> {
    let parts: Vec<String> = conditions
        .iter()
        .map(|c| {
            let op = match text(c, "op") {
                "is" => "is",
                "is_not" => "is not",
                "contains" => "contains",
                "does_not_contain" => "does not contain",
                "greater_than" => ">",
                "less_than" => "<",
                "at_least" => "≥",
                "at_most" => "≤",
                "is_empty" => "is empty",
                "is_not_empty" => "is not empty",
                other => other,
            };
            let value = c.get("value").map(plain).unwrap_or_default();
            let value = if value.is_empty() { String::new() } else { format!(" {}", escape(&value)) };
            format!("{} {}{value}", escape(text(c, "field")), escape(op))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// A record's fields as a two-column table, in the table's order when it is known.
fn fields_table(record: &Value, only: Option<&[String]>, messages: &[Message], table_name: &str) -> String {
    let fields = record.get("fields").and_then(Value::as_object);
    let order = field_order(messages, table_name);
    let mut names = fields_in(&[record], order.as_deref());
    if let Some(only) = only {
        names = only.to_vec();
    }
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|name| vec![escape(name), cell(fields.and_then(|f| f.get(name)).unwrap_or(&Value::Null), RECORD_CELL)])
        .collect();
    table(&["Field".to_owned(), "Value".to_owned()], &rows)
}

/// A `get_record` answer.
fn record(content: &Value, messages: &[Message]) -> String {
    let table_name = text(content, "table");
    let record = content.get("record").unwrap_or(&Value::Null);
    let head = format!("Record {} of {}", id(text(record, "id")), bold(table_name));
    if fields_in(&[record], None).is_empty() {
        return format!("{head} has no values.");
    }
    format!("{head}:\n\n{}", fields_table(record, None, messages, table_name))
}

/// A create or update: the record and its values, or the IDs when there are several.
fn written(content: &Value, key: &str, verb: &str, preposition: &str, call: Option<&ToolCall>, messages: &[Message]) -> String {
    let table_name = text(content, "table");
    let records = items(content, "records");
    let total = content.get(key).and_then(Value::as_u64).map_or(records.len(), |n| n as usize);
    let t = bold(table_name);
    match records {
        [record] if total == 1 => {
            // For an update, the fields that were set; for a new record, all it has.
            let changed: Option<Vec<String>> = call
                .and_then(|c| c.arguments.get("records"))
                .and_then(|r| r.get(0))
                .and_then(|r| r.get("fields"))
                .and_then(Value::as_object)
                .map(|f| f.keys().cloned().collect());
            let head = format!("{verb} record {} {preposition} {t}", id(text(record, "id")));
            if changed.as_ref().is_none_or(Vec::is_empty) && fields_in(&[record], None).is_empty() {
                return format!("{head}.");
            }
            format!("{head}:\n\n{}", fields_table(record, changed.as_deref(), messages, table_name))
        }
        _ => {
            let ids: Vec<String> = records.iter().map(|r| id(text(r, "id"))).collect();
            let more = if ids.len() < total { format!(" and {} more", total - ids.len()) } else { String::new() };
            format!("{verb} {} {preposition} {t}: {}{more}.", count(total, "record", "records"), ids.join(", "))
        }
    }
}

fn deleted(content: &Value) -> String {
    let ids: Vec<String> = items(content, "record_ids").iter().map(|r| id(r.as_str().unwrap_or(""))).collect();
    let t = bold(text(content, "table"));
    match ids.as_slice() {
        [one] => format!("Deleted record {one} from {t}."),
        many => format!("Deleted {} from {t}: {}.", count(many.len(), "record", "records"), many.join(", ")),
    }
}

/// An `analyze_table_data` answer, which the count command reads for its number.
fn counted(content: &Value) -> String {
    let n = content.get("records").and_then(Value::as_u64).unwrap_or(0) as usize;
    format!("{} has {}.", bold(text(content, "table")), count(n, "record", "records"))
}

/// A tool this assistant never calls (the conversation may have begun with a model): its JSON.
fn generic(name: &str, content: &Value) -> String {
    let json = serde_json::to_string_pretty(content).unwrap_or_default();
    let json = shorten(&json, 2_000);
    let longest_run = json.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest_run + 1).max(3));
    format!("{} answered:\n\n{fence}json\n{json}\n{fence}", escape(name))
}

/// A failed or denied call, as a sentence saying what was not done and why.
fn failure(tool: &str, call: Option<&ToolCall>, error: &Value) -> String {
    let arguments = call.map(|c| &c.arguments);
    let argument = |key: &str| arguments.and_then(|a| a.get(key)).and_then(Value::as_str).unwrap_or("");
    let table = match argument("table") {
        "" => "the table".to_owned(),
        name => bold(name),
    };
    let records = |key: &str| arguments.and_then(|a| a.get(key)).and_then(Value::as_array).map_or(0, Vec::len);
    let one_id = |key: &str| -> Option<String> {
        let list = arguments.and_then(|a| a.get(key)).and_then(Value::as_array)?;
        match list.as_slice() {
            [only] => Some(id(only.as_str().or_else(|| only.get("id").and_then(Value::as_str)).unwrap_or(""))),
            _ => None,
        }
    };
    let what = match tool {
        "list_bases" => "list the bases".to_owned(),
        "list_tables" => "list the tables of this base".to_owned(),
        "describe_table" => format!("look at the table {table}"),
        "list_records" => format!("read the records of {table}"),
        "search_records" => format!("search {table}"),
        "get_record" => format!("read record {} of {table}", id(argument("record_id"))),
        "create_records" if records("records") > 1 => format!("add {} to {table}", count(records("records"), "record", "records")),
        "create_records" => format!("add the record to {table}"),
        "update_records" => match one_id("records") {
            Some(one) => format!("update record {one} in {table}"),
            None => format!("update {} in {table}", count(records("records"), "record", "records")),
        },
        "delete_records" => match one_id("record_ids") {
            Some(one) => format!("delete record {one} from {table}"),
            None => format!("delete {} from {table}", count(records("record_ids"), "record", "records")),
        },
        "analyze_table_data" => format!("read all the records of {table}"),
        other => format!("run {}", escape(other)),
    };
    let message = error.as_str().map(str::to_owned).unwrap_or_else(|| error.to_string());
    let lower = message.to_lowercase();
    // The agent loop's words for a call the user denied, and for one their settings don't allow.
    if lower.contains("denied") || lower.contains("declined") {
        return format!("You declined, so I did not {what}. Nothing was changed.");
    }
    if lower.contains("read but never change") {
        return format!("Your chat settings let me read but not change data, so I did not {what}. You can make the change yourself, or allow changes in Settings → Chat.");
    }
    format!("I could not {what}: {}", escape(&shorten(&message, 600)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::answer as reply_to;
    use super::super::tests::{BASE, request};
    use super::*;
    use crate::llm::Reply;

    /// The reply after `command`'s calls were answered with `contents`, in order.
    fn after(command: &str, contents: Vec<Value>) -> Reply {
        let first = reply_to(&request(Some(BASE), vec![Message::User(command.into())]));
        assert_eq!(first.tool_calls.len(), contents.len(), "{command}: {:?}", first.tool_calls);
        let results = first
            .tool_calls
            .iter()
            .zip(contents)
            .map(|(call, content)| ToolResult { call_id: call.id.clone(), name: call.name.clone(), content })
            .collect();
        let messages = vec![Message::User(command.into()), Message::Assistant { text: first.text, tool_calls: first.tool_calls }, Message::ToolResults(results)];
        reply_to(&request(Some(BASE), messages))
    }

    fn said(command: &str, contents: Vec<Value>) -> String {
        let reply = after(command, contents);
        assert!(reply.tool_calls.is_empty(), "{:?}", reply.tool_calls);
        reply.text
    }

    fn names() -> Value {
        json!({ "id": "tblAAAAAAAAAAAAAA", "name": "Tasks", "primary_field": "Name", "fields": ["Notes", "Name", "Status", "Estimate"] })
    }

    fn rec(id: &str, fields: Value) -> Value {
        json!({ "id": id, "createdTime": "2026-01-01T00:00:00.000Z", "fields": fields })
    }

    #[test]
    fn an_import_finds_its_file_by_name_then_imports_it() {
        let listed = json!({ "files": [{ "file_id": "f-2", "name": "People.csv" }, { "file_id": "f-1", "name": "people.csv" }] });
        let next = after("import people.csv into Staff", vec![listed.clone()]);
        assert_eq!(next.tool_calls.len(), 1);
        assert_eq!(next.tool_calls[0].name, "import_file");
        assert_eq!(next.tool_calls[0].arguments, json!({ "file_id": "f-2", "base_id": BASE, "table": "Staff" }), "the newest of that name");
        let missing = said("import sales.csv into Staff", vec![listed]);
        assert!(missing.contains("no file named **sales.csv**") && missing.contains("**People.csv**"), "{missing}");
    }

    #[test]
    fn bases_are_a_list_with_ids_and_a_pointer_to_the_selector() {
        let text = said("list bases", vec![json!({ "bases": [{ "id": "appAAAAAAAAAAAAAA", "name": "Roadmap", "permissionLevel": "create" }], "total": 1, "truncated": false })]);
        assert_eq!(text, "This connection reaches 1 base:\n\n- **Roadmap** (`appAAAAAAAAAAAAAA`, create)\n\nPick one in the chat's base selector to work with its tables.");
    }

    #[test]
    fn tables_are_a_list_with_field_counts() {
        let text = said(
            "list tables",
            vec![json!({ "tables": [
                { "id": "tblA", "name": "Tasks", "description": "What we do", "primary_field": "Name", "field_count": 4 },
                { "id": "tblB", "name": "People_2", "description": null, "primary_field": "Email", "field_count": 1 },
            ] })],
        );
        assert!(text.starts_with("This base has 2 tables:\n\n- **Tasks**: 4 fields, primary field Name — What we do\n- **People\\_2**: 1 field, primary field Email\n"), "{text}");
    }

    #[test]
    fn describe_lists_fields_with_their_types() {
        let text = said(
            "describe Tasks",
            vec![json!({ "id": "tblA", "name": "Tasks", "description": null, "primary_field": "Name", "fields": [
                { "id": "fldA", "name": "Name", "type": "singleLineText", "description": null },
                { "id": "fldB", "name": "Status", "type": "singleSelect", "description": "Where it <stands>" },
            ] })],
        );
        assert_eq!(text, "**Tasks** has 2 fields:\n\n- **Name** (single line text, primary)\n- **Status** (single select): Where it \\<stands\\>");
    }

    #[test]
    fn records_are_a_table_in_the_tables_field_order() {
        let text = said(
            "show 2 records from Tasks",
            vec![names(), json!({ "table": "Tasks", "count": 2, "next_cursor": null, "records": [
                rec("recAAAAAAAAAAAAAA", json!({ "Name": "Write", "Status": "Done", "Estimate": 3 })),
                rec("recBBBBBBBBBBBBBB", json!({ "Name": "Read", "Notes": "soon" })),
            ] })],
        );
        assert_eq!(
            text,
            "2 records of **Tasks**:\n\n| ID | Name | Notes | Status | Estimate |\n|---|---|---|---|---|\n| `recAAAAAAAAAAAAAA` | Write |   | Done | 3 |\n| `recBBBBBBBBBBBBBB` | Read | soon |   |   |"
        );
    }

    #[test]
    fn pipes_newlines_and_html_in_cells_keep_the_table_whole() {
        let text = said(
            "show records from Tasks",
            vec![names(), json!({ "table": "Tasks", "records": [rec("recAAAAAAAAAAAAAA", json!({ "Name": "a | b\nsecond line", "Notes": "<img src=x onerror=alert(1)> **x**" }))] })],
        );
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(rows.len(), 3, "{text}");
        assert_eq!(rows[2], "| `recAAAAAAAAAAAAAA` | a \\| b second line | \\<img src=x onerror=alert(1)\\> \\*\\*x\\*\\* |");
        assert!(rows.iter().all(|r| r.replace("\\|", "").matches('|').count() == 4), "{rows:?}");
    }

    #[test]
    fn hostile_cells_render_as_one_table_row_of_literal_text() {
        let text = said(
            "show records from Tasks",
            vec![names(), json!({ "table": "Tasks", "records": [rec("recAAAAAAAAAAAAAA", json!({ "Name": "a | b\n\n| x | y |", "Notes": "<script>alert(1)</script>" }))] })],
        );
        let html = crate::chat::markdown::render(&text);
        assert_eq!(html.matches("<table>").count(), 1, "{html}");
        assert_eq!(html.matches("<td>").count(), 3, "{html}");
        assert!(html.contains("<td>a | b | x | y |</td>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script"), "{html}");
    }

    #[test]
    fn a_wide_listing_shows_five_fields_and_says_how_to_see_the_rest() {
        let fields = json!({ "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7 });
        let text = said("show records from Tasks", vec![json!({ "error": "no matter" }), json!({ "table": "Tasks", "records": [rec("recAAAAAAAAAAAAAA", fields)], "next_cursor": "abc" })]);
        assert!(text.contains("| ID | A | B | C | D | E |"), "{text}");
        assert!(text.ends_with("Showing 5 of 7 fields; `show recAAAAAAAAAAAAAA from Tasks` shows a whole record. There are more: say `more` for the next page."), "{text}");
    }

    #[test]
    fn an_empty_filtered_listing_says_what_matched_nothing() {
        let text = said("show records from Tasks where Status is Done", vec![names(), json!({ "table": "Tasks", "records": [], "count": 0 })]);
        assert_eq!(text, "No records in **Tasks** match Status is Done.");
    }

    #[test]
    fn search_results_name_the_text() {
        let text = said(
            "search Tasks for launch",
            vec![names(), json!({ "table": "Tasks", "query": "launch", "records": [rec("recAAAAAAAAAAAAAA", json!({ "Name": "Launch day" }))] })],
        );
        assert!(text.starts_with("1 record in **Tasks** contains “launch”:"), "{text}");
        assert!(text.contains("| `recAAAAAAAAAAAAAA` | Launch day |"), "{text}");
    }

    #[test]
    fn one_record_is_shown_whole() {
        let text = said(
            "show recAAAAAAAAAAAAAA from Tasks",
            vec![names(), json!({ "table": "Tasks", "record": rec("recAAAAAAAAAAAAAA", json!({ "Status": "Done", "Name": "Write" })) })],
        );
        assert_eq!(text, "Record `recAAAAAAAAAAAAAA` of **Tasks**:\n\n| Field | Value |\n|---|---|\n| Name | Write |\n| Status | Done |");
    }

    #[test]
    fn a_created_record_is_confirmed_with_its_id_and_values() {
        let text = said(
            "add a record to Tasks with Name=Write",
            vec![json!({ "table": "Tasks", "created": 1, "records": [rec("recNEWNEWNEWNEW12", json!({ "Name": "Write" }))], "records_not_shown": 0 })],
        );
        assert_eq!(text, "Added record `recNEWNEWNEWNEW12` to **Tasks**:\n\n| Field | Value |\n|---|---|\n| Name | Write |");
    }

    #[test]
    fn an_update_is_confirmed_with_the_fields_it_set() {
        let text = said(
            "update recAAAAAAAAAAAAAA in Tasks set Status=Done",
            vec![json!({ "table": "Tasks", "updated": 1, "records": [rec("recAAAAAAAAAAAAAA", json!({ "Name": "Write", "Status": "Done" }))], "records_not_shown": 0 })],
        );
        assert_eq!(text, "Updated record `recAAAAAAAAAAAAAA` in **Tasks**:\n\n| Field | Value |\n|---|---|\n| Status | Done |");
    }

    #[test]
    fn a_deletion_is_confirmed_with_the_ids() {
        let text = said("delete recAAAAAAAAAAAAAA from Tasks", vec![json!({ "table": "Tasks", "deleted": 1, "record_ids": ["recAAAAAAAAAAAAAA"] })]);
        assert_eq!(text, "Deleted record `recAAAAAAAAAAAAAA` from **Tasks**.");
    }

    #[test]
    fn count_takes_two_steps_reading_only_the_primary_field() {
        let second = after("count records in Tasks", vec![names()]);
        assert_eq!(second.tool_calls.len(), 1);
        assert_eq!(second.tool_calls[0].name, "analyze_table_data");
        assert_eq!(second.tool_calls[0].arguments, json!({ "base_id": BASE, "table": "Tasks", "fields": ["Name"] }));

        let first = reply_to(&request(Some(BASE), vec![Message::User("count records in Tasks".into())]));
        let messages = vec![
            Message::User("count records in Tasks".into()),
            Message::Assistant { text: first.text, tool_calls: first.tool_calls.clone() },
            Message::ToolResults(vec![ToolResult { call_id: first.tool_calls[0].id.clone(), name: "describe_table".into(), content: names() }]),
            Message::Assistant { text: second.text, tool_calls: second.tool_calls.clone() },
            Message::ToolResults(vec![ToolResult {
                call_id: second.tool_calls[0].id.clone(),
                name: "analyze_table_data".into(),
                content: json!({ "table": "Tasks", "records": 42, "fields": [], "insights": [] }),
            }]),
        ];
        let last = reply_to(&request(Some(BASE), messages));
        assert!(last.tool_calls.is_empty());
        assert_eq!(last.text, "**Tasks** has 42 records.");
    }

    #[test]
    fn a_denied_write_says_nothing_was_done() {
        let denied = "The user denied this call, so nothing was changed. Don't try it again in another way; tell the user what was not done.";
        let text = said("delete recAAAAAAAAAAAAAA from Tasks", vec![json!({ "error": denied })]);
        assert_eq!(text, "You declined, so I did not delete record `recAAAAAAAAAAAAAA` from **Tasks**. Nothing was changed.");
    }

    #[test]
    fn a_write_refused_by_read_only_settings_points_at_them() {
        let policy = "The user's settings let the chat read but never change data, so this call was not made. Tell the user what change is needed; they can make it themselves or allow changes in Settings → Chat.";
        let text = said("add a record to Tasks with Name=Ada", vec![json!({ "error": policy })]);
        assert!(text.starts_with("Your chat settings let me read but not change data, so I did not add the record to **Tasks**."), "{text}");
    }

    #[test]
    fn a_tool_error_is_shown_as_what_went_wrong() {
        let error = "The base has no table “Taks”. Its tables are: Tasks, People.";
        let text = said("show records from Taks", vec![json!({ "error": error }), json!({ "error": error })]);
        assert_eq!(text, "I could not read the records of **Taks**: The base has no table “Taks”. Its tables are: Tasks, People.");
    }

    #[test]
    fn a_failed_count_says_why() {
        let text = said("count records in Taks", vec![json!({ "error": "The base has no table “Taks”." })]);
        assert_eq!(text, "I could not look at the table **Taks**: The base has no table “Taks”.");
    }

    #[test]
    fn an_unknown_tools_result_is_shown_as_json() {
        let calls = vec![ToolCall { id: "g1".into(), name: "find_duplicates".into(), arguments: json!({}), signature: None }];
        let messages = vec![
            Message::User("any duplicates?".into()),
            Message::Assistant { text: String::new(), tool_calls: calls },
            Message::ToolResults(vec![ToolResult { call_id: "g1".into(), name: "find_duplicates".into(), content: json!({ "groups": ["```"] }) }]),
        ];
        let text = reply_to(&request(Some(BASE), messages)).text;
        assert!(text.starts_with("find\\_duplicates answered:\n\n````json\n"), "{text}");
    }
}
