"""The exception tree, and the one place that turns an exception into text for the model.

    RuntypeMCPError                  anything this package raises on purpose
    ├── ConfigError                  no API key (or other setup problem): nothing was sent
    ├── ArgumentError                arguments rejected locally, before any request
    ├── OperationError               a tool-level outcome the model must act on (has its own text)
    ├── TransportFailure             timeout or connection failure after the retry budget
    ├── BadResponse                  a 2xx whose body is not the JSON we need
    │   └── ResponseTooLarge         a body over RUNTYPE_MAX_RESPONSE_BYTES (not read past the cap)
    ├── DeadlineExceeded             the whole tool call ran past RUNTYPE_TOOL_TIMEOUT
    └── APIError                     Runtype answered with a non-2xx status
        ├── BadRequest               400 (details[] translated line by line)
        ├── AuthError                401 / 403
        ├── NotFound                 404
        ├── Conflict                 409 (a create carries the existing record's id)
        ├── Unprocessable            422
        ├── RateLimited              429 after the retry budget
        └── ServerError              5xx after the retry budget

Tool code raises these; it never formats errors. The server calls `render()` with the
tool's name and turns the text into a tool error (`isError: true`).
Upstream text is untrusted: it is bounded and written as a JSON string literal (`quote`), so a
quote or a newline inside it cannot end the quotation, and it is attributed to Runtype
("Runtype said: …", "Runtype suggests: …"), never written as this server's own advice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from runtype_mcp.boundary import CLOSE_MARK, OPEN_MARK, unmark

MAX_DETAILS = 8
MAX_UPSTREAM = 300

# API body keys whose tool argument has another name.
_ARG_ALIASES = {
    "flowSteps": "steps",
    "recordFilter": "filter",
    "where": "filter",
}
# Free-form objects whose next path segment is a user key, shown as ["key"].
_KEYED_OBJECTS = frozenset({"metadata", "updates", "inputs"})

# Which tool lists valid ids for each resource, and the argument that carries them.
_RESOURCES: dict[str, tuple[str, str]] = {
    "record": ("record_id", "call list_records (filter by type or name) to find valid record ids"),
    "flow": ("flow_id", "call list_flows to find valid flow ids"),
    "batch": ("batch_id", "use the batch_id returned by run_flow_on_record_type"),
    "result": ("result_id", "call get_record_results with the record_id to find valid result ids"),
    "execution": ("execution_id", "use the execution_id returned by run_flow"),
}

# How to check whether a non-idempotent call took effect before calling it again.
_VERIFY: dict[str, str] = {
    "create_record": "call list_records with the same type and name",
    "create_flow": "call list_flows with search set to the flow name",
    "run_flow_on_record_type": (
        "call list_flow_step_results with the flow_id, or get_record_results for one record of that type"
    ),
    "run_flow": "call get_record_results with the record_id",
    "upload_records_csv": "call list_records with the type to see which rows arrived",
    "bulk_delete_records": "check with list_records which of the ids still exist",
    "bulk_edit_records": "call it again with dry_run=true: the diff shows whether the change landed",
    "publish_flow": "call get_flow with the flow_id",
    "run_flow_on_records": "call get_record_results for one of the records: a started batch shows there",
    "cancel_batch": "call get_batch_status with the batch_id",
    "upsert_record": "call list_records with the same type and name",
    "upsert_records": "call list_records with the type",
}

_CODE_HINTS = {
    "MISSING_REQUIRED_FIELD": "add this argument",
    "INVALID_TYPE": "send a value of the expected type",
    "INVALID_ENUM": "use one of the allowed values",
    "OUT_OF_RANGE": "use a value inside the allowed range",
    "INVALID_FORMAT": "fix the value's format",
    "UNRECOGNIZED_KEYS": "drop the keys that are not recognised",
    "INVALID_UNION": "match one of the accepted shapes",
    "CUSTOM_VALIDATION": "change the value as the message says",
    "VALIDATION_ERROR": "change the value as the message says",
}


# C0/C1 controls and the bidi overrides/isolates (they reorder how the rest of a line reads).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: Any, limit: int = MAX_UPSTREAM) -> str:
    """Bound and de-control untrusted text so it can be quoted inside our own message."""
    value = _CONTROLS.sub(" ", str(text)).strip()
    value = re.sub(r"\s+", " ", value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


# Characters json.dumps(ensure_ascii=False) leaves raw that a reader may still take as a line break
# or a direction change: written as \u escapes too (json.loads reads them back unchanged).
_MORE_ESCAPES = {
    c: f"\\u{c:04x}"
    for c in (
        0x7F,
        0x85,
        0x2028,
        0x2029,
        *range(0x200E, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0xE000,  # the marks of upstream text (boundary.OPEN_MARK, CLOSE_MARK): never from upstream itself
        0xE001,
    )
}


def quote(text: Any, limit: int = MAX_UPSTREAM) -> str:
    """Untrusted text as one JSON string literal: bounded, on one line, impossible to close early."""
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return json.dumps(value, ensure_ascii=False).translate(_MORE_ESCAPES)


def upstream(text: Any, limit: int = MAX_UPSTREAM) -> str:
    """Text from Runtype's answer, quoted and marked: the server fences marked text off in an
    untrusted-data boundary (boundary.fence_error); `render` removes the marks."""
    return f"{OPEN_MARK}{quote(text, limit)}{CLOSE_MARK}"


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def api_path_to_arg(path: Any) -> str:
    """`recordType` -> `record_type`, `metadata.priority` -> `metadata["priority"]`, `steps.0.type` -> `steps[0].type`."""
    if path is None or path == "" or path == []:
        return "(request)"
    parts: list[Any] = list(path) if isinstance(path, list | tuple) else str(path).split(".")
    head = str(parts[0])
    out = _ARG_ALIASES.get(head) or snake(head)
    keyed = head in _KEYED_OBJECTS
    for part in parts[1:]:
        text = str(part)
        if isinstance(part, int) or text.isdigit():
            out += f"[{text}]"
        elif keyed:
            out += f'["{text}"]'
        else:
            out += f".{text}"
        keyed = False
    return out


@dataclass(frozen=True)
class Detail:
    """One problem with one argument, already in the tool's own terms."""

    path: str
    message: str
    hint: str | None = None

    def line(self) -> str:
        text = f"- {self.path}: {self.message}"
        if self.hint:
            text += f" → {self.hint}"
        return text


