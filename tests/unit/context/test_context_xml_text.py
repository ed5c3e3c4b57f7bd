"""The context's own XML escaping matches xml.sax.saxutils, which it avoids importing."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pytest

from pycodex.context.prompt_files import xml_attribute, xml_text

SAMPLES = ["plain", "", 'say "hi"', "it's", "both \" and '", "a<b>&c", "line\nbreak\ttab\rcr"]


@pytest.mark.parametrize("text", SAMPLES)
def test_escaping_matches_the_standard_library(text: str) -> None:
    assert xml_text(text) == escape(text)
    assert xml_attribute(text) == quoteattr(text)
