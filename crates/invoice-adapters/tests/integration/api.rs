//! End-to-end tests of the `/v1` API over real HTTP, on SQLite and PostgreSQL.

use crate::http_support::*;
use crate::support::backends;

#[test]
fn create_finalize_cancel_a_line_and_void() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        assert_eq!(inv["status"], "open", "{}", s.backend);
        assert_eq!(inv["number"], "INV-000001");
        assert_eq!(inv["total"], 11_900 + 2_675);
    }
}
