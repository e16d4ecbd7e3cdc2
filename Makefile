# The README's two commands: `make demo` and `make test`. Both install missing system packages first.
CARGO ?= cargo
DEMO_OUT ?= demo-out

.PHONY: deps demo test build fmt clippy bench

deps:
	@bash scripts/install-deps.sh

build: deps
	$(CARGO) build --release

demo: build
	./target/release/neuropop demo --out $(DEMO_OUT) --force

# One build per run: tests and doctests share the debug artefacts; clippy adds a check build.
# CARGO_INCREMENTAL=0: a one-shot build gains nothing from incremental caches, which
# would only add gigabytes to target/.
test: export CARGO_INCREMENTAL = 0
test: deps
	$(CARGO) fmt --check
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	$(CARGO) clippy --all-targets -- -D warnings

bench: deps
	$(CARGO) bench
