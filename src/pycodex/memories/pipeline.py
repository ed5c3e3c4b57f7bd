"""One run of the memory pipeline: stage one for the sessions it claims, then consolidation.

The caller holds the folder's lock (`lock.py`) for the whole run. Stage one claims at most
`max_rollouts_per_startup` eligible sessions and mines them concurrently. Consolidation runs
when its job is due (`store.claim_phase2`) and the folder changed since the last baseline;
otherwise it ends at once. Failures are recorded on their job (retried after
`store.RETRY_DELAY_S`) and listed in the report; nothing here raises for a model or git failure.
"""

from __future__ import annotations

import asyncio
import time

from pycodex._records import dataclass, field
from pycodex.client.factory import make_model_client
from pycodex.client.model_client import ModelClient
from pycodex.client.request import ModelSettings
from pycodex.config import Config, ConfigError
from pycodex.memories import stage_one, workspace
from pycodex.memories.consolidation import run_agent, summary_problem
from pycodex.memories.layout import MemoryPaths, memory_paths
from pycodex.memories.scan import eligible_sessions, read_session_head
from pycodex.memories.store import Candidate, MemoryStore, Phase2Claim
from pycodex.protocol.errors import ModelError
from pycodex.sessions.ids import new_thread_id

DEFAULT_ORIGINATOR = "pycodex_memories"


@dataclass(frozen=True)
class PipelineOptions:
    # The session that started this run: never mined by it, and the owner of its requests.
    trigger_thread_id: str | None = None
    # `pycodex memories update`: retry failed jobs now and ignore the consolidation cooldown.
    force: bool = False
    originator: str = DEFAULT_ORIGINATOR


@dataclass
class PipelineReport:
    mined: list[tuple[str, str]] = field(default_factory=list)  # (thread id, summary file)
    empty: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (thread id, reason)
    consolidation: str = "not run"
    consolidation_failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.consolidation_failed

    def lines(self) -> list[str]:
        lines = [f"mined {thread_id}: rollout_summaries/{name}" for thread_id, name in self.mined]
        lines += [f"mined {thread_id}: nothing worth keeping" for thread_id in self.empty]
        lines += [f"failed {thread_id}: {reason}" for thread_id, reason in self.failed]
        if not (self.mined or self.empty or self.failed):
            lines.append("no session to mine")
        lines.append(f"consolidation: {self.consolidation}")
        return lines


async def run_pipeline(config: Config, options: PipelineOptions) -> PipelineReport:
    paths = memory_paths(config.codex_home)
    store = MemoryStore.open(paths.database)
    report = PipelineReport()
    try:
        await run_stage_one(config, paths, store, options, report)
        await run_consolidation(config, paths, store, options, report)
    finally:
        store.close()
    return report


# --- stage one ----------------------------------------------------------------------------------


async def run_stage_one(
    config: Config,
    paths: MemoryPaths,
    store: MemoryStore,
    options: PipelineOptions,
    report: PipelineReport,
) -> None:
    now = time.time()
    candidates = eligible_sessions(
        store,
        paths.sessions,
        config.memories,
        now,
        exclude=options.trigger_thread_id,
        force=options.force,
    )
    limit = config.memories.max_rollouts_per_startup
    claims = store.claim_stage1(candidates, limit, now, force=options.force)
    if not claims:
        return
    owner = options.trigger_thread_id or new_thread_id()
    try:
        client = _extraction_client(config, options.originator)
    except ConfigError as err:
        for claim in claims:
            store.stage1_failed(claim.thread_id, str(err), time.time())
            report.failed.append((claim.thread_id, str(err)))
        return
    try:
        jobs = (_mine(config, paths, store, client, claim, owner, report) for claim in claims)
        await asyncio.gather(*jobs)
    finally:
        await client.aclose()


def _extraction_client(config: Config, originator: str) -> ModelClient:
    model = config.memories.extract_model or config.model
    settings = ModelSettings(model=model, reasoning_effort=stage_one.REASONING_EFFORT)
    return make_model_client(config, settings=settings, originator=originator)


