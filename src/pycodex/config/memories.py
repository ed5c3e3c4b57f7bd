"""`[memories]`: how past sessions are mined into a memory summary (see docs/memories.md).

```toml
[features]
memories = true                 # the whole pipeline; off by default

[memories]
generate_memories = true        # false: new sessions are marked never to be mined
use_memories = true             # false: the summary is not given to new sessions
extract_model = "gpt-5.1-mini"  # stage one; default: the session's model
consolidation_model = "gpt-5.1" # the consolidation agent; default: the session's model
max_rollouts_per_startup = 2
max_rollout_age_days = 10       # 0..90
min_rollout_idle_hours = 6      # 1..48
max_raw_memories_for_consolidation = 256
```

Keys upstream reads that pycodex accepts without acting on them are listed in
`ACCEPTED_KEYS`; any other key under `[memories]` gets one warning (`config/schema.py`).
"""

from __future__ import annotations

from pycodex._records import dataclass
from pycodex.config.coerce import Reader

FEATURE = "memories"
DEFAULT_MAX_ROLLOUTS_PER_STARTUP = 2
DEFAULT_MAX_ROLLOUT_AGE_DAYS = 10
DEFAULT_MIN_ROLLOUT_IDLE_HOURS = 6
DEFAULT_MAX_RAW_MEMORIES = 256
AGE_DAYS_RANGE = (0, 90)
IDLE_HOURS_RANGE = (1, 48)

# Keys pycodex reads.
HANDLED_KEYS = frozenset(
    {
        "generate_memories",
        "use_memories",
        "extract_model",
        "consolidation_model",
        "max_rollouts_per_startup",
        "max_rollout_age_days",
        "min_rollout_idle_hours",
        "max_raw_memories_for_consolidation",
    }
)
# Upstream keys with no effect here (rate limits of ChatGPT accounts, memory MCP tools, the
# v1 layout, usage-based pruning); accepted silently so an upstream config starts cleanly.
ACCEPTED_KEYS = frozenset(
    {
        "consolidation_service_tier",
        "max_unused_days",
        "min_rate_limit_remaining_percent",
        "dedicated_tools",
        "disable_on_external_context",
        "dual_write",
    }
)


@dataclass(frozen=True)
class MemoriesConfig:
    generate_memories: bool = True
    use_memories: bool = True
    extract_model: str | None = None
    consolidation_model: str | None = None
    max_rollouts_per_startup: int = DEFAULT_MAX_ROLLOUTS_PER_STARTUP
    max_rollout_age_days: int = DEFAULT_MAX_ROLLOUT_AGE_DAYS
    min_rollout_idle_hours: int = DEFAULT_MIN_ROLLOUT_IDLE_HOURS
    max_raw_memories_for_consolidation: int = DEFAULT_MAX_RAW_MEMORIES


def read_memories(reader: Reader) -> MemoriesConfig:
    at = ("memories",)
    reader.table(at)

    def number(key: str, default: int, bounds: tuple[int, int] | None = None) -> int:
        value = reader.integer((*at, key))
        if value is None:
            return default
        if bounds is None:
            if value < 0:
                raise reader.error((*at, key), "expected a number of at least 0")
            return value
        low, high = bounds
        return min(max(value, low), high)

    def flag(key: str) -> bool:
        value = reader.boolean((*at, key))
        return True if value is None else value

    return MemoriesConfig(
        generate_memories=flag("generate_memories"),
        use_memories=flag("use_memories"),
        extract_model=reader.string((*at, "extract_model")) or None,
        consolidation_model=reader.string((*at, "consolidation_model")) or None,
        max_rollouts_per_startup=number(
            "max_rollouts_per_startup", DEFAULT_MAX_ROLLOUTS_PER_STARTUP
        ),
        max_rollout_age_days=number(
            "max_rollout_age_days", DEFAULT_MAX_ROLLOUT_AGE_DAYS, AGE_DAYS_RANGE
        ),
        min_rollout_idle_hours=number(
            "min_rollout_idle_hours", DEFAULT_MIN_ROLLOUT_IDLE_HOURS, IDLE_HOURS_RANGE
        ),
        max_raw_memories_for_consolidation=number(
            "max_raw_memories_for_consolidation", DEFAULT_MAX_RAW_MEMORIES
        ),
    )
