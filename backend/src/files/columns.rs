//! A file's column names, in the order first seen: header cells, or JSON keys as they turn
//! up. Names are made unique and never blank, because each becomes a field name.

use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    names: Vec<String>,
    positions: HashMap<String, usize>,
}

impl Columns {
    pub fn new() -> Self {
        Self::default()
    }

    /// Columns already known, as a scan found them.
    pub fn from_names(names: &[String]) -> Self {
        let mut columns = Self::new();
        for name in names {
            columns.add(name);
        }
        columns
    }

    /// A header row's names: blanks become `Column 3`, repeats `Name 2`.
    pub fn from_header(header: &[String]) -> Self {
        let mut columns = Self::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim();
            let name = if name.is_empty() { format!("Column {}", i + 1) } else { name.to_owned() };
            columns.add(&name);
        }
        columns
    }

    /// The position of `key` (a JSON key), added at the end when new.
    pub fn position(&mut self, key: &str) -> usize {
        match self.positions.get(key) {
            Some(position) => *position,
            None => self.add(key),
        }
    }

    /// Adds a column, renaming it when the name is taken; answers its position.
    fn add(&mut self, name: &str) -> usize {
        let mut unique = name.to_owned();
        let mut n = 2;
        while self.positions.contains_key(&unique) {
            unique = format!("{name} {n}");
            n += 1;
        }
        let position = self.names.len();
        // The name as the file wrote it finds the column too, for JSON keys.
        self.positions.entry(name.to_owned()).or_insert(position);
        self.positions.insert(unique.clone(), position);
        self.names.push(unique);
        position
    }

    /// Makes room for a row wider than the header: the extra cells get `Column N`.
    pub fn widen_to(&mut self, width: usize) {
        while self.names.len() < width {
            let name = format!("Column {}", self.names.len() + 1);
            self.add(&name);
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_unique_and_never_blank() {
        let header = ["Name", "", "Name", " Hours "].map(String::from);
        assert_eq!(Columns::from_header(&header).names(), ["Name", "Column 2", "Name 2", "Hours"]);
    }

    #[test]
    fn json_keys_keep_their_first_position() {
        let mut columns = Columns::new();
        assert_eq!((columns.position("a"), columns.position("b.c"), columns.position("a")), (0, 1, 0));
        columns.widen_to(3);
        assert_eq!(columns.names(), ["a", "b.c", "Column 3"]);
    }
}
