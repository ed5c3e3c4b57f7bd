"""Where the memory pipeline keeps its files under `$CODEX_HOME`.

```
memories_v2/                       the memory folder (a git repository of its own)
  memory_summary.md                written by the consolidation agent, read by new sessions
  rollout_summaries/<ts>-<id4>-<slug>.md   one per mined session (stage one)
  extensions/ad_hoc/instructions.md        how to use the notes folder (seeded)
  extensions/ad_hoc/notes/         explicit "remember this" notes written during sessions
  phase2_workspace_diff.md         only while the consolidation agent runs
memories_v2.sqlite                 jobs, leases, stage-one outputs
memories_v2.lock                   held (flock) by the process running the pipeline
log/memories.log                   what background runs said
```
"""

from __future__ import annotations

from pathlib import Path

from pycodex._records import dataclass
from pycodex.context.memory_summary import (
    NOTES_DIR,
    ROLLOUT_SUMMARIES_DIR,
    SUMMARY_FILE_NAME,
    memory_root,
)

DB_FILE_NAME = "memories_v2.sqlite"
LOCK_FILE_NAME = "memories_v2.lock"
DIFF_FILE_NAME = "phase2_workspace_diff.md"
AD_HOC_INSTRUCTIONS = Path("extensions") / "ad_hoc" / "instructions.md"
LOG_FILE = Path("log") / "memories.log"


@dataclass(frozen=True)
class MemoryPaths:
    codex_home: Path
    root: Path

    @property
    def summary(self) -> Path:
        return self.root / SUMMARY_FILE_NAME

    @property
    def rollout_summaries(self) -> Path:
        return self.root / ROLLOUT_SUMMARIES_DIR

    @property
    def notes(self) -> Path:
        return self.root / NOTES_DIR

    @property
    def ad_hoc_instructions(self) -> Path:
        return self.root / AD_HOC_INSTRUCTIONS

    @property
    def diff_file(self) -> Path:
        return self.root / DIFF_FILE_NAME

    @property
    def database(self) -> Path:
        return self.codex_home / DB_FILE_NAME

    @property
    def lock(self) -> Path:
        return self.codex_home / LOCK_FILE_NAME

    @property
    def log(self) -> Path:
        return self.codex_home / LOG_FILE

    @property
    def sessions(self) -> Path:
        from pycodex.sessions.paths import sessions_root

        return sessions_root(self.codex_home)


def memory_paths(codex_home: Path) -> MemoryPaths:
    return MemoryPaths(codex_home=codex_home, root=memory_root(codex_home))
