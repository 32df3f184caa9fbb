"""The built-in reference of flow step types: config keys, examples, what each step writes, and
the template scope and `when`/`condition` language (runtype-api.md §5).

`get_step_types` serves it when `GET /v1/documentation` does not answer; the sandbox serves the same
document there; `flow_check` validates step configs against it. `closed` types refuse unknown keys
(their keys are known); open types only warn about them.
"""

from __future__ import annotations

from typing import Any, Final

DOC_TOPIC: Final = "types-flow-steps"
DOC_MIME: Final = "application/vnd.runtype-mcp.step-types+json"

COMMON: Final[dict[str, str]] = {
    "outputVariable": "string: name later steps read as {{name}} (must not start with _)",
    "errorHandling": 'string|object: "fail" (default for most), "continue", or {onError: "continue"}',
}

_RECORD_FILTER = "object {type?, where}: the first match, newest first (where: the records filter language)"

# type -> (summary, required, optional, writes, example, closed, one_of)
_T = tuple[str, dict[str, str], dict[str, str], str, dict[str, Any], bool, tuple[str, ...]]
STEPS: Final[dict[str, _T]] = {
    "prompt": (
        "Ask a model.",
        {"userPrompt": "string: the prompt, with {{ }} variables"},
        {
            "model": "string: a model id from list_models (set it explicitly)",
            "systemPrompt": "string: system instructions",
            "responseFormat": '"text" (default) or "json" (output is an object)',
            "temperature": "number 0-2",
            "maxTokens": "integer",
            "topP": "number",
            "seed": "integer",
            "previousMessages": "array of {role, content}",
            "reasoning": "object|boolean: reasoning options",
            "tools": "object: e.g. {runtime_tools: [...]}",
            "streamOutput": "boolean",
            "text": "string: legacy alias of userPrompt",
        },
        "the model's answer (string, or object with responseFormat json) into outputVariable",
        {
            "name": "Classify",
            "type": "prompt",
            "config": {
                "model": "gpt-4o-mini",
                "userPrompt": "Classify this ticket as bug, billing or other: {{_record.metadata.body}}",
                "outputVariable": "category",
            },
        },
        True,
        (),
    ),
    "conditional": (
        "Branch: run trueSteps or falseSteps (steps of any type, nested up to 10 deep).",
        {"condition": "string: an expression (see `expressions`)"},
        {"trueSteps": "array of steps run when it is truthy", "falseSteps": "array of steps run otherwise"},
        "{result, branch} into outputVariable; the branch's steps write their own outputs",
        {
            "name": "Route",
            "type": "conditional",
            "config": {
                "condition": "Number(_record.metadata.score) > 80",
                "trueSteps": [
                    {"name": "Hot", "type": "update-record", "config": {"updates": {"tier": "hot"}}}
                ],
                "falseSteps": [
                    {"name": "Cold", "type": "update-record", "config": {"updates": {"tier": "cold"}}}
                ],
            },
        },
        True,
        (),
    ),
    "set-variable": (
        "Set a variable.",
        {"variableName": "string: the variable's name", "value": "any: templates render in strings"},
        {},
        "value into variableName",
        {
            "name": "Label",
            "type": "set-variable",
            "config": {"variableName": "label", "value": "{{_record.name}}"},
        },
        True,
        (),
    ),
    "template": (
        "Render text from variables.",
        {"template": "string: {{ }} placeholders (Liquid tags {% %} are not run by the sandbox)"},
        {
            "outputFormat": "html, email-html, markdown, pdf or text",
            "inputs": "object",
            "partials": "object",
            "pdfOptions": "object",
            "asArtifact": "boolean",
            "sampleData": "object",
            "streamOutput": "boolean",
        },
        "the rendered text into outputVariable",
        {
            "name": "Summary",
            "type": "template",
            "config": {"template": "{{_record.name}}: {{category}}", "outputVariable": "line"},
        },
        True,
        (),
    ),
    "update-record": (
        "Change a record's metadata (the run's record unless recordId or recordFilter).",
        {"updates": "object: metadata keys to set; string values render templates"},
        {
            "recordId": "string: another record",
            "recordFilter": _RECORD_FILTER,
            "mergeStrategy": "merge (default), replace or deep-merge",
        },
        "the updated record into outputVariable; the record's metadata is changed",
        {
            "name": "Save",
            "type": "update-record",
            "config": {"updates": {"category": "{{category}}"}},
        },
        True,
        (),
    ),
    "upsert-record": (
        "Create or update the record of recordType and recordName.",
        {
            "recordType": "string",
            "sourceVariable": "string: a variable holding an object of metadata",
        },
        {
            "recordName": "string: without it every run creates a new record",
            "mergeStrategy": "merge (default), replace or deep-merge",
        },
        "the record into outputVariable; the record is created or changed",
        {
            "name": "Store",
            "type": "upsert-record",
            "config": {"recordType": "summary", "recordName": "{{_record.name}}", "sourceVariable": "facts"},
        },
        True,
        (),
    ),
    "get-record": (
        "Read one record.",
        {},
        {
            "recordId": "string",
            "recordType": "string (with recordName)",
            "recordName": "string",
            "recordFilter": _RECORD_FILTER,
        },
        "the record object (or null) into outputVariable",
        {
            "name": "Account",
            "type": "get-record",
            "config": {
                "recordType": "account",
                "recordName": "{{_record.metadata.company}}",
                "outputVariable": "account",
            },
        },
        True,
        ("recordId", "recordType", "recordFilter"),
    ),
    "list-records": (
        "Read several records of a type.",
        {"recordType": "string"},
        {
            "where": "object: the records filter language",
            "recordFilter": _RECORD_FILTER,
            "limit": "integer 1-100",
        },
        "an array of records into outputVariable",
        {
            "name": "Open tickets",
            "type": "list-records",
            "config": {"recordType": "ticket", "limit": 20, "outputVariable": "tickets"},
        },
        True,
        (),
    ),
}

