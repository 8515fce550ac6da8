#!/usr/bin/env bash
# Fuzzes the HTTP API from its own contract: builds the server, starts it on a
# throwaway SQLite file and a free loopback port with every dialect mounted,
# and runs schemathesis against GET /openapi.json with every check and the
# stateful phase. Any failure (a 5xx, or a response the contract does not
# describe) makes the script exit non-zero. The server is always stopped.
#
# Environment:
#   FUZZ_MAX_EXAMPLES  test cases per operation and phase (default 50)
#   FUZZ_WORKERS       concurrent schemathesis workers (default 1)
#   FUZZ_SEED          fixed seed, to reproduce a run
#   FUZZ_VENV          virtualenv for schemathesis (default ~/.cache/storno/fuzz-venv)
#   FUZZ_HOOKS_LOG     file listing every failure the hooks saw (debugging)
# Extra arguments go to `st run`, e.g. `--include-tag invoices`.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

max_examples=${FUZZ_MAX_EXAMPLES:-50}
workers=${FUZZ_WORKERS:-1}
venv=${FUZZ_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/storno/fuzz-venv}
requirements=tools/fuzz/requirements.txt
pinned=$(sed -n 's/^schemathesis==//p' "$requirements")

log() { printf 'fuzz-api: %s\n' "$*" >&2; }

# 1. schemathesis, pinned, in its own virtualenv outside the repository.
if ! "$venv/bin/st" --version 2>/dev/null | grep -qx "st, version $pinned"; then
  log "installing schemathesis $pinned into $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
fi
log "$("$venv/bin/st" --version)"

# 2. The server binary.
cargo build -q -p invoice-server
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
server_bin=$target_dir/debug/invoice-server
out_dir=$target_dir/fuzz
mkdir -p "$out_dir"

# 3. Start it on a temporary database and a free port. Its stdout and stderr
# go to files, so it can never block on (or write into) a closed pipe.
work=$(mktemp -d)
server_pid=
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
cleanup() {
  stop_server
  if [ -f "$work/server.log" ]; then cp "$work/server.log" "$out_dir/server.log"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# The rate limits (per key, per address) are lifted: the fuzzer is one
# client sending as fast as it can, and 429s would only hide the behaviour
# under test. Webhooks are never delivered (no dispatcher in this process),
# and private targets are allowed so that registering an endpoint never
# resolves a host name the fuzzer made up: the run stays on the loopback
# interface.
INVOICE_NO_WEBHOOK_DELIVERY=true INVOICE_WEBHOOK_ALLOW_PRIVATE=true INVOICE_RATE_LIMIT=0 INVOICE_CLIENT_RATE_LIMIT=0 \
  INVOICE_LOG_FORMAT=json RUST_LOG=${RUST_LOG:-info} \
  "$server_bin" --database-url "sqlite://$work/fuzz.db" --bind "127.0.0.1:$port" --dialects all \
  >"$work/server.out" 2>"$work/server.log" </dev/null &
server_pid=$!

key=
for _ in $(seq 150); do
  key=$(grep -o 'sk_[A-Za-z0-9_-]*' "$work/server.out" | head -n 1 || true)
  [ -n "$key" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    log "the server exited before printing its API key:"
    cat "$work/server.out" "$work/server.log" >&2
    exit 1
  fi
  sleep 0.2
done
if [ -z "$key" ]; then
  log "the server printed no API key"
  exit 1
fi
# The tenant the key belongs to, which Flextell's X-Tenant header must name.
tenant=$(sed -n 's/^Created tenant "\([^"]*\)".*/\1/p' "$work/server.out" | head -n 1)
if [ -z "$tenant" ]; then
  log "the server did not name the tenant it created"
  exit 1
fi

ready=
for _ in $(seq 150); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$base/healthz" 2>/dev/null; then
    ready=1
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then
  log "the server did not become healthy on $base:"
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
log "server up on $base; running schemathesis with at most $max_examples examples per operation"

# 4. Fuzz. Run from the temporary directory so nothing lands in the repository.
# Credentials go per security scheme (schemathesis.toml reads them from the
# environment), so every operation gets the ones its contract names: Bearer
# on /v1, HTTP Basic on ChargeOver, Bearer and X-Tenant on Flextell.
status=0
st_log="$work/schemathesis.log"
(
  cd "$work"
  export FUZZ_API_KEY="$key" FUZZ_TENANT="$tenant"
  PYTHONPATH="$repo/tools/fuzz${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks \
    "$venv/bin/st" --config-file "$repo/tools/fuzz/schemathesis.toml" run "$base/openapi.json" \
      --checks all \
      --phases examples,coverage,fuzzing,stateful \
      --max-examples "$max_examples" \
      --workers "$workers" \
      --request-timeout 30 \
      --generation-database none \
      --report junit --report-junit-path "$out_dir/junit.xml" \
      --no-color \
      ${FUZZ_SEED:+--seed "$FUZZ_SEED"} \
      "$@"
) > >(tee "$st_log") 2>&1 || status=$?

if grep -q 'internal error' "$work/server.log"; then
  log "the server logged internal errors:"
  grep 'internal error' "$work/server.log" | head -n 20 >&2
  [ "$status" -ne 0 ] || status=1
fi
# The figures for docs/reliability.md (`just figures`): what schemathesis
# counted, as it printed it, and the failures in its report.
sleep 1 # let tee write the last lines
cases=$(grep -Eio '[0-9][0-9,]* generated' "$st_log" | tail -n 1 | grep -Eo '[0-9][0-9,]*' || true)
failures=$(grep -Eo 'failures="[0-9]+"' "$out_dir/junit.xml" 2>/dev/null | head -n 1 | grep -Eo '[0-9]+' || true)
echo "figure: fuzzing | sqlite | every route, at most $max_examples examples per operation: ${cases:-(count not printed)} generated test cases, ${failures:-(no report)} failures, exit $status"
if [ "$status" -ne 0 ]; then
  log "FAILED (exit $status); server log: $out_dir/server.log, report: $out_dir/junit.xml"
else
  log "passed"
fi
exit "$status"
