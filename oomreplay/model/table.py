"""A map split into fixed pages, shared between states until one of them writes.

This is what makes both halves of the store cheap: ``apply()`` can stay pure (copying a state copies a page
table, not 10,000 tasks), and a keyframe only has to write the pages that changed since the previous keyframe,
while the reader shares decoded pages between every state that contains them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Generic, TypeVar

V = TypeVar("V")


def int_page(key: int) -> int:
    """Pids and indexes: neighbouring keys (threads of one process, forked together) share a page of 16."""
    return key >> 4


@lru_cache(maxsize=1 << 16)
def str_page(key: str) -> int:
    """Names (locks, memcg paths): a stable hash, unlike ``hash()`` which changes with every interpreter. Few
    pages: these tables hold only what is live (locks held or waited for), and a replay touches every page once."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) & 0xF


@lru_cache(maxsize=1 << 12)
def tuple_page(key: tuple) -> int:
    """Small composite keys (node, zone)."""
    return zlib.crc32(repr(key).encode()) & 0xF


class Partial:
    """A page not loaded yet of which some records are already known: what a reader learns from a small record of
    the values a replay will touch, so that replaying writes and reads those records without decoding the page.

    ``ref`` is what the table's ``load`` takes; ``known`` maps each known key to its record, or to None when the
    key is known to be absent. Anything else about the page needs the page itself (``resolve``).
    """

    __slots__ = ("ref", "known")

    def __init__(self, ref: Any, known: dict) -> None:
        self.ref = ref
        self.known = known

    def copy(self) -> Partial:
        return Partial(self.ref, dict(self.known))

    def put(self, key: Any, value: Any) -> bool:
        """Set a known key; whether it was absent (the table's length grows)."""
        was_absent = self.known[key] is None
        self.known[key] = value
        return was_absent

    def resolve(self, page: dict) -> dict:
        """The whole page: the loaded one with what is known laid over it (a new dict; ``page`` may be shared)."""
        whole = dict(page)
        for key, value in self.known.items():
            if value is None:
                whole.pop(key, None)
            else:
                whole[key] = value
        return whole


_NOTHING: dict = {}  # the view of a key known to be absent; never written to


