//! `qntx handler`: create user handlers from one source file, list, show, roll back, remove.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::lang::Lang;
use super::{Global, Outcome, output};
use crate::clock::now_ms;
use crate::handlers::{self, Event, HandlerVersion};
use crate::storage::{Connection, Store};
use crate::toolchain::{self, HandlerSource, Language};
use crate::{node, plugins};

#[derive(Debug, Subcommand)]
pub(super) enum HandlerCommand {
    /// Build a handler from one source file, check it, and store it as the handler's new version
    ///
    /// Rust: a .rs file with `fn handle(job: Job) -> Result<Value, JobError>` against qntx-guest.
    /// Python and JavaScript: a file defining `handle(payload, job)` that returns a JSON value.
    /// wasm: a ready component of the qntx:plugin world announcing one handler. The component
    /// is stored in the database; every node sharing it serves the new version as
    /// handler/NAME within a second.
    Create(CreateArgs),
    /// List the current handlers
    List {
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Show a handler's current version, or its whole history
    Show {
        /// The handler's name
        #[arg(value_name = "NAME")]
        name: String,
        /// Every version, rollback and removal, newest first
        #[arg(long)]
        versions: bool,
        /// Print the source of the current version
        #[arg(long, conflicts_with = "versions")]
        source: bool,
        /// JSON (one object per line with --versions)
        #[arg(long)]
        json: bool,
    },
    /// Make an earlier version current again (a new attestation; history is kept)
    Rollback {
        /// The handler's name
        #[arg(value_name = "NAME")]
        name: String,
        /// The version: a sha256 or a unique prefix [default: the version before the current
        /// one, or the last version of a removed handler]
        #[arg(long, value_name = "SHA")]
        to: Option<String>,
    },
    /// Retire a handler: nodes stop serving it and jobs for it are refused (history is kept)
    Remove {
        /// The handler's name
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub(super) struct CreateArgs {
    /// The handler's name: 1 to 64 lowercase letters, digits and '-'; served as handler/NAME
    #[arg(value_name = "NAME")]
    name: String,

    /// The source file (or a .wasm component)
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "code",
        conflicts_with = "code"
    )]
    file: Option<PathBuf>,

    /// The source code itself (needs --lang)
    #[arg(long, value_name = "CODE")]
    code: Option<String>,

    /// The source's language [default: from the file's extension]
    #[arg(long, value_enum, value_name = "LANG")]
    lang: Option<Lang>,

    /// What the handler does
    #[arg(long, default_value = "", value_name = "TEXT")]
    description: String,

    /// Where compilers and build caches live; installed there on first use
    /// [default: ~/.cache/qntx/toolchains]
    #[arg(long, env = "QNTX_TOOLCHAINS", value_name = "DIR")]
    toolchains: Option<PathBuf>,
}

pub(super) fn run(global: &Global, command: HandlerCommand) -> anyhow::Result<Outcome> {
    global.with_store(|conn| run_on(global, conn, command))
}

fn run_on(
    global: &Global,
    conn: &mut dyn Connection,
    command: HandlerCommand,
) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match command {
        HandlerCommand::Create(args) => create(global, conn, args, &mut out),
        HandlerCommand::List { json } => {
            let mut any = false;
            for event in handlers::newest_of_all(conn.store())?.into_values() {
                let Event::Version(version) = event else {
                    continue;
                };
                any = true;
                if json {
                    output::json_line(&mut out, &handlers::summary(&version))?;
                } else {
                    writeln!(
                        out,
                        "{:<32} {}  {:<6} {:>9}  {}  {}",
                        handlers::registered_name(&version.name),
                        short(&version.sha256),
                        version.language,
                        version.size,
                        output::time(version.timestamp),
                        version.description
                    )?;
                }
            }
            if !any && !json {
                eprintln!("no user handlers in this store; `qntx handler create` makes one");
            }
            Ok(if any { Outcome::Ok } else { Outcome::No })
        }
        HandlerCommand::Show {
            name,
            versions,
            source,
            json,
        } => {
            let history = handlers::history(conn.store(), &name)?;
            let Some(newest) = history.first() else {
                return Err(handlers::Error::NotFound(name).into());
            };
            if versions {
                for event in &history {
                    if json {
                        output::json_line(&mut out, &handlers::event_json(event))?;
                    } else {
                        writeln!(out, "{}", event_line(event))?;
                    }
                }
                return Ok(Outcome::Ok);
            }
            let Event::Version(version) = newest else {
                if json {
                    output::json_line(&mut out, &handlers::event_json(newest))?;
                } else {
                    writeln!(out, "{}", event_line(newest))?;
                }
                return Ok(Outcome::No);
            };
            if source {
                write!(out, "{}", version.source)?;
            } else if json {
                output::json_line(&mut out, &handlers::summary(version))?;
            } else {
                details(&mut out, version, history.len())?;
            }
            Ok(Outcome::Ok)
        }
        HandlerCommand::Rollback { name, to } => {
            rollback(conn.store(), &name, to.as_deref(), &mut out)
        }
        HandlerCommand::Remove { name } => {
            let version = handlers::remove(conn.store(), &name, now_ms())?;
            writeln!(
                out,
                "{} removed (was {})",
                handlers::registered_name(&name),
                short(&version.sha256)
            )?;
            Ok(Outcome::Ok)
        }
    }
}