class RuntypeMCPError(Exception):
    """Base of everything this package raises on purpose."""


class ConfigError(RuntypeMCPError):
    pass


class ArgumentError(RuntypeMCPError):
    def __init__(self, details: list[Detail]) -> None:
        super().__init__("; ".join(d.line() for d in details))
        self.details = details


class OperationError(RuntypeMCPError):
    """A known outcome with its own model-facing text (already says what to do next)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class RequestInfo:
    method: str
    path: str
    attempts: int = 1
    resource: tuple[str, str] | None = None  # ("record", "rec_123")
    scope: str | None = None
    safe: bool | None = None  # set when the caller knows better than the method (a read-only POST)

    @property
    def idempotent(self) -> bool:
        return self.safe if self.safe is not None else self.method in {"GET", "PUT", "DELETE", "HEAD"}


class TransportFailure(RuntypeMCPError):
    def __init__(self, request: RequestInfo, reason: str, *, timeout: bool) -> None:
        super().__init__(f"{request.method} {request.path}: {reason}")
        self.request, self.reason, self.timeout = request, reason, timeout
        self.checked_absent = False  # set by create_record after a lookup by type and name


class BadResponse(RuntypeMCPError):
    """A 2xx that does not carry what we need: the request was sent. `safe`: repeating it changes
    nothing new (a read, a PUT/DELETE); `read_only`: the caller only reads (set by whoever renders it: the
    server for tools, resources and `check` themselves); unset, the text never claims nothing changed."""

    def __init__(
        self, what: str, status: int, got: str, *, safe: bool = False, expected: str = "JSON"
    ) -> None:
        super().__init__(f"{what}: HTTP {status} with {got}")
        self.what, self.status, self.got, self.safe, self.expected = what, status, got, safe, expected
        self.read_only: bool | None = None


class ResponseTooLarge(BadResponse):
    """A body over RUNTYPE_MAX_RESPONSE_BYTES: reading stopped at the cap (memory stays flat)."""

    def __init__(self, what: str, status: int, limit: int, *, safe: bool = False) -> None:
        size = f"{limit / 2**20:g} MB" if limit % 2**20 == 0 else f"{limit} bytes"
        super().__init__(what, status, f"a body over {size}", safe=safe)
        self.limit = limit


class DeadlineExceeded(RuntypeMCPError):
    def __init__(self, seconds: float, idempotent: bool) -> None:
        super().__init__(f"tool call exceeded {seconds:g} s")
        self.seconds, self.idempotent = seconds, idempotent


@dataclass
class _APIFields:
    status: int
    error: str | None = None
    code: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    retry_after: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class APIError(RuntypeMCPError):
    def __init__(self, request: RequestInfo, fields: _APIFields) -> None:
        super().__init__(f"{request.method} {request.path} -> {fields.status} {fields.code or ''}".strip())
        self.request = request
        self.status = fields.status
        self.error = fields.error
        self.code = fields.code
        self.details = fields.details
        self.retry_after = fields.retry_after
        self.extra = fields.extra
        self.checked_absent = False


class BadRequest(APIError):
    pass


class AuthError(APIError):
    pass


class NotFound(APIError):
    pass


class Conflict(APIError):
    existing_id: str | None = None
    record_type: str | None = None
    record_name: str | None = None


class Unprocessable(APIError):
    pass


class RateLimited(APIError):
    pass


class ServerError(APIError):
    pass


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _bound(text: Any, limit: int = MAX_UPSTREAM) -> str:
    """Upstream text kept as sent (it is quoted when shown), only bounded in size."""
    value = str(text).strip()
    return value if len(value) <= limit else value[:limit]


def error_from_response(request: RequestInfo, status: int, body: Any, retry_after: str | None) -> APIError:
    """The single status -> exception mapping. `body` is parsed JSON, or raw text, or None."""
    data = body if isinstance(body, dict) else {}
    raw_error = data.get("error")
    if isinstance(raw_error, dict):  # some APIs nest {error: {message, code}}
        raw_error = raw_error.get("message") or raw_error.get("code")
    if raw_error is None and isinstance(body, str) and body.strip():
        raw_error = body
    message = data.get("message")
    fields = _APIFields(
        status=status,
        error=_bound(raw_error) if raw_error else (_bound(message) if message else None),
        code=clean(data["code"], 80) if isinstance(data.get("code"), str) else None,
        details=[d for d in data.get("details") or [] if isinstance(d, dict)]
        if isinstance(data.get("details"), list)
        else [],
        retry_after=_parse_retry_after(retry_after),
        extra={k: v for k, v in data.items() if k in {"reasons", "existingRecordId", "upgradeUrl"}},
    )
    cls: type[APIError]
    if status == 400:
        cls = BadRequest
    elif status in (401, 403):
        cls = AuthError
    elif status == 404:
        cls = NotFound
    elif status == 409:
        cls = Conflict
    elif status == 422:
        cls = Unprocessable
    elif status == 429:
        cls = RateLimited
    elif status >= 500:
        cls = ServerError
    else:
        cls = APIError
    return cls(request, fields)


# ---------------------------------------------------------------- rendering


# An argument path as this module writes it: name, .field, [0], ["key"] (keys bounded, one line).
_PLAIN_ARG = re.compile(
    r'\(request\)|[A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+|\[\d+\]|\["[^"\[\]\x00-\x1f]{0,80}"\])*'
)


def shown_path(path: str) -> str:
    """An argument path as written, or quoted when it carries text that is not a plain path."""
    return path if _PLAIN_ARG.fullmatch(path) else quote(path, 80)


def _detail_from_api(raw: dict[str, Any]) -> Detail:
    """One upstream detail: its message and suggestion quoted and attributed, hints of our own plain."""
    code = str(raw.get("code") or "")
    message = upstream(raw.get("message") or code or "invalid value", 200)
    suggestion = raw.get("suggestion")
    hint = f"Runtype suggests: {upstream(suggestion, 240)}" if suggestion else _CODE_HINTS.get(code)
    if code == "INVALID_ENUM" and not suggestion:
        options = raw.get("options") or raw.get("expected") or raw.get("allowed")
        if isinstance(options, list):
            hint = "use one of: " + ", ".join(upstream(o, 40) for o in options[:40])
    if code == "UNRECOGNIZED_KEYS" and not suggestion:
        keys = raw.get("keys")
        if isinstance(keys, list):
            hint = "drop " + ", ".join(upstream(k, 40) for k in keys[:20])
    raw_path = raw.get("path")
    path = api_path_to_arg(raw_path)
    if not _PLAIN_ARG.fullmatch(path):  # upstream text, not an argument path: quote it as sent
        path = upstream(".".join(map(str, raw_path)) if isinstance(raw_path, list | tuple) else raw_path, 80)
    return Detail(path, message, hint)


def _detail_block(details: list[Detail], tool: str, what: str) -> str:
    shown = details[:MAX_DETAILS]
    lines = [f"{tool}: {what}"]
    lines += [d.line() for d in shown]
    if len(details) > len(shown):
        lines.append(f"- (and {len(details) - len(shown)} more problems of the same kind)")
    lines.append(f"Fix these arguments and call {tool} again.")
    return "\n".join(lines)


def _quoted(text: str | None) -> str:
    return f" Runtype said: {upstream(text)}." if text else ""


def _when(seconds: float) -> str:
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    return f"{seconds:.0f} s (around {at:%H:%M:%S} UTC)"


def _unsure(tool: str, idempotent: bool, checked_absent: bool) -> str:
    if idempotent:
        return "Nothing was left half-done: this call is safe to repeat in a minute."
    if checked_absent:
        return f"A lookup showed the change did not happen, so it is safe to call {tool} again."
    check = _VERIFY.get(tool, "read the object back with the matching get_/list_ tool")
    return f"The change may or may not have happened. Do not repeat {tool} blindly: first {check}."


MAX_PARTIAL_IDS = 300
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,120}")  # ids shown bare; anything else is quoted


def partial_bulk_text(tool: str, done_ids: list[str], remaining_count: int, cause_text: str) -> str:
    """A bulk operation that failed part-way: exactly what was done, what was not, and the cause.

    Chunks run in the order the ids were given, so the unprocessed ids are the last ones.
    """
    shown = [i if _PLAIN_ID.fullmatch(i) else quote(i, 120) for i in done_ids[:MAX_PARTIAL_IDS]]
    more = f" (and {len(done_ids) - len(shown)} more)" if len(done_ids) > len(shown) else ""
    return (
        f"{tool} stopped part-way. Done for {len(done_ids)} ids: {', '.join(shown) or 'none'}{more}.\n"
        f"Not done: the last {remaining_count} of the ids you gave (in order, duplicates removed); "
        "the request that failed may or may not have taken effect.\n"
        f"Cause: {cause_text}\n"
        f"To finish, call {tool} again with the ids not done; ids already gone are reported as not found, "
        "which is harmless."
    )


def render(exc: BaseException, tool: str) -> str:
    """The model-facing text for an anticipated failure in `tool`, without upstream marks."""
    return unmark(render_marked(exc, tool))


def render_marked(exc: BaseException, tool: str) -> str:
    """`render`, with Runtype's own text marked for the untrusted-data boundary (server.call_tool)."""
    if isinstance(exc, OperationError):
        return exc.text
    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, ArgumentError):
        return _detail_block(exc.details, tool, "invalid arguments (nothing was sent to Runtype).")
    if isinstance(exc, TransportFailure):
        what = "did not answer in time" if exc.timeout else f"could not be reached ({clean(exc.reason, 160)})"
        tries = f" after {exc.request.attempts} attempts" if exc.request.attempts > 1 else ""
        return (
            f"{tool} failed: Runtype {what}{tries}. "
            + _unsure(tool, exc.request.idempotent, exc.checked_absent)
            + " If it keeps failing, check RUNTYPE_BASE_URL and the network, or raise RUNTYPE_TIMEOUT."
        )
    if isinstance(exc, DeadlineExceeded):
        return (
            f"{tool} was stopped after {exc.seconds:g} s (the per-call limit, RUNTYPE_TOOL_TIMEOUT). "
            + _unsure(tool, exc.idempotent, False)
            + " For long work use the asynchronous options (run_flow with wait=false, batches)."
        )
    if isinstance(exc, ResponseTooLarge):
        after = (
            "Nothing was changed (this call only reads). Ask for less (a smaller limit, or a type or filter "
            "that matches fewer records), or raise"
            if exc.safe
            else "The request was sent, so the change may have happened: read the object back with the "
            "matching get_/list_ tool before calling again. If answers this large are expected, raise"
        )
        return (
            f"{tool}: Runtype's answer ({exc.what}) was too large ({exc.got}, the RUNTYPE_MAX_RESPONSE_BYTES "
            f"limit), so it was not read. {after} RUNTYPE_MAX_RESPONSE_BYTES in the server's environment."
        )
    if isinstance(exc, BadResponse):
        return _render_bad_response(exc, tool)
    if isinstance(exc, APIError):
        return _render_api(exc, tool)
    return f"{tool} failed: {clean(exc)}"


