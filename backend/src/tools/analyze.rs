//! Analysing a whole table: how full each field is, numeric statistics, distinct values, and
//! duplicate records. Every record is read, never a sample.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::budget::{RESULT_BUDGET, all_records, fitting};
use super::cells::{is_empty, items};
use super::resolve::{self, TableRef};
use super::tool::{READ, Tool, ToolContext, ToolError};
use crate::model::airtable::{Field, FieldType, Record};
use crate::model::tools::ToolHints;

#[derive(Deserialize, JsonSchema)]
pub struct AnalyzeInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// Only these fields (names or IDs); every field when empty.
    #[serde(default)]
    pub fields: Vec<String>,
}

pub struct AnalyzeTableData;

#[async_trait]
impl Tool for AnalyzeTableData {
    type Input = AnalyzeInput;
    const NAME: &'static str = "analyze_table_data";
    const TITLE: &'static str = "Analyse a table";
    const DESCRIPTION: &'static str = "Reads every record of a table and reports, per field: how often it is filled, numeric statistics (min, max, mean, median, sum), the number of distinct values and the most common ones; then insights such as mostly empty fields, constant fields and candidate keys.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: AnalyzeInput) -> Result<Value, ToolError> {
        let (base, table) = input.target.open(ctx).await?;
        let names = resolve::field_names(&table, &input.fields)?;
        let fields: Vec<&Field> = if names.is_empty() { table.fields.iter().collect() } else { names.iter().filter_map(|n| table.field(n)).collect() };
        let records = all_records(ctx, &base, &table, names.clone()).await?;
        let profiles: Vec<Profile> = fields.iter().map(|f| Profile::of(f, &records)).collect();
        let insights: Vec<String> = profiles.iter().flat_map(|p| p.insights(records.len())).collect();
        let mut answer = json!({
            "table": table.name,
            "records": records.len(),
            "fields": profiles.iter().map(Profile::to_json).collect::<Vec<_>>(),
            "insights": insights,
        });
        // The budget: drop the common values of the widest fields first.
        if serde_json::to_vec(&answer).map(|v| v.len()).unwrap_or(0) > RESULT_BUDGET {
            for field in answer["fields"].as_array_mut().into_iter().flatten() {
                if let Some(map) = field.as_object_mut() {
                    map.remove("most_common");
                }
            }
        }
        Ok(answer)
    }
}

/// What one field's values look like across the table.
struct Profile {
    name: String,
    field_type: FieldType,
    filled: usize,
    numbers: Vec<f64>,
    counts: HashMap<String, usize>,
}

impl Profile {
    fn of(field: &Field, records: &[Record]) -> Self {
        let mut profile = Profile { name: field.name.clone(), field_type: field.field_type.clone(), filled: 0, numbers: Vec::new(), counts: HashMap::new() };
        for record in records {
            let Some(value) = record.fields.get(&field.name).filter(|v| !is_empty(v)) else { continue };
            profile.filled += 1;
            if let Some(n) = value.as_f64() {
                profile.numbers.push(n);
            }
            for item in items(value) {
                *profile.counts.entry(item).or_default() += 1;
            }
        }
        profile
    }

    fn to_json(&self) -> Value {
        let mut out = json!({
            "name": self.name,
            "type": self.field_type.name(),
            "filled": self.filled,
            "distinct": self.counts.len(),
        });
        if !self.numbers.is_empty() {
            out["stats"] = stats(&self.numbers);
        }
        let mut common: Vec<(&String, &usize)> = self.counts.iter().filter(|(_, n)| **n > 1).collect();
        common.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        if !common.is_empty() && self.numbers.is_empty() {
            out["most_common"] = common.iter().take(5).map(|(value, n)| json!({ "value": value, "count": n })).collect();
        }
        out
    }

