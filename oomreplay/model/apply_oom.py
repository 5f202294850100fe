"""What the OOM killer's and the reaper's events do: invocations and their endings, kills and victims, the
reaper's attempts and its outcome."""

from __future__ import annotations

from .apply_records import anomaly, update_task
from .events import OOM_END_OUTCOMES, OOM_END_REASONS, REAPER_ATTEMPT_OUTCOMES, REAPER_DONE_OUTCOMES
from .flags import MAX_OOM_REAP_RETRIES
from .state import OomInvocation, State, Victim

#: A victim keeps the outcomes of at most this many reaper attempts (the kernel makes ten).
_ATTEMPTS_KEPT = 2 * MAX_OOM_REAP_RETRIES


def on_oom_invoke(s, seq, ts, pid, f, inferred):
    index = len(s.ooms)
    s.ooms.set(index, OomInvocation(index, seq, ts, pid, f.get("gfp"), f.get("order"), f.get("constraint"),
                                    f.get("memcg")))
    update_task(s, seq, pid, comm=f.get("comm"), oom_score_adj=f.get("oom_score_adj"))


def on_oom_candidate(s, seq, ts, pid, f, inferred):
    update_task(s, seq, pid, tgid=f.get("tgid"), comm=f.get("comm"), oom_score_adj=f.get("oom_score_adj"))
    last = s.last_oom()
    if last is not None:
        s.ooms.set(last.index, last._replace(candidates=last.candidates + 1))


def on_oom_end(s, seq, ts, pid, f, inferred):
    """Ends the current invocation without a kill. A log that starts after the report's header (a panic is often
    all a kdump console kept) gets the invocation it implies, so the ending is not lost, and an anomaly saying so."""
    outcome, reason = f.get("outcome"), f.get("reason")
    if outcome not in OOM_END_OUTCOMES:
        anomaly(s, seq, "oom_end", f"OOM ended by {pid}: unknown outcome {outcome!r}")
    if reason is not None and reason not in OOM_END_REASONS:
        anomaly(s, seq, "oom_end", f"OOM ended by {pid}: unknown reason {reason!r}")
    last = s.last_oom()
    if last is None or last.victims:  # none, or the last one ended with its kill: this ending's is not in the log
        anomaly(s, seq, "oom_end", f"OOM ended ({outcome}) with no invocation seen before it")
        last = OomInvocation(len(s.ooms), seq, ts, pid)
    s.ooms.set(last.index, last._replace(invoker=last.invoker if last.invoker is not None else pid,
                                         outcome=outcome, reason=reason))
    update_task(s, seq, pid, comm=f.get("comm"))


def _victim(s: State, seq: int | None, ts: int, pid: int, comm: str | None) -> Victim:
    v = s.victims.get(pid)
    if v is None:
        t = s.tasks.get(pid)
        mm = t.tgid if t is not None and t.tgid is not None else pid
        v = Victim(pid, comm or (t.comm if t else None), seq, ts, mm)
    return v


def on_oom_kill(s, seq, ts, pid, f, inferred):
    if pid is None:
        anomaly(s, seq, "oom_kill", "kill names no victim")
        return
    old = s.victims.get(pid)
    if old is not None and old.outcome is None and not old.exited:
        anomaly(s, seq, "oom_kill", f"{pid} killed again while still a pending victim")
    update_task(s, seq, pid, comm=f.get("comm"), oom_score_adj=f.get("oom_score_adj"),
                 anon_kb=f.get("anon_rss_kb"), file_kb=f.get("file_rss_kb"), shmem_kb=f.get("shmem_rss_kb"))
    t = s.tasks[pid]
    s.victims.set(pid, Victim(pid, t.comm, seq, ts, t.tgid if t.tgid is not None else pid, f.get("points")))
    last = s.last_oom()
    if last is not None:  # the kill completes the invocation it answers
        s.ooms.set(last.index, last._replace(
            victims=last.victims if pid in last.victims else last.victims + (pid,),
            constraint=last.constraint or f.get("constraint"), memcg=last.memcg or f.get("memcg")))


def on_oom_victim(s, seq, ts, pid, f, inferred):
    if pid is not None and pid not in s.victims:
        s.victims.set(pid, _victim(s, seq, ts, pid, f.get("comm")))


def on_reaper_wake(s, seq, ts, pid, f, inferred):
    if pid is not None:
        s.victims.set(pid, _victim(s, seq, ts, pid, f.get("comm"))._replace(woken_seq=seq))


def on_reaper_attempt(s, seq, ts, pid, f, inferred):
    if pid is None:
        return
    v = _victim(s, seq, ts, pid, f.get("comm"))
    outcome = f.get("outcome")
    if outcome not in REAPER_ATTEMPT_OUTCOMES:
        anomaly(s, seq, "reaper_attempt", f"reaper attempt on {pid}: unknown outcome {outcome!r}")
    n = f.get("n")
    made = len(v.attempts) + 1
    if n is not None and n != made:
        anomaly(s, seq, "reaper_attempt", f"reaper attempt {n} on {pid} follows {made - 1} attempts")
    if made > MAX_OOM_REAP_RETRIES:
        anomaly(s, seq, "reaper_attempt", f"reaper attempt {made} on {pid}: the kernel stops at "
                                           f"{MAX_OOM_REAP_RETRIES}")
    attempts = (v.attempts + (outcome,))[-_ATTEMPTS_KEPT:]
    s.victims.set(pid, v._replace(attempts=attempts))


def on_reaper_done(s, seq, ts, pid, f, inferred):
    if pid is None:
        return
    outcome = f.get("outcome")
    if outcome not in REAPER_DONE_OUTCOMES:
        anomaly(s, seq, "reaper_done", f"reaper done with {pid}: unknown outcome {outcome!r}")
    v = _victim(s, seq, ts, pid, f.get("comm"))
    s.victims.set(pid, v._replace(outcome=outcome, done_seq=seq))
    if outcome == "reaped":
        update_task(s, seq, pid, anon_kb=f.get("anon_rss_kb"), file_kb=f.get("file_rss_kb"),
                     shmem_kb=f.get("shmem_rss_kb"))