_NOT_THE_API = (
    "If it persists, something between here and Runtype (a proxy, or a wrong RUNTYPE_BASE_URL) "
    "is answering instead of the API."
)


def _render_bad_response(exc: BadResponse, tool: str) -> str:
    head = f"{tool}: Runtype answered {exc.status} but sent {exc.got} instead of the expected {exc.expected} ({exc.what})."
    if exc.read_only:  # unknown counts as a write: never claim "nothing was changed" unless known
        return f"{head} Nothing was changed (this call only reads): it is safe to repeat in a minute. {_NOT_THE_API}"
    if exc.safe:
        return (
            f"{head} The request was sent, so the change may have happened; repeating {tool} is safe (it sets "
            f"the same state again), or first read the object back with the matching get_ tool. {_NOT_THE_API}"
        )
    check = _VERIFY.get(tool, "read the object back with the matching get_/list_ tool")
    return (
        f"{head} The request was sent, so the change may have happened. Do not repeat {tool} blindly: "
        f"first {check}. {_NOT_THE_API}"
    )


# An error code shown bare (it reads as Runtype's code); anything else is upstream text and quoted.
_PLAIN_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,80}")


def _render_api(exc: APIError, tool: str) -> str:
    code = (
        "" if not exc.code else f" {exc.code if _PLAIN_CODE.fullmatch(exc.code) else upstream(exc.code, 80)}"
    )
    if isinstance(exc, BadRequest) and exc.details:
        details = [_detail_from_api(d) for d in exc.details]
        return _detail_block(details, tool, "Runtype rejected the arguments (nothing was changed).")
    if isinstance(exc, BadRequest):
        return f"{tool}: Runtype rejected the request (400{code}).{_quoted(exc.error)} Nothing was changed; fix the arguments and call {tool} again."
    if isinstance(exc, AuthError) and exc.status == 401:
        return (
            f"{tool}: Runtype rejected the API key (401): it is missing, malformed or revoked. "
            "Set a valid key in RUNTYPE_API_KEY in this server's environment (the env block of the MCP client "
            "config), then restart the server. Or start the server with --sandbox to use offline demo data."
        )
    if isinstance(exc, AuthError):
        need = "an Enterprise (BYOC) plan" if exc.code == "BYOC_PLAN_REQUIRED" else None
        scope = f"the {exc.request.scope} scope" if exc.request.scope else "the needed scope"
        lack = need or scope
        return (
            f"{tool}: the API key is valid but not allowed to do this (403{code}).{_quoted(exc.error)} "
            f"It needs {lack}. Use a key that has it (set RUNTYPE_API_KEY and restart), or ask the user; "
            "retrying with the same key will fail the same way."
        )
    if isinstance(exc, NotFound):
        if exc.request.resource:
            kind, ident = exc.request.resource
            arg, how = _RESOURCES.get(kind, (f"{kind}_id", "check the id"))
            return (
                f"{tool}: no {kind} with {arg}={quote(ident, 120)} was found (or it is not visible to this API key). "
                f"{how[0].upper() + how[1:]}, then call {tool} again."
            )
        return f"{tool}: Runtype answered 404 Not Found.{_quoted(exc.error)} Check the ids you passed."
    if isinstance(exc, Conflict):
        if isinstance(exc.existing_id, str):
            return (
                f"{tool}: a record with type {quote(exc.record_type, 120)} and name {quote(exc.record_name, 120)} "
                f"already exists (record_id={quote(exc.existing_id, 120)}); nothing was created. To change it, call "
                f"update_record with record_id={quote(exc.existing_id, 120)}; to add a new record instead, use a "
                "different name."
            )
        return (
            f"{tool}: conflict (409{code}).{_quoted(exc.error)} Nothing was changed. "
            f"Check the current state with the matching get_/list_ tool, then call {tool} again with values "
            "that do not clash (a record's type and name must be unique)."
        )
    if isinstance(exc, Unprocessable):
        lines = [f"{tool}: Runtype could not apply this (422{code}).{_quoted(exc.error)}"]
        lines += [_detail_from_api(d).line() for d in exc.details[:MAX_DETAILS]]
        reasons = exc.extra.get("reasons")
        if isinstance(reasons, list):
            lines += [f"- Runtype said: {upstream(r, 200)}" for r in reasons[:MAX_DETAILS]]
        lines.append(
            f"Nothing was changed. Fix the arguments (or the collection schema) and call {tool} again."
        )
        return "\n".join(lines)
    if isinstance(exc, RateLimited):
        wait = _when(exc.retry_after) if exc.retry_after is not None else "a minute"
        slow = (
            " The account is in slow mode (free-plan execution limit reached): runs are limited per hour."
            if exc.code and "SLOW_MODE" in exc.code
            else ""
        )
        tries = f" after {exc.request.attempts} attempts" if exc.request.attempts > 1 else ""
        return (
            f"{tool}: Runtype is rate limiting this API key (429{code}){tries}.{slow} "
            f"Nothing was changed by this call. Call {tool} again after {wait}; meanwhile do other work."
        )
    if isinstance(exc, ServerError):
        tries = f" after {exc.request.attempts} attempts" if exc.request.attempts > 1 else ""
        return (
            f"{tool}: Runtype had a server error ({exc.status}{code}){tries}.{_quoted(exc.error)} "
            + _unsure(tool, exc.request.idempotent, exc.checked_absent)
        )
    return (
        f"{tool}: Runtype answered {exc.status}{code}.{_quoted(exc.error)} Check the arguments and try again."
    )
