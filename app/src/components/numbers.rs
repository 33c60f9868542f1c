//! Numbers as the UI shows them: counts grouped by thousands, and amounts in US dollars.

/// `1234567` as `1,234,567`.
pub fn grouped(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `$0.0042` below a cent, `$1.25` from there on.
pub fn usd(amount: f64) -> String {
    if amount == 0.0 {
        "$0.00".to_owned()
    } else if amount.abs() < 0.01 {
        format!("${amount:.4}")
    } else {
        format!("${amount:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_below_a_cent_keep_four_decimals() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.00042), "$0.0004");
        assert_eq!(usd(1.254), "$1.25");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
