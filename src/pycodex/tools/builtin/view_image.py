"""The `view_image` tool: attach a local image to the conversation so the model can look at it.

The image travels as an `input_image` content item holding a base64 `data:` URL. Its type comes
from the file's leading bytes, not its name: PNG, JPEG, GIF and WebP are accepted, anything else
is refused. Upstream Codex shrinks very large images before sending them; doing so needs an
imaging library (Pillow), which is not a dependency here, so files over `MAX_IMAGE_BYTES` are
refused with a message instead.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from typing import Any

from pycodex._records import dataclass
from pycodex.tools.base import BaseTool, ToolContext, ToolError, ToolOutput

MAX_IMAGE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ViewImageArgs:
    path: str


VIEW_IMAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "path": {
            "type": "string",
            "description": "Local path of the image file; relative paths start at the cwd.",
        },
    },
    "required": ["path"],
}


class ViewImageTool(BaseTool[ViewImageArgs]):
    name = "view_image"
    description = (
        "Attach a local image file (PNG, JPEG, GIF or WebP) to the conversation so you can see "
        "it, e.g. a screenshot or a rendered chart."
    )
    input_schema = VIEW_IMAGE_SCHEMA
    args_type = ViewImageArgs
    read_only = True

    async def run(self, context: ToolContext, args: ViewImageArgs) -> ToolOutput:
        # Imported here: the spec is needed at start-up, the file tools' module and base64 are not.
        import base64

        from pycodex.tools.builtin.read_file import resolve_tool_path

        path = resolve_tool_path(context.cwd, args.path)
        data = await asyncio.to_thread(_read_image_bytes, path)
        mime = image_mime_type(data)
        if mime is None:
            raise ToolError(f"{path} is not a PNG, JPEG, GIF or WebP image")
        url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        return ToolOutput(
            text=f"attached image {path}",
            content_items=({"type": "input_image", "image_url": url},),
        )


def image_mime_type(data: bytes) -> str | None:
    """The MIME type named by an image's magic bytes, or None when it is not a supported type."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _read_image_bytes(path: Path) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ToolError(f"image not found: {path}") from None
    except OSError as err:
        raise ToolError(f"cannot read {path}: {err.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{path} is a directory, not an image")
    if not stat.S_ISREG(info.st_mode):
        raise ToolError(f"{path} is not a regular file")
    if info.st_size > MAX_IMAGE_BYTES:
        megabytes = info.st_size / (1024 * 1024)
        raise ToolError(
            f"{path} is {megabytes:.1f} MB, over the {MAX_IMAGE_BYTES // (1024 * 1024)} MB limit "
            "(resizing is not available); attach a smaller image"
        )
    try:
        return path.read_bytes()
    except OSError as err:
        raise ToolError(f"cannot read {path}: {err.strerror}") from None
