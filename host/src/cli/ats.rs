//! `qntx as` (attest) and `qntx ax` (query): the keyword grammar of [`crate::ats::grammar`]
//! or plain flags, or both (flags add to what the words say).

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, anyhow};
use serde_json::Value;

use super::{Global, Outcome, output};
use crate::ats::feed::Feed;
use crate::ats::grammar::{self, ParseError};
use crate::ats::when::{self, Edge};
use crate::ats::{self, Attestation, Limits, NewAttestation, Query, store};
use crate::clock::now_ms;
use crate::storage::Store;

/// The source of attestations written by `qntx as`.
pub const CLI_SOURCE: &str = "qntx-cli";

/// How often `--follow` looks for new attestations.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Values of each dimension given as flags; they add to the words' values.
#[derive(Debug, clap::Args)]
struct DimensionFlags {
    /// A subject; repeatable
    #[arg(long = "subject", value_name = "TEXT", help_heading = "Dimensions")]
    subjects: Vec<String>,
    /// A predicate; repeatable
    #[arg(long = "predicate", value_name = "TEXT", help_heading = "Dimensions")]
    predicates: Vec<String>,
    /// A context; repeatable
    #[arg(long = "context", value_name = "TEXT", help_heading = "Dimensions")]
    contexts: Vec<String>,
    /// An actor; repeatable
    #[arg(long = "actor", value_name = "TEXT", help_heading = "Dimensions")]
    actors: Vec<String>,
}

/// Record an attestation and print its id
///
/// WORDS read `SUBJECT… [is|are PREDICATE…] [of|from CONTEXT…] [by|via ACTOR…]`; quote a value
/// with spaces. Predicates and contexts default to `_`. Without `by` or --actor the actor is
/// $USER (or `cli` when unset); the source is `qntx-cli`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    qntx as ALICE is author of github by bob\n  \
    qntx as ALICE is author --attr language=Rust --attr stars=5\n  \
    qntx as --subject \"New York\" --predicate city --at 2024-05-01")]
pub(super) struct AsArgs {
    /// The claim: SUBJECT… [is PREDICATE…] [of CONTEXT…] [by ACTOR…]
    #[arg(value_name = "WORDS")]
    words: Vec<String>,
    #[command(flatten)]
    dimensions: DimensionFlags,
    /// An attribute; VALUE is JSON when it parses (5, true, "5") and a string otherwise;
    /// repeatable
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    attrs: Vec<String>,
    /// When the claim was made: RFC 3339, YYYY-MM-DD or `3 days ago` [default: now]
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print the stored attestation as JSON instead of its id
    #[arg(long)]
    json: bool,
}

/// Query attestations, newest first
///
/// WORDS read `[SUBJECT…] [is|are PREDICATE…] [of|from CONTEXT…] [by|via ACTOR…]
/// [since TIME] [until TIME] [between TIME and TIME]`: OR within a dimension, AND across
/// dimensions, case-insensitive. TIME is `7 days ago`, `today`, `yesterday`, `now`,
/// YYYY-MM-DD or RFC 3339; bounds are inclusive. Exits 1 when nothing matches.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    qntx ax ALICE is author since \"7 days ago\" --limit 20\n  \
    qntx ax is author of github --attr language=Rust --json\n  \
    qntx ax by bob --follow")]
pub(super) struct AxArgs {
    /// The query: [SUBJECT…] [is PREDICATE…] [of CONTEXT…] [by ACTOR…] [since TIME] …
    #[arg(value_name = "WORDS")]
    words: Vec<String>,
    #[command(flatten)]
    dimensions: DimensionFlags,
    /// Claims made at or after TIME
    #[arg(long, value_name = "TIME", help_heading = "Conditions")]
    since: Option<String>,
    /// Claims made at or before TIME
    #[arg(long, value_name = "TIME", help_heading = "Conditions")]
    until: Option<String>,
    /// Written by exactly this source (`qntx-cli`, `plugin@version`)
    #[arg(long, value_name = "TEXT", help_heading = "Conditions")]
    source: Option<String>,
    /// A top-level attribute equal to VALUE (JSON when it parses, else a string); repeatable
    #[arg(long = "attr", value_name = "KEY=VALUE", help_heading = "Conditions")]
    attrs: Vec<String>,
    /// Print at most N attestations; 0 for all
    #[arg(long, default_value_t = ats::DEFAULT_LIMIT, value_name = "N")]
    limit: u32,
    /// One JSON object per line
    #[arg(long)]
    json: bool,
    /// After the matches so far, keep printing new ones as anyone writes them
    #[arg(long)]
    follow: bool,
}

