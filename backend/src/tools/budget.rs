//! Keeping results small: a size budget per answer, long cells shortened, a cursor to fetch
//! the rest, and a bound on whole-table scans, so one large table can't flood a model's context.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::tool::{ToolContext, ToolError};
use crate::airtable::{Client, ListQuery};
use crate::model::airtable::{BaseId, Fields, Record, Table};

/// The most JSON, in bytes, one answer carries: about 6,000 tokens.
pub const RESULT_BUDGET: usize = 24_000;

/// The longest text shown for one cell; the rest is cut and says how to read it whole.
const CELL_LIMIT: usize = 2_000;

/// Where the next page starts: Airtable's offset for the page, and how many of that page's
/// records were already returned (a page cut short by the budget is fetched again and skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "o", skip_serializing_if = "Option::is_none")]
    offset: Option<String>,
    #[serde(rename = "s")]
    skip: usize,
    #[serde(rename = "n")]
    page_size: u32,
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serializes"))
    }

    fn decode(text: &str) -> Result<Self, ToolError> {
        URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| ToolError::Invalid("That cursor is not one this tool gave out. Pass next_cursor from the previous answer unchanged, or leave it out to start from the beginning.".into()))
    }
}

/// A page of records that fits the budget, and the cursor for what follows.
pub(crate) struct RecordsPage {
    pub records: Vec<Record>,
    pub next_cursor: Option<String>,
}

/// Fetches the page `cursor` points at (the first page without one), shortened to the budget.
/// `query` must be the same on every call of one listing.
pub(crate) async fn records_page(
    client: &Client,
    base: &BaseId,
    table: &str,
    mut query: ListQuery,
    page_size: u32,
    cursor: Option<&str>,
) -> Result<RecordsPage, ToolError> {
    let cursor = match cursor.filter(|c| !c.trim().is_empty()) {
        Some(text) => Cursor::decode(text)?,
        None => Cursor { offset: None, skip: 0, page_size: page_size.clamp(1, 100) },
    };
    query.offset = cursor.offset.clone();
    query.page_size = Some(cursor.page_size);
    let page = client.list_records(base, table, &query).await.map_err(|e| {
        if e.error_type() == Some("LIST_RECORDS_ITERATOR_NOT_AVAILABLE") {
            ToolError::Invalid("That cursor has expired (they last a few minutes). Start the listing again without a cursor.".into())
        } else {
            e.into()
        }
    })?;
    let mut records: Vec<Record> = page.records.into_iter().skip(cursor.skip).collect();
    for record in &mut records {
        shorten_cells(&mut record.fields);
    }
    let taken = fitting(&records, RESULT_BUDGET - 1_000);
    let next = if taken < records.len() {
        Some(Cursor { skip: cursor.skip + taken, ..cursor })
    } else {
        page.offset.map(|offset| Cursor { offset: Some(offset), skip: 0, page_size: cursor.page_size })
    };
    records.truncate(taken);
    Ok(RecordsPage { records, next_cursor: next.map(|c| c.encode()) })
}

/// More records than this are not read in one call: about a minute at Airtable's pace.
const MAX_SCAN: usize = 50_000;

/// Reads every record of the table (or of the named fields), refusing tables too large to scan.
pub(crate) async fn all_records(ctx: &ToolContext, base: &BaseId, table: &Table, fields: Vec<String>) -> Result<Vec<Record>, ToolError> {
    let query = ListQuery { fields, max_records: Some(MAX_SCAN as u32 + 1), ..ListQuery::default() };
    let records = ctx.client.list_all(base, table.id.as_str(), &query).await?;
    if records.len() > MAX_SCAN {
        return Err(ToolError::Invalid(format!(
            "The table “{}” has more than {MAX_SCAN} records, too many to read in one call. Filter it with list_records instead.",
            table.name
        )));
    }
    Ok(records)
}

/// How many of `items`, from the first, fit in `budget` bytes of JSON; always at least one.
pub(crate) fn fitting<T: Serialize>(items: &[T], budget: usize) -> usize {
    let mut used = 0;
    for (i, item) in items.iter().enumerate() {
        used += serde_json::to_vec(item).map(|v| v.len() + 1).unwrap_or(0);
        if used > budget {
            return i.max(1);
        }
    }
    items.len()
}

/// Cuts every long text in a record's cells to `CELL_LIMIT` characters, saying how much is left.
pub(crate) fn shorten_cells(fields: &mut Fields) {
    for value in fields.values_mut() {
        shorten(value);
    }
}

fn shorten(value: &mut Value) {
    match value {
        Value::String(text) if text.chars().count() > CELL_LIMIT => {
            let rest = text.chars().count() - CELL_LIMIT;
            let kept: String = text.chars().take(CELL_LIMIT).collect();
            *text = format!("{kept}… [{rest} more characters; get_record shows the whole cell]");
        }
        Value::Array(items) => items.iter_mut().for_each(shorten),
        Value::Object(map) => map.values_mut().for_each(shorten),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let cursor = Cursor { offset: Some("itr123/rec456".into()), skip: 7, page_size: 20 };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(matches!(Cursor::decode("not-a-cursor"), Err(ToolError::Invalid(_))));
    }

    #[test]
    fn long_cells_are_cut_and_say_how_much_is_left() {
        let mut fields = Fields::new();
        fields.insert("Notes".into(), Value::String("é".repeat(CELL_LIMIT + 10)));
        fields.insert("Short".into(), Value::String("kept".into()));
        shorten_cells(&mut fields);
        let notes = fields["Notes"].as_str().unwrap();
        assert!(notes.ends_with("[10 more characters; get_record shows the whole cell]"), "{notes}");
        assert_eq!(fields["Short"], "kept");
    }

    #[test]
    fn fitting_stops_at_the_budget_but_always_takes_one() {
        let items: Vec<String> = (0..10).map(|_| "x".repeat(98)).collect();
        assert_eq!(fitting(&items, 1_000), 9);
        assert_eq!(fitting(&items[..1], 10), 1);
        assert_eq!(fitting(&items, 100_000), 10);
    }
}
