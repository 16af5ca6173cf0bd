//! Data directories beside each other on one PostgreSQL database: what nodes on different
//! machines have.

use std::path::Path;

use crate::fixtures::{Database, Env};

impl Env {
    /// Another data directory with `plugins`, on this environment's database.
    pub fn sharing(&self, plugins: &[&Path]) -> Self {
        let url = self.database().url().expect("a PostgreSQL database");
        Self::at(url, plugins)
    }

    /// A data directory with `plugins`, on the PostgreSQL database at `url`.
    pub fn at(url: &str, plugins: &[&Path]) -> Self {
        Self::on(
            tempfile::tempdir().expect("temp dir"),
            Database::at(url),
            plugins,
        )
    }
}
