// Summarise attestations: read the newest `payload.limit` (default 100, at most 1000)
// attestations matching `payload.subjects` / `predicates` / `contexts` / `actors` (lists; empty
// means any) through the node's store, and count them by predicate, actor and subject.
//
//   qntx handler create summarise --file handlers/summarise.js
//   qntx job enqueue handler/summarise --payload '{"predicates": ["word_frequencies"]}' --wait
import { query } from "qntx:plugin/store@0.1.1";

function list(payload, key) {
  const value = payload[key] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`payload.${key} must be a list of strings`);
  }
  return value;
}

function tally(counts, values) {
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
}

export function handle(payload, job) {
  const filter = {
    subjects: list(payload, "subjects"),
    predicates: list(payload, "predicates"),
    contexts: list(payload, "contexts"),
    actors: list(payload, "actors"),
  };
  const limit = Math.min(Math.max(Number(payload.limit ?? 100), 1), 1000);
  const byPredicate = {};
  const byActor = {};
  const bySubject = {};
  let count = 0;
  let newest = null;
  let oldest = null;
  let cursor = undefined;
  do {
    const page = query({
      filter,
      since: undefined,
      until: undefined,
      source: undefined,
      attributes: [],
      limit: Math.min(limit - count, 100),
      cursor,
    });
    for (const attestation of page.attestations) {
      count += 1;
      tally(byPredicate, attestation.predicates);
      tally(byActor, attestation.actors);
      tally(bySubject, attestation.subjects);
      const time = Number(attestation.timestamp);
      newest = newest === null ? time : Math.max(newest, time);
      oldest = oldest === null ? time : Math.min(oldest, time);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && count < limit);
  return { count, newest, oldest, byPredicate, byActor, bySubject, more: cursor !== undefined };
}