pub(super) fn run_as(global: &Global, args: AsArgs) -> anyhow::Result<Outcome> {
    let said = grammar::parse_as(&args.words).map_err(parse_error)?;
    let now = now_ms();
    let flags = args.dimensions;
    let mut actors = [said.actors, flags.actors].concat();
    if actors.is_empty() {
        actors.push(default_actor());
    }
    let timestamp = args
        .at
        .as_deref()
        .map(|text| when::parse(text, now, Edge::Start).map_err(|e| anyhow!("--at: {e}")))
        .transpose()?;
    let mut attestation = NewAttestation {
        subjects: [said.subjects, flags.subjects].concat(),
        predicates: [said.predicates, flags.predicates].concat(),
        contexts: [said.contexts, flags.contexts].concat(),
        actors,
        timestamp,
        source: CLI_SOURCE.to_owned(),
        attributes: Value::Object(
            parse_attrs(&args.attrs)?
                .into_iter()
                .collect::<serde_json::Map<_, _>>(),
        ),
    }
    .validate(&Limits::default(), now)
    .context("invalid attestation")?;
    check_speaker(&attestation)?;

    global.with_store(|conn| {
        let tx = conn.transaction()?;
        store::insert(tx.store(), &mut attestation).context("storing the attestation")?;
        tx.commit()?;

        let mut out = std::io::stdout().lock();
        if args.json {
            output::json_line(&mut out, &attestation)?;
        } else {
            writeln!(out, "{}", attestation.id)?;
        }
        Ok(Outcome::Ok)
    })
}

pub(super) fn run_ax(global: &Global, args: AxArgs) -> anyhow::Result<Outcome> {
    let now = now_ms();
    let said = grammar::parse_ax(&args.words, now).map_err(parse_error)?;
    let time = |flag: &str, text: &Option<String>, edge| {
        text.as_deref()
            .map(|text| when::parse(text, now, edge).map_err(|e| anyhow!("--{flag}: {e}")))
            .transpose()
    };
    let flags = args.dimensions;
    let query = Query {
        subjects: [said.subjects, flags.subjects].concat(),
        predicates: [said.predicates, flags.predicates].concat(),
        contexts: [said.contexts, flags.contexts].concat(),
        actors: [said.actors, flags.actors].concat(),
        since: time("since", &args.since, Edge::Start)?.or(said.since),
        until: time("until", &args.until, Edge::End)?.or(said.until),
        source: args.source,
        attributes: parse_attrs(&args.attrs)?,
        limit: 0,
        cursor: None,
    };
    query.validate().context("invalid query")?;

    global.with_store(|conn| {
        let mut out = std::io::stdout().lock();
        let mut printer = Printer::new(args.json);

        // One snapshot (a read transaction in WAL mode) for the matches so far and the feed's
        // starting point, so that --follow neither repeats nor misses an attestation.
        let tx = conn.snapshot()?;
        let feed = Feed::from_now(tx.store())?;
        let mut remaining = if args.limit == 0 {
            u64::MAX
        } else {
            u64::from(args.limit)
        };
        let mut paged = query.clone();
        paged.limit =
            u32::try_from(remaining.min(u64::from(ats::MAX_LIMIT))).unwrap_or(ats::MAX_LIMIT);
        for page in store::pages(tx.store(), &paged) {
            let mut attestations = page?.attestations;
            attestations.truncate(usize::try_from(remaining).unwrap_or(usize::MAX));
            remaining -= attestations.len() as u64;
            printer.print(&mut out, &attestations)?;
            if remaining == 0 {
                break;
            }
        }
        tx.commit()?;
        out.flush()?;

        if args.follow {
            follow(conn.store(), &query, feed, &mut printer, &mut out)?;
        }
        Ok(if printer.printed > 0 {
            Outcome::Ok
        } else {
            Outcome::No
        })
    })
}

