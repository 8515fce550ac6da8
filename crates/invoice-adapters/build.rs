//! Rebuilds the crate when a migration changes, since they are embedded.
//!
//! Also sets `cfg(postgres_missing)` when the PostgreSQL server binaries are not
//! installed (and `INVOICE_REQUIRE_POSTGRES` is not `1`), so tests that need
//! them are reported as ignored instead of passing on SQLite alone.

use std::path::Path;

fn has_tools(dir: &Path) -> bool {
    ["initdb", "pg_ctl"].iter().all(|t| dir.join(t).is_file())
}

fn main() {
    println!("cargo::rerun-if-changed=../../migrations");
    println!("cargo::rustc-check-cfg=cfg(postgres_missing)");
    println!("cargo::rerun-if-env-changed=INVOICE_REQUIRE_POSTGRES");
    println!("cargo::rerun-if-env-changed=PATH");
    let versions = Path::new("/usr/lib/postgresql");
    if versions.is_dir() {
        println!("cargo::rerun-if-changed={}", versions.display());
    }
    let on_path = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| has_tools(&d)));
    let installed = on_path
        || std::fs::read_dir(versions)
            .is_ok_and(|entries| entries.filter_map(Result::ok).any(|e| has_tools(&e.path().join("bin"))));
    let required = std::env::var("INVOICE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if !installed && !required {
        println!("cargo::rustc-cfg=postgres_missing");
        println!(
            "cargo::warning=PostgreSQL binaries not found: tests that need PostgreSQL are marked ignored (SKIPPED)"
        );
    }
}
