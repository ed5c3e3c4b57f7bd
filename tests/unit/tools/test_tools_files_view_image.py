"""view_image through the registry: images become `input_image` items; other files are refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from pycodex.protocol.items import FunctionCall, FunctionCallOutput, ResponseItem
from pycodex.protocol.policies import SandboxPolicy
from pycodex.tools.base import ToolContext, ToolOutput
from pycodex.tools.builtin.view_image import MAX_IMAGE_BYTES, ViewImageTool
from pycodex.tools.registry import ToolRegistry, dispatch


async def view(cwd: Path, path: str) -> tuple[ResponseItem, ToolOutput]:
    context = ToolContext(
        call_id="call-1", turn_id="turn-1", cwd=cwd, sandbox_policy=SandboxPolicy.read_only()
    )
    call = FunctionCall(name="view_image", arguments=json.dumps({"path": path}), call_id="call-1")
    return await dispatch(ToolRegistry([ViewImageTool()]), call, context)


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
async def test_images_are_attached_as_data_urls(tmp_path: Path, content: bytes, mime: str) -> None:
    # The name says nothing: the type comes from the leading bytes.
    (tmp_path / "picture.dat").write_bytes(content)
    item, output = await view(tmp_path, "picture.dat")
    url = f"data:{mime};base64,{base64.b64encode(content).decode()}"
    image = {"type": "input_image", "image_url": url}
    text = f"attached image {tmp_path / 'picture.dat'}"
    assert output == ToolOutput(text, content_items=(image,))
    assert item == FunctionCallOutput(
        call_id="call-1", output=[{"type": "input_text", "text": text}, image]
    )


async def test_refusals(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not really a picture")
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.truncate(MAX_IMAGE_BYTES + 1)  # sparse: cheap to make
    cases = {
        "notes.png": f"{tmp_path / 'notes.png'} is not a PNG, JPEG, GIF or WebP image",
        "missing.png": f"image not found: {tmp_path / 'missing.png'}",
        ".": f"{tmp_path} is a directory, not an image",
        "huge.png": f"{huge} is 20.0 MB, over the 20 MB limit (resizing is not available); "
        "attach a smaller image",
    }
    for path, message in cases.items():
        _item, output = await view(tmp_path, path)
        assert output == ToolOutput(message, success=False)
