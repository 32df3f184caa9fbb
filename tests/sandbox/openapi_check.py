"""Checks every sandbox response against the sandbox's own OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import httpx2
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from runtype_mcp.sandbox import engine
from runtype_mcp.sandbox.openapi import build_openapi

DOC_URI = "urn:sandbox-openapi"
UNDOCUMENTED = (401, 429, 500, 502, 503)  # auth, faults and crashes are checked by their own tests


class OpenApiChecker:
    def __init__(self) -> None:
        self.doc = build_openapi(tuple(engine.STEP_TYPES))
        self.registry: Registry[Any] = Registry().with_resource(
            DOC_URI, Resource.from_contents(self.doc, default_specification=DRAFT202012)
        )
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in self.doc["paths"]
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        candidates = [template for pattern, template in self.routes if pattern.match(path)]
        # a fixed segment (/v1/records/export) wins over a parameter (/v1/records/{id})
        for template in sorted(candidates, key=lambda t: t.count("{")):
            operation = self.doc["paths"][template].get(method)
            if operation is not None:
                return template, operation
        return None

    async def __call__(self, response: httpx2.Response) -> None:
        await response.aread()
        path, method, status = (
            response.request.url.path,
            response.request.method.lower(),
            response.status_code,
        )
        if path.startswith("/_sandbox/") or status in UNDOCUMENTED or method == "head":
            return
        found = self.operation(method, path)
        if found is None:
            assert status in (404, 405), f"{method.upper()} {path} answered {status} but is not documented"
            return
        template, operation = found
        spec = operation["responses"].get(str(status))
        assert spec is not None, f"{method.upper()} {template}: status {status} is not documented"
        schema = spec.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or not response.headers.get("content-type", "").startswith("application/json"):
            return
        pointer = "/".join(
            part.replace("~", "~0").replace("/", "~1")
            for part in (
                "paths",
                template,
                method,
                "responses",
                str(status),
                "content",
                "application/json",
                "schema",
            )
        )
        target = {"$ref": f"{DOC_URI}#/{pointer}"}
        errors = sorted(
            Draft202012Validator(target, registry=self.registry).iter_errors(response.json()), key=str
        )
        assert not errors, (
            f"{method.upper()} {template} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"
        )
