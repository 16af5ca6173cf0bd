//! Copying every row of one store into another, table by table ([`crate::storage::dump`]):
//! `qntx db copy`.
//!
//! The source is read in one snapshot, so the copy is consistent even while nodes write to
//! it. Each page of rows is written in a transaction of its own, in dependency order
//! ([`TABLES`]), numbered columns included (attestation `seq` values stay, so watchers'
//! cursors still point where they did); the target's numbering then moves past them. At the
//! end the rows of each table are counted on both sides: any difference is an error.

use crate::storage::dump::{Row, TABLES, Table};
use crate::storage::{self, Connection};

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    /// Rows deleted from the target first (with `replace`), by table, those that had any.
    pub cleared: Vec<(&'static str, u64)>,
    /// Rows of each table: in the source's snapshot, and in the target after the copy.
    pub tables: Vec<(&'static str, u64, u64)>,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The target holds rows and the copy was not told to replace them.
    #[error("the target is not empty ({}); nothing was copied", list(.tables))]
    NotEmpty {
        /// Tables with rows, and how many.
        tables: Vec<(&'static str, u64)>,
    },
    /// A statement failed on one side.
    #[error("{doing} table '{table}'")]
    Storage {
        /// What was being done: `reading`, `writing`, ...
        doing: &'static str,
        /// The table.
        table: &'static str,
        /// The cause.
        #[source]
        source: storage::Error,
    },
    /// The target does not hold what the source's snapshot did.
    #[error("{}", mismatches(.tables))]
    Mismatch {
        /// Tables whose counts differ: source, target.
        tables: Vec<(&'static str, u64, u64)>,
    },
}

/// Called after each page: the table, rows copied of it so far, rows it has in the source.
pub type Progress<'a> = &'a mut dyn FnMut(&'static Table, u64, u64);

/// Copy every row of `source` into `target`. A target with rows is refused unless `replace`,
/// which first deletes every row of its tables (in one transaction) and so makes it a copy of
/// the source, not a merge.
///
/// # Errors
///
/// [`CopyError::NotEmpty`] for a target with rows without `replace`, [`CopyError::Storage`]
/// when a statement fails (rows already written stay: copy again with `replace`),
/// [`CopyError::Mismatch`] when the counts differ at the end.
pub fn copy(
    source: &mut dyn Connection,
    target: &mut dyn Connection,
    replace: bool,
    progress: Progress<'_>,
) -> Result<Copied, CopyError> {
    let mut copied = Copied::default();
    let present = counts(target.store(), "counting")?
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .collect::<Vec<_>>();
    if !present.is_empty() {
        if !replace {
            return Err(CopyError::NotEmpty { tables: present });
        }
        clear(target)?;
        copied.cleared = present;
    }
    let snapshot = source.snapshot().map_err(failed("reading", "snapshot"))?;
    let totals = counts(snapshot.store(), "counting")?;
    for (table, (_, total)) in TABLES.iter().copied().zip(&totals) {
        let mut after: Option<Row> = None;
        let mut done = 0;
        loop {
            let key = after.as_ref().map(|row| &row[..table.key]);
            let rows = snapshot
                .dump_read(table, key, table.page)
                .map_err(failed("reading", table.name))?;
            let Some(last) = rows.last() else { break };
            after = Some(last.clone());
            let tx = target
                .transaction()
                .map_err(failed("writing", table.name))?;
            tx.dump_write(table, &rows)
                .map_err(failed("writing", table.name))?;
            tx.commit().map_err(failed("writing", table.name))?;
            done += rows.len() as u64;
            progress(table, done, *total);
            if rows.len() < table.page as usize {
                break;
            }
        }
    }
    drop(snapshot);
    target
        .store()
        .dump_finish()
        .map_err(failed("numbering", "sequences"))?;
    let written = counts(target.store(), "counting")?;
    copied.tables = totals
        .iter()
        .zip(&written)
        .map(|(&(table, source), &(_, target))| (table, source, target))
        .collect();
    let differ: Vec<_> = copied
        .tables
        .iter()
        .copied()
        .filter(|(_, source, target)| source != target)
        .collect();
    if !differ.is_empty() {
        return Err(CopyError::Mismatch { tables: differ });
    }
    Ok(copied)
}

/// Rows of every table of `store`.
fn counts(
    store: &dyn storage::Store,
    doing: &'static str,
) -> Result<Vec<(&'static str, u64)>, CopyError> {
    TABLES
        .iter()
        .map(|table| {
            store
                .dump_count(table)
                .map(|count| (table.name, count))
                .map_err(failed(doing, table.name))
        })
        .collect()
}

/// Delete every row of the target's tables, dependents first, in one transaction.
fn clear(target: &mut dyn Connection) -> Result<(), CopyError> {
    let tx = target.transaction().map_err(failed("clearing", "target"))?;
    for table in TABLES.iter().rev() {
        tx.dump_clear(table)
            .map_err(failed("clearing", table.name))?;
    }
    tx.commit().map_err(failed("clearing", "target"))
}

fn failed(doing: &'static str, table: &'static str) -> impl FnOnce(storage::Error) -> CopyError {
    move |source| CopyError::Storage {
        doing,
        table,
        source,
    }
}

fn list(tables: &[(&'static str, u64)]) -> String {
    tables
        .iter()
        .map(|(table, count)| format!("{table}: {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mismatches(tables: &[(&'static str, u64, u64)]) -> String {
    let each = tables
        .iter()
        .map(|(table, source, target)| {
            format!("{table}: {source} in the source, {target} in the target")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("the copy does not match its source: {each}")
}

#[cfg(test)]
mod tests;
