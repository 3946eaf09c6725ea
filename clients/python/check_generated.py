"""Checks that openapi-python-client generated the whole of a document.

The generator exits 0 even when it drops an operation, a response or a
schema, so scripts/clients-python.sh greps its output and then runs this:

    check_generated.py DOCUMENT.json GENERATED_PACKAGE_DIR

For every operation it expects an endpoint module named as the generator
names it (from the operationId), with a `sync_detailed` that takes every
parameter and, where the operation has a JSON request body, a `body`; and
a `_parse_response` that handles every documented status code. For every
object or enum schema under components it expects a model class exported
from the package's `models`; a oneOf/anyOf schema must list named schemas. Names are computed with the generator's own functions,
so they match whatever the generator does.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path

from openapi_python_client.strings import ClassName, PythonIdentifier

# The generator's default (Config.field_prefix); the script passes no config.
PREFIX = "field_"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def json_media(content: dict) -> dict | None:
    for media_type, media in (content or {}).items():
        base = media_type.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return media
    return None


def main() -> int:
    doc_path, pkg_dir = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    doc = json.loads(doc_path.read_text())
    sys.path.insert(0, str(pkg_dir.parent))
    pkg = pkg_dir.name
    problems: list[str] = []

    modules = {
        p.stem: p for p in (pkg_dir / "api").glob("*/*.py") if p.stem != "__init__"
    }
    operations = 0
    for path, item in doc.get("paths", {}).items():
        shared_params = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            operations += 1
            where = f"{method.upper()} {path}"
            op_id = op.get("operationId")
            if not op_id:
                problems.append(f"{where}: no operationId")
                continue
            name = PythonIdentifier(op_id, PREFIX)
            if name not in modules:
                problems.append(f"{where} ({op_id}): no module api/*/{name}.py")
                continue
            rel = modules[name].relative_to(pkg_dir).with_suffix("")
            mod = importlib.import_module(".".join((pkg, *rel.parts)))
            sig = inspect.signature(mod.sync_detailed)
            for param in shared_params + op.get("parameters", []):
                if "$ref" in param:
                    problems.append(
                        f"{where}: parameter $ref not checked: {param['$ref']}"
                    )
                    continue
                pname = PythonIdentifier(param["name"], PREFIX)
                if pname not in sig.parameters:
                    problems.append(
                        f"{where} ({op_id}): parameter {param['name']} ({pname}) missing"
                    )
            body = op.get("requestBody")
            if (
                body
                and json_media(body.get("content", {}))
                and "body" not in sig.parameters
            ):
                problems.append(f"{where} ({op_id}): JSON request body not generated")
            parse_src = inspect.getsource(mod._parse_response)
            for status in op.get("responses", {}):
                if status == "default":
                    continue
                if f"response.status_code == {int(status)}" not in parse_src:
                    problems.append(f"{where} ({op_id}): response {status} not parsed")

    schemas = doc.get("components", {}).get("schemas", {})
    models = importlib.import_module(f"{pkg}.models")
    for schema_name, schema in schemas.items():
        where = f"#/components/schemas/{schema_name}"
        union = schema.get("oneOf") or schema.get("anyOf")
        if union and "properties" not in schema:
            # A union becomes a type annotation, not a class: each of its
            # branches must be a named schema, with its own model.
            for branch in union:
                if "$ref" not in branch:
                    problems.append(
                        f"{where}: union branch without $ref: {json.dumps(branch)}"
                    )
            continue
        if "enum" not in schema and schema.get("type", "object") != "object":
            continue  # a plain string/number/array alias: no model expected
        cls = ClassName(schema_name, PREFIX)
        if not inspect.isclass(getattr(models, cls, None)):
            problems.append(f"{where}: no model {cls}")

    for p in problems:
        print(f"{doc_path}: {p}", file=sys.stderr)
    status = "FAILED" if problems else "ok"
    print(f"{doc_path}: {operations} operations, {len(schemas)} schemas: {status}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
