//! New IDs in Airtable's form: a three-letter prefix and 14 letters or digits.

use rand::Rng;
use rand::distr::Alphanumeric;

/// A fresh ID such as `recA1b2C3d4E5f6G7`.
pub fn new_id(prefix: &str) -> String {
    let tail: String = rand::rng().sample_iter(Alphanumeric).take(14).map(char::from).collect();
    format!("{prefix}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::airtable::RecordId;

    #[test]
    fn a_new_record_id_parses_as_one() {
        assert!(RecordId::parse(&new_id("rec")).is_ok());
    }
}
