"""Turning submitted user input into the user message the model sees."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from pycodex.protocol.items import Message, user_message
from pycodex.protocol.ops import ImageInput, ImageUrlInput, InputItem, TextInput


def user_input_item(items: Sequence[InputItem]) -> Message:
    texts = [item.text for item in items if isinstance(item, TextInput)]
    images = [
        image_data_url(item) if isinstance(item, ImageInput) else item.url
        for item in items
        if isinstance(item, ImageInput | ImageUrlInput)
    ]
    return user_message("\n".join(texts), images)


def image_data_url(item: ImageInput) -> str:
    import mimetypes  # only for image inputs

    mime = mimetypes.guess_type(item.path.name)[0] or "application/octet-stream"
    data = base64.b64encode(item.path.read_bytes()).decode("ascii")
    return f"data:{mime};base64,{data}"
