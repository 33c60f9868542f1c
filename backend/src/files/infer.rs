//! Column types from every value of a column, not the first few: each value is tried against
//! every type that could hold it, and the column takes the most specific type that holds them
//! all. The tallies also say, for any type a person might pick instead, how many values would
//! not fit it.

use std::collections::BTreeMap;

use super::cell::{self, Cell, DateText};
use crate::model::airtable::FieldType;
use crate::model::files::{Column, ColumnType, DateOrder, Misfits};

/// More distinct values than this and a column is not a select.
const MAX_CHOICES: usize = 50;
/// Longer values make a select unlikely, and a text field a long one.
const MAX_CHOICE_LEN: usize = 100;
const MAX_LINE_LEN: usize = 255;

/// What one column's values have shown so far.
#[derive(Debug, Default, Clone)]
pub struct ColumnTally {
    filled: u64,
    checkbox: u64,
    number: u64,
    amount: u64,
    with_symbol: BTreeMap<&'static str, u64>,
    percent: u64,
    precision: u8,
    /// Dates and date-times: those that read day first, month first, and with a time.
    day_first: u64,
    month_first: u64,
    slashed: u64,
    date_times: u64,
    email: u64,
    url: u64,
    phone: u64,
    /// Values with more than one item (a JSON array, or text with commas).
    lists: u64,
    /// Distinct values and distinct list items, until there are too many to be choices.
    values: Option<BTreeMap<String, u64>>,
    items: Option<BTreeMap<String, u64>>,
    longest: usize,
    multiline: bool,
}

impl ColumnTally {
    pub fn new() -> Self {
        Self { values: Some(BTreeMap::new()), items: Some(BTreeMap::new()), ..Self::default() }
    }

    /// Counts one value. `decimal_comma` is the file's number convention.
    pub fn observe(&mut self, value: &Cell, decimal_comma: bool) {
        if value.is_empty() {
            return;
        }
        self.filled += 1;
        match value {
            Cell::Empty => {}
            Cell::Number(n) => {
                self.number += 1;
                self.amount += 1;
                self.precision = self.precision.max(cell::decimals(*n));
            }
            Cell::Bool(_) => self.checkbox += 1,
            Cell::Date(_) => {
                self.day_first += 1;
                self.month_first += 1;
            }
            Cell::DateTime(_) => {
                self.day_first += 1;
                self.month_first += 1;
                self.date_times += 1;
            }
            Cell::List(items) => self.observe_list(items),
            Cell::Text(text) => self.observe_text(text, decimal_comma),
        }
        let text = value.to_text();
        self.longest = self.longest.max(text.chars().count());
        self.multiline |= text.contains('\n');
        count_distinct(&mut self.values, text);
    }

    fn observe_text(&mut self, text: &str, decimal_comma: bool) {
        if cell::parse_checkbox(text).is_some() {
            self.checkbox += 1;
        }
        if let Some((_, places)) = cell::parse_number(text, decimal_comma) {
            self.number += 1;
            self.precision = self.precision.max(places);
        }
        if let Some((_, places, symbol)) = cell::parse_amount(text, decimal_comma) {
            self.amount += 1;
            self.precision = self.precision.max(places);
            if let Some(symbol) = symbol {
                *self.with_symbol.entry(symbol).or_default() += 1;
            }
        }
        if let Some((_, places)) = cell::parse_percent(text, decimal_comma) {
            self.percent += 1;
            self.precision = self.precision.max(places);
        }
        let date = cell::parse_date(text).or_else(|| {
            let (date, _) = cell::parse_date_time(text)?;
            self.date_times += 1;
            Some(date)
        });
        if let Some(date) = date {
            self.day_first += u64::from(date.day_first().is_some());
            self.month_first += u64::from(date.month_first().is_some());
            self.slashed += u64::from(matches!(date, DateText::Slashed { .. }));
        }
        self.email += u64::from(cell::is_email(text));
        self.url += u64::from(cell::is_url(text));
        self.phone += u64::from(cell::is_phone(text));
        let items = split_list(text);
        if items.len() > 1 {
            self.observe_list(&items);
        } else {
            count_distinct(&mut self.items, text.to_owned());
        }
    }

