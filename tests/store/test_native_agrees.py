"""The native store (``oomreplay._native``, the Rust core) against the Python store it is replacing.

Until the Python model and store become thin faces over the core (issue 16, under way), both exist; these tests
hold the core to the Python store's answers on every bundled incident, the format-1 file of an older main, and a
synthetic incident crossing many blocks and keyframes: the same events, the same states at every seq sampled,
the same next/prev, overview and source lines, and a writer that writes the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from oomreplay import _native
from oomreplay.model import TABLES, Event, Src, state
from oomreplay.store import Trace, TraceWriter

from ..conftest import DATA, TRACES
from ..store.test_store_integrity import _incident

RECORDS = (state.Task, state.Mm, state.Holder, state.Lock, state.Zone, state.Memcg, state.MemInfo,
           state.OomInvocation, state.Victim, state.Anomaly)
_native.register_records({cls.__name__: cls for cls in RECORDS}, Src)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("native") / "synthetic.oomtrace"
    with TraceWriter(path, meta={"made": "by the Python writer"}) as w:
        w.extend(_incident(6000, seed=5))
    return path


def _traces(synthetic: Path) -> list[Path]:
    return [*sorted(TRACES.glob("*.oomtrace")), DATA / "format1-memcg-6.18-reaped.oomtrace", synthetic]


def _tables(s) -> dict[str, list]:
    return {name: list(getattr(s, name).items()) for name in TABLES}


def test_the_native_reader_gives_the_python_readers_answers(synthetic: Path):
    rng = random.Random(1)
    for path in _traces(synthetic):
        py, nt = Trace(path), _native.NativeTrace(path)
        n = len(py)
        assert (n, nt.meta, nt.summary, nt.sources, nt.first_ts, nt.last_ts) == \
            (len(nt), py.meta, py.summary, py.sources, py.first_ts, py.last_ts), path
        seqs = range(-1, n) if n < 1000 else sorted({-1, 0, n - 1, *rng.sample(range(n), 200)})
        for seq in seqs:
            a, b = py.state_at(seq), nt.state_at(seq)
            assert (b.seq, b.ts_ns, _tables(b)) == (a.seq, a.ts_ns, _tables(a)), f"{path.name} at seq {seq}"
        assert [e.to_dict() for e in nt.events_range(0, n)] == [e.to_dict() for e in py.events()], path.name
        for kind in ("oom_kill", "reaper_attempt", "log", "task", ["lock_acquire", "lock_release"]):
            for seq in (-1, n // 3, n // 2):
                assert nt.next(seq, kind) == py.next(seq, kind=kind), (path.name, kind, seq)
                assert nt.prev(seq + 1, kind) == py.prev(seq + 1, kind=kind), (path.name, kind, seq)
        pid = next((e.pid for e in py.events() if e.pid is not None), None)
        if pid is not None:
            assert nt.next(-1, None, pid) == py.next(-1, pid=pid)
        if py.first_ts is not None:
            buckets = py.overview(None, None, 37)
            assert [tuple(b) for b in nt.overview(py.first_ts, py.last_ts + 1, 37)] == \
                [(b.t0_ns, b.t1_ns, b.counts, b.free_min_kb, b.free_max_kb) for b in buckets], path.name
        for file_id, (_, lines) in enumerate(py.sources):
            assert nt.source_lines(1, lines, file_id) == py.source_lines(1, lines, file_id), path.name
        py.close()
        nt.close()


@pytest.mark.parametrize("parallel", [False, True])
def test_the_native_writer_writes_the_python_writers_bytes(synthetic: Path, tmp_path: Path, parallel: bool):
    for path in _traces(synthetic)[:-2] + [synthetic]:  # the format-1 file is rewritten as format 2 by both
        with Trace(path) as src:
            events = list(src.events())
            sources = [(name, src.source_lines(1, lines, i)) for i, (name, lines) in enumerate(src.sources)]
            meta = src.meta
        a, b = tmp_path / "python.oomtrace", tmp_path / "native.oomtrace"
        with TraceWriter(a, meta=meta, parallel=parallel) as w:
            for name, lines in sources:
                w.add_source_lines(w.add_source(name), lines)
            w.extend(Event(e.ts_ns, e.kind, e.pid, e.fields, e.src, e.inferred) for e in events)
        w2 = _native.NativeWriter(b, meta, parallel)
        for name, lines in sources:
            w2.add_source_lines(w2.add_source(name), lines)
        w2.extend(_native.Event(e.ts_ns, e.kind, e.pid, e.fields, e.src, e.inferred) for e in events)
        w2.close(meta)
        assert b.read_bytes() == a.read_bytes(), path.name


def test_a_native_error_is_the_projects_error_not_a_panic(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("Out of memory: Killed process 3163 (java)\n" * 10)
    with pytest.raises(_native.TraceError, match="notes.txt"):
        _native.NativeTrace(text)
    assert not _native.is_trace(text) and _native.is_trace(TRACES / "seed-006-unable-to-reap.oomtrace")
    w = _native.NativeWriter(tmp_path / "t.oomtrace", {}, False)
    w.append(_native.Event(10, "log", None, {"text": "a"}))
    with pytest.raises(ValueError, match="earlier"):
        w.append(_native.Event(5, "log", None, {"text": "b"}))
    w.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
