//! Conditions on fields, as people and models state them ("Status is Done", "Estimate > 8",
//! "Notes contains launch"), turned into formulas through the escaping builders in `formula`.
//! The base browser and the tools both filter and search this way.

use serde::{Deserialize, Serialize};

use super::formula::{self, Comparison};
use crate::model::airtable::{Field, FieldType, Table};

/// How a condition compares a field with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// Equal, compared as the field's type compares (numbers as numbers, dates by day).
    Is,
    IsNot,
    /// The field's text contains the value, ignoring case.
    Contains,
    DoesNotContain,
    GreaterThan,
    LessThan,
    AtLeast,
    AtMost,
    IsEmpty,
    IsNotEmpty,
}

impl FilterOp {
    /// Reads the words people type: "is", "=", "contains", ">", "at least", …
    pub fn parse(text: &str) -> Option<FilterOp> {
        Some(match text.trim().to_lowercase().replace(['_', '-'], " ").as_str() {
            "is" | "=" | "==" | "equals" => FilterOp::Is,
            "is not" | "!=" | "<>" => FilterOp::IsNot,
            "contains" | "has" => FilterOp::Contains,
            "does not contain" | "not contains" => FilterOp::DoesNotContain,
            ">" | "greater than" | "more than" | "after" => FilterOp::GreaterThan,
            "<" | "less than" | "fewer than" | "before" => FilterOp::LessThan,
            ">=" | "at least" => FilterOp::AtLeast,
            "<=" | "at most" => FilterOp::AtMost,
            "is empty" | "is blank" => FilterOp::IsEmpty,
            "is not empty" | "is not blank" => FilterOp::IsNotEmpty,
            _ => return None,
        })
    }
}

/// A condition that can't be turned into a formula, in words that say what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// Finds a field by name or ID, or says which fields there are.
///
/// # Errors
/// `FilterError` naming the table's fields.
pub fn field<'a>(table: &'a Table, name: &str) -> Result<&'a Field, FilterError> {
    table.field(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = table.fields.iter().map(|f| f.name.as_str()).collect();
        FilterError(format!("The table “{}” has no field “{}”. Its fields are: {}.", table.name, name.trim(), names.join(", ")))
    })
}

/// `{field} <op> value` as a formula, comparing as the field's type compares.
///
/// # Errors
/// A value the field's type can't compare with, or an operator that makes no sense for it.
pub fn condition(field: &Field, op: FilterOp, value: &str) -> Result<String, FilterError> {
    let name = field.name.as_str();
    let value = value.trim();
    let numeric = is_numeric(&field.field_type);
    let dated = matches!(field.field_type, FieldType::Date | FieldType::DateTime | FieldType::CreatedTime | FieldType::LastModifiedTime);
    let number = || {
        field.field_type.parse_number(value).ok_or_else(|| {
            FilterError(format!("“{value}” is not a number, and “{name}” holds numbers. Use a number such as 12 or 2.5."))
        })
    };
    Ok(match op {
        FilterOp::IsEmpty => formula::is_blank(name),
        FilterOp::IsNotEmpty => formula::is_not_blank(name),
        FilterOp::Contains => formula::contains_text(name, value),
        FilterOp::DoesNotContain => formula::not(&formula::contains_text(name, value)),
        FilterOp::Is if value.is_empty() => formula::is_blank(name),
        FilterOp::IsNot if value.is_empty() => formula::is_not_blank(name),
        FilterOp::Is | FilterOp::IsNot => {
            let same = if numeric {
                formula::compare_number(name, Comparison::Eq, number()?)
            } else if field.field_type == FieldType::Checkbox {
                format!("{} = {}", formula::field(name), formula::boolean(checkbox(name, value)?))
            } else if dated {
                formula::date_same_day(name, value)
            } else if field.field_type == FieldType::MultipleSelects {
                formula::list_contains(name, value)
            } else {
                formula::eq(name, value)
            };
            if op == FilterOp::Is { same } else { formula::not(&same) }
        }
        FilterOp::GreaterThan | FilterOp::LessThan | FilterOp::AtLeast | FilterOp::AtMost => {
            if dated {
                let (before, after) = (formula::date_before(name, value), formula::date_after(name, value));
                match op {
                    FilterOp::GreaterThan => after,
                    FilterOp::LessThan => before,
                    FilterOp::AtLeast => formula::not(&before),
                    _ => formula::not(&after),
                }
            } else if numeric {
                let comparison = match op {
                    FilterOp::GreaterThan => Comparison::Gt,
                    FilterOp::LessThan => Comparison::Lt,
                    FilterOp::AtLeast => Comparison::Ge,
                    _ => Comparison::Le,
                };
                formula::compare_number(name, comparison, number()?)
            } else {
                return Err(FilterError(format!(
                    "“{name}” is {}, which can't be compared as greater or less. Use is, is not or contains.",
                    field.field_type.name()
                )));
            }
        }
    })
}

