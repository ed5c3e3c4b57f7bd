"""Secrets never reach the stage-one model or the memory folder."""

from __future__ import annotations

import pytest

from pycodex.memories.redact import REDACTED, redact_secrets

SECRETS = [
    ("export OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx", "sk-proj-abcdefghijklmnopqrstuvwx"),
    ("key: sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"),
    ("curl -H 'Authorization: Bearer abc.def-123456789'", "abc.def-123456789"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
    ("password=hunter22 user=bob", "hunter22"),
    ('{"client_secret": "s3cr3t-value"}', "s3cr3t-value"),
    ("DB_PASSWORD: 'correct horse'", "correct horse"),
    ("mytool --api-key abc123xyz --verbose", "abc123xyz"),
    ("git clone https://bob:pa55word@example.com/r.git", "pa55word"),
    ("xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXk",
    ),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "eyJhbGciOiJIUzI1NiJ9",
    ),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_credentials_are_replaced(text: str, secret: str) -> None:
    redacted = redact_secrets(text)
    assert secret not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens: 100 and token_limit = 2000",
        "password = $DB_PASSWORD",
        "api_key=None",
        "The tokenizer splits words; see the password reset page.",
        "ran `pytest -q` in /home/user/project",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact_secrets(text) == text


def test_redaction_is_idempotent() -> None:
    once = redact_secrets("API_KEY=sk-proj-abcdefghijklmnopqrstuvwx password=abc12345")
    assert redact_secrets(once) == once
    assert once == f"API_KEY={REDACTED} password={REDACTED}"