async def _mine(
    config: Config,
    paths: MemoryPaths,
    store: MemoryStore,
    client: ModelClient,
    claim: Candidate,
    owner: str,
    report: PipelineReport,
) -> None:
    head = read_session_head(claim.path)
    try:
        if head is None:
            raise stage_one.StageOneError(f"{claim.path} has no session_meta record")
        prompt = stage_one.build_prompt(claim, head, config.model_context_window)
        context = stage_one.request_context(owner)
        answer = stage_one.parse_answer(await stage_one.request_answer(client, prompt, context))
    except Exception as err:  # every failure ends the job visibly; none leaves it leased
        reason = _failure_reason(err)
        store.stage1_failed(claim.thread_id, reason, time.time())
        report.failed.append((claim.thread_id, reason))
        return
    if answer.empty:
        store.stage1_succeeded(claim, None, time.time())
        report.empty.append(claim.thread_id)
        return
    output = stage_one.to_output(claim, head, answer)
    if not store.stage1_succeeded(claim, output, time.time()):
        report.failed.append((claim.thread_id, "its job was taken over by another process"))
        return
    written = stage_one.write_summary_file(paths, output)
    report.mined.append((claim.thread_id, written.name))


def _failure_reason(err: Exception) -> str:
    if isinstance(err, ModelError | stage_one.StageOneError | OSError):
        return str(err) or type(err).__name__
    return f"internal error: {type(err).__name__}: {err}"  # a bug, reported, not raised


# --- consolidation ------------------------------------------------------------------------------


async def run_consolidation(
    config: Config,
    paths: MemoryPaths,
    store: MemoryStore,
    options: PipelineOptions,
    report: PipelineReport,
) -> None:
    claim = store.claim_phase2(time.time(), force=options.force)
    if isinstance(claim, str):
        report.consolidation = f"skipped ({claim.replace('_', ' ')})"
        return
    try:
        failure = await _consolidate(config, paths, store, claim, options, report)
    except (workspace.WorkspaceError, OSError) as err:
        failure = f"failed_workspace: {err}"
    except ConfigError as err:  # the agent's model client cannot be built (no API key...)
        failure = f"failed_agent: {err}"
    except Exception as err:  # a bug: the job fails visibly instead of staying leased
        failure = f"failed_internal: {type(err).__name__}: {err}"
    if failure is not None:
        store.phase2_failed(failure, time.time())
        report.consolidation = f"failed ({failure}); retried later"
        report.consolidation_failed = True


async def _consolidate(
    config: Config,
    paths: MemoryPaths,
    store: MemoryStore,
    claim: Phase2Claim,
    options: PipelineOptions,
    report: PipelineReport,
) -> str | None:
    """Run phase two; the reason it failed, or None."""
    await workspace.prepare(paths)
    workspace.sync_rollout_summaries(
        paths, store.outputs(config.memories.max_raw_memories_for_consolidation)
    )
    diff = await workspace.workspace_diff(paths)
    if not diff.changed:
        store.phase2_succeeded(claim, time.time())
        report.consolidation = "nothing changed since the last summary"
        return None
    unavailable = _sandbox_problem()
    if unavailable is not None:
        return f"failed_sandbox: {unavailable}"
    workspace.write_diff_file(paths, diff)
    outcome = await run_agent(config, paths, originator=options.originator)
    problem = outcome.failure and f"failed_agent: {outcome.failure}"
    problem = problem or _invalid(paths)
    if problem is not None:
        await workspace.restore_summary(paths)
        return problem
    await workspace.commit_baseline(paths)
    if not store.phase2_succeeded(claim, time.time()):
        return "failed_ownership: the job was taken over by another process"
    report.consolidation = f"memory_summary.md updated (agent thread {outcome.thread_id})"
    return None


def _invalid(paths: MemoryPaths) -> str | None:
    problem = summary_problem(paths)
    return None if problem is None else f"failed_invalid_artifacts: {problem}"


def _sandbox_problem() -> str | None:
    """The agent must run confined: no sandbox here means no consolidation."""
    from pycodex.execution.sandbox import sandbox_status

    status = sandbox_status()
    return None if status.available else status.detail