    fn observe_list(&mut self, items: &[String]) {
        self.lists += 1;
        for item in items {
            self.longest = self.longest.max(item.chars().count());
            count_distinct(&mut self.items, item.clone());
        }
    }

    /// The column's type, and how many values would not fit each type that can refuse one.
    pub fn finish(&self, name: String) -> Column {
        Column { name, inferred: self.guess(), filled: self.filled, misfits: self.misfits() }
    }

    fn guess(&self) -> ColumnType {
        let all = |count: u64| self.filled > 0 && count == self.filled;
        let precise = |field_type| ColumnType { precision: Some(self.precision), ..ColumnType::of(field_type) };
        if self.filled == 0 {
            return ColumnType::of(FieldType::SingleLineText);
        }
        if all(self.checkbox) {
            return ColumnType::of(FieldType::Checkbox);
        }
        if all(self.percent) {
            return precise(FieldType::Percent);
        }
        if all(self.number) {
            return precise(FieldType::Number);
        }
        if all(self.amount) {
            let symbol = self.with_symbol.iter().max_by_key(|(_, n)| **n).map(|(s, _)| (*s).to_owned());
            return ColumnType { symbol, ..precise(FieldType::Currency) };
        }
        if let Some(order) = self.date_order() {
            let field_type = if self.date_times > 0 { FieldType::DateTime } else { FieldType::Date };
            return ColumnType { date_order: Some(order), ..ColumnType::of(field_type) };
        }
        for (count, field_type) in [(self.email, FieldType::Email), (self.url, FieldType::Url), (self.phone, FieldType::PhoneNumber)] {
            if all(count) {
                return ColumnType::of(field_type);
            }
        }
        let short = self.longest <= MAX_CHOICE_LEN && !self.multiline;
        // JSON arrays are lists whether or not their items repeat; delimited text only when they do.
        if let (true, true, Some(items)) = (short, self.lists > 0, &self.items)
            && (all(self.lists) || repeats(items))
        {
            return ColumnType { choices: items.keys().cloned().collect(), ..ColumnType::of(FieldType::MultipleSelects) };
        }
        if let (true, Some(values)) = (short, &self.values)
            && repeats(values)
        {
            return ColumnType { choices: values.keys().cloned().collect(), ..ColumnType::of(FieldType::SingleSelect) };
        }
        if self.multiline || self.longest > MAX_LINE_LEN {
            return ColumnType::of(FieldType::MultilineText);
        }
        ColumnType::of(FieldType::SingleLineText)
    }

    /// How every value reads as a date, when each one does in at least one order.
    fn date_order(&self) -> Option<DateOrder> {
        let day_first = self.day_first == self.filled;
        let month_first = self.month_first == self.filled;
        match (day_first, month_first) {
            _ if self.filled == 0 => None,
            (true, true) if self.slashed == 0 => Some(DateOrder::Iso),
            (true, true) => Some(DateOrder::Ambiguous),
            (true, false) => Some(DateOrder::DayFirst),
            (false, true) => Some(DateOrder::MonthFirst),
            (false, false) => None,
        }
    }

    fn misfits(&self) -> Vec<Misfits> {
        let dates = self.day_first.max(self.month_first);
        [
            (FieldType::Number, self.number),
            (FieldType::Currency, self.amount),
            (FieldType::Percent, self.percent.max(self.number)),
            (FieldType::Checkbox, self.checkbox),
            (FieldType::Date, dates),
            (FieldType::DateTime, dates),
            (FieldType::Email, self.email),
            (FieldType::Url, self.url),
            (FieldType::PhoneNumber, self.phone),
        ]
        .into_iter()
        .map(|(field_type, fits)| Misfits { field_type, count: self.filled.saturating_sub(fits) })
        .collect()
    }
}

/// A small set of values, each used more than once on average: choices, not free text.
fn repeats(distinct: &BTreeMap<String, u64>) -> bool {
    let uses: u64 = distinct.values().sum();
    !distinct.is_empty() && distinct.len() <= MAX_CHOICES && uses >= 2 * distinct.len() as u64
}

fn count_distinct(distinct: &mut Option<BTreeMap<String, u64>>, value: String) {
    if let Some(seen) = distinct {
        *seen.entry(value).or_default() += 1;
        if seen.len() > MAX_CHOICES {
            *distinct = None;
        }
    }
}

