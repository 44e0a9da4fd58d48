"""Strict JSON-schema validation of OpenAI requests against shared/openai-api/openapi-subset.json.

The subset is verbatim OpenAPI 3.1 that still uses 3.0 idioms, so on load (see the README beside it):
``nullable: true`` becomes ``anyOf [X, {type: null}]``, ``oneOf`` is read as ``anyOf`` (the unions
overlap), ``$recursiveRef: "#"`` points at its enclosing component, boolean ``exclusiveMinimum``/
``exclusiveMaximum`` become numbers, and ``format`` is an annotation only (no format checker).

Requests are validated strictly: the schema's own rules, and by default top-level fields the schema
does not name are reported too (``allow_unknown=True`` turns that off for vendor extensions).
Multipart bodies are validated as the server would read them: ``name[]`` fields and repeated names
become arrays, strings are coerced to the schema's number/integer/boolean/object types, and file
parts are placeholders that must sit exactly where the schema says ``format: binary``.

Paths: ``$OPENAI_SUBSET_SCHEMA``, else ``<repo>/../shared/openai-api/openapi-subset.json``.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SCHEMA_ENV = "OPENAI_SUBSET_SCHEMA"
DOC_URI = "urn:openai-subset"
REPO_ROOT = Path(__file__).resolve().parents[2]
JSON = "application/json"
MULTIPART = "multipart/form-data"

# Keywords whose value is a schema, a map of schemas, or a list of schemas.
_SCHEMA_KEYS = {
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
}
_SCHEMA_MAP_KEYS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_SCHEMA_LIST_KEYS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_MAX_MESSAGE = 300


def schema_path() -> Path:
    override = os.environ.get(SCHEMA_ENV)
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "openai-api" / "openapi-subset.json"


# ---- loading and rewriting -------------------------------------------------------------------


def _rewrite(node: Any, component: str) -> Any:
    """Return a JSON-Schema-2020-12 copy of one OpenAPI schema node (see the module docstring)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_KEYS:
            out[key] = _rewrite(value, component)
        elif key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
            out[key] = {name: _rewrite(sub, component) for name, sub in value.items()}
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [_rewrite(sub, component) for sub in value]
        else:
            out[key] = value
    if "$recursiveRef" in out:
        ref = out.pop("$recursiveRef")
        out["$ref"] = f"#/components/schemas/{component}" if ref == "#" else ref
    out.pop("$recursiveAnchor", None)
    if "oneOf" in out:
        one_of = out.pop("oneOf")
        if "anyOf" in out:
            out.setdefault("allOf", []).append({"anyOf": one_of})
        else:
            out["anyOf"] = one_of
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), bool) and out.pop(bound) and limit in out:
            out[bound] = out.pop(limit)
    nullable = out.pop("nullable", False)
    if nullable is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class _Spec:
    def __init__(self, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        doc = copy.deepcopy(raw)
        schemas = doc.get("components", {}).get("schemas", {})
        doc["components"]["schemas"] = {name: _rewrite(s, name) for name, s in schemas.items()}
        self.doc = doc
        self.operations: dict[str, Any] = raw.get("x-subset", {}).get("operations", {})
        self.registry: Registry[Any] = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(doc))
        self.path = path
        self._validators: dict[str, Draft202012Validator] = {}

    def absolute(self, schema: Any) -> Any:
        """Copy of ``schema`` whose ``#/...`` $refs are absolute, so they resolve in the registered document."""
        if isinstance(schema, list):
            return [self.absolute(x) for x in schema]
        if not isinstance(schema, dict):
            return schema
        out = {k: self.absolute(v) for k, v in schema.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            out["$ref"] = DOC_URI + ref
        return out

    def resolve(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """Follow local $refs until a schema that is not a bare reference."""
        seen = 0
        current: Mapping[str, Any] = schema
        while isinstance(current.get("$ref"), str) and seen < 50:
            ref = current["$ref"].removeprefix(DOC_URI)
            target: Any = self.doc
            for part in ref.lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            current = target
            seen += 1
        return dict(current)

    def request_schema(self, operation_id: str, content_type: str) -> dict[str, Any]:
        op = self.operations.get(operation_id)
        if op is None:
            raise KeyError(f"unknown operationId {operation_id!r}; known: {sorted(self.operations)}")
        schemas = op.get("request") or {}
        if content_type not in schemas:
            raise KeyError(f"{operation_id} takes no {content_type!r} body; it takes {sorted(schemas) or 'none'}")
        return self.absolute(_rewrite(schemas[content_type], ""))

    def response_schema(self, operation_id: str, content_type: str) -> dict[str, Any]:
        op = self.operations.get(operation_id)
        if op is None or content_type not in (op.get("response") or {}):
            raise KeyError(f"no {content_type!r} response schema for {operation_id!r}")
        return self.absolute(_rewrite(op["response"][content_type], ""))

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(schema, registry=self.registry)
        return self._validators[key]

    def property_names(self, schema: Mapping[str, Any], depth: int = 0) -> set[str] | None:
        """Top-level property names an object schema names; None when it admits any name."""
        node = self.resolve(schema)
        if depth > 20:
            return None
        if node.get("type") not in (None, "object") and "properties" not in node:
            return set()  # a non-object branch (e.g. the null of a nullable) names no properties
        extra = node.get("additionalProperties")
        if node.get("patternProperties") or (extra is not None and extra is not False):
            return None
        names = set(node.get("properties", {}))
        subs = [*node.get("allOf", []), *node.get("anyOf", [])]
        for sub in subs:
            more = self.property_names(sub, depth + 1)
            if more is None:
                return None
            names |= more
        if not names and not subs:
            return None  # the schema does not constrain property names at all
        return names

    def sub_schema(self, schema: Mapping[str, Any], key: str, depth: int = 0) -> dict[str, Any]:
        """The schema of property ``key`` of an object schema (searching allOf/anyOf branches)."""
        node = self.resolve(schema)
        if key in node.get("properties", {}):
            return node["properties"][key]
        if depth < 20:
            for sub in [*node.get("allOf", []), *node.get("anyOf", [])]:
                found = self.sub_schema(sub, key, depth + 1)
                if found:
                    return found
        return {}

    def allowed_types(self, schema: Mapping[str, Any], depth: int = 0) -> set[str]:
        """JSON types a schema admits ("any" when it does not say)."""
        node = self.resolve(schema)
        if depth > 20:
            return {"any"}
        types: set[str] = set()
        declared = node.get("type")
        if isinstance(declared, str):
            types.add(declared)
        elif isinstance(declared, list):
            types.update(declared)
        for value in node.get("enum", []) if "type" not in node else []:
            types.add(_json_type(value))
        for sub in [*node.get("anyOf", []), *node.get("allOf", [])]:
            types |= self.allowed_types(sub, depth + 1)
        return types or {"any"}

    def is_binary(self, schema: Mapping[str, Any], depth: int = 0) -> bool:
        node = self.resolve(schema)
        if node.get("format") == "binary":
            return True
        if depth > 10:
            return False
        subs = [*node.get("anyOf", []), *node.get("allOf", [])]
        if isinstance(node.get("items"), dict):
            subs.append(node["items"])
        return any(self.is_binary(s, depth + 1) for s in subs)

    def array_items(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        node = self.resolve(schema)
        if isinstance(node.get("items"), dict):
            return node["items"]
        for sub in node.get("anyOf", []):
            sub_node = self.resolve(sub)
            if sub_node.get("type") == "array" and isinstance(sub_node.get("items"), dict):
                return sub_node["items"]
        return {}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@functools.lru_cache(maxsize=4)
def _load(path: str) -> _Spec:
    return _Spec(Path(path))


def spec() -> _Spec:
    path = schema_path()
    if not path.is_file():
        raise FileNotFoundError(f"OpenAPI subset not found at {path} (set ${SCHEMA_ENV})")
    return _load(str(path))


# ---- multipart -> JSON -------------------------------------------------------------------------


class FilePart(str):
    """A placeholder string standing for an uploaded file in a multipart form."""

    __slots__ = ()


def _is_file_value(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, tuple, FilePart))


def _placeholder(value: Any) -> FilePart:
    if isinstance(value, FilePart):
        return value
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return FilePart(f"<file {value[0]}>")
    return FilePart("<file>")


def _coerce(text: str, types: set[str]) -> Any:
    """Read a form string as the schema's type, as the server would; unreadable values stay strings."""
    if "string" in types or "any" in types:
        return text
    if "integer" in types and re.fullmatch(r"[+-]?\d+", text.strip()):
        return int(text)
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "null" in types and text in ("", "null"):
        return None
    if types & {"object", "array"}:
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if _json_type(parsed) in types:
            return parsed
    return text


_NAME_RE = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


def _insert(target: dict[str, Any], keys: list[str], value: Any) -> None:
    """Place one form value: ``a[]`` appends to a list, ``a[b]`` nests, a repeated plain name becomes a list."""
    key, rest = keys[0], keys[1:]
    if rest and rest[0] == "":
        bucket = target.setdefault(key, [])
        if not isinstance(bucket, list):
            bucket = target[key] = [bucket]
        bucket.append(value)
    elif rest:
        child = target.setdefault(key, {})
        if isinstance(child, dict):
            _insert(child, rest, value)
    elif key in target:
        existing = target[key]
        target[key] = [*(existing if isinstance(existing, list) else [existing]), value]
    else:
        target[key] = value


def _convert(sp: _Spec, value: Any, schema: Mapping[str, Any], where: str, problems: list[str]) -> Any:
    binary = sp.is_binary(schema) if schema else False
    if _is_file_value(value):
        if schema and not binary:
            problems.append(f"{where}: sent as a file part, but the schema says it is a plain field")
        return _placeholder(value)
    if isinstance(value, list):
        items = sp.array_items(schema) if schema else {}
        return [_convert(sp, v, items, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            k: _convert(sp, v, sp.sub_schema(schema, k) if schema else {}, f"{where}.{k}", problems)
            for k, v in value.items()
        }
    if binary:
        problems.append(f"{where}: sent as a plain field, but the schema wants a file part")
    return _coerce(str(value), sp.allowed_types(schema)) if schema else str(value)


def form_to_json(
    operation_id: str, form: Mapping[str, Any], content_type: str = MULTIPART
) -> tuple[dict[str, Any], list[str]]:
    """Turn multipart form fields into the JSON object the schema describes, plus placement errors.

    Names follow openai-python's encoding: ``a[]`` for arrays, ``a[b]`` for nested objects.  Values
    may be strings, lists of strings, or files (bytes, ``(filename, content_type, bytes)`` tuples,
    FilePart placeholders).
    """
    sp = spec()
    schema = sp.request_schema(operation_id, content_type)
    tree: dict[str, Any] = {}
    for raw_name, value in form.items():
        m = _NAME_RE.fullmatch(raw_name)
        keys = [m.group(1), *re.findall(r"\[([^\[\]]*)\]", m.group(2))] if m else [raw_name]
        for item in value if isinstance(value, list) else [value]:
            _insert(tree, keys, item)
    problems: list[str] = []
    body = {k: _convert(sp, v, sp.sub_schema(schema, k), f"$.{k}", problems) for k, v in tree.items()}
    return body, problems


# ---- validation ------------------------------------------------------------------------------


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


_DISCRIMINATORS = {"type", "role", "object"}


def _wrong_branch(error: ValidationError) -> bool:
    """True when the error only says the instance is another branch of the union (its type, or its
    discriminator such as ``role``/``type``), rather than a real constraint failure."""
    depth = len(error.relative_path)
    if error.validator == "type" and depth == 0:
        return True
    if error.validator in ("anyOf", "oneOf") and depth == 0 and error.context:
        return all(_wrong_branch(sub) for sub in error.context)
    return error.validator in ("enum", "const") and depth == 1 and error.relative_path[-1] in _DISCRIMINATORS


def _closest(errors: Iterable[ValidationError]) -> ValidationError:
    """The most telling sub-error of a failed anyOf: the errors of the branch the instance was
    evidently meant for (its type and discriminator match), deepest first; recursing into nested unions."""
    branches: dict[Any, list[ValidationError]] = {}
    for error in errors:
        branches.setdefault(error.relative_schema_path[0] if error.relative_schema_path else None, []).append(error)
    candidates = [errs for errs in branches.values() if not any(_wrong_branch(e) for e in errs)]
    pool = min(candidates, key=len) if candidates else [e for errs in branches.values() for e in errs]
    best = min(pool, key=lambda e: (_wrong_branch(e), -len(e.absolute_path), e.message))
    return _closest(best.context) if best.context else best


def _describe(error: ValidationError) -> str:
    detail = error.message
    if error.context:
        closest = _closest(error.context)
        detail = f"{detail} (closest: {closest.json_path}: {closest.message})"
    return f"{error.json_path}: {_short(detail)}"


def _unknown_fields(sp: _Spec, schema: Mapping[str, Any], body: Any) -> list[str]:
    if not isinstance(body, dict) or sp.resolve(schema).get("additionalProperties") is False:
        return []  # not an object, or the schema itself already rejects unknown names
    names = sp.property_names(schema)
    if names is None:
        return []
    return [f"$.{key}: unknown field (not in the schema)" for key in sorted(set(body) - names)]


def request_errors(
    operation_id: str,
    body: Any,
    content_type: str = JSON,
    *,
    allow_unknown: bool = False,
) -> list[str]:
    """Every violation of the operation's request schema, as ``"$.path: message"`` lines."""
    sp = spec()
    content_type = content_type.split(";", 1)[0].strip().lower()
    schema = sp.request_schema(operation_id, content_type)
    problems: list[str] = []
    if content_type == MULTIPART:
        if not isinstance(body, Mapping):
            return [f"$: a multipart body must be a mapping of form fields, got {type(body).__name__}"]
        body, problems = form_to_json(operation_id, body, content_type)
    validator = sp.validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: (list(e.absolute_path), e.message))
    problems += [_describe(e) for e in errors]
    if not allow_unknown:
        problems += _unknown_fields(sp, schema, body)
    return problems


def validate_request(
    operation_id: str,
    body: Any,
    content_type: str = JSON,
    *,
    allow_unknown: bool = False,
) -> None:
    """Raise AssertionError listing every violation of the operation's request schema.

    ``body`` is the JSON object, or for multipart a mapping of form fields (see form_to_json).
    """
    problems = request_errors(operation_id, body, content_type, allow_unknown=allow_unknown)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"{operation_id} request ({content_type}) violates the OpenAPI schema:\n{lines}")


def response_errors(operation_id: str, body: Any, content_type: str = JSON) -> list[str]:
    """Strict check of a response body or one stream event (for checking the fake server itself)."""
    sp = spec()
    schema = sp.response_schema(operation_id, content_type)
    validator = sp.validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: (list(e.absolute_path), e.message))
    return [_describe(e) for e in errors]


