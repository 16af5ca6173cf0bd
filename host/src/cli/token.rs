//! `qntx token`: the bearer tokens of the HTTP API.

use std::io::Write;

use clap::Subcommand;

use super::{Global, Outcome, output};
use crate::clock::now_ms;
use crate::storage::Store;
use crate::tokens::{self, Scope};

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
    /// Create a token and print its secret, which is shown this once
    ///
    /// The store keeps only the secret's sha256. Clients send it as
    /// `Authorization: Bearer qntx_...`; the dashboard signs in with it. Scopes include the
    /// ones before them: read (jobs, logs, attestations, handlers, plugins, status), enqueue
    /// (also enqueue, cancel, pause, resume and retry jobs, record attestations), admin (also
    /// handlers, plugins, schedules, budgets and tokens).
    Create {
        /// Whom or what it is for: 1 to 64 letters, digits, '.', '_' and '-'
        #[arg(value_name = "NAME")]
        name: String,
        /// What it may do
        #[arg(long, value_name = "SCOPE", value_parser = parse_scope)]
        scope: Scope,
        /// Print the token as JSON, secret included
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their secrets), revoked ones too
    List {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: requests carrying it fail at once, on every node
    Revoke {
        /// The token's name
        #[arg(value_name = "NAME")]
        name: String,
    },
}

fn parse_scope(text: &str) -> Result<Scope, String> {
    text.parse()
        .map_err(|error: tokens::Error| error.to_string())
}

pub(super) fn run(global: &Global, command: TokenCommand) -> anyhow::Result<Outcome> {
    global.with_store(|conn| run_on(conn.store(), command, &mut std::io::stdout().lock()))
}

fn run_on(
    store: &dyn Store,
    command: TokenCommand,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    match command {
        TokenCommand::Create { name, scope, json } => {
            let created = tokens::create(store, &name, scope, now_ms())?;
            if json {
                output::json_line(
                    out,
                    &serde_json::json!({ "token": created.token, "secret": created.secret }),
                )?;
            } else {
                writeln!(out, "{}", created.secret)?;
                eprintln!(
                    "qntx: token '{name}' ({scope}) created; its secret is shown only now, \
                     keep it somewhere safe"
                );
            }
            Ok(Outcome::Ok)
        }
        TokenCommand::List { json } => {
            let tokens = tokens::list(store)?;
            if tokens.is_empty() && !json {
                eprintln!(
                    "qntx: no tokens yet; the HTTP API refuses every request until one exists \
                     (qntx token create NAME --scope read|enqueue|admin)"
                );
            }
            for token in &tokens {
                if json {
                    output::json_line(out, token)?;
                } else {
                    let state = match token.revoked_at {
                        Some(at) => format!("revoked {}", output::time(at)),
                        None => "active".to_owned(),
                    };
                    let used = token.last_used_at.map_or_else(
                        || "never used".to_owned(),
                        |at| format!("used {}", output::time(at)),
                    );
                    writeln!(
                        out,
                        "{:<24}  {:<7}  created {}  {used}  {state}",
                        token.name,
                        token.scope.as_str(),
                        output::time(token.created_at),
                    )?;
                }
            }
            Ok(if tokens.is_empty() {
                Outcome::No
            } else {
                Outcome::Ok
            })
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(store, &name, now_ms())?;
            eprintln!("qntx: token '{name}' revoked");
            Ok(Outcome::Ok)
        }
    }
}
