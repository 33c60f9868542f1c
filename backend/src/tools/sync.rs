//! Syncing one table into another by a key field: a dry run that says what would change, and
//! a real run that changes it.

use std::collections::HashMap;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::budget::all_records;
use super::cells::{is_empty, text};
use super::resolve;
use super::tool::{OVERWRITE, Tool, ToolContext, ToolError};
use crate::airtable::RecordUpdate;
use crate::airtable::UpdateMode;
use crate::model::airtable::{Fields, FieldType, Record, RecordId, Table};
use crate::model::tools::ToolHints;

/// How many examples of each kind of change an answer lists.
const SAMPLES: usize = 10;

#[derive(Deserialize, JsonSchema)]
pub struct SyncTablesInput {
    /// The source base's ID, starting with "app".
    pub base_id: String,
    /// The table copied from (name or ID).
    pub source_table: String,
    /// The target base's ID, when it is another base.
    #[serde(default)]
    pub target_base_id: Option<String>,
    /// The table copied into (name or ID).
    pub target_table: String,
    /// The field, present in both tables by name, whose value identifies a record.
    pub key_field: String,
    /// The fields to copy (present in both by name); every shared writable field when empty.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Also delete target records whose key is not in the source.
    #[serde(default)]
    pub delete_missing: bool,
    /// Only report what would change (the default). Set false to apply the changes.
    #[serde(default = "yes")]
    pub dry_run: bool,
}

fn yes() -> bool {
    true
}

pub struct SyncTables;

#[async_trait]
impl Tool for SyncTables {
    type Input = SyncTablesInput;
    const NAME: &'static str = "sync_tables";
    const TITLE: &'static str = "Sync two tables";
    const DESCRIPTION: &'static str = "Makes a target table match a source table, matching records by a key field: creates the missing ones, updates the changed ones and, with delete_missing, deletes the extra ones. dry_run (the default) only reports what would be created, updated and deleted; call again with dry_run false to apply it.";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, ctx: &ToolContext, input: SyncTablesInput) -> Result<Value, ToolError> {
        let source_base = resolve::base_id(&input.base_id)?;
        let target_base = match &input.target_base_id {
            Some(id) => resolve::base_id(id)?,
            None => source_base.clone(),
        };
        let source = resolve::table(ctx, &source_base, &input.source_table).await?;
        let target = resolve::table(ctx, &target_base, &input.target_table).await?;
        if source_base == target_base && source.id == target.id {
            return Err(ToolError::Invalid("The source and the target are the same table.".into()));
        }
        let key = shared_field(&source, &target, &input.key_field)?;
        let (fields, skipped) = copied_fields(&source, &target, &input.fields, &key)?;

        let mut wanted = vec![key.clone()];
        wanted.extend(fields.iter().cloned());
        let source_records = all_records(ctx, &source_base, &source, wanted.clone()).await?;
        let target_records = all_records(ctx, &target_base, &target, wanted).await?;
        let plan = Plan::new(&source_records, &target_records, &key, &fields, input.delete_missing)?;

        let mut answer = plan.report(&key);
        answer["fields_copied"] = json!(fields);
        answer["fields_skipped"] = json!(skipped);
        answer["dry_run"] = json!(input.dry_run);
        if !input.dry_run {
            let table = target.id.as_str();
            ctx.client.create_records(&target_base, table, &plan.create, true).await?;
            ctx.client.update_records(&target_base, table, &plan.update, UpdateMode::Merge, true).await?;
            ctx.client.delete_records(&target_base, table, &plan.delete).await?;
            answer["applied"] = json!(true);
        }
        Ok(answer)
    }
}

/// A field both tables have by name.
fn shared_field(source: &Table, target: &Table, name: &str) -> Result<String, ToolError> {
    let field = resolve::field(source, name)?;
    resolve::field(target, &field.name)?;
    Ok(field.name.clone())
}

/// The fields to copy, and those left out with the reason.
fn copied_fields(source: &Table, target: &Table, asked: &[String], key: &str) -> Result<(Vec<String>, Vec<Value>), ToolError> {
    let mut copied = Vec::new();
    let mut skipped = Vec::new();
    let candidates: Vec<String> = if asked.is_empty() {
        source.fields.iter().map(|f| f.name.clone()).collect()
    } else {
        asked.iter().map(|name| resolve::field(source, name).map(|f| f.name.clone())).collect::<Result<_, _>>()?
    };
    for name in candidates.into_iter().filter(|n| n != key) {
        let reason = match target.field(&name) {
            None if asked.is_empty() => Some("the target has no field by this name"),
            None => return Err(ToolError::Invalid(format!("The target table “{}” has no field “{name}” to copy into.", target.name))),
            Some(f) if f.field_type.is_computed() => Some("Airtable computes it in the target"),
            Some(f) if f.field_type == FieldType::MultipleRecordLinks => Some("linked records point into their own tables, so they can't be copied as they are"),
            Some(_) => None,
        };
        match reason {
            Some(reason) => skipped.push(json!({ "field": name, "reason": reason })),
            None => copied.push(name),
        }
    }
    Ok((copied, skipped))
}

/// What a sync changes.
struct Plan {
    create: Vec<Fields>,
    update: Vec<RecordUpdate>,
    delete: Vec<RecordId>,
    unchanged: usize,
    /// Keys held by more than one target record: those records are left alone.
    ambiguous: Vec<String>,
    changes: Vec<Value>,
}

