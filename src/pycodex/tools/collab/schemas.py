"""The parameter schemas of the `multi_agent_v1` tools (names and types are upstream's contract;
the descriptions are ours)."""

from __future__ import annotations

from typing import Any

_ITEM_FIELDS = {
    "type": "Kind of input: text, image, local_image, audio, local_audio, skill or mention.",
    "text": "The text, for a text item.",
    "image_url": "The image URL, for an image item.",
    "audio_url": "The audio data URL, for an audio item.",
    "path": "A local file path, or a mention target such as app://<connector-id>.",
    "name": "Shown name, for a skill or mention item.",
}


def _items_schema() -> dict[str, Any]:
    return {
        "type": "array",
        "description": "Structured input instead of `message` (mentions, images, files).",
        "items": {
            "type": "object",
            "properties": {
                name: {"type": "string", "description": text}
                for name, text in sorted(_ITEM_FIELDS.items())
            },
            "additionalProperties": False,
        },
    }


def spawn_agent_schema(roles: dict[str, str]) -> dict[str, Any]:
    """`roles` maps each configured `[agents.<name>]` to its description (adds `agent_type`)."""
    properties: dict[str, Any] = {
        "fork_context": {
            "type": "boolean",
            "description": "Start the new agent with a copy of this conversation; by default "
            "it sees only its task.",
        },
        "items": _items_schema(),
        "message": {
            "type": "string",
            "description": "The task for the new agent, as plain text (or use `items`).",
        },
        "model": {
            "type": "string",
            "description": "Another model for the new agent; leave out to use yours.",
        },
        "reasoning_effort": {
            "type": "string",
            "description": "Another reasoning effort for the new agent; leave out to use yours.",
        },
    }
    if roles:
        listing = "; ".join(f"{name}: {text}" if text else name for name, text in roles.items())
        properties["agent_type"] = {
            "type": "string",
            "description": f"A configured agent role to start (default, or one of: {listing}).",
        }
    return {
        "type": "object",
        "properties": dict(sorted(properties.items())),
        "additionalProperties": False,
    }


WAIT_AGENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "targets": {
            "type": "array",
            "description": "Ids of the agents to wait for; returns when any of them finishes.",
            "items": {"type": "string"},
        },
        "timeout_ms": {
            "type": "number",
            "description": "How long to wait in milliseconds: 30000 by default, at least 10000, "
            "at most 3600000. Long waits beat frequent polling.",
        },
    },
    "required": ["targets"],
    "additionalProperties": False,
}

SEND_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "interrupt": {
            "type": "boolean",
            "description": "Stop the agent's current work and handle this message now; "
            "otherwise it is handled after the current work.",
        },
        "items": _items_schema(),
        "message": {"type": "string", "description": "The message, as plain text (or `items`)."},
        "target": {"type": "string", "description": "Id of the agent (from spawn_agent)."},
    },
    "required": ["target"],
    "additionalProperties": False,
}

CLOSE_AGENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "target": {"type": "string", "description": "Id of the agent to close (from spawn_agent)."}
    },
    "required": ["target"],
    "additionalProperties": False,
}

RESUME_AGENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "string", "description": "Id of the closed agent."}},
    "required": ["id"],
    "additionalProperties": False,
}
