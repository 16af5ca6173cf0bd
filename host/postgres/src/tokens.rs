//! The statements of API tokens on PostgreSQL ([`storage::Tokens`]).

use tokio_postgres::Row;

use super::PostgresConnection;
use super::error::OrStorage;
use crate::storage::{self, Tokens};
use qntx_core::tokens::{self, Token};

impl Tokens for PostgresConnection {
    fn token_insert(&self, token: &Token, hash: &str) -> storage::Result<bool> {
        let inserted = self.execute(
            include_str!("sql/token_insert.sql"),
            &[
                &token.id,
                &token.name,
                &token.scope.as_str(),
                &hash,
                &token.created_at,
            ],
        )?;
        Ok(inserted == 1)
    }

    fn token_list(&self) -> storage::Result<Vec<Token>> {
        self.query(include_str!("sql/token_list.sql"), &[])?
            .iter()
            .map(token)
            .collect()
    }

    fn token_by_hash(&self, hash: &str) -> storage::Result<Option<Token>> {
        self.query_opt(include_str!("sql/token_by_hash.sql"), &[&hash])?
            .as_ref()
            .map(token)
            .transpose()
    }

    fn token_get(&self, id: &str) -> storage::Result<Option<Token>> {
        self.query_opt(include_str!("sql/token_get.sql"), &[&id])?
            .as_ref()
            .map(token)
            .transpose()
    }

    fn token_revoke(&self, name: &str, now: i64) -> storage::Result<Option<Token>> {
        self.query_opt(include_str!("sql/token_revoke.sql"), &[&name, &now])?
            .as_ref()
            .map(token)
            .transpose()
    }

    fn token_touch(&self, id: &str, now: i64, every: i64) -> storage::Result<()> {
        self.execute(include_str!("sql/token_touch.sql"), &[&id, &now, &every])
            .map(drop)
    }

    fn session_insert(
        &self,
        hash: &str,
        token_id: &str,
        created_at: i64,
        expires_at: i64,
    ) -> storage::Result<()> {
        self.execute(
            include_str!("sql/session_insert.sql"),
            &[&hash, &token_id, &created_at, &expires_at],
        )
        .map(drop)
    }

    fn session_token(&self, hash: &str, now: i64) -> storage::Result<Option<Token>> {
        self.query_opt(include_str!("sql/session_token.sql"), &[&hash, &now])?
            .as_ref()
            .map(token)
            .transpose()
    }

    fn session_delete(&self, hash: &str) -> storage::Result<bool> {
        Ok(self.execute(include_str!("sql/session_delete.sql"), &[&hash])? == 1)
    }

    fn session_delete_expired(&self, now: i64) -> storage::Result<u64> {
        self.execute(include_str!("sql/session_delete_expired.sql"), &[&now])
    }
}

/// A token from `id, name, scope, created_at, last_used_at, revoked_at`.
fn token(row: &Row) -> storage::Result<Token> {
    let scope: String = row.try_get(2).or_storage()?;
    Ok(Token {
        id: row.try_get(0).or_storage()?,
        name: row.try_get(1).or_storage()?,
        scope: scope
            .parse()
            .map_err(|error: tokens::Error| storage::Error::Corrupt(error.to_string()))?,
        created_at: row.try_get(3).or_storage()?,
        last_used_at: row.try_get(4).or_storage()?,
        revoked_at: row.try_get(5).or_storage()?,
    })
}
