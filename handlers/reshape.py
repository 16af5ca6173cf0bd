"""Reshape JSON: pick values out of `payload["data"]` into a new object by `payload["spec"]`.

The spec maps each output key to a path: dotted keys and list indexes (`user.emails.0`), with
`[]` to map over a list (`items[].name` gives the name of every item). A path that does not
resolve fails the job with its name; `payload["defaults"]` may supply a value instead.

    qntx handler create reshape --file handlers/reshape.py
    qntx job enqueue handler/reshape --wait --payload \
      '{"data": {"user": {"name": "Ada"}, "items": [{"id": 1}, {"id": 2}]},
        "spec": {"who": "user.name", "ids": "items[].id"}}'
"""


class PathError(Exception):
    pass


def resolve(value, parts, path):
    for index, part in enumerate(parts):
        if part.endswith("[]"):
            items = resolve(value, [part[:-2]], path) if part != "[]" else value
            if not isinstance(items, list):
                raise PathError(f"'{path}': '{part[:-2]}' is not a list")
            return [resolve(item, parts[index + 1 :], path) for item in items]
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise PathError(f"'{path}': no '{part}'")
    return value


def handle(payload, job):
    spec = payload.get("spec")
    if not isinstance(spec, dict) or not spec:
        raise ValueError("payload.spec must be an object of output key -> path")
    data = payload.get("data")
    defaults = payload.get("defaults", {})
    result = {}
    for key, path in spec.items():
        parts = [part for part in str(path).split(".") if part]
        try:
            result[key] = resolve(data, parts, path)
        except PathError:
            if key not in defaults:
                raise
            result[key] = defaults[key]
    return result