impl Plan {
    fn new(source: &[Record], target: &[Record], key: &str, fields: &[String], delete_missing: bool) -> Result<Self, ToolError> {
        let key_of = |r: &Record| r.fields.get(key).filter(|v| !is_empty(v)).map(text);
        let mut by_key: HashMap<String, Vec<&Record>> = HashMap::new();
        for record in target {
            if let Some(k) = key_of(record) {
                by_key.entry(k).or_default().push(record);
            }
        }
        let mut plan = Plan { create: vec![], update: vec![], delete: vec![], unchanged: 0, ambiguous: vec![], changes: vec![] };
        let mut seen = std::collections::HashSet::new();
        for record in source {
            let Some(k) = key_of(record) else { continue };
            if !seen.insert(k.clone()) {
                return Err(ToolError::Invalid(format!("The source has more than one record with {key} “{k}”. Make the key unique first (find_duplicates helps).")));
            }
            let mut wanted = Fields::new();
            wanted.insert(key.to_owned(), record.fields.get(key).cloned().unwrap_or(Value::Null));
            for field in fields {
                wanted.insert(field.clone(), record.fields.get(field).cloned().unwrap_or(Value::Null));
            }
            match by_key.get(&k).map(Vec::as_slice) {
                None => plan.create.push(wanted.into_iter().filter(|(_, v)| !is_empty(v)).collect()),
                Some([existing]) => {
                    let changed: Fields = fields
                        .iter()
                        .filter(|f| !same(existing.fields.get(*f), wanted.get(*f)))
                        .map(|f| (f.clone(), wanted.get(f).cloned().unwrap_or(Value::Null)))
                        .collect();
                    if changed.is_empty() {
                        plan.unchanged += 1;
                    } else {
                        if plan.changes.len() < SAMPLES {
                            let diff: serde_json::Map<String, Value> = changed
                                .iter()
                                .map(|(f, to)| (f.clone(), json!({ "from": existing.fields.get(f), "to": to })))
                                .collect();
                            plan.changes.push(json!({ "key": k, "record_id": existing.id, "changes": diff }));
                        }
                        plan.update.push(RecordUpdate { id: existing.id.clone(), fields: changed });
                    }
                }
                Some(_) => plan.ambiguous.push(k.clone()),
            }
        }
        if delete_missing {
            plan.delete = by_key.iter().filter(|(k, _)| !seen.contains(*k)).flat_map(|(_, records)| records.iter().map(|r| r.id.clone())).collect();
            plan.delete.sort();
        }
        Ok(plan)
    }

    fn report(&self, key: &str) -> Value {
        json!({
            "to_create": self.create.len(),
            "to_update": self.update.len(),
            "to_delete": self.delete.len(),
            "unchanged": self.unchanged,
            "ambiguous_keys": self.ambiguous,
            "examples": {
                "create": self.create.iter().take(SAMPLES).map(|f| f.get(key).cloned().unwrap_or(Value::Null)).collect::<Vec<_>>(),
                "update": self.changes,
                "delete": self.delete.iter().take(SAMPLES).collect::<Vec<_>>(),
            },
        })
    }
}

/// Whether two cells hold the same value; an absent cell and an empty one are the same.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let empty = |v: Option<&Value>| v.is_none_or(is_empty);
    match (a, b) {
        _ if empty(a) && empty(b) => true,
        (Some(x), Some(y)) => x == y || (x.is_number() && y.is_number() && x.as_f64() == y.as_f64()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, fields: Value) -> Record {
        serde_json::from_value(json!({ "id": id, "createdTime": "2026-01-01T00:00:00.000Z", "fields": fields })).unwrap()
    }

    #[test]
    fn a_plan_creates_updates_deletes_and_leaves_the_rest() {
        let source = [
            record("recAAAAAAAAAAAAA1", json!({"Email": "a@x.com", "Name": "Ada"})),
            record("recAAAAAAAAAAAAA2", json!({"Email": "b@x.com", "Name": "Bob"})),
            record("recAAAAAAAAAAAAA3", json!({"Email": "c@x.com", "Name": "Cy"})),
        ];
        let target = [
            record("recBBBBBBBBBBBBB1", json!({"Email": "a@x.com", "Name": "Ada"})),
            record("recBBBBBBBBBBBBB2", json!({"Email": "b@x.com", "Name": "Robert"})),
            record("recBBBBBBBBBBBBB9", json!({"Email": "z@x.com", "Name": "Zed"})),
        ];
        let plan = Plan::new(&source, &target, "Email", &["Name".into()], true).unwrap();
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.create[0]["Name"], "Cy");
        assert_eq!(plan.update.len(), 1);
        assert_eq!(plan.update[0].fields["Name"], "Bob");
        assert_eq!(plan.delete.len(), 1);
        assert_eq!(plan.delete[0].as_str(), "recBBBBBBBBBBBBB9");
    }

    #[test]
    fn a_duplicate_source_key_stops_the_sync() {
        let source = [record("recAAAAAAAAAAAAA1", json!({"Email": "a@x.com"})), record("recAAAAAAAAAAAAA2", json!({"Email": "a@x.com"}))];
        assert!(matches!(Plan::new(&source, &[], "Email", &[], false), Err(ToolError::Invalid(_))));
    }
}
