//! Test and benchmark support: a throwaway PostgreSQL cluster.
pub mod pg_cluster;
pub use pg_cluster::{find_pg_bin_dir, shared, PgCluster};
