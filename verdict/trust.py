"""Whether a run's figures can be trusted: every rule in one list, decided from the saved
files only, so `hothot run` and `hothot analyze` agree.

A run that breaks a rule is *untrusted*: `verdict.json` has `trusted: false` and the reasons
in `untrusted` [{`code`, `message`}], the exit code is 2 whatever the budgets say, junit.xml
gets an `<error>` test case, and the terminal and report.html say UNTRUSTED (never green).
A rule is one function registered with `@rule`: it reads the verdict's figures (`data`, as
they go into verdict.json) and yields reasons. Adding one touches this file and its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from verdict.junit import fault_failure_text

#: a region whose load delivered less than this share of what was requested is untrusted
MIN_DELIVERED = 0.95
#: a workload whose writes in one region mostly failed (refused or unknown) is untrusted
MAX_FAILED_WRITES = 0.5
#: failures that are a write's designed answer, not a failed test rig
DESIGNED_REFUSALS = frozenset({"ConditionalCheckFailedException"})


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class Context:
    """What the rules read: verdict.json's figures so far, and how the verdict was asked for."""

    data: dict[str, Any]
    accept_partial: bool = False


Rule = Callable[[Context], Iterator[Reason]]
#: every rule, in the order their reasons are listed
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


def untrusted(data: dict[str, Any], *, accept_partial: bool = False) -> list[dict[str, str]]:
    """The reasons (as verdict.json lists them) why these figures cannot be trusted."""
    context = Context(data, accept_partial)
    return [asdict(reason) for check in RULES for reason in check(context)]


@rule
def partial_history(c: Context) -> Iterator[Reason]:
    """A killed run or a lost worker: records are missing, so every count is a lower bound."""
    if not c.data.get("partial") or c.accept_partial:
        return
    history = c.data.get("history") or {}
    lost = (c.data.get("workers") or {}).get("lost") or []
    why = []
    if history.get("unterminated_shards"):
        why.append(f"{len(history['unterminated_shards'])} history shard(s) end without their"
                   " trailer (the run was killed)")  # fmt: skip
    if lost:
        why.append(f"worker(s) {', '.join(lost)} were lost")
    detail = "; ".join(why) or "the run did not end cleanly"
    yield Reason(
        "partial_history",
        f"partial history: {detail}. Records are missing, so the counts are lower bounds "
        "(--accept-partial judges it anyway)",
    )


@rule
def unjudged_keys(c: Context) -> Iterator[Reason]:
    totals = c.data.get("totals") or {}
    unjudged = int(totals.get("unjudged_keys", 0))
    if unjudged:
        keys = (c.data.get("history") or {}).get("keys", unjudged)
        yield Reason(
            "unjudged_keys",
            f"{unjudged} of {keys} keys have no final read, so their lost updates are "
            "unknown (the final reads did not run or failed)",
        )


@rule
def undetermined_keys(c: Context) -> Iterator[Reason]:
    """A write of unknown outcome (a timeout) that happened records no predecessor: when a
    key's final version descends from one, what came before it cannot be told lost or kept.
    Counting those writes lost would fail a budget on updates that were never lost."""
    undetermined = int((c.data.get("totals") or {}).get("undetermined_keys", 0))
    if undetermined:
        keys = (c.data.get("history") or {}).get("keys", undetermined)
        yield Reason(
            "undetermined_keys",
            f"{undetermined} of {keys} keys descend from a write of unknown outcome (a timeout"
            " that took effect) whose predecessor no answer told, so their lost updates cannot"
            " be counted (none is); the emulator's truth leaves them out too",
        )


@rule
def load_not_delivered(c: Context) -> Iterator[Reason]:
    """The open model's promise: the requested rate reached the target."""
    for region, figures in sorted(((c.data.get("load") or {}).get("regions") or {}).items()):
        requested, delivered = figures.get("requested"), figures.get("delivered", 0)
        if not requested or delivered >= MIN_DELIVERED * requested:
            continue
        yield Reason(
            "load_not_delivered",
            f"{region}: {delivered} of {requested} requested operations started "
            f"({delivered / requested:.1%}, below {MIN_DELIVERED:.0%}): "
            f"{figures.get('bottleneck') or 'the load fell behind'}",
        )


@rule
def writes_failed(c: Context) -> Iterator[Reason]:
    """Most writes of a workload in a region failed or stayed unknown: the rig (a wrong
    endpoint, credentials, a throttled table) was tested, not the write pattern."""
    for name, row in sorted((c.data.get("workloads") or {}).items()):
        for region, cell in sorted((row.get("regions") or {}).items()):
            designed = sum(
                n for e, n in (cell.get("failed_by_error") or {}).items() if e in DESIGNED_REFUSALS
            )
            failed = cell.get("writes_failed", 0) - designed
            bad = failed + cell.get("writes_unknown", 0) - cell.get("unknown_resolved", 0)
            attempts = cell.get("writes_ok", 0) + cell.get("writes_unknown", 0) + failed
            if attempts and bad > MAX_FAILED_WRITES * attempts:
                yield Reason(
                    "writes_failed",
                    f"{name or '(none)'} in {region}: {bad} of {attempts} writes failed or"
                    f" stayed unknown ({bad / attempts:.0%})",
                )


@rule
def fault_failed(c: Context) -> Iterator[Reason]:
    for failure in c.data.get("fault_failures") or []:
        yield Reason("fault_failed", fault_failure_text(failure))


@rule
def truth_mismatch(c: Context) -> Iterator[Reason]:
    """A complete run whose conflicts or lost updates differ from the emulator's own count:
    a bug in hothot or a table that held other writes. A partial run may legitimately miss
    writes the emulator saw: not a reason then."""
    if not c.data.get("truth_mismatch") or c.data.get("partial"):
        return
    diff = c.data.get("truth_diff") or {}
    ours, theirs = diff.get("verdict", {}), diff.get("truth", {})
    yield Reason(
        "truth_mismatch",
        f"verdict {ours.get('conflicts')} conflicts / {ours.get('lost_updates')} lost updates,"
        f" emulator {theirs.get('conflicts')} / {theirs.get('lost_updates')}: a bug in hothot"
        " or a table that held other writes",
    )


@rule
def witness_mismatch(c: Context) -> Iterator[Reason]:
    """Lost updates the store's own conflict log does not show discarded (pglogical): a bug
    in hothot or a target that held other writes. Not a reason for a partial run."""
    if not c.data.get("witness_mismatch") or c.data.get("partial"):
        return
    w = c.data.get("witness") or {}
    yield Reason(
        "witness_mismatch",
        f"{w.get('lost_not_in_log')} of the verdict's {w.get('lost_updates')} lost updates are"
        f" on no branch the store's conflict log shows discarded (e.g. "
        f"{(w.get('examples') or [])[:3]})",
    )
