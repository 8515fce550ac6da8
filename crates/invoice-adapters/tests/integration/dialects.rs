//! End-to-end tests of the seed-API dialects over real HTTP.
