"""model/list: the configured model and the entries of pycodex's model catalog.

The catalog (`context/models.json`, overlaid with `$CODEX_HOME/models.json`) describes model
families by name prefix; each entry is listed under its prefix, which is also a usable model
name for the families that have one (`gpt-5`, `o3`...). The configured model comes first and is
the default. Nothing is fetched: like upstream, the listing does not ask the provider.
"""

from __future__ import annotations

from typing import Any

from pycodex.config import Config
from pycodex.context.model_catalog import load_catalog

_EFFORT_TEXT = {
    "low": "Fast answers with light reasoning",
    "medium": "Balances speed and reasoning depth",
    "high": "Reasons longer on hard problems",
}


def catalog_models(config: Config, include_hidden: bool) -> list[dict[str, Any]]:
    catalog, _warnings = load_catalog(config.codex_home)
    slugs = list(dict.fromkeys([config.model, *catalog.entries]))
    models = []
    for slug in slugs:
        fields, known = catalog.lookup(slug)
        models.append(_model(slug, fields, known, is_default=slug == config.model))
    return [m for m in models if include_hidden or not m["hidden"]]


def _model(slug: str, fields: dict[str, Any], known: bool, *, is_default: bool) -> dict[str, Any]:
    reasoning = bool(fields.get("supports_reasoning"))
    efforts = list(_EFFORT_TEXT) if reasoning else []
    window = fields.get("context_window")
    where = "configured model" if is_default else "model catalog entry"
    details = f"{window}-token context window" if known or is_default else "not in the catalog"
    return {
        "id": slug,
        "model": slug,
        "displayName": slug,
        "description": f"{where}; {details}",
        "hidden": False,
        "isDefault": is_default,
        "defaultReasoningEffort": fields.get("default_reasoning_effort")
        or ("medium" if reasoning else "none"),
        "supportedReasoningEfforts": [
            {"reasoningEffort": effort, "description": _EFFORT_TEXT[effort]} for effort in efforts
        ],
        "inputModalities": ["text", "image"],
        "supportsPersonality": False,
    }
