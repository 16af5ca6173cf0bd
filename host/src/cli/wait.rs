//! `--wait`: follow one job to its end with a progress bar, then print it.

use std::io::Write;
use std::time::Duration;

use super::{Outcome, output};
use crate::pulse::{Job, JobStatus, store};
use crate::storage::Store;

/// How often `--wait` and `--follow` look at the database.
pub(super) const POLL: Duration = Duration::from_millis(100);

/// Wait for a job to finish, drawing its progress on stderr; print it; exit 1 unless completed.
pub(super) fn wait(conn: &dyn Store, id: &str, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    let job = loop {
        let job = store::get(conn, id)?;
        if job.status.is_final() {
            break job;
        }
        show_progress(&bar, &job);
        bar.tick();
        std::thread::sleep(POLL);
    };
    bar.finish_and_clear();
    output::job_details(out, &job)?;
    Ok(if job.status == JobStatus::Completed {
        Outcome::Ok
    } else {
        Outcome::No
    })
}

fn show_progress(bar: &indicatif::ProgressBar, job: &Job) {
    bar.set_length(job.progress.total.max(1));
    bar.set_position(job.progress.current);
    let mut message = match job.pause_reason {
        Some(reason) => format!("{} ({})", job.status, reason.as_str()),
        None => format!(
            "{}, attempt {}/{}",
            job.status, job.attempt, job.max_attempts
        ),
    };
    if job.cost_actual > 0.0 {
        message.push_str(&format!(", cost {}", job.cost_actual));
    }
    bar.set_message(message);
}
