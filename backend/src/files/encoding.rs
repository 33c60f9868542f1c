//! Which text encoding a file uses, and a reader that turns it into UTF-8 as it streams.
//! A byte-order mark decides first; UTF-16 without one shows itself by its zero bytes; the
//! rest is `chardetng`'s guess from the first bytes (UTF-8, Windows-1252 and the like).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};
use encoding_rs_io::DecodeReaderBytesBuilder;

/// The encoding of text that starts with `head`.
pub fn sniff(head: &[u8]) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(head) {
        return encoding;
    }
    if let Some(encoding) = utf16_without_bom(head) {
        return encoding;
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    // `last` is false: a head cut mid-character must not count against UTF-8.
    detector.feed(head, false);
    let guess = detector.guess(None, Utf8Detection::Allow);
    // ASCII-only heads come back as Windows-1252; UTF-8 reads them the same and is likelier.
    if head.is_ascii() { UTF_8 } else { guess }
}

/// The encoding of the file at `path`, from its first bytes.
pub fn sniff_file(path: &Path) -> std::io::Result<&'static Encoding> {
    let mut head = Vec::new();
    File::open(path)?.take(4096).read_to_end(&mut head)?;
    Ok(sniff(&head))
}

/// Mostly-ASCII UTF-16 has a zero in every other byte: odd positions for little-endian.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let pairs = head.len() / 2;
    if pairs < 4 {
        return None;
    }
    let zeros_at = |parity: usize| head.iter().skip(parity).step_by(2).filter(|b| **b == 0).count();
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 10 >= pairs * 7 && even * 10 < pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 7 && odd * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// `source` as UTF-8, decoded from `encoding` as it is read, with any byte-order mark dropped.
pub fn utf8_reader<R: Read>(source: R, encoding: &'static Encoding) -> impl Read {
    DecodeReaderBytesBuilder::new().encoding(Some(encoding)).bom_override(true).strip_bom(true).build(source)
}

/// The encoding's name for people and for storage, e.g. `UTF-16LE`, `windows-1252`.
pub fn name(encoding: &'static Encoding) -> &'static str {
    encoding.name()
}

/// The encoding stored under `name`; UTF-8 when the name is unknown.
pub fn by_name(name: &str) -> &'static Encoding {
    Encoding::for_label(name.as_bytes()).unwrap_or(UTF_8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> String {
        let mut text = String::new();
        utf8_reader(bytes, sniff(bytes)).read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn a_byte_order_mark_decides_and_is_dropped() {
        assert_eq!(decoded(b"\xEF\xBB\xBFName;Caf\xC3\xA9"), "Name;Café");
        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend("Name;Café".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decoded(&with_bom), "Name;Café");
    }

    #[test]
    fn utf16_without_a_mark_is_told_by_its_zero_bytes() {
        let little: Vec<u8> = "Name,Hours\nAda,12\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let big: Vec<u8> = "Name,Hours\nAda,12\n".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(sniff(&little), UTF_16LE);
        assert_eq!(sniff(&big), UTF_16BE);
        assert_eq!(decoded(&big), "Name,Hours\nAda,12\n");
    }

    #[test]
    fn windows_1252_is_recognised_from_its_accented_letters() {
        let bytes = b"Nom;Ville\nFran\xE7oise;Besan\xE7on\nJos\xE9;M\xE1laga\nRen\xE9e;Z\xFCrich\n";
        assert_eq!(sniff(bytes).name(), "windows-1252");
        assert!(decoded(bytes).contains("Françoise;Besançon"));
    }
}
