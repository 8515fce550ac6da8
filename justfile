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

# Fuzz the HTTP API from its OpenAPI contract (schemathesis, every check, stateful
# phase); FUZZ_MAX_EXAMPLES bounds it. Extra arguments go to `st run`.
fuzz-api *ARGS:
    bash tools/fuzz/run.sh {{ARGS}}

# Load benchmark (docs/performance.md): pgbench's ceiling with the server's own SQL,
# the release server over HTTP at the same concurrency, then SQLite. About 10 minutes.
# Flags after the name go to the benchmark, e.g. `just bench-load --duration 5`.
bench-load *ARGS:
    ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || command -v pgbench >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)
    cargo build --release -p invoice-server
    cargo build --release -p invoice-bench
    target/release/load {{ARGS}}

# A one-minute smoke run of the load benchmark: small data, 2-second runs, no report written.
bench-load-quick *ARGS:
    ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || command -v pgbench >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)
    cargo build --release -p invoice-server
    cargo build --release -p invoice-bench
    target/release/load --quick {{ARGS}}
