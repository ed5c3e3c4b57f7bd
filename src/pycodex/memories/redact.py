"""Removing secrets from text before it goes to a model or into the memory folder.

Stage one sends an old conversation to the model and writes what comes back to disk; both
pass through `redact_secrets`. It replaces what looks like a credential with `[REDACTED_SECRET]`:

- private key blocks (`-----BEGIN ... PRIVATE KEY-----` to the matching END line);
- tokens with a well-known shape: OpenAI and Anthropic keys (`sk-...`), GitHub (`ghp_`,
  `github_pat_`...), GitLab (`glpat-`), Slack (`xox.-`), AWS access key ids (`AKIA...`),
  Google API keys (`AIza...`), Stripe (`sk_live_`...), JWTs;
- the credential of an `Authorization:` header or a `Bearer`/`Basic` token;
- credentials in URLs (`https://user:password@host`);
- the value of an assignment whose name says secret: `password=...`, `API_KEY: ...`,
  `"client_secret": "..."`, `--token ...` and the like.

It errs toward removing too much: a memory never needs the secret itself.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED_SECRET]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_TOKEN_SHAPES = re.compile(
    r"\b(?:"
    r"sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|npm_[A-Za-z0-9]{36}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
    r")"
)
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/\-]{8,}=*")
_AUTH_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)[^\s\"',}]+(?:\s+[^\s\"',}]+)?"
)
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.\-]*://[^/\s:@\"']+):[^@\s\"'/]+@")
# A name that says "secret" (API_KEY, db_password, clientSecret, x-api-key, access_token...),
# then `=`, `:` or whitespace after a `--flag`, then the value (quoted or bare).
_SECRET_NAME = (
    r"[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_\-]?key|apikey|"
    r"access[_\-]?key|private[_\-]?key|credentials?|auth[_\-]?key)[A-Za-z0-9_.\-]*"
)
_ASSIGNMENT = re.compile(
    rf"(?i)(?P<name>[\"']?\b{_SECRET_NAME}[\"']?\s*(?::|=|:=|=>)\s*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"',;}{)\[\]]+)"
)
_FLAG = re.compile(rf"(?i)(?P<name>--{_SECRET_NAME}[= ])(?P<value>[^\s\"']+)")


def redact_secrets(text: str) -> str:
    text = _PRIVATE_KEY.sub(REDACTED, text)
    text = _URL_CREDENTIALS.sub(rf"\1:{REDACTED}@", text)
    text = _AUTH_HEADER.sub(rf"\1{REDACTED}", text)
    text = _AUTH_SCHEME.sub(rf"\1 {REDACTED}", text)
    text = _TOKEN_SHAPES.sub(REDACTED, text)
    text = _ASSIGNMENT.sub(_keep_name, text)
    return _FLAG.sub(_keep_name, text)


def _keep_name(match: re.Match[str]) -> str:
    value = match.group("value")
    if value == REDACTED or value.strip("\"'") in ("", REDACTED) or _looks_like_reference(value):
        return match.group(0)
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match.group('name')}{quote}{REDACTED}{quote}"


def _looks_like_reference(value: str) -> bool:
    """`password=$DB_PASSWORD`, `token: ${{ secrets.X }}`, `api_key=None`, `max_tokens=100`:
    not a secret."""
    bare = value.strip("\"'")
    if bare.replace(".", "", 1).isdigit():
        return True  # `max_tokens: 100`: a number, not a credential
    return bare.startswith(("$", "%", "<", "{{", "os.environ", "env.", "process.env")) or bare in (
        "None",
        "null",
        "true",
        "false",
        "***",
    )