    fn insights(&self, total: usize) -> Vec<String> {
        let mut said = Vec::new();
        if total == 0 {
            return said;
        }
        let rate = self.filled as f64 / total as f64;
        if self.filled == 0 {
            said.push(format!("“{}” is empty in every record.", self.name));
        } else if rate < 0.5 {
            said.push(format!("“{}” is empty in {:.0}% of records.", self.name, (1.0 - rate) * 100.0));
        }
        if self.filled == total && total > 1 && self.counts.len() == 1 {
            said.push(format!("“{}” holds the same value in every record.", self.name));
        }
        let single_valued = !matches!(self.field_type, FieldType::MultipleSelects | FieldType::MultipleRecordLinks);
        if self.filled == total && total > 1 && self.counts.len() == total && single_valued {
            said.push(format!("“{}” is filled and different in every record: it could identify records (e.g. for upserts).", self.name));
        }
        if self.numbers.len() >= 10 {
            let mean = self.numbers.iter().sum::<f64>() / self.numbers.len() as f64;
            let sd = (self.numbers.iter().map(|n| (n - mean).powi(2)).sum::<f64>() / self.numbers.len() as f64).sqrt();
            let outliers = self.numbers.iter().filter(|n| sd > 0.0 && (*n - mean).abs() > 3.0 * sd).count();
            if outliers > 0 {
                said.push(format!("“{}” has {outliers} value(s) more than three standard deviations from the mean.", self.name));
            }
        }
        said
    }
}

fn stats(numbers: &[f64]) -> Value {
    let mut sorted = numbers.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let sum: f64 = sorted.iter().sum();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    json!({ "min": sorted[0], "max": sorted[n - 1], "mean": round(sum / n as f64), "median": median, "sum": round(sum) })
}

fn round(n: f64) -> f64 {
    (n * 1_000.0).round() / 1_000.0
}

#[derive(Deserialize, JsonSchema)]
pub struct FindDuplicatesInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// The fields whose values together make records duplicates; the primary field when empty.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Compare text exactly, case and spacing included (by default "Ada  Lovelace" and "ada lovelace" match).
    #[serde(default)]
    pub exact: bool,
}

pub struct FindDuplicates;

#[async_trait]
impl Tool for FindDuplicates {
    type Input = FindDuplicatesInput;
    const NAME: &'static str = "find_duplicates";
    const TITLE: &'static str = "Find duplicate records";
    const DESCRIPTION: &'static str = "Reads every record of a table and groups the records that share the same values in the given fields (the primary field by default), ignoring case and extra spaces unless exact is true.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: FindDuplicatesInput) -> Result<Value, ToolError> {
        let (base, table) = input.target.open(ctx).await?;
        let names = if input.fields.is_empty() {
            vec![table.primary_field().map(|f| f.name.clone()).ok_or_else(|| ToolError::Invalid("The table has no primary field; name the fields to compare.".into()))?]
        } else {
            resolve::field_names(&table, &input.fields)?
        };
        let records = all_records(ctx, &base, &table, names.clone()).await?;
        let mut groups: BTreeMap<Vec<String>, Vec<&Record>> = BTreeMap::new();
        for record in &records {
            let key: Vec<String> = names
                .iter()
                .map(|name| record.fields.get(name).filter(|v| !is_empty(v)).map(|v| normalize(&items(v).join(", "), input.exact)).unwrap_or_default())
                .collect();
            if key.iter().all(String::is_empty) {
                continue;
            }
            groups.entry(key).or_default().push(record);
        }
        let mut duplicates: Vec<Value> = groups
            .into_values()
            .filter(|group| group.len() > 1)
            .map(|group| {
                let values: serde_json::Map<String, Value> =
                    names.iter().map(|name| (name.clone(), group[0].fields.get(name).cloned().unwrap_or(Value::Null))).collect();
                json!({ "values": values, "count": group.len(), "record_ids": group.iter().map(|r| r.id.to_string()).collect::<Vec<_>>() })
            })
            .collect();
        duplicates.sort_by(|a, b| b["count"].as_u64().cmp(&a["count"].as_u64()));
        let shown = fitting(&duplicates, RESULT_BUDGET - 1_000);
        let extra: usize = duplicates.iter().map(|g| g["count"].as_u64().unwrap_or(0) as usize - 1).sum();
        Ok(json!({
            "table": table.name,
            "compared_fields": names,
            "records_scanned": records.len(),
            "duplicate_groups": duplicates.len(),
            "records_that_are_extra_copies": extra,
            "groups": &duplicates[..shown],
            "groups_not_shown": duplicates.len() - shown,
        }))
    }
}

fn normalize(text: &str, exact: bool) -> String {
    if exact { text.to_owned() } else { text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_exact_on_a_known_set() {
        let s = stats(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s, json!({ "min": 1.0, "max": 4.0, "mean": 2.5, "median": 2.5, "sum": 10.0 }));
    }

    #[test]
    fn duplicates_ignore_case_and_spacing_unless_exact() {
        assert_eq!(normalize("  Ada   Lovelace ", false), normalize("ada lovelace", false));
        assert_ne!(normalize("Ada", true), normalize("ada", true));
    }
}
