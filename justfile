# Everyday tasks. `just --list` shows them all.

# Run the server on the embedded SQLite default (./invoice.db).
run *ARGS:
    cargo run -p invoice-server -- {{ARGS}}

# Every test, on SQLite and on a throwaway PostgreSQL cluster.
test:
    cargo test --workspace

# Formatting and lints exactly as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p invoice-domain --all-targets --all-features -- -D warnings
    cargo clippy -p invoice-domain --lib -- -D warnings
    cargo clippy -p invoice-adapters --lib -- -D warnings

# The domain crate's lifecycle example on the in-memory store.
example:
    cargo run -p invoice-domain --example lifecycle --features in-memory

# Package invoice-domain, unpack it outside the workspace and run its tests there.
package-domain:
    bash tools/package-domain.sh

# Criterion micro-benchmarks.
bench:
    cargo bench --workspace

# What CI runs.
ci:
    bash .ci/run

# Mutation testing (cargo-mutants) of the domain's rules and money type: every
# mutant must make a unit test fail, and at least 90 % must. Too slow for
# every CI run; writes the score and the survivors into docs/reliability.md.
# CI runs the mutants of one rules file. Arguments name other files to mutate.
mutants *ARGS:
    bash tools/mutants.sh --doc {{ARGS}}

# Runs every test (and the API fuzzing) with its output, and writes the
# figures they print into docs/reliability.md.
figures:
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p target
    INVOICE_REQUIRE_POSTGRES=1 cargo test --workspace -- --nocapture 2>&1 | tee target/figures-tests.log
    FUZZ_MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-25} bash tools/fuzz/run.sh 2>&1 | tee target/figures-fuzz.log
    cargo run --quiet -p invoice-bench --bin figures -- tests docs/reliability.md target/figures-tests.log target/figures-fuzz.log

# Fuzz the HTTP API from its OpenAPI contract (schemathesis, every check, stateful
# phase); FUZZ_MAX_EXAMPLES bounds it. Extra arguments go to `st run`.
fuzz-api *ARGS:
    bash tools/fuzz/run.sh {{ARGS}}

# Load benchmark (docs/performance.md): pgbench's ceiling with the server's own SQL,
# the release server over HTTP at the same concurrency, then SQLite. Several minutes.
# Flags after the name go to the benchmark, e.g. `just bench-load --duration 5`.
bench-load *ARGS:
    ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || command -v pgbench >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)
    cargo build --release -p invoice-server
    cargo build --release -p invoice-bench
    target/release/load {{ARGS}}

# A short smoke run of the load benchmark: small data, 2-second runs, no report written
# unless --report names a file.
bench-load-quick *ARGS:
    ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || command -v pgbench >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)
    cargo build --release -p invoice-server
    cargo build --release -p invoice-bench
    target/release/load --quick {{ARGS}}
