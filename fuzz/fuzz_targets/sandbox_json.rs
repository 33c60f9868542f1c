//! Any bytes as the body of a create or update of records: read, validated cell by cell
//! against a table with every field type, and answered, as the API does before it touches the
//! database. Only a panic (or a crash, a leak, a timeout) is a failure.

#![no_main]

use backend::sandbox::harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = harness::write_body(data);
});