def validate_response(operation_id: str, body: Any, content_type: str = JSON) -> None:
    problems = response_errors(operation_id, body, content_type)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"{operation_id} response ({content_type}) violates the OpenAPI schema:\n{lines}")


def validate_component(name: str, instance: Any) -> None:
    """Strict check of ``instance`` against ``#/components/schemas/<name>`` (e.g. "ErrorResponse")."""
    sp = spec()
    if name not in sp.doc["components"]["schemas"]:
        raise KeyError(f"no component schema {name!r}")
    validator = sp.validator({"$ref": f"{DOC_URI}#/components/schemas/{name}"})
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
        raise AssertionError(f"{name} violates the OpenAPI schema:\n{lines}")


_PATH_OPERATIONS = (
    (re.compile(r"(?:/v1)?(?:/openai/deployments/[^/]+)?/chat/completions"), "POST", "createChatCompletion"),
    (re.compile(r"(?:/v1)?/models"), "GET", "listModels"),
    (re.compile(r"(?:/v1)?(?:/openai/deployments/[^/]+)?/images/generations"), "POST", "createImage"),
    (re.compile(r"(?:/v1)?(?:/openai/deployments/[^/]+)?/images/edits"), "POST", "createImageEdit"),
    (re.compile(r"(?:/v1)?(?:/openai/deployments/[^/]+)?/audio/transcriptions"), "POST", "createTranscription"),
    (re.compile(r"(?:/v1)?/responses"), "POST", "createResponse"),
)


