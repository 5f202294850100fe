"""``fleet report``: what a fleet's team asks first, each answer one SQL query over the dataset (the same
connection ``fleet query`` gives, so each can be rerun, narrowed and changed by hand): which hosts and kernels
OOM, how often the reaper gives up and on which kernel, which processes get killed, how long from kill to reap,
memcg against global OOMs, and the files that could not be read."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from .._util.safetext import markdown_text, visible
from .query import connect, render


class Section(NamedTuple):
    key: str
    title: str
    sql: str  # ``$top``: how many rows a ranking shows


SECTIONS: tuple[Section, ...] = (
    Section("overview", "The dataset", """
        SELECT (SELECT count(*) FROM files) AS files,
               (SELECT round(coalesce(sum(size), 0) / 1e6, 1) FROM files) AS "MB read",
               (SELECT count(*) FROM files WHERE status IN ('error', 'damaged')) AS "files with errors",
               (SELECT count(DISTINCT host) FROM files) AS hosts,
               (SELECT count(DISTINCT host) FROM incidents) AS "hosts with an OOM",
               (SELECT count(*) FROM incidents) AS incidents,
               (SELECT count(*) FROM kills) AS kills,
               (SELECT count(*) FROM reaper) AS "reaper outcomes",
               (SELECT min(day) FROM incidents) AS "first day",
               (SELECT max(day) FROM incidents) AS "last day"
    """),
    Section("hosts", "Incidents per host", """
        WITH i AS (SELECT host, count(*) AS incidents, count(DISTINCT day) AS days, min(day) AS first,
                          max(day) AS last FROM incidents GROUP BY host),
             k AS (SELECT host, count(*) AS kills FROM kills GROUP BY host),
             r AS (SELECT host, count(*) FILTER (WHERE outcome = 'unable') AS unable FROM reaper GROUP BY host)
        SELECT i.host, incidents, coalesce(kills, 0) AS kills, coalesce(unable, 0) AS "reaper gave up", days,
               first, last
        FROM i LEFT JOIN k USING (host) LEFT JOIN r USING (host)
        ORDER BY incidents DESC, i.host LIMIT $top
    """),
    Section("kernels", "Incidents and the reaper by kernel", """
        WITH i AS (SELECT coalesce(kernel, 'unknown') AS kernel, count(DISTINCT host) AS hosts,
                          count(*) AS incidents FROM incidents GROUP BY 1),
             k AS (SELECT coalesce(kernel, 'unknown') AS kernel, count(*) AS kills FROM kills GROUP BY 1),
             r AS (SELECT coalesce(kernel, 'unknown') AS kernel, count(*) AS outcomes,
                          count(*) FILTER (WHERE outcome = 'reaped') AS reaped,
                          count(*) FILTER (WHERE outcome = 'unable') AS unable FROM reaper GROUP BY 1)
        SELECT kernel, coalesce(hosts, 0) AS hosts, coalesce(incidents, 0) AS incidents, coalesce(kills, 0) AS kills,
               coalesce(reaped, 0) AS reaped, coalesce(unable, 0) AS "gave up",
               round(100.0 * unable / nullif(outcomes, 0), 1) AS "failure %"
        FROM i FULL JOIN k USING (kernel) FULL JOIN r USING (kernel)
        ORDER BY incidents DESC, kills DESC, kernel LIMIT $top
    """),
    Section("comms", "Most-killed processes", """
        SELECT comm, count(*) AS kills, count(DISTINCT host) AS hosts,
               round(median(rss_kb) / 1024, 1) AS "median rss MB",
               count(*) FILTER (WHERE outcome = 'unable') AS "reaper gave up"
        FROM kills GROUP BY comm ORDER BY kills DESC, comm LIMIT $top
    """),
    Section("reap_delay", "Time from kill to the reaper's outcome", """
        SELECT outcome, count(*) AS outcomes,
               round(quantile_cont(after_kill_ns, 0.5) / 1e6, 1) AS "p50 ms",
               round(quantile_cont(after_kill_ns, 0.9) / 1e6, 1) AS "p90 ms",
               round(max(after_kill_ns) / 1e6, 1) AS "max ms",
               round(avg(attempts), 1) AS "mean attempts"
        FROM reaper WHERE after_kill_ns IS NOT NULL GROUP BY outcome ORDER BY outcomes DESC, outcome
    """),
    Section("scope", "memcg against global OOMs", """
        SELECT coalesce(scope, 'unknown') AS scope, count(*) AS incidents, count(DISTINCT host) AS hosts,
               count(victim) AS kills, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS "%"
        FROM incidents GROUP BY 1 ORDER BY incidents DESC, scope
    """),
    Section("problems", "Files that could not be read", """
        SELECT file, status, error FROM files WHERE status IN ('error', 'damaged') ORDER BY file LIMIT $top
    """),
)


def sections(dataset: str | os.PathLike, top: int = 10) -> list[tuple[Section, list[str], list[tuple]]]:
    """Each section's columns and rows."""
    con = connect(dataset)
    try:
        out = []
        for s in SECTIONS:
            result = con.execute(s.sql.replace("$top", str(int(top))))
            out.append((s, [d[0] for d in result.description], result.fetchall()))
        return out
    finally:
        con.close()


def report(dataset: str | os.PathLike, fmt: str = "text", top: int = 10) -> str:
    """The report as text, Markdown or JSON."""
    found = sections(dataset, top)
    if fmt == "json":
        import json

        from .query import _plain

        return json.dumps({s.key: [{c: _plain(v) for c, v in zip(cols, row)} for row in rows]
                           for s, cols, rows in found}, indent=1, ensure_ascii=False)
    markdown = fmt == "markdown"
    parts = [f"# Fleet report: {markdown_text(dataset)}" if markdown else f"Fleet report: {visible(dataset)}"]
    for s, cols, rows in found:
        parts.append(f"## {s.title}" if markdown else f"{s.title}\n{'=' * len(s.title)}")
        if s.key == "overview" and rows:
            parts.append(_pairs(cols, rows[0], markdown))
        elif not rows:
            parts.append("none")
        else:
            parts.append(render(cols, rows, "markdown" if markdown else "table"))
    return "\n\n".join(parts)


def _pairs(cols: list[str], row: tuple, markdown: bool) -> str:
    def value(v: Any) -> str:
        return "-" if v is None else f"{v:,}" if isinstance(v, int) else str(v)

    if markdown:
        return "\n".join(f"- {markdown_text(c)}: {markdown_text(value(v))}" for c, v in zip(cols, row))
    width = max(map(len, cols))
    return "\n".join(f"{c.ljust(width)}  {visible(value(v))}" for c, v in zip(cols, row))
