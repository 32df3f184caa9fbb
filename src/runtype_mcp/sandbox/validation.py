"""API errors and request validation that produce the bodies of runtype-api.md §7.1.

Every failure a handler can report is an `ApiError`; `Checker` collects 400 `details[]` entries
(`{code, message, path, suggestion}`) with paths in API dot terms (`steps.0.type`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request

JSON_BODY_LIMIT = 10 * 1024 * 1024

Detail = dict[str, Any]


class ApiError(Exception):
    """An HTTP error with a JSON body `{error, code?, ...extra}`."""

    def __init__(
        self,
        status: int,
        error: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.code = code
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.code is not None:
            body["code"] = self.code
        body.update(self.extra)
        return body


class ValidationFailed(ApiError):
    def __init__(self, details: list[Detail]) -> None:
        super().__init__(400, "Validation error", details=details)
        self.details = details


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"{kind} {ident} not found")


def detail(code: str, message: str, path: str, suggestion: str | None = None) -> Detail:
    entry = {"code": code, "message": message, "path": path}
    if suggestion:
        entry["suggestion"] = suggestion
    return entry


def invalid(code: str, message: str, path: str, suggestion: str | None = None) -> ValidationFailed:
    return ValidationFailed([detail(code, message, path, suggestion)])


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def one_of(values: Iterable[str]) -> str:
    return "Use one of: " + ", ".join(values)


class Checker:
    """Collects validation details for one request; `done()` raises them all at once."""

    def __init__(self) -> None:
        self.details: list[Detail] = []

    def add(self, code: str, message: str, path: str, suggestion: str | None = None) -> None:
        self.details.append(detail(code, message, path, suggestion))

    def done(self) -> None:
        if self.details:
            raise ValidationFailed(self.details)

    def known_keys(self, body: Mapping[str, Any], allowed: Iterable[str], path: str = "") -> None:
        allowed = list(allowed)
        extra = [key for key in body if key not in allowed]
        if extra:
            listed = ", ".join(f"'{key}'" for key in extra)
            self.add(
                "UNRECOGNIZED_KEYS",
                f"Unrecognized key(s) in object: {listed}",
                path,
                f"Remove {listed}; allowed keys are: {', '.join(allowed)}",
            )

    def wrong_type(self, path: str, expected: str, value: object) -> None:
        self.add(
            "INVALID_TYPE",
            f"{path or 'body'} must be {expected}, got {json_type(value)}",
            path,
            f"Send {path or 'the body'} as {expected}",
        )

    def string(
        self,
        body: Mapping[str, Any],
        key: str,
        *,
        path: str = "",
        required: bool = False,
        nullable: bool = False,
        min_len: int = 0,
        max_len: int | None = None,
    ) -> str | None:
        where = join(path, key)
        if key not in body:
            if required:
                bounds = f" ({min_len}-{max_len} characters)" if max_len else ""
                self.add(
                    "MISSING_REQUIRED_FIELD",
                    f"{where} is required",
                    where,
                    f"Add '{key}' as a string{bounds}",
                )
            return None
        value = body[key]
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            self.wrong_type(where, "a string" + (" or null" if nullable else ""), value)
            return None
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            span = f"{min_len}-{max_len}" if max_len is not None else f"at least {min_len}"
            self.add(
                "OUT_OF_RANGE",
                f"{where} must be {span} characters long (got {len(value)})",
                where,
                f"Use {span} characters",
            )
            return None
        return value

    def mapping(
        self, body: Mapping[str, Any], key: str, *, path: str = "", required: bool = False
    ) -> dict[str, Any] | None:
        where = join(path, key)
        if key not in body or body[key] is None:
            if required:
                self.add("MISSING_REQUIRED_FIELD", f"{where} is required", where, f"Add '{key}' as an object")
            return None
        value = body[key]
        if not isinstance(value, dict):
            self.wrong_type(where, "an object", value)
            return None
        return value

    def array(
        self,
        body: Mapping[str, Any],
        key: str,
        *,
        path: str = "",
        required: bool = False,
        max_items: int | None = None,
    ) -> list[Any] | None:
        where = join(path, key)
        if key not in body or body[key] is None:
            if required:
                self.add("MISSING_REQUIRED_FIELD", f"{where} is required", where, f"Add '{key}' as an array")
            return None
        value = body[key]
        if not isinstance(value, list):
            self.wrong_type(where, "an array", value)
            return None
        if max_items is not None and len(value) > max_items:
            self.add(
                "OUT_OF_RANGE",
                f"{where} has {len(value)} items; at most {max_items} are allowed",
                where,
                f"Send at most {max_items} items per call and split the rest into further calls",
            )
            return None
        return value

    def string_list(self, body: Mapping[str, Any], key: str, **kwargs: Any) -> list[str] | None:
        items = self.array(body, key, **kwargs)
        if items is None:
            return None
        where = join(kwargs.get("path", ""), key)
        good = True
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item:
                self.wrong_type(join(where, index), "a non-empty string", item)
                good = False
        return items if good else None

    def boolean(self, body: Mapping[str, Any], key: str, *, path: str = "") -> bool | None:
        if key not in body or body[key] is None:
            return None
        value = body[key]
        if not isinstance(value, bool):
            self.wrong_type(join(path, key), "a boolean", value)
            return None
        return value

    def enum(
        self,
        body: Mapping[str, Any],
        key: str,
        allowed: Iterable[str],
        *,
        path: str = "",
        required: bool = False,
    ) -> str | None:
        allowed = list(allowed)
        value = self.string(body, key, path=path, required=required)
        if value is not None and value not in allowed:
            where = join(path, key)
            self.add(
                "INVALID_ENUM",
                f"{where} must be one of the allowed values, got '{value}'",
                where,
                one_of(allowed),
            )
            return None
        return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    raw = await request.body()
    if len(raw) > JSON_BODY_LIMIT:
        raise invalid(
            "OUT_OF_RANGE",
            f"Request body is {len(raw)} bytes; the limit is {JSON_BODY_LIMIT}",
            "",
            "Send a smaller body",
        )
    if not raw.strip():
        raise invalid("MISSING_REQUIRED_FIELD", "Request body is empty", "", "Send a JSON object")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(
            "INVALID_FORMAT",
            f"Request body is not valid JSON: {exc}",
            "",
            "Send a JSON object with Content-Type: application/json",
        ) from None
    if not isinstance(body, dict):
        raise invalid("INVALID_TYPE", f"Request body must be a JSON object, got {json_type(body)}", "")
    return body


MAX_QUERY_INT = 2**31 - 1


def query_int(request: Request, name: str, *, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    span = f"{low}-{high}" if high is not None else f"at least {low}"
    try:
        value = int(raw)
    except ValueError:
        raise invalid(
            "INVALID_TYPE", f"{name} must be an integer, got '{raw}'", name, f"Use an integer {span}"
        ) from None
    if value < low or (high is not None and value > high):
        raise invalid("OUT_OF_RANGE", f"{name} must be {span}, got {value}", name, f"Use a value {span}")
    if value > MAX_QUERY_INT:  # SQLite integers are 64-bit; larger values used to end in a 500
        span = f"{low}-{MAX_QUERY_INT}"
        raise invalid("OUT_OF_RANGE", f"{name} must be {span}, got {raw[:20]}…", name, f"Use a value {span}")
    return value


def query_bool(request: Request, name: str, *, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise invalid("INVALID_TYPE", f"{name} must be true or false, got '{raw}'", name, "Use true or false")


def query_enum(
    request: Request, name: str, allowed: Iterable[str], *, default: str | None = None
) -> str | None:
    allowed = list(allowed)
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise invalid(
            "INVALID_ENUM", f"{name} must be one of the allowed values, got '{raw}'", name, one_of(allowed)
        )
    return raw


def query_required(request: Request, name: str, *, max_len: int = 255) -> str:
    raw = request.query_params.get(name)
    if not raw:
        raise invalid(
            "MISSING_REQUIRED_FIELD", f"{name} is required", name, f"Add the query parameter '{name}'"
        )
    if len(raw) > max_len:
        raise invalid(
            "OUT_OF_RANGE", f"{name} must be 1-{max_len} characters", name, f"Use 1-{max_len} characters"
        )
    return raw
