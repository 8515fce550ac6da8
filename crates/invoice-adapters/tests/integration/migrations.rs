//! Every migration runs up, down and up again on both backends.

use crate::support::{backends, create, tenant};

#[test]
fn migrations_run_up_down_and_up_again() {
    for t in backends() {
        t.db.revert_all()
            .unwrap_or_else(|e| panic!("{}: down failed: {e}", t.backend));
        t.db.migrate()
            .unwrap_or_else(|e| panic!("{}: up again failed: {e}", t.backend));
        // The schema works after the round trip.
        let tenant = tenant(&t.db, "after-roundtrip");
        let inv = create(&t.db, tenant, &[("a", 1, 100, "19")]);
        assert_eq!(inv.lines.len(), 1, "{}", t.backend);
    }
}