fn create(
    global: &Global,
    conn: &mut dyn Connection,
    args: CreateArgs,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let name = args.name.as_str();
    handlers::check_name(name)?;
    let (code, label) = match (&args.file, &args.code) {
        (Some(file), _) => (
            std::fs::read(file).with_context(|| format!("reading '{}'", file.display()))?,
            file.display().to_string(),
        ),
        (None, Some(code)) => (code.clone().into_bytes(), "<code>".to_owned()),
        (None, None) => bail!("give the handler's source with --file FILE or --code CODE"),
    };
    let language = match (args.lang.map(Language::from), &args.file) {
        (Some(language), _) => language,
        (None, Some(file)) => Language::from_path(file).with_context(|| {
            format!(
                "cannot tell the language of '{}' from its extension; pass --lang rust|python|js|wasm",
                file.display()
            )
        })?,
        (None, None) => bail!("--code needs --lang rust|python|js"),
    };
    if language == Language::Wasm && args.file.is_none() {
        bail!("a component cannot be given with --code; pass --file FILE.wasm");
    }
    let toolchains = toolchain::toolchains_dir(args.toolchains.as_deref())?;
    let checker = plugins::Checker::new(Some(node::cache_dir(&global.data_dir()?)))?;
    let created = handlers::create(
        conn,
        &checker,
        &toolchains,
        &HandlerSource {
            name,
            description: &args.description,
            language,
            label: &label,
            code: &code,
        },
        now_ms(),
    )?;
    writeln!(
        out,
        "{} {}  {}, {} bytes, built in {:.1} s, checked in {:.1} s",
        handlers::registered_name(name),
        created.sha256,
        language.as_str(),
        created.size,
        created.built.as_secs_f64(),
        created.checked.as_secs_f64()
    )?;
    Ok(Outcome::Ok)
}

fn rollback(
    store: &dyn Store,
    name: &str,
    to: Option<&str>,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let back = handlers::roll_back(store, name, to, now_ms())?;
    writeln!(
        out,
        "{} {}  rolled back from {}",
        handlers::registered_name(name),
        back.version.sha256,
        short(&back.from)
    )?;
    Ok(Outcome::Ok)
}

fn short(sha256: &str) -> &str {
    &sha256[..handlers::SHORT_SHA.min(sha256.len())]
}

fn event_line(event: &Event) -> String {
    match event {
        Event::Version(v) => format!(
            "{}  {}  {:<6} {:>9}  {}",
            output::time(v.timestamp),
            short(&v.sha256),
            v.language,
            v.size,
            v.rolled_back_from
                .as_deref()
                .map(|from| format!("rollback from {}", short(from)))
                .unwrap_or_else(|| "created".to_owned())
        ),
        Event::Removed {
            sha256, timestamp, ..
        } => format!("{}  {}  removed", output::time(*timestamp), short(sha256)),
    }
}

fn details(out: &mut impl Write, v: &HandlerVersion, events: usize) -> anyhow::Result<()> {
    let mut row = |key: &str, value: String| writeln!(out, "{key:<12} {value}");
    row("handler", handlers::registered_name(&v.name))?;
    row("sha256", v.sha256.clone())?;
    row("language", v.language.clone())?;
    row("size", format!("{} bytes", v.size))?;
    row("description", v.description.clone())?;
    row("wit", v.wit_version.clone())?;
    row("since", output::time(v.timestamp))?;
    if let Some(from) = &v.rolled_back_from {
        row("rolled back", format!("from {from}"))?;
    }
    row("history", format!("{events} entries (--versions)"))?;
    Ok(())
}
