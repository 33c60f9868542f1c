//! Any text as a `filterByFormula`: parsed, then evaluated against a fixed record within one
//! listing's budget. Only a panic (or a crash, a leak, a timeout) is a failure.

#![no_main]

use backend::sandbox::harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(source) = std::str::from_utf8(data) {
        harness::evaluate_formula(source);
    }
});
