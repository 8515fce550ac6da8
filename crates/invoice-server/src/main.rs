//! The Storno invoice server (filled in by the HTTP issue).
fn main() {}
