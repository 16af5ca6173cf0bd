//! STUB: the statements of PluginLoads (to be written).
#![allow(unused_variables, unused_imports)]

use super::PostgresConnection;
use crate::ats::*;
use crate::pulse::triggers::*;
use crate::pulse::*;
use crate::storage::{self, *};

impl PluginLoads for PostgresConnection {
    fn plugin_load_save(&self, key: &FileKey, record: &Record) -> storage::Result<()> {
        unimplemented!("PluginLoads")
    }

    fn plugin_load_save_all(&self, records: &[(FileKey, Record)]) -> storage::Result<()> {
        unimplemented!("PluginLoads")
    }

    fn plugin_load_find(&self, key: &FileKey) -> storage::Result<Option<Record>> {
        unimplemented!("PluginLoads")
    }
}
