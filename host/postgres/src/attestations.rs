//! STUB: the statements of Attestations (to be written).
#![allow(unused_variables, unused_imports)]

use super::PostgresConnection;
use crate::ats::*;
use crate::pulse::triggers::*;
use crate::pulse::*;
use crate::storage::{self, *};

impl Attestations for PostgresConnection {
    fn attestation_insert(&self, attestation: &Attestation) -> storage::Result<Option<i64>> {
        unimplemented!("Attestations")
    }

    fn attestation_get(&self, id: &str) -> storage::Result<Option<Attestation>> {
        unimplemented!("Attestations")
    }

    fn attestation_cursor(&self, id: &str) -> storage::Result<Option<Cursor>> {
        unimplemented!("Attestations")
    }

    fn attestation_query(&self, query: &Query) -> storage::Result<Page> {
        unimplemented!("Attestations")
    }

    fn attestation_after(&self, seq: i64, limit: u32) -> storage::Result<Vec<(i64, Attestation)>> {
        unimplemented!("Attestations")
    }

    fn attestation_count(&self) -> storage::Result<u64> {
        unimplemented!("Attestations")
    }

    fn attestation_head(&self) -> storage::Result<i64> {
        unimplemented!("Attestations")
    }
}
