//! `qntx budget`: show and set the spend limits Pulse enforces.

use std::io::Write;
use std::path::Path;

use clap::Subcommand;

use super::{Global, Outcome, config, output};
use crate::clock::now_ms;
use crate::pulse::{Period, store};
use crate::storage::Store;

#[derive(Debug, Subcommand)]
pub(super) enum BudgetCommand {
    /// Show each window's limit, settled spend, reservations and room
    Show {
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// Set spend limits; `none` removes one
    ///
    /// Takes effect at the next claim on every node, and is written to <data-dir>/qntx.toml so
    /// a restart keeps it. A job whose cost estimate does not fit is paused with
    /// budget_exceeded and resumes by itself when the window allows.
    Set {
        /// Limit over the last 24 hours
        #[arg(long, value_name = "AMOUNT", value_parser = parse_limit, allow_negative_numbers = true)]
        daily: Option<Limit>,
        /// Limit over the last 7 days
        #[arg(long, value_name = "AMOUNT", value_parser = parse_limit, allow_negative_numbers = true)]
        weekly: Option<Limit>,
        /// Limit over the last 30 days
        #[arg(long, value_name = "AMOUNT", value_parser = parse_limit, allow_negative_numbers = true)]
        monthly: Option<Limit>,
    },
}

/// A limit, or `none`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limit(Option<f64>);

fn parse_limit(text: &str) -> Result<Limit, String> {
    if text == "none" {
        return Ok(Limit(None));
    }
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(Limit(Some(n))),
        _ => Err(format!("'{text}' is not a non-negative amount or 'none'")),
    }
}

pub(super) fn run(global: &Global, command: BudgetCommand) -> anyhow::Result<Outcome> {
    let data_dir = global.data_dir()?;
    global.with_store(|conn| run_on(&data_dir, conn, command))
}

fn run_on(data_dir: &Path, conn: &dyn Store, command: BudgetCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match command {
        BudgetCommand::Show { json } => {
            let now = now_ms();
            let limits = store::budget_limits(conn)?;
            let spend = store::spend(conn, now)?;
            if json {
                output::json_line(
                    &mut out,
                    &serde_json::json!({ "limits": limits, "spend": spend,
                        "headroom": limits.headroom(&spend) }),
                )?;
                return Ok(Outcome::Ok);
            }
            writeln!(out, "{:<8} {:>12} {:>12}", "window", "limit", "spent")?;
            for period in Period::ALL {
                let limit = limits
                    .get(period)
                    .map_or_else(|| "none".to_owned(), |l| format!("{l:.4}"));
                writeln!(
                    out,
                    "{:<8} {limit:>12} {:>12.4}",
                    period.as_str(),
                    spend.settled(period)
                )?;
            }
            writeln!(out, "reserved by running jobs: {:.4}", spend.reserved)?;
            if let Some(room) = limits.headroom(&spend) {
                writeln!(out, "room now: {:.4}", room.max(0.0))?;
            }
            Ok(Outcome::Ok)
        }
        BudgetCommand::Set {
            daily,
            weekly,
            monthly,
        } => {
            let changes: Vec<(Period, Option<f64>)> = [
                (Period::Daily, daily),
                (Period::Weekly, weekly),
                (Period::Monthly, monthly),
            ]
            .into_iter()
            .filter_map(|(period, limit)| limit.map(|Limit(l)| (period, l)))
            .collect();
            if changes.is_empty() {
                anyhow::bail!("nothing to set; give --daily, --weekly or --monthly");
            }
            let now = now_ms();
            for (period, limit) in &changes {
                store::set_budget(conn, *period, *limit, now)?;
            }
            config::write_budget(data_dir, &changes)?;
            Ok(Outcome::Ok)
        }
    }
}