/// A case-insensitive search for `needle` in every text field of `table` (or in `only`).
///
/// # Errors
/// A table without text fields, or a named field that isn't there.
pub fn search(table: &Table, needle: &str, only: &[String]) -> Result<String, FilterError> {
    let fields: Vec<&Field> = if only.is_empty() {
        table.fields.iter().filter(|f| f.field_type.is_text()).collect()
    } else {
        only.iter().map(|name| field(table, name)).collect::<Result<_, _>>()?
    };
    if fields.is_empty() {
        return Err(FilterError(format!("The table “{}” has no text fields to search. Filter on a field instead.", table.name)));
    }
    let parts: Vec<String> = fields.iter().map(|f| formula::contains_text(&f.name, needle.trim())).collect();
    Ok(formula::or(&parts))
}

fn is_numeric(field_type: &FieldType) -> bool {
    matches!(
        field_type,
        FieldType::Number | FieldType::Currency | FieldType::Percent | FieldType::Rating | FieldType::Duration | FieldType::AutoNumber
    )
}

fn checkbox(name: &str, value: &str) -> Result<bool, FilterError> {
    match value.to_lowercase().as_str() {
        "true" | "yes" | "checked" | "1" | "✓" => Ok(true),
        "false" | "no" | "unchecked" | "0" => Ok(false),
        _ => Err(FilterError(format!("“{name}” is a checkbox: compare it with checked or unchecked."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::airtable::{FieldId, TableId};

    fn field(id: u8, name: &str, field_type: FieldType) -> Field {
        Field {
            id: FieldId::parse(&format!("fld{}AAAAAAAAAAAAA", (b'A' + id) as char)).unwrap(),
            name: name.into(),
            field_type,
            description: None,
            options: None,
        }
    }

    fn tasks() -> Table {
        Table {
            id: TableId::parse("tblAAAAAAAAAAAAAA").unwrap(),
            name: "Tasks".into(),
            primary_field_id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            description: None,
            fields: vec![
                field(0, "Task", FieldType::SingleLineText),
                field(1, "Estimate", FieldType::Number),
                field(2, "Done", FieldType::Checkbox),
                field(3, "Due", FieldType::Date),
                field(4, "Tags", FieldType::MultipleSelects),
            ],
            views: vec![],
        }
    }

    #[test]
    fn conditions_compare_as_the_field_type_does() {
        let table = tasks();
        let f = |name: &str| super::field(&table, name).unwrap();
        assert_eq!(condition(f("Estimate"), FilterOp::AtLeast, "8").unwrap(), "{Estimate} >= 8");
        assert_eq!(condition(f("Done"), FilterOp::Is, "yes").unwrap(), "{Done} = TRUE()");
        assert!(condition(f("Due"), FilterOp::GreaterThan, "2026-01-01").unwrap().starts_with("IS_AFTER({Due}"));
        assert!(condition(f("Tags"), FilterOp::Is, "urgent").unwrap().contains("FIND("));
        assert_eq!(condition(f("Task"), FilterOp::Is, "").unwrap(), "LEN({Task} & '') = 0");
    }

    #[test]
    fn impossible_conditions_say_what_to_use_instead() {
        let table = tasks();
        let estimate = super::field(&table, "Estimate").unwrap();
        assert!(condition(estimate, FilterOp::Is, "lots").unwrap_err().0.contains("is not a number"));
        let task = super::field(&table, "Task").unwrap();
        assert!(condition(task, FilterOp::GreaterThan, "b").unwrap_err().0.contains("Use is, is not or contains"));
        let missing = super::field(&table, "Owner").unwrap_err().0;
        assert!(missing.contains("Its fields are: Task, Estimate, Done, Due, Tags."), "{missing}");
    }

    #[test]
    fn searching_covers_the_text_fields_and_escapes_the_needle() {
        let formula = search(&tasks(), "it's {x}", &[]).unwrap();
        assert!(formula.contains("{Task}") && formula.contains("{Tags}") && !formula.contains("{Estimate}"), "{formula}");
        assert!(formula.contains(r"'it\'s {x}'"), "{formula}");
    }

    #[test]
    fn operators_are_read_as_people_write_them() {
        assert_eq!(FilterOp::parse("at least"), Some(FilterOp::AtLeast));
        assert_eq!(FilterOp::parse(">="), Some(FilterOp::AtLeast));
        assert_eq!(FilterOp::parse("is_not_empty"), Some(FilterOp::IsNotEmpty));
        assert_eq!(FilterOp::parse("roughly"), None);
    }
}