# Types the hosted API runs and the sandbox does not: keys known from the SDK, not closed.
_OPEN: Final[dict[str, tuple[str, str]]] = {
    "fetch-url": (
        "Fetch a URL.",
        "http {url, method, headers, body} or url, method; responseType, markdownIfAvailable",
    ),
    "api-call": ("Call an HTTP API.", "http, auth, requestTemplate, responseMapping"),
    "paginate-api": ("Fetch every page of an API.", "url, paginationType, entityPath"),
    "crawl": ("Crawl a site (pauses the run).", "url, limit, depth, formats, render"),
    "search": ("Web search.", "provider, query, maxResults, returnCitations"),
    "transform-data": (
        "Run JavaScript; its return value is the output.",
        "script, sandboxProvider, language",
    ),
    "loop": ("Repeat steps over a list.", "keys not documented: see the API's validator"),
    "wait-until": (
        "Wait or poll.",
        "delayMs, poll {http, success, intervalMs?, maxAttempts?}, continueOnTimeout",
    ),
    "retrieve-record": (
        "Deprecated: use get-record or list-records.",
        "recordType, recordName, recordFilter",
    ),
    "vector-search": ("Search embeddings.", "query, recordType, embeddingModel, limit, threshold"),
    "generate-embedding": ("Embed text.", "text or inputSource, embeddingModel, maxLength"),
    "store-vector": ("Store vectors.", "vectorsSource, destination"),
    "send-email": ("Send an email.", "from, to, subject, html"),
    "send-event": ("Send an analytics event.", "provider, eventName, properties"),
    "send-stream": ("Stream a message to the caller.", "message, or sourceVariable and streamType"),
    "tool-call": ("Call a tool.", "toolId, parameters"),
    "execute-agent": ("Run an agent.", "agentId, message, detached"),
    "store-asset": ("Store a file.", "url or content (base64), filename, contentType, visibility"),
    "generate-pdf": ("Render a PDF.", "html or markdown, filename, visibility, pdfOptions"),
    "save-memory": ("Save to memory.", "profileTemplate, contentVariable, sessionId"),
    "recall-memory": ("Recall from memory.", "queryTemplate, sessionId, defaultValue"),
    "memory-summary": ("Summarise memory.", "sessionId, thinkingLevel, responseLength"),
}

STEP_TYPES: Final[tuple[str, ...]] = (*STEPS, *_OPEN)

SCOPE: Final[dict[str, Any]] = {
    "step": "{name, type, config, when?, enabled?, order?}; when: an expression, falsy skips the step",
    "templates": "{{path}} in any string of a config. In scope: _record (id, name, type, metadata.<key>) "
    "of the run's record, the outputVariable/variableName of EARLIER steps, run inputs, {{secret:KEY}}. "
    'Paths: a.b, a[0], a.length; fallbacks {{a || "x"}}, {{a ?? "x"}}. No arithmetic in templates.',
    "expressions": "when and condition are JavaScript expressions over the same variables (no {{ }} needed): "
    "literals, paths (a.b, a?.b, a[0], a['k']), ! - + * / %, < <= > >=, == != === !==, && || ??, "
    "a ? b : c, Number() String() Boolean(), .length, .includes() .startsWith() .endsWith() "
    ".toLowerCase() .toUpperCase() .trim(). A missing path is undefined (never an error). "
    'Example: _record.metadata.tier === "gold" && Number(_record.metadata.score) > 80',
}


def step_doc(step_type: str) -> dict[str, Any]:
    """One step type's reference entry."""
    if step_type in STEPS:
        summary, required, optional, writes, example, _, one_of = STEPS[step_type]
        doc: dict[str, Any] = {
            "type": step_type,
            "summary": summary,
            "required": required,
            "optional": {**optional, **COMMON},
            "writes": writes,
            "example": example,
        }
        if one_of:
            doc["required_one_of"] = list(one_of)
        return doc
    summary, keys = _OPEN[step_type]
    return {"type": step_type, "summary": summary, "known_keys": keys, "sandbox": "not run by the sandbox"}


def reference(step_type: str | None = None) -> dict[str, Any]:
    """The whole reference, or one type's entry plus the scope section."""
    types = [step_type] if step_type else list(STEP_TYPES)
    return {"step_types": [step_doc(t) for t in types], "scope": SCOPE}


def known_keys(step_type: str) -> tuple[set[str], bool] | None:
    """(allowed config keys, closed) of a documented type; None for an unknown type."""
    if step_type in STEPS:
        _, required, optional, *_ = STEPS[step_type]
        return {*required, *optional, *COMMON}, True
    if step_type in _OPEN:
        return set(), False
    return None


def required_keys(step_type: str) -> tuple[list[str], tuple[str, ...]]:
    if step_type in STEPS:
        entry = STEPS[step_type]
        return list(entry[1]), entry[6]
    return [], ()
