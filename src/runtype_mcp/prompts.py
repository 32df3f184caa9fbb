"""Loads prompts/*.md (TOML front matter between +++ lines, then a template) into MCP prompts.

Placeholders are `{{argument}}`; any other `{{...}}` (Runtype template syntax inside the text)
is left as written.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument

_FRONT = re.compile(r"\A\+\+\+\n(.*?)\n\+\+\+\n(.*)\Z", re.S)


@dataclass(frozen=True)
class PromptFile:
    name: str
    title: str | None
    description: str
    arguments: list[PromptArgument]
    template: str

    def render(self, **values: Any) -> str:
        names = {a.name for a in self.arguments}

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in names:
                return match.group(0)
            value = values.get(key)
            return str(value) if value not in (None, "") else "(not given)"

        return re.sub(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}", fill, self.template).strip()


def prompts_dir() -> Path:
    shipped = Path(str(files("runtype_mcp"))) / "prompts"
    return shipped if shipped.is_dir() else Path(__file__).resolve().parents[2] / "prompts"


def load_prompts(directory: Path | None = None) -> list[PromptFile]:
    out: list[PromptFile] = []
    for path in sorted((directory or prompts_dir()).glob("*.md")):
        match = _FRONT.match(path.read_text(encoding="utf-8"))
        if not match:
            raise ValueError(f"{path.name}: missing +++ front matter")
        meta = tomllib.loads(match.group(1))
        out.append(
            PromptFile(
                name=meta["name"],
                title=meta.get("title"),
                description=meta["description"],
                arguments=[PromptArgument(**arg) for arg in meta.get("arguments", [])],
                template=match.group(2),
            )
        )
    return out


def register_prompts(server: MCPServer[Any]) -> None:
    for prompt in load_prompts():
        server.add_prompt(
            Prompt(
                name=prompt.name,
                title=prompt.title,
                description=prompt.description,
                arguments=prompt.arguments,
                fn=prompt.render,
            )
        )
