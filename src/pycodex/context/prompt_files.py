"""The packaged prompt texts under `context/prompts/`, and user files read without crashing.

Prompts live in Markdown files rather than Python strings so they can be read, diffed and reviewed
as prose. Names are relative to the `prompts/` directory, e.g. `"collaboration/plan.md"`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS_DIR = "prompts"
DEFAULT_BASE_INSTRUCTIONS = "base_instructions.md"
# Package data sits next to the modules (pycodex is never imported from a zip archive);
# importlib.resources would cost ~20 ms of start-up to find the same files.
_PROMPTS = Path(__file__).with_name(PROMPTS_DIR)


@cache
def read_prompt(name: str) -> str:
    """The text of a packaged prompt file, without its trailing newline.

    Cached: the files are part of the installed package and never change while it runs.
    """
    if name.startswith(("/", "\\")) or ".." in Path(name).parts:
        raise ValueError(f"prompt name must stay inside {PROMPTS_DIR}/: {name!r}")
    return _PROMPTS.joinpath(*Path(name).parts).read_text(encoding="utf-8").rstrip("\n")


def prompt_exists(name: str) -> bool:
    if name.startswith(("/", "\\")) or ".." in Path(name).parts:
        return False
    return _PROMPTS.joinpath(*Path(name).parts).is_file()


def default_base_instructions() -> str:
    return read_prompt(DEFAULT_BASE_INSTRUCTIONS)


def read_text_lenient(path: Path, what: str) -> tuple[bytes | None, str | None]:
    """The bytes of `path`, or None and a warning naming the file when it cannot be read.

    `what` says what the file is for ("AGENTS.md", "skill") so the warning explains itself.
    """
    try:
        return path.read_bytes(), None
    except OSError as err:
        reason = err.strerror or type(err).__name__
        return None, f"could not read {what} file {path}: {reason}"


def decode_lenient(data: bytes) -> str:
    """UTF-8 text; bytes that are not UTF-8 become U+FFFD instead of failing the whole file."""
    return data.decode("utf-8", errors="replace")


def resolve_base_instructions(
    *,
    configured_text: str | None,
    configured_file: Path | None,
    catalog_file: str | None,
) -> tuple[str, list[str]]:
    """The base instructions and any warnings, by precedence.

    Config `base_instructions` (text) wins, then config `model_instructions_file`, then the prompt
    the model's catalog entry names (a packaged prompt name, or an absolute path from the user's
    catalog), then our default. A file that cannot be read falls through to the next choice.
    """
    warnings: list[str] = []
    if configured_text is not None:
        return configured_text, warnings
    if configured_file is not None:
        data, warning = read_text_lenient(configured_file, "model_instructions_file")
        if data is not None:
            return decode_lenient(data), warnings
        warnings.append(f"{warning}; using the default instructions")
    if catalog_file is not None:
        if Path(catalog_file).is_absolute():
            data, warning = read_text_lenient(Path(catalog_file), "model instructions")
            if data is not None:
                return decode_lenient(data), warnings
            warnings.append(f"{warning}; using the default instructions")
        elif prompt_exists(catalog_file):
            return read_prompt(catalog_file), warnings
        else:
            warnings.append(f"model catalog names an unknown prompt file {catalog_file!r}")
    return default_base_instructions(), warnings


def xml_text(text: str) -> str:
    """`text` escaped for an XML element body (what xml.sax.saxutils.escape does)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attribute(value: str) -> str:
    """`value` as a quoted XML attribute value (what xml.sax.saxutils.quoteattr does).

    Written here because importing xml.sax pulls in urllib and email: ~30 ms of start-up.
    """
    escaped = xml_text(value).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in escaped:
        return f'"{escaped}"'
    if "'" not in escaped:
        return f"'{escaped}'"
    return '"{}"'.format(escaped.replace('"', "&quot;"))
