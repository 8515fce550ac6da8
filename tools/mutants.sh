#!/usr/bin/env bash
# Mutation testing of the domain's rules and money type with cargo-mutants
# (configured in .cargo/mutants.toml): every mutant must make a unit test of
# the domain crate fail. Prints the score and the surviving mutants as
# `figure:` lines; with --doc also writes them into docs/reliability.md.
# Fails when less than 90 % of the viable mutants were caught.
#
#   tools/mutants.sh [--doc] [FILE-GLOB...]
#
# Without a file, the rules (crates/invoice-domain/src/rules/*.rs) and
# crates/invoice-domain/src/model/money.rs are mutated.
set -euo pipefail
cd "$(dirname "$0")/.."

write_doc=false
if [ "${1:-}" = "--doc" ]; then
  write_doc=true
  shift
fi
if ! cargo mutants --version >/dev/null 2>&1; then
  cargo install --locked cargo-mutants@27.1.0
fi

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=("crates/invoice-domain/src/rules/*.rs" "crates/invoice-domain/src/model/money.rs")
fi
file_args=()
for f in "${files[@]}"; do
  file_args+=(--file "$f")
done

out=target/mutants
status=0
started=$SECONDS
# Fewer state-machine cases and little shrinking per mutant: a mutant is
# caught by the first failure, and the unmutated run must still pass.
MODEL_CASES=${MODEL_CASES:-1024} PROPTEST_MAX_SHRINK_ITERS=${PROPTEST_MAX_SHRINK_ITERS:-32} \
  cargo mutants --package invoice-domain --output "$out" --timeout "${MUTANTS_TIMEOUT:-120}" "${file_args[@]}" \
  || status=$?
# cargo-mutants: 0 all caught, 2 some missed, 3 some timed out; anything else is a failed run.
case "$status" in 0 | 2 | 3) ;; *) echo "cargo mutants failed (exit $status)" >&2; exit "$status" ;; esac

dir="$out/mutants.out"
lines() { if [ -f "$dir/$1.txt" ]; then wc -l <"$dir/$1.txt" | tr -d ' '; else echo 0; fi; }
caught=$(lines caught)
missed=$(lines missed)
timeout=$(lines timeout)
unviable=$(lines unviable)
viable=$((caught + missed + timeout))
if [ "$viable" -eq 0 ]; then
  echo "no viable mutant was tested" >&2
  exit 1
fi
permille=$(((caught + timeout) * 1000 / viable))
equivalent=$(grep -cE "^ *['\"]" .cargo/mutants.toml || true)
minutes=$(((SECONDS - started + 59) / 60))
scope="${files[*]}"
figures="$out/figures.log"
{
  echo "figure: mutation testing | invoice-domain | $scope: $((caught + timeout)) of $viable viable mutants caught ($((permille / 10)).$((permille % 10)) %): $caught by a failing test, $timeout by a timeout; $missed missed; $unviable unviable; mutants judged equivalent left out by $equivalent pattern(s) in .cargo/mutants.toml; took $minutes min"
  if [ -f "$dir/missed.txt" ]; then
    while read -r m; do
      echo "figure: surviving mutants | invoice-domain | \`$m\`"
    done <"$dir/missed.txt"
  fi
} | tee "$figures"
if $write_doc; then
  cargo run --quiet --package invoice-bench --bin figures -- mutants docs/reliability.md "$figures"
fi
if [ "$permille" -lt 900 ]; then
  echo "mutation score below 90 %" >&2
  exit 1
fi
