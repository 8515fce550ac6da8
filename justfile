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
