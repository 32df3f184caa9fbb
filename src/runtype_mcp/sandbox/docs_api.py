"""`GET /v1/documentation` (the step-type reference) and `GET /v1/model-configs/grouped` (the sandbox's
own model): what a model reads before it writes a flow, served offline."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runtype_mcp.step_reference import DOC_MIME, DOC_TOPIC, STEP_TYPES, reference

from .engine import SANDBOX_MODEL
from .openapi_schemas import INT, OBJ, STR, Schema, arr, obj
from .responses import Endpoint, json_response, route
from .validation import ApiError

SANDBOX_MODEL_NOTE = "Deterministic sandbox model: echoes the rendered prompt; never a real model."


def sandbox_models() -> list[dict[str, Any]]:
    """The one model the sandbox runs, in the SDK's grouped-model shape."""
    provider = {
        "provider": "sandbox",
        "providerDisplayName": "Sandbox",
        "modelId": SANDBOX_MODEL,
        "hasPlatformKey": True,
        "costPer1kTokens": 0.0,
        "inputCostPer1kTokens": 0.0,
        "outputCostPer1kTokens": 0.0,
    }
    return [
        {
            "baseModel": SANDBOX_MODEL,
            "displayName": "Sandbox echo model",
            "description": SANDBOX_MODEL_NOTE,
            "creator": "runtype-mcp",
            "creatorDisplayName": "runtype-mcp sandbox",
            "configuredConfigs": [],
            "configuredProviders": ["sandbox"],
            "contextLength": 100000.0,
            "maxOutputTokens": 100000.0,
            "isConfigured": True,
            "lowestCost": 0.0,
            "providers": [provider],
            "tags": ["sandbox", "echo"],
        }
    ]


class DocsApi:
    def routes(self) -> list[Endpoint]:
        return [
            route("/v1/documentation", self.documentation, "GET"),
            route("/v1/model-configs/grouped", self.models, "GET"),
        ]

    async def documentation(self, request: Request) -> Response:
        topic = request.query_params.get("topic") or DOC_TOPIC
        step_type = None
        if topic != DOC_TOPIC:
            step_type = topic.removeprefix(DOC_TOPIC + ":")
            if step_type not in STEP_TYPES:
                raise ApiError(
                    404,
                    f"No documentation for topic {topic!r}",
                    suggestion=f"The sandbox serves topic {DOC_TOPIC} (or {DOC_TOPIC}:<step type>)",
                )
        content = json.dumps(reference(step_type), ensure_ascii=False)
        return json_response({"content": content, "mimeType": DOC_MIME})

    async def models(self, request: Request) -> Response:
        models = sandbox_models()
        return json_response(
            {
                "data": models,
                "stats": {
                    "providersWithPlatformKeys": ["sandbox"],
                    "totalModels": len(models),
                    "uniqueBaseModels": len(models),
                },
                "total": len(models),
            }
        )


def docs_schemas() -> dict[str, Schema]:
    model = obj(
        {"baseModel": STR, "displayName": STR, "description": STR, "providers": arr(OBJ), "tags": arr(STR)},
        ("baseModel",),
    )
    return {
        "Documentation": obj({"content": STR, "mimeType": STR}, ("content",)),
        "FlowVersionDetail": obj(
            {
                "id": STR,
                "flowId": STR,
                "versionNumber": INT,
                "versionType": STR,
                "label": STR,
                "notes": {"type": ["string", "null"]},
                "createdAt": STR,
                "flowConfig": OBJ,
            },
            ("id", "flowId", "versionNumber", "versionType", "createdAt"),
        ),
        "ModelConfigsGrouped": obj(
            {"data": arr(model), "stats": OBJ, "total": INT}, ("data", "stats", "total")
        ),
    }


def docs_paths(op: Any, param: Any) -> dict[str, dict[str, Any]]:
    topic = param("topic", "query", STR, f"{DOC_TOPIC} or {DOC_TOPIC}:<step type>.")
    flow = param("flowId", "path", STR, "Flow id.")
    version = param("versionId", "path", STR, "Version id.")
    detail = "A flow version with its definition (flowConfig.steps, when included)"
    return {
        "/v1/flow-versions/{flowId}/published": {
            "get": op(
                "getPublishedFlowVersion",
                detail,
                "Flows",
                ok="FlowVersionDetail",
                errors=(401, 404),
                extra_params=(flow,),
            )
        },
        "/v1/flow-versions/{flowId}/{versionId}": {
            "get": op(
                "getFlowVersion",
                detail,
                "Flows",
                ok="FlowVersionDetail",
                errors=(401, 404),
                extra_params=(flow, version),
            )
        },
        "/v1/documentation": {
            "get": op(
                "getPlatformDocumentation",
                "Platform documentation by topic (the sandbox serves the flow step-type reference)",
                "Meta",
                ok="Documentation",
                errors=(401, 404),
                extra_params=(topic,),
            )
        },
        "/v1/model-configs/grouped": {
            "get": op(
                "getModelConfigsGrouped", "Available models", "Meta", ok="ModelConfigsGrouped", errors=(401,)
            )
        },
    }
