"""The OpenAPI schema's account of errors.

docs/api.md's error contract holds for every endpoint: 400 for invalid input, 401 without
an account or with a token that is wrong or expired, 403 for an account that may not,
404 for what is unknown or not visible, 409 for a change the object's state does not
allow, 413 for a body over the limit (414 for an address the server will not read),
429 when rate limited; each a JSON object (`{"field": [...]}`, or `detail` and `code`).
drf-spectacular documents only what each view annotates, so a client reading the
schema, or a fuzzer holding the server to it (tests/civic/test_schema_fuzz.py), would
take these answers for surprises. This postprocessing hook adds to each operation the
errors that can reach it, judged from what the operation itself declares; a view's own
description of a status is kept.
"""

from typing import Any

ERROR = "Error"
_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Field errors as `{field: [message, ...]}`, or `detail` (a message) and `code` "
        "(a machine-readable name) for errors not tied to a field."
    ),
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "additionalProperties": True,
}
_WHY = {
    "400": "Invalid input.",
    "401": "Not signed in.",
    "403": "Signed in, but not allowed.",
    "404": "Unknown, or not visible to the caller.",
    "409": "The object is not in a state that allows this.",
    "413": "The body is over the size limit.",
    "414": "The address (with its query) is too long for the server.",
    "429": "Rate limited; `Retry-After` says when to try again.",
}
_WRITES = {"post", "put", "patch", "delete"}


def _errors_of(method: str, operation: dict[str, Any]) -> list[str]:
    parameters = operation.get("parameters", [])
    codes = []
    query = any(p.get("in") == "query" for p in parameters)
    path = any(p.get("in") == "path" for p in parameters)
    # A write reads a body even where the schema shows none (a DELETE's password).
    if operation.get("requestBody") or query or method in _WRITES:
        codes.append("400")
    # Any endpoint refuses a token that is wrong or expired, even one open to everyone.
    codes.append("401")
    anonymous = {} in operation.get("security", [{}])
    if not anonymous or method in _WRITES:
        codes.append("403")
    # A path's object may be missing; a page past the last is missing too.
    if path or any(p.get("name") == "page" for p in parameters):
        codes.append("404")
    if method in _WRITES and path:
        codes.append("409")  # the object is not in a state that allows this
    if method in _WRITES:
        codes += ["413", "429"]
    if query:
        codes.append("414")
    return codes


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the errors of docs/api.md on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR] = _ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in _errors_of(method, operation):
                responses.setdefault(code, {"description": _WHY[code], "content": body})
    return result