/// A cell's items when it lists several, comma or semicolon separated: `Design, Ops`.
pub fn split_list(text: &str) -> Vec<String> {
    if !text.contains([',', ';']) {
        return vec![text.to_owned()];
    }
    text.split([',', ';']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(values: &[&str], decimal_comma: bool) -> Column {
        let mut tally = ColumnTally::new();
        for value in values {
            tally.observe(&Cell::text(value), decimal_comma);
        }
        tally.finish("Column".into())
    }

    fn field_type(values: &[&str]) -> FieldType {
        infer(values, false).inferred.field_type
    }

    #[test]
    fn every_value_counts_not_just_the_first_ones() {
        let mut values = vec!["12"; 500];
        values.push("twelve");
        let column = infer(&values, false);
        assert_eq!(column.inferred.field_type, FieldType::SingleSelect);
        assert_eq!(column.misfits_for(&FieldType::Number), 1);
    }

    #[test]
    fn numbers_keep_the_precision_seen_in_either_convention() {
        let column = infer(&["1.234,5", "2,25", "3"], true);
        assert_eq!((column.inferred.field_type, column.inferred.precision), (FieldType::Number, Some(2)));
        assert_eq!(infer(&["1,234.5", "7"], false).inferred.precision, Some(1));
    }

    #[test]
    fn amounts_percentages_and_yes_no_get_their_own_types() {
        let currency = infer(&["$12.50", "$3", "4.25"], false).inferred;
        assert_eq!((currency.field_type, currency.symbol.as_deref()), (FieldType::Currency, Some("$")));
        assert_eq!(field_type(&["15%", "2.5%"]), FieldType::Percent);
        assert_eq!(field_type(&["yes", "No", "", "x"]), FieldType::Checkbox);
    }

    #[test]
    fn date_order_is_proven_by_the_values_or_left_to_ask() {
        assert_eq!(infer(&["25/03/2024", "01/04/2024"], false).inferred.date_order, Some(DateOrder::DayFirst));
        assert_eq!(infer(&["03/25/2024", "04/01/2024"], false).inferred.date_order, Some(DateOrder::MonthFirst));
        assert_eq!(infer(&["03/04/2024", "04/01/2024"], false).inferred.date_order, Some(DateOrder::Ambiguous));
        assert_eq!(infer(&["2024-03-25"], false).inferred, ColumnType { date_order: Some(DateOrder::Iso), ..ColumnType::of(FieldType::Date) });
        assert_eq!(field_type(&["25/03/2024", "03/25/2024"]), FieldType::SingleLineText, "no order reads both");
        assert_eq!(field_type(&["2024-03-25 14:30", "2024-03-26"]), FieldType::DateTime);
    }

    #[test]
    fn contacts_selects_and_long_text() {
        assert_eq!(field_type(&["ada@example.com", "bob@example.org"]), FieldType::Email);
        assert_eq!(field_type(&["https://example.com", "http://example.org/a"]), FieldType::Url);
        assert_eq!(field_type(&["+1 555 010 9999", "(020) 7946 0958"]), FieldType::PhoneNumber);
        let status = infer(&["Todo", "Done", "Todo", "Done", "Blocked", "Todo"], false).inferred;
        assert_eq!((status.field_type, status.choices), (FieldType::SingleSelect, vec!["Blocked".into(), "Done".into(), "Todo".into()]));
        let tags = infer(&["Design, Ops", "Ops", "Design", "Ops, Sales"], false).inferred;
        assert_eq!((tags.field_type, tags.choices.len()), (FieldType::MultipleSelects, 3));
        assert_eq!(field_type(&["Ada Lovelace", "Grace Hopper"]), FieldType::SingleLineText);
        assert_eq!(field_type(&["first line\nsecond line", "x"]), FieldType::MultilineText);
    }

    #[test]
    fn typed_cells_from_spreadsheets_and_json_count_as_their_type() {
        let mut tally = ColumnTally::new();
        for value in [Cell::Number(1.5), Cell::Number(2.0), Cell::Empty] {
            tally.observe(&value, false);
        }
        let column = tally.finish("Hours".into());
        assert_eq!((column.inferred.field_type, column.inferred.precision, column.filled), (FieldType::Number, Some(1), 2));
    }
}
