// A qntx plugin in JavaScript, built by hand with componentize-js from `wit/plugin.wit` alone:
//
//   componentize-js plugin.js --wit wit --world-name plugin --disable http fetch-event -o greeter_js.wasm
//
// `greet` answers with the manifest's `[config]` (`greeting`, `times`); `lookup` throws an Error
// for a missing key: the job fails at once with `Error: ...` in its error. `flaky` asks for a
// retry. Import specifiers name the WIT package's exact version.
import { get } from "qntx:plugin/config@0.1.1";
import { log } from "qntx:plugin/logging@0.1.1";

const HANDLERS = [
  ["greet", "Greets payload.name with the configured greeting"],
  ["lookup", "Returns payload.table[payload.key]"],
  ["flaky", "Fails, asking for a retry"],
];

export function metadata() {
  return { name: "greeter-js", version: "1.0.0", description: "Greets, in JavaScript" };
}

// `values` is the manifest's [config] as [key, value] pairs; jobs read the same through `get`.
export function initialize(values) {
  const handlers = HANDLERS.map(([name, description]) => ({ name, description }));
  return { handlers, schedules: [], watchers: [] };
}

export function executeJob(job) {
  const payload = JSON.parse(job.payload);
  switch (job.handler) {
    case "greet": {
      const greeting = get("greeting") ?? "hello";
      const times = Number(get("times") ?? "1"); // config values are strings
      // u64 fields (deadlineMs) are BigInt: convert before mixing them with numbers.
      const msLeft = Number(job.deadlineMs) - Date.now();
      log("info", `greeting ${payload.name} ${times} times, ${msLeft} ms left`);
      const text = Array(times).fill(`${greeting}, ${payload.name}`).join(" ");
      // The result must be a string of JSON: returning an object traps.
      return { result: JSON.stringify({ text, attempt: job.attempt }) };
    }
    case "lookup": {
      if (!(payload.key in payload.table)) throw new Error(`no key '${payload.key}'`);
      return { result: JSON.stringify(payload.table[payload.key]) };
    }
    case "flaky":
      // A job error is a {tag, val} object; anything else thrown fails the job permanently.
      throw { tag: "retryable", val: `attempt ${job.attempt} of ${job.maxAttempts}` };
    default:
      throw { tag: "permanent", val: `unknown handler '${job.handler}'` };
  }
}
