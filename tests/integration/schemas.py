"""The JSON Schemas of danekit's outputs (docs/schema/), for tests.

    import schemas
    problems = schemas.validate(json.loads(line))   # [] when the object is valid

validate() picks the schema by the object's own "schema" field
("danekit.check/1" -> docs/schema/danekit.check-1.json) and returns one line per
violation, each naming the JSON path. Shared definitions live in
docs/schema/defs.json; every $ref is resolved from the files on disk, never from
the network. Works with Debian 12's python3-jsonschema (4.10, RefResolver) and
with newer releases (4.18 and later, the referencing library).
"""
import json
import os

import jsonschema

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schema")
BASE = "https://danekit.invalid/schema/"
Validator = jsonschema.Draft202012Validator

_cache = {}


def file_for(schema_id):
    """'danekit.check/1' -> 'danekit.check-1.json'."""
    name, _, version = schema_id.rpartition("/")
    return "{}-{}.json".format(name, version)


def load_all():
    """{file name: parsed schema} for every file in docs/schema."""
    if "all" not in _cache:
        out = {}
        for name in sorted(os.listdir(SCHEMA_DIR)):
            if name.endswith(".json"):
                with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
                    out[name] = json.load(f)
        _cache["all"] = out
    return _cache["all"]


def _refuse(uri):
    raise jsonschema.RefResolutionError("{} is not a danekit schema file (no network look-ups)".format(uri))


def validator(file_name):
    """A Draft 2020-12 validator for one schema file, $refs served from disk."""
    key = ("validator", file_name)
    if key in _cache:
        return _cache[key]
    schemas = load_all()
    schema = schemas[file_name]
    try:
        import referencing
        import referencing.jsonschema
    except ImportError:
        referencing = None
    if referencing is not None:
        registry = referencing.Registry().with_resources(
            (s.get("$id", BASE + n), referencing.jsonschema.DRAFT202012.create_resource(s)) for n, s in schemas.items())
        v = Validator(schema, registry=registry)
    else:
        store = {s.get("$id", BASE + n): s for n, s in schemas.items()}
        resolver = jsonschema.RefResolver.from_schema(schema, store=store, handlers={"http": _refuse, "https": _refuse})
        v = Validator(schema, resolver=resolver)
    _cache[key] = v
    return v


def validate(obj):
    """The violations of `obj` against the schema its "schema" field names; [] when valid."""
    if not isinstance(obj, dict):
        return ["not a JSON object: {}".format(type(obj).__name__)]
    schema_id = obj.get("schema")
    if not isinstance(schema_id, str) or "/" not in schema_id:
        return ["no \"schema\" field naming a danekit schema: {!r}".format(schema_id)]
    name = file_for(schema_id)
    if name not in load_all():
        return ["{}: no schema file docs/schema/{}".format(schema_id, name)]
    problems = []
    for e in sorted(validator(name).iter_errors(obj), key=lambda e: list(e.absolute_path)):
        path = "".join("[{}]".format(p) if isinstance(p, int) else ".{}".format(p) for p in e.absolute_path)
        problems.append("{} {}: {}".format(schema_id, path or ".", e.message[:300]))
    return problems
