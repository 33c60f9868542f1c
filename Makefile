# The two commands: `make run` and `make test`. Each installs whatever is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# cargo-installed tools, and wasm-opt from npm (see scripts/install-tools.sh).
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/.tools/node_modules/.bin:$(PATH)
export PYAIRTABLE_TEST_POSTGRES_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres

.PHONY: help run test bench fuzz build tools test-tools test-rust test-browser deny fmt

help:
	@echo "make run    build (release) and start PyAirtable on http://127.0.0.1:8000"
	@echo "make test   run every test: Rust on SQLite and PostgreSQL, then Playwright in Chromium"
	@echo "make bench  print benchmark figures (release build; about 25 minutes with the one-million-event load and the imports)"
	@echo "make fuzz   fuzz the sandbox's formula and write-body parsers, FUZZ_SECONDS (60) each; not part of make test"

tools:
	@scripts/install-tools.sh build

test-tools:
	@scripts/install-tools.sh test

build: tools
	cargo leptos build --release

run: build
	PYAIRTABLE_SITE_ROOT=target/site ./target/release/pyairtable serve

test: test-tools
	@scripts/ensure-postgres.sh
	$(MAKE) deny
	$(MAKE) test-rust
	$(MAKE) test-browser
	@scripts/test-summary.sh

# Licences, banned crates and sources of every dependency (deny.toml). RustSec's advisory
# database comes from GitHub, which these machines can't reach: run `cargo deny check` for all
# four where it is reachable.
deny:
	cargo deny check licenses bans sources

test-rust:
	mkdir -p target; set -o pipefail; cargo test --workspace --exclude frontend 2>&1 | tee target/test-rust.log

# A debug build served on a free port, driven by Playwright in Debian's Chromium.
test-browser:
	cargo leptos build --frontend-only
	cd end2end && PW_PORT=$$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})') \
		npx playwright test 2>&1 | tee ../target/test-browser.log; exit $${PIPESTATUS[0]}

# Figures, not assertions: the README quotes what this prints.
bench: tools
	cargo bench -p server --bench airtable --bench mcp --bench chat --bench analytics --bench imports --bench workflows

# cargo-fuzz targets (fuzz/), each for FUZZ_SECONDS; stable Rust takes the nightly flags with
# RUSTC_BOOTSTRAP=1. New inputs go to fuzz/corpus/<target>, which later runs start from,
# beside the committed fuzz/seeds/<target>; a crash's input is saved in fuzz/artifacts/<target>.
# FUZZ_SANITIZER=address adds AddressSanitizer (slower; the code under test is safe Rust).
FUZZ_SECONDS ?= 60
FUZZ_SANITIZER ?= none
FUZZ_TARGETS := formula sandbox_json

fuzz:
	@scripts/install-tools.sh fuzz
	@for target in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$target && \
		RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz -s $(FUZZ_SANITIZER) $$target fuzz/corpus/$$target fuzz/seeds/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=20 -dict=fuzz/seeds/$$target.dict -print_final_stats=1 || exit 1; \
	done

fmt:
	cargo fmt --all
