"""``Table`` with pages not loaded yet, some of whose records are known (``Partial``): a replay that stays on the
known records must load nothing, and anything that needs the whole page must see it with what is known laid over."""

from __future__ import annotations

import pytest

from oomreplay.model.table import Partial, Table, int_page

PAGES = {0: {1: "a", 2: "b", 3: "c"}, 1: {16: "p", 17: "q"}}


@pytest.fixture
def loads() -> list:
    return []


@pytest.fixture
def lazy(loads: list) -> Table:
    """Both pages as references ("ref0", "ref1"), 5 records; key 1 is known to be "A" now and 4 to be absent."""
    def load(ref: str) -> dict:
        loads.append(ref)
        return PAGES[int(ref[3:])]
    table: Table = Table(int_page, {0: "ref0", 1: "ref1"}, load, length=5)
    table.know(0, {1: "A", 4: None})
    table.know(0, {2: "b"})  # laid over what the page already knows
    table.know(6, {99: "skipped: no such page"})
    return table


def test_known_records_are_read_and_written_without_loading(lazy: Table, loads: list) -> None:
    assert lazy.get(1) == "A" and lazy[1] == "A" and 1 in lazy
    assert lazy.get(4) is None and 4 not in lazy and lazy.get(99, "none") == "none"
    with pytest.raises(KeyError):
        lazy[4]
    lazy.set(4, "D")
    lazy.set(1, "A2")
    lazy.delete(2)
    assert len(lazy) == 5  # 4 added, 2 deleted
    assert lazy.get(4) == "D" and 2 not in lazy and lazy.get(1) == "A2"
    assert loads == []


def test_an_unknown_key_or_the_whole_table_loads_the_page(lazy: Table, loads: list) -> None:
    lazy.set(4, "D")
    lazy.delete(2)
    assert lazy.get(3) == "c" and loads == ["ref0"]
    assert lazy.items() == [(1, "A"), (3, "c"), (4, "D"), (16, "p"), (17, "q")]
    assert lazy.keys() == list(lazy) == [1, 3, 4, 16, 17]
    assert len(lazy) == 5 and sorted(loads) == ["ref0", "ref1"]
    assert PAGES[0] == {1: "a", 2: "b", 3: "c"}  # the loaded page, shared with other states, is untouched


def test_writing_an_unknown_key_resolves_first(lazy: Table, loads: list) -> None:
    lazy.set(3, "C")
    lazy.set(5, "E")
    assert loads == ["ref0"] and len(lazy) == 6
    assert lazy.items()[:5] == [(1, "A"), (2, "b"), (3, "C"), (5, "E"), (16, "p")]


def test_copies_share_until_one_writes(lazy: Table, loads: list) -> None:
    other = lazy.copy()
    other.set(1, "X")
    other.set(4, "Y")
    assert lazy.get(1) == "A" and 4 not in lazy and len(lazy) == 5
    assert other.get(1) == "X" and other.get(4) == "Y" and len(other) == 6
    third = other.copy()
    third.delete(4)
    third.know(0, {3: "c"})
    assert other.get(4) == "Y" and 4 not in third and len(third) == 5
    assert third.get(3) == "c" and loads == []
    assert other.get(3) == "c" and loads == ["ref0"]  # what third learned went to its own copy of the page


def test_equality_sees_the_overlay(lazy: Table) -> None:
    plain: Table = Table(int_page)
    for key, value in [(1, "A"), (2, "b"), (3, "c"), (16, "p"), (17, "q")]:
        plain.set(key, value)
    assert lazy == plain
    plain.set(2, "B")
    assert lazy != plain


def test_a_partial_page_resolves_to_a_new_dict() -> None:
    shared = {1: "a", 2: "b"}
    partial = Partial("ref", {1: "A", 2: None})
    assert partial.resolve(shared) == {1: "A"} and shared == {1: "a", 2: "b"}
    assert partial.put(2, "B") and not partial.put(1, "A2")


def test_a_writer_table_is_a_table_that_remembers_the_values_at_the_last_keyframe() -> None:
    """The store writer's table: the same contents as a ``Table`` under any writes and deletes, and ``dirty`` holding
    each key written since it was last cleared with its value then (None: absent), which the working sets store."""
    import random

    from oomreplay.model.table import WriterTable

    rng = random.Random(3)
    plain: Table = Table(int_page)
    writer: WriterTable = WriterTable(int_page)
    at_keyframe: dict = {}
    written: set = set()  # the keys set, or deleted while present, since the last keyframe
    for step in range(3000):
        key = rng.randrange(80)
        if rng.random() < 0.3:
            if key in plain:
                written.add(key)
            plain.delete(key)
            writer.delete(key)
        else:
            written.add(key)
            plain.set(key, step)
            writer.set(key, step)
        assert writer.get(key) == plain.get(key) and (key in writer) == (key in plain)
        if step % 97 == 0:
            assert writer.dirty == {k: at_keyframe.get(k) for k in written}
            writer.dirty.clear()
            written.clear()
            at_keyframe = dict(writer.items())
        assert len(writer) == len(plain) and writer == plain
    assert writer.items() == plain.items() and sorted(writer.pages()) == sorted(p for p in plain.pages())
    with pytest.raises(TypeError):
        writer.copy()


class _Index:
    """An unread page index over PAGES' references, counting what is asked of it."""

    def __init__(self) -> None:
        self.asked: list = []

    def get(self, p: int) -> str | None:
        self.asked.append(p)
        return f"ref{p}" if p in PAGES else None

    def all(self) -> dict[int, str]:
        self.asked.append("all")
        return {p: f"ref{p}" for p in PAGES}


def test_an_unread_index_is_asked_only_for_the_pages_used(loads: list) -> None:
    index = _Index()
    table: Table = Table(int_page, None, lambda ref: loads.append(ref) or dict(PAGES[int(ref[3:])]), 5, index)
    copy = table.copy()
    assert table.get(2) == "b" and table.get(40) is None and index.asked == [0, 2] and loads == ["ref0"]
    copy.know(1, {16: "P"})
    assert copy.get(16) == "P" and index.asked == [0, 2, 1] and loads == ["ref0"]
    assert table.items() == [(1, "a"), (2, "b"), (3, "c"), (16, "p"), (17, "q")] and index.asked[-1] == "all"
    assert sorted(copy.pages()) == [0, 1] and copy.get(17) == "q"


def test_a_page_emptied_before_the_index_is_read_whole_stays_gone(loads: list) -> None:
    table: Table = Table(int_page, None, lambda ref: dict(PAGES[int(ref[3:])]), 5, _Index())
    table.delete(16)
    table.delete(17)
    assert 16 not in table and len(table) == 3
    assert table.items() == [(1, "a"), (2, "b"), (3, "c")] and sorted(table.pages()) == [0]