def operation_for_path(method: str, path: str) -> str | None:
    for pattern, op_method, operation in _PATH_OPERATIONS:
        if op_method == method.upper() and pattern.fullmatch(path):
            return operation
    return None


_AZURE_DEPLOYMENT = re.compile(r"/openai/deployments/([^/]+)/")


def validate_recorded(request: Any, *, allow_unknown: bool = False) -> None:
    """Validate a request recorded by the fake server (``RecordedRequest``); picks the operation from the path.

    Multipart requests are validated from their form fields and file parts; JSON ones from the body.
    On Azure paths (``/openai/deployments/{dep}/...``) a missing ``model`` is taken from the path.
    """
    operation = operation_for_path(request.method, request.path)
    if operation is None:
        raise AssertionError(f"no operation in the OpenAPI subset for {request.method} {request.path}")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if operation == "listModels":
        if request.body:
            raise AssertionError("listModels takes no request body")
        return
    if content_type == MULTIPART:
        if request.form is None:
            raise AssertionError("multipart request whose body could not be parsed")
        fields: dict[str, Any] = dict(request.form)
        for name, filename, ctype, data in _file_parts(request):
            existing = fields.get(name)
            entry = (filename or "", ctype, data)
            if existing is None:
                fields[name] = entry
            else:
                fields[name] = [*(existing if isinstance(existing, list) else [existing]), entry]
        validate_request(operation, fields, MULTIPART, allow_unknown=allow_unknown)
        return
    if content_type != JSON:
        raise AssertionError(f"{operation}: unexpected content type {content_type or '(none)'!r}")
    if request.json is None:
        raise AssertionError(f"{operation}: body is not valid JSON")
    body = request.json
    azure = _AZURE_DEPLOYMENT.match(request.path)
    if azure and isinstance(body, dict) and "model" not in body:
        body = {**body, "model": azure.group(1)}  # Azure names the model in the path
    validate_request(operation, body, JSON, allow_unknown=allow_unknown)


def _file_parts(request: Any) -> Iterable[tuple[str, str | None, str | None, bytes]]:
    parts = getattr(request, "file_parts", None)
    if parts:
        return parts
    files = getattr(request, "files", None) or {}
    return [(name, f[0], f[1], f[2]) for name, f in files.items()]
