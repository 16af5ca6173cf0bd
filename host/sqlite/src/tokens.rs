//! The statements of API tokens on SQLite ([`storage::Tokens`]).

use rusqlite::{OptionalExtension, Row, params};

use super::OrStorage;
use super::backend::SqliteConnection;
use super::values::sql;
use crate::storage::{self, Tokens};
use qntx_core::tokens::Token;

impl Tokens for SqliteConnection {
    fn token_insert(&self, token: &Token, hash: &str) -> storage::Result<bool> {
        let inserted = self
            .sql()
            .prepare_cached(sql!("token_insert"))
            .and_then(|mut insert| {
                insert.execute(params![
                    token.id,
                    token.name,
                    token.scope.as_str(),
                    hash,
                    token.created_at
                ])
            })
            .or_storage()?;
        Ok(inserted == 1)
    }

    fn token_list(&self) -> storage::Result<Vec<Token>> {
        self.sql()
            .prepare_cached(sql!("token_list"))
            .and_then(|mut list| list.query_map([], token)?.collect())
            .or_storage()
    }

    fn token_by_hash(&self, hash: &str) -> storage::Result<Option<Token>> {
        self.sql()
            .prepare_cached(sql!("token_by_hash"))
            .and_then(|mut get| get.query_row([hash], token).optional())
            .or_storage()
    }

    fn token_get(&self, id: &str) -> storage::Result<Option<Token>> {
        self.sql()
            .prepare_cached(sql!("token_get"))
            .and_then(|mut get| get.query_row([id], token).optional())
            .or_storage()
    }

    fn token_revoke(&self, name: &str, now: i64) -> storage::Result<Option<Token>> {
        self.sql()
            .prepare_cached(sql!("token_revoke"))
            .and_then(|mut revoke| revoke.query_row(params![name, now], token).optional())
            .or_storage()
    }

    fn token_touch(&self, id: &str, now: i64, every: i64) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("token_touch"))
            .and_then(|mut touch| touch.execute(params![id, now, every]))
            .or_storage()
            .map(drop)
    }

    fn session_insert(
        &self,
        hash: &str,
        token_id: &str,
        created_at: i64,
        expires_at: i64,
    ) -> storage::Result<()> {
        self.sql()
            .prepare_cached(sql!("session_insert"))
            .and_then(|mut insert| insert.execute(params![hash, token_id, created_at, expires_at]))
            .or_storage()
            .map(drop)
    }

    fn session_token(&self, hash: &str, now: i64) -> storage::Result<Option<Token>> {
        self.sql()
            .prepare_cached(sql!("session_token"))
            .and_then(|mut get| get.query_row(params![hash, now], token).optional())
            .or_storage()
    }

    fn session_delete(&self, hash: &str) -> storage::Result<bool> {
        self.sql()
            .prepare_cached(sql!("session_delete"))
            .and_then(|mut delete| delete.execute([hash]))
            .or_storage()
            .map(|deleted| deleted == 1)
    }

    fn session_delete_expired(&self, now: i64) -> storage::Result<u64> {
        self.sql()
            .prepare_cached(sql!("session_delete_expired"))
            .and_then(|mut delete| delete.execute([now]))
            .or_storage()
            .map(|deleted| deleted as u64)
    }
}

/// A token from `id, name, scope, created_at, last_used_at, revoked_at`.
fn token(row: &Row<'_>) -> rusqlite::Result<Token> {
    let scope: String = row.get(2)?;
    Ok(Token {
        id: row.get(0)?,
        name: row.get(1)?,
        scope: scope.parse().map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                Box::new(error),
            )
        })?,
        created_at: row.get(3)?,
        last_used_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}