class Table(Generic[V]):
    """A mapping stored as ``{page_no: {key: value}}`` with copy-on-write pages.

    A page may also be a reference the table resolves through ``load`` on first use, so a state read from a
    trace costs only the pages someone looks at, or a ``Partial``: a reference with some records already known
    (``know``), so a replay that touches only those records loads no page at all. The references themselves may
    come from ``unread``, an index asked for a page's reference only when that page is first wanted (``get``),
    or for all of them when the table is read whole (``all``): a seek then never builds the map of pages it
    does not touch.
    """

    __slots__ = ("_pages", "_owned", "_page_of", "_load", "_len", "_unread")

    def __init__(self, page_of: Callable[[Any], int], pages: dict[int, Any] | None = None,
                 load: Callable[[Any], dict] | None = None, length: int | None = None, unread: Any = None) -> None:
        self._page_of = page_of
        self._pages: dict[int, Any] = dict(pages) if pages else {}
        self._load = load
        self._owned: set[int] = set()
        self._len = length if length is not None else sum(len(p) for p in self._pages.values())
        self._unread = unread

    def copy(self) -> Table[V]:
        """A new table sharing every page; whichever side writes a page first copies it."""
        other = Table.__new__(Table)
        other._page_of = self._page_of
        other._unread = self._unread  # before the pages: a _read_all() in between then only adds what it has
        other._pages = dict(self._pages)
        other._load = self._load
        other._owned = set()
        other._len = self._len
        self._owned = set()  # the pages are now shared, so this side must copy before writing too
        return other

    def know(self, p: int, known: dict[Any, V | None]) -> None:
        """Lay records of page ``p`` whose values are known (None: known to be absent) over the page if it is not
        loaded yet, without loading it. Only for keys of that page and values true of this table: nothing checks
        them (as nothing checks a loaded page), the caller vouches for them. A page the table does not have, or has
        loaded, needs no help."""
        page = self._pages.get(p)
        if page is None:
            page = self._unread_ref(p)
        if page is None or type(page) is dict:
            return
        if type(page) is not Partial:
            page = Partial(page, dict(known))
        else:
            page = page.copy() if p not in self._owned else page
            page.known.update(known)
        self._pages[p] = page
        self._owned.add(p)  # a new object only this table holds

    def _unread_ref(self, p: int) -> Any:
        """Page ``p``'s reference from the unread index, kept in the page map; None if the table has no such page."""
        if self._unread is None:
            return None
        ref = self._unread.get(p)
        if ref is not None:
            self._pages[p] = ref
        return ref

    def _read_all(self) -> None:
        """Put every page's reference in the page map: for what reads or compares the table whole."""
        unread = self._unread
        if unread is not None:
            pages = dict(unread.all())
            pages.update(self._pages)
            self._pages = pages  # whole at once: a copy taken meanwhile sees the old pages and the index, or these
            self._unread = None

    def _page(self, p: int) -> dict | None:
        page = self._pages.get(p)
        if page is None:
            page = self._unread_ref(p)
        if page is None or type(page) is dict:
            return page
        if type(page) is Partial:
            page = self._pages[p] = page.resolve(self._load(page.ref))  # type: ignore[misc]
            self._owned.add(p)  # resolving made a new dict only this table holds
            return page
        page = self._pages[p] = self._load(page)  # type: ignore[misc]
        return page

    def _view(self, key: Any) -> dict | None:
        """A dict that answers for ``key``: its page, or for a key a Partial page knows, what it knows."""
        p = self._page_of(key)
        page = self._pages.get(p)
        if page is None:
            page = self._unread_ref(p)
        if page is None or type(page) is dict:
            return page
        if type(page) is Partial:
            value = page.known.get(key, _NOTHING)
            if value is not _NOTHING:
                return _NOTHING if value is None else page.known
        return self._page(p)

    def get(self, key: Any, default: V | None = None) -> V | None:
        p = self._page_of(key)
        page = self._pages.get(p)
        if page is None:
            page = self._unread_ref(p)
            if page is None:
                return default
        if type(page) is not dict:
            if type(page) is Partial and page.known.get(key) is not None:  # the replay's common case, kept short
                return page.known[key]
            page = self._view(key)
        return page.get(key, default)  # type: ignore[union-attr]

    def __getitem__(self, key: Any) -> V:
        page = self._view(key)
        if page is None:
            raise KeyError(key)
        return page[key]

    def __contains__(self, key: Any) -> bool:
        page = self._view(key)
        return page is not None and key in page

    def _writable(self, key: Any) -> tuple[int, dict | Partial]:
        """The page of ``key``, owned by this table: a copy of a shared page, or a Partial that knows the key."""
        p = self._page_of(key)
        page = self._pages.get(p)
        if type(page) is not Partial or key not in page.known:
            page = self._page(p)
        if p not in self._owned:
            page = {} if page is None else page.copy() if type(page) is Partial else dict(page)
            self._pages[p] = page
            self._owned.add(p)
        return p, page  # type: ignore[return-value]

    def set(self, key: Any, value: V) -> None:
        p = self._page_of(key)
        page = self._pages[p] if p in self._owned else None
        if type(page) is not dict and (page is None or key not in page.known):
            page = self._writable(key)[1]
        if type(page) is Partial:
            self._len += page.put(key, value)
            return
        if key not in page:
            self._len += 1
        page[key] = value

    def delete(self, key: Any) -> None:
        if key not in self:
            return
        p, page = self._writable(key)
        self._len -= 1
        if type(page) is Partial:
            page.known[key] = None
            return
        del page[key]
        if not page:
            self._read_all()  # so the index cannot bring the page back
            del self._pages[p]
            self._owned.discard(p)

    def __len__(self) -> int:
        return self._len

    def _all_pages(self) -> list[dict]:
        self._read_all()
        return [self._page(p) or {} for p in list(self._pages)]

    def keys(self) -> list:
        return sorted(k for page in self._all_pages() for k in page)

    def values(self) -> list[V]:
        """Values in key order, so every view of a state lists things the same way."""
        return [v for _, v in self.items()]

    def items(self) -> list[tuple[Any, V]]:
        return sorted((kv for page in self._all_pages() for kv in page.items()), key=lambda kv: kv[0])

    def __iter__(self) -> Iterator:
        return iter(self.keys())

    def page_of(self, key: Any) -> int:
        return self._page_of(key)

    def pages(self) -> dict[int, Any]:
        """The page map itself, for the store's keyframe writer; callers must not mutate it."""
        self._read_all()
        return self._pages

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        self._read_all()
        other._read_all()
        mine = {p: d for p, d in zip(list(self._pages), self._all_pages()) if d}
        theirs = {p: d for p, d in zip(list(other._pages), other._all_pages()) if d}
        return mine == theirs

    def __repr__(self) -> str:
        return f"Table({len(self)} entries in {len(self._pages)} pages)"


class WriterTable(Table[V]):
    """The store writer's table: every page a plain dict it alone owns (never copied, never shared, never a
    reference), and ``dirty`` a dict holding, for every key written since the last keyframe, its value at that
    keyframe (None: absent then). That is exactly what the keyframe's working set stores, so the writer needs no
    copy of the state at each keyframe, and no write ever copies a page."""

    __slots__ = ("dirty",)

    def __init__(self, page_of: Callable[[Any], int]) -> None:
        super().__init__(page_of)
        self.dirty: dict[Any, Any] = {}

    def copy(self) -> Table[V]:
        raise TypeError("a WriterTable is never shared")

    def get(self, key: Any, default: V | None = None) -> V | None:
        page = self._pages.get(self._page_of(key))
        return default if page is None else page.get(key, default)

    def __getitem__(self, key: Any) -> V:
        return self._pages[self._page_of(key)][key]

    def __contains__(self, key: Any) -> bool:
        page = self._pages.get(self._page_of(key))
        return page is not None and key in page

    def set(self, key: Any, value: V) -> None:
        p = self._page_of(key)
        page = self._pages.get(p)
        if page is None:
            page = self._pages[p] = {}
        old = page.get(key)
        if key not in self.dirty:
            self.dirty[key] = old
        if old is None:
            self._len += 1
        page[key] = value

    def delete(self, key: Any) -> None:
        p = self._page_of(key)
        page = self._pages.get(p)
        if page is None or key not in page:
            return
        old = page.pop(key)
        if key not in self.dirty:
            self.dirty[key] = old
        self._len -= 1
        if not page:
            del self._pages[p]
