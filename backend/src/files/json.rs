//! JSON tables: an array of objects, or one object per line (NDJSON). Objects stream one at a
//! time, never the whole file at once; nested objects become `a.b` columns and arrays a list
//! of values.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;

use serde::de::{DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::FileError;
use super::cell::Cell;
use super::columns::Columns;
use super::encoding;

/// Reads every object, `skip` objects in, handing each as a row to `row` until it breaks.
/// `ndjson` is one object per line; otherwise the file is one array. `columns` holds the
/// columns a scan found, or none, and gains each new key.
pub fn read(path: &Path, ndjson: bool, columns: &mut Columns, skip: u64, row: &mut dyn FnMut(&Columns, Vec<Cell>) -> ControlFlow<()>) -> Result<(), FileError> {
    let text = BufReader::new(encoding::utf8_reader(File::open(path)?, encoding::sniff_file(path)?));
    let mut each = Each { columns, skip, seen: 0, row, stopped: false };
    if ndjson {
        for (line, value) in serde_json::Deserializer::from_reader(text).into_iter::<Node>().enumerate() {
            let value = value.map_err(|e| FileError::unreadable(format!("line {}: {e}", line + 1)))?;
            if each.object(value)?.is_break() {
                break;
            }
        }
        Ok(())
    } else {
        let mut deserializer = serde_json::Deserializer::from_reader(text);
        (&mut each).deserialize(&mut deserializer).map_err(|e| FileError::unreadable(e.to_string()))?;
        deserializer.end().map_err(|e| FileError::unreadable(e.to_string()))
    }
}

struct Each<'a> {
    columns: &'a mut Columns,
    skip: u64,
    seen: u64,
    row: &'a mut dyn FnMut(&Columns, Vec<Cell>) -> ControlFlow<()>,
    stopped: bool,
}

impl Each<'_> {
    fn object(&mut self, value: Node) -> Result<ControlFlow<()>, FileError> {
        self.seen += 1;
        let Node::Object(object) = value else {
            return Err(FileError::unreadable(format!("item {} is not an object with named values", self.seen)));
        };
        let mut flat = Vec::new();
        flatten("", object, &mut flat);
        let mut cells = Vec::new();
        for (key, cell) in flat {
            let position = self.columns.position(&key);
            if cells.len() <= position {
                cells.resize(position + 1, Cell::Empty);
            }
            cells[position] = cell;
        }
        if self.seen <= self.skip {
            return Ok(ControlFlow::Continue(()));
        }
        Ok((self.row)(self.columns, cells))
    }
}

impl<'de> DeserializeSeed<'de> for &mut Each<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for &mut Each<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while !self.stopped {
            let Some(value) = items.next_element::<Node>()? else { return Ok(()) };
            match self.object(value) {
                Ok(ControlFlow::Continue(())) => {}
                Ok(ControlFlow::Break(())) => self.stopped = true,
                Err(e) => return Err(serde::de::Error::custom(e.to_string())),
            }
        }
        // The array must still be read to its end for the parser to finish cleanly.
        while items.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// A JSON value whose objects keep their keys in the file's order (serde_json's own map
/// sorts them), so columns come out as the file lists them.
enum Node {
    Object(Vec<(String, Node)>),
    Other(Value),
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Self::Object(entries) => Value::Object(entries.into_iter().map(|(k, v)| (k, v.into_value())).collect::<Map<_, _>>()),
            Self::Other(value) => value,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Other(Value::Bool(b)))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Other(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Other(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
        Ok(Node::Other(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node, E> {
        Ok(Node::Other(Value::String(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Node, E> {
        Ok(Node::Other(Value::String(s)))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Other(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Node, A::Error> {
        let mut values = Vec::new();
        while let Some(item) = items.next_element::<Node>()? {
            values.push(item.into_value());
        }
        Ok(Node::Other(Value::Array(values)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            entries.push((key, value));
        }
        Ok(Node::Object(entries))
    }
}

/// `{"a": {"b": 1}, "tags": ["x", "y"]}` → `a.b` = 1, `tags` = [x, y].
fn flatten(prefix: &str, object: Vec<(String, Node)>, out: &mut Vec<(String, Cell)>) {
    for (key, value) in object {
        let key = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        match value {
            Node::Object(inner) => flatten(&key, inner, out),
            Node::Other(other) => out.push((key, cell(other))),
        }
    }
}

fn cell(value: Value) -> Cell {
    match value {
        Value::Null => Cell::Empty,
        Value::Bool(b) => Cell::Bool(b),
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Value::String(s) => Cell::text(&s),
        Value::Array(items) => {
            let items: Vec<String> = items
                .into_iter()
                .filter(|item| !item.is_null())
                .map(|item| match item {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect();
            if items.is_empty() { Cell::Empty } else { Cell::List(items) }
        }
        Value::Object(_) => Cell::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, ndjson: bool, skip: u64) -> (Vec<String>, Vec<Vec<Cell>>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        std::fs::write(&path, text).unwrap();
        let mut columns = Columns::new();
        let mut rows = Vec::new();
        read(&path, ndjson, &mut columns, skip, &mut |_, cells| {
            rows.push(cells);
            ControlFlow::Continue(())
        })
        .unwrap();
        (columns.names().to_vec(), rows)
    }

    #[test]
    fn nested_objects_flatten_to_dotted_columns_and_arrays_to_lists() {
        let (columns, rows) = rows(r#"[{"name": "Ada", "team": {"name": "Ops", "size": 4}, "tags": ["a", "b"]}, {"name": "Bob", "extra": true}]"#, false, 0);
        assert_eq!(columns, ["name", "team.name", "team.size", "tags", "extra"]);
        assert_eq!(rows[0], vec![Cell::text("Ada"), Cell::text("Ops"), Cell::Number(4.0), Cell::List(vec!["a".into(), "b".into()])]);
        assert_eq!(rows[1], vec![Cell::text("Bob"), Cell::Empty, Cell::Empty, Cell::Empty, Cell::Bool(true)]);
    }

    #[test]
    fn ndjson_reads_a_line_at_a_time_and_skips_what_was_done() {
        let (columns, rows) = rows("{\"n\": 1}\n{\"n\": 2}\n\n{\"n\": 3}\n", true, 1);
        assert_eq!(columns, ["n"]);
        assert_eq!(rows, [vec![Cell::Number(2.0)], vec![Cell::Number(3.0)]]);
    }

    #[test]
    fn anything_but_objects_is_refused_with_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        std::fs::write(&path, "[{\"a\": 1}, 2]").unwrap();
        let error = read(&path, false, &mut Columns::new(), 0, &mut |_, _| ControlFlow::Continue(())).unwrap_err();
        assert!(error.to_string().contains("item 2 is not an object"), "{error}");
    }
}