/// Print new matches of `query` as they are stored, until stdout closes.
fn follow(
    conn: &dyn Store,
    query: &Query,
    mut feed: Feed,
    printer: &mut Printer,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    loop {
        let new = feed.poll(conn).context("reading new attestations")?;
        if new.is_empty() {
            std::thread::sleep(FOLLOW_POLL);
            continue;
        }
        let matching: Vec<Attestation> = new.into_iter().filter(|a| query.matches(a)).collect();
        printer.print(out, &matching)?;
        out.flush()?;
    }
}

/// Prints attestations as a table (widths from the first rows) or as JSON lines.
pub(super) struct Printer {
    json: bool,
    widths: Option<[usize; COLUMNS.len()]>,
    printed: usize,
}

const COLUMNS: [&str; 7] = [
    "ID",
    "SUBJECTS",
    "PREDICATES",
    "CONTEXTS",
    "ACTORS",
    "TIME",
    "ATTRIBUTES",
];

/// Widest a table cell gets before it is cut.
const CELL_CHARS: usize = 40;

impl Printer {
    /// A printer of JSON lines (`json`) or of a table.
    pub(super) fn new(json: bool) -> Self {
        Self {
            json,
            widths: None,
            printed: 0,
        }
    }

    /// Print some attestations; the first call of a table prints the header.
    pub(super) fn print(
        &mut self,
        out: &mut impl Write,
        attestations: &[Attestation],
    ) -> anyhow::Result<()> {
        self.printed += attestations.len();
        if self.json {
            for attestation in attestations {
                output::json_line(out, attestation)?;
            }
            return Ok(());
        }
        let rows: Vec<[String; COLUMNS.len()]> = attestations.iter().map(cells).collect();
        let widths = match self.widths {
            Some(widths) => widths,
            None if rows.is_empty() => return Ok(()),
            None => {
                let mut widths = COLUMNS.map(str::len);
                for row in &rows {
                    for (width, cell) in widths.iter_mut().zip(row) {
                        *width = (*width).max(cell.chars().count());
                    }
                }
                self.widths = Some(widths);
                line(out, &COLUMNS.map(str::to_owned), &widths)?;
                widths
            }
        };
        for row in &rows {
            line(out, row, &widths)?;
        }
        Ok(())
    }
}

fn cells(a: &Attestation) -> [String; COLUMNS.len()] {
    let list = |values: &[String]| cut(&values.join(", "));
    [
        a.id.clone(),
        list(&a.subjects),
        list(&a.predicates),
        list(&a.contexts),
        list(&a.actors),
        output::time(a.timestamp),
        if a.attributes.is_empty() {
            String::new()
        } else {
            cut(&Value::Object(a.attributes.clone()).to_string())
        },
    ]
}

fn cut(text: &str) -> String {
    if text.chars().count() > CELL_CHARS {
        format!("{}…", text.chars().take(CELL_CHARS - 1).collect::<String>())
    } else {
        text.to_owned()
    }
}

fn line(out: &mut impl Write, cells: &[String], widths: &[usize]) -> anyhow::Result<()> {
    let mut text = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        text.push_str(&format!("{cell:<width$}  "));
    }
    writeln!(out, "{}", text.trim_end())?;
    Ok(())
}

/// `KEY=VALUE` pairs; VALUE is JSON when it parses, else a string.
fn parse_attrs(attrs: &[String]) -> anyhow::Result<Vec<(String, Value)>> {
    attrs
        .iter()
        .map(|attr| {
            let (key, value) = attr
                .split_once('=')
                .filter(|(key, _)| !key.is_empty())
                .ok_or_else(|| anyhow!("--attr '{attr}' is not KEY=VALUE"))?;
            let value = serde_json::from_str(value).unwrap_or_else(|_| Value::from(value));
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// What a person may not attest ([`crate::handlers::check_speaker`]).
fn check_speaker(attestation: &Attestation) -> anyhow::Result<()> {
    crate::handlers::check_speaker(attestation).map_err(anyhow::Error::msg)
}

/// `$USER`, or `cli` when it is unset or empty.
fn default_actor() -> String {
    std::env::var("USER")
        .ok()
        .filter(|user| !user.trim().is_empty())
        .unwrap_or_else(|| "cli".to_owned())
}

fn parse_error(error: ParseError) -> anyhow::Error {
    anyhow!("{error}\n{}", error.pointer())
}
