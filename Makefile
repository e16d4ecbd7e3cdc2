# The README's two commands: `make demo` and `make test`. Both install missing system packages first.
CARGO ?= cargo
DEMO_OUT ?= demo-out

.PHONY: deps demo test build fmt clippy bench bench-peers

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
	# The same RSA and pipeline tests with every hand-written SIMD kernel on its portable path
	# (stats::simd); the kernel-vs-kernel comparisons are unit tests of the run above.
	NEUROPOP_PORTABLE_KERNELS=1 $(CARGO) test --lib --test rsa_ties --test rsa_parity --test rsa_properties --test steinmetz_pipeline
	$(CARGO) test --doc
	$(CARGO) clippy --all-targets -- -D warnings

bench: deps
	$(CARGO) bench

# neuropop against its Python peers, side by side, into the table at the top of
# docs/benchmarks.md (benches/peers/run.py; BENCH_ARGS e.g. "--only feature-split --repeat 5").
BENCH_VENV ?= target/bench-venv
BENCH_ARGS ?=
bench-peers: build
	@bash benches/peers/make-venv.sh $(BENCH_VENV)
	$(BENCH_VENV)/bin/python benches/peers/run.py --neuropop target/release/neuropop $(BENCH_ARGS)
