//! `qntx demo`: build the example plugins of this checkout and show the whole flow.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use super::{Global, Outcome, ats as ats_cli, output, plugin};
use crate::clock::now_ms;
use crate::database::{self, SqliteLimits};
use crate::node::{Node, NodeConfig};
use crate::pulse::{self, NewJob, store};
use crate::{ats, toolchain};

/// Build the example plugins in this checkout and show them at work
///
/// Builds every crate under <CHECKOUT>/plugins into <data-dir>/plugins, grants the `code`
/// plugin read-only access to the checkout, starts a node, enqueues jobs (`text/echo`,
/// `text/stats` on the README, `code/analyze` on the checkout), runs until idle — `upkeep`'s
/// watcher turns code's analysis into a job of its own — and prints the results and
/// attestations. Each step prints the equivalent qntx command. The data directory defaults to
/// ./.qntx-demo.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The qntx checkout whose plugins/ to build
    #[arg(long, default_value = ".", value_name = "DIR")]
    checkout: PathBuf,
}

pub(super) fn run(global: &Global, args: DemoArgs) -> anyhow::Result<Outcome> {
    let data_dir = global
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(".qntx-demo"));
    let plugin_dir = data_dir.join("plugins");
    let mut out = std::io::stdout().lock();
    let mut flag = format!("--data-dir {}", data_dir.display());
    if let Some(url) = &global.database {
        flag.push_str(&format!(" --database {}", database::hide_password(url)));
    }

    let crates = plugin_crates(&args.checkout)?;
    step(
        &mut out,
        &format!("qntx {flag} plugin build {}", list(&crates)),
    )?;
    for path in &crates {
        let installed = plugin::build_and_install(
            path,
            &plugin_dir,
            &toolchain::BuildOptions::default(),
            None,
        )?;
        writeln!(out, "  installed {}", installed.display())?;
    }

    let checkout = std::fs::canonicalize(&args.checkout)
        .with_context(|| format!("resolving '{}'", args.checkout.display()))?;
    let manifest = format!(
        "# Grants of the code plugin: this checkout, read-only, at /repo.\nname = \"code\"\n\n[[grants.dirs]]\nhost = {:?}\nguest = \"/repo\"\nmode = \"ro\"\n",
        checkout.display().to_string()
    );
    let manifest_path = plugin_dir.join("code.toml");
    step(
        &mut out,
        &format!("cat > {} <<EOF", manifest_path.display()),
    )?;
    writeln!(out, "{manifest}EOF")?;
    std::fs::write(&manifest_path, manifest)
        .with_context(|| format!("writing '{}'", manifest_path.display()))?;

    let mut config = NodeConfig::new(data_dir.clone(), vec![plugin_dir]);
    config.workers = 2;
    let backend = global.backend_in(&data_dir, SqliteLimits::default())?;
    let node = Node::start_on(config, backend.clone()).context("starting the demo node")?;
    step(&mut out, &format!("qntx {flag} plugin list"))?;
    for loaded in node.plugins() {
        writeln!(
            out,
            "  {} {}  {}",
            loaded.name, loaded.version, loaded.description
        )?;
        for (name, _) in &loaded.handlers {
            writeln!(out, "    {}", loaded.handler_name(name))?;
        }
    }
    for refused in node.refused() {
        writeln!(out, "  refused: {}", crate::error_chain(refused))?;
    }

    let readme = std::fs::read_to_string(args.checkout.join("README.md")).unwrap_or_default();
    let jobs = [
        NewJob::new("text/echo", serde_json::json!({ "hello": "qntx" })),
        NewJob::new(
            "text/stats",
            serde_json::json!({ "subject": "README.md", "text": readme }),
        ),
        NewJob::new(
            "code/analyze",
            serde_json::json!({ "path": "/repo", "repository": "qntx", "largest": 3 }),
        ),
    ];
    let conn = backend.connect()?;
    let mut ids = Vec::new();
    for job in &jobs {
        step(
            &mut out,
            &format!("qntx {flag} job enqueue {} --payload '…'", job.handler),
        )?;
        let id = store::enqueue(conn.store(), job, now_ms())?.id;
        writeln!(out, "  {id}")?;
        ids.push(id);
    }
    node.notify();

    step(&mut out, &format!("qntx {flag} run --until-idle"))?;
    node.wait_until_idle()?;
    node.shutdown(Duration::from_secs(10));

    let mut all_completed = true;
    for id in &ids[..2] {
        step(&mut out, &format!("qntx {flag} job show {id}"))?;
        let job = store::get(conn.store(), id)?;
        all_completed &= job.status == pulse::JobStatus::Completed;
        output::job_details(&mut out, &job)?;
    }
    step(&mut out, &format!("qntx {flag} job list"))?;
    let filter = pulse::JobFilter {
        limit: Some(10),
        ..pulse::JobFilter::default()
    };
    for job in store::list(conn.store(), &filter)?.jobs {
        all_completed &= job.status == pulse::JobStatus::Completed;
        writeln!(
            out,
            "  {}  {:<9}  {:<14}  from {}",
            job.id, job.status, job.handler, job.source
        )?;
    }

    for (subject, predicate) in [
        ("README.md", "text_stats"),
        ("qntx", "repository_analyzed"),
        ("qntx", "maintenance_estimated"),
    ] {
        step(
            &mut out,
            &format!("qntx {flag} ax {subject} is {predicate} --limit 1"),
        )?;
        let page = ats::store::query(
            conn.store(),
            &ats::Query {
                subjects: vec![subject.into()],
                predicates: vec![predicate.into()],
                limit: 1,
                ..ats::Query::default()
            },
        )?;
        if page.attestations.is_empty() {
            bail!("no '{predicate}' attestation about '{subject}' was written");
        }
        ats_cli::Printer::new(false).print(&mut out, &page.attestations)?;
    }
    if !all_completed {
        bail!("a demo job did not complete; see the job details above");
    }
    writeln!(out, "\nDone. Explore with: qntx {flag} job list")?;
    Ok(Outcome::Ok)
}

fn plugin_crates(checkout: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    let dir = checkout.join("plugins");
    let mut crates: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| {
            format!(
                "reading '{}'; run the demo from a qntx checkout or pass --checkout",
                dir.display()
            )
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    crates.sort();
    Ok(crates)
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn step(out: &mut impl Write, command: &str) -> anyhow::Result<()> {
    writeln!(out, "\n$ {command}")?;
    Ok(())
}
