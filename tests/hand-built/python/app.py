"""A qntx plugin in Python, built by hand with componentize-py from `wit/plugin.wit` alone.

    componentize-py -d wit -w plugin componentize app -o greeter_py.wasm

`greet` answers with the manifest's `[config]` (`greeting`, `times`); `lookup` returns
`payload["table"][payload["key"]]`, so a missing key is an uncaught `KeyError`: the job fails at
once with `KeyError: '...'` in its error. `flaky` asks for a retry.
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import config, logging, types

HANDLERS = [
    ("greet", "Greets payload.name with the configured greeting"),
    ("lookup", "Returns payload.table[payload.key]"),
    ("flaky", "Fails, asking for a retry"),
]


class WitWorld(wit_world.WitWorld):
    def metadata(self):
        return types.PluginInfo(name="greeter-py", version="1.0.0", description="Greets, in Python")

    def initialize(self, values):
        # `values` is the manifest's [config]; jobs read the same through `config`.
        specs = [types.HandlerSpec(name=name, description=text) for name, text in HANDLERS]
        return types.Registration(handlers=specs, schedules=[], watchers=[])

    def execute_job(self, job):
        payload = json.loads(job.payload)
        if job.handler == "greet":
            greeting = config.get("greeting") or "hello"
            times = int(config.get("times") or "1")  # config values are strings
            logging.log(types.LogLevel.INFO, f"greeting {payload['name']} {times} times")
            text = " ".join([f"{greeting}, {payload['name']}"] * times)
            # The result is JSON text, not a Python value.
            return types.Outcome(result=json.dumps({"text": text, "attempt": job.attempt}))
        if job.handler == "lookup":
            return types.Outcome(result=json.dumps(payload["table"][payload["key"]]))
        if job.handler == "flaky":
            raise Err(types.JobError_Retryable(f"attempt {job.attempt} of {job.max_attempts}"))
        raise Err(types.JobError_Permanent(f"unknown handler '{job.handler}'"))
