// The dashboard's one script: the list's "select all" box, and a job's page kept live while the
// job is not final, through the JSON API with the session cookie (reads need no CSRF token).
// When the status changes the page is loaded again, so that the buttons are the new status's.
"use strict";

(function () {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll("input[name=id]")) box.checked = all.checked;
  });
})();

(function () {
  const job = document.querySelector("[data-live-job]");
  if (!job) return;
  const FINAL = new Set(["completed", "failed", "cancelled"]);
  const id = job.dataset.liveJob;
  const status = job.dataset.status;
  let after = Number(job.dataset.logAfter || 0);
  if (FINAL.has(status)) return;

  const bar = job.querySelector("[data-progress]");
  const text = job.querySelector("[data-progress-text]");
  const log = job.querySelector("[data-log]");

  function progressText(current, total) {
    if (total === 0) return String(current);
    return `${current} / ${total} (${Math.floor((current * 100) / total)}%)`;
  }

  function time(ms) {
    return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function showProgress(progress) {
    const max = Math.max(progress.total, 1);
    bar.max = max;
    bar.value = Math.min(progress.current, max);
    text.textContent = progressText(progress.current, progress.total);
  }

  function appendLines(lines) {
    if (lines.length === 0) return;
    const empty = job.querySelector("[data-log-empty]");
    if (empty) empty.remove();
    for (const line of lines) {
      const item = document.createElement("li");
      item.className = line.level;
      const when = document.createElement("span");
      when.className = "time";
      when.textContent = time(line.time);
      const stage = document.createElement("span");
      stage.className = "stage";
      stage.textContent = line.stage;
      item.append(when, " ", stage, " ", line.message);
      log.append(item);
      after = line.number;
    }
  }

  async function read(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (response.status === 401) {
      location.assign("/sign-in");
      return null;
    }
    return response.ok ? response.json() : null;
  }

  async function tick() {
    try {
      const lines = await read(`/api/v1/jobs/${id}/logs?after=${after}`);
      if (lines) appendLines(lines.lines);
      const now = await read(`/api/v1/jobs/${id}`);
      if (now) {
        showProgress(now.progress);
        if (now.status !== status) {
          location.reload();
          return;
        }
      }
    } catch (error) {
      // The node may be restarting: try again at the next tick.
    }
    setTimeout(tick, 500);
  }

  setTimeout(tick, 500);
})();
