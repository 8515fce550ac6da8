#!/usr/bin/env bash
# invoice-domain as crates.io would ship it: package it (cargo verifies
# that the packaged sources build), unpack the .crate outside the
# workspace, and run its tests there, without features and with all of
# them, offline from the registry the workspace already fetched.
#
# The tests share the workspace's target directory and dev profile, so the
# dependencies built for the workspace are reused and only the crate itself
# compiles again.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

cargo package -p invoice-domain --offline
version=$(cargo pkgid -p invoice-domain --offline | sed 's/.*[#@]//')
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
# -m: files get the time of unpacking, so cargo never takes an older build
# of the same crate for fresh.
tar -xzmf "target/package/invoice-domain-$version.crate" -C "$unpacked"

profile=(--config 'profile.dev.debug="line-tables-only"' --config 'profile.dev.package."*".debug=false')
cd "$unpacked/invoice-domain-$version"
cargo test --offline --locked "${profile[@]}" --target-dir "$repo/target"
cargo test --offline --locked --all-features "${profile[@]}" --target-dir "$repo/target"
