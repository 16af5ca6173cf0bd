//! STUB: the statements of Components (to be written).
#![allow(unused_variables, unused_imports)]

use super::PostgresConnection;
use crate::ats::*;
use crate::pulse::triggers::*;
use crate::pulse::*;
use crate::storage::{self, *};

impl Components for PostgresConnection {
    fn component_put(&self, sha256: &str, bytes: &[u8], now: i64) -> storage::Result<()> {
        unimplemented!("Components")
    }

    fn component_get(&self, sha256: &str) -> storage::Result<Option<Vec<u8>>> {
        unimplemented!("Components")
    }

    fn component_count(&self) -> storage::Result<u64> {
        unimplemented!("Components")
    }
}
