"""``oomreplay explore``'s search: the bundled races, and a larger race made for the benchmark (N workers on
the OOM path of the MMF_OOM_SKIP race, each with its own candidate, khugepaged holding the first victim's mmap
lock), each searched with the partial-order reduction and without it (the naive search: every interleaving of
independent steps too, still with state hashing) in the same process.

Printed per scenario: distinct states, moves (each one apply of its events and a fingerprint), interleavings,
seconds (the core's, without building the program), states/s and moves/s, and the ratio of states naive /
reduced. Usage: ``python benchmarks/explore_bench.py [--workers 4] [--json]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.figures import machine, print_figures  # noqa: E402
from oomreplay.explore import explore_file  # noqa: E402
from oomreplay.explore.report import interleavings  # noqa: E402

RACES = Path(__file__).resolve().parents[1] / "traces" / "scenarios" / "races"


def big_race(workers: int) -> str:
    """The MMF_OOM_SKIP race with ``workers`` allocating tasks and as many candidates, on 4.19."""
    out = ['[scenario]\ntitle = "benchmark"\nkernel = "4.19"\n', '[[lock]]\nname = "oom_lock"\n',
           '[[zone]]\nname = "Normal"\nfree_kb = 60000\nmin_kb = 67584\nlow_kb = 84480\nhigh_kb = 101376\n',
           '[[task]]\nname = "khugepaged"\npid = 63\n']
    for i in range(workers):
        out.append(f'[[mm]]\nname = "m{i}"\nid = {5000 + i}\n')
        out.append(f'[[task]]\nname = "c{i}"\npid = {5000 + i}\nmm = "m{i}"\npoints = {900 - i}\nrss_kb = 200000\n')
        out.append(f'[[task]]\nname = "w{i}"\npid = {6000 + i}\n')
    out.append('[[actor]]\ntask = "khugepaged"\n[[actor.step]]\ndo = "take"\nlock = "mmap_lock"\nmm = "m0"\n'
               '[[actor.step]]\ndo = "state"\nstate = "D"\n[[actor.step]]\ndo = "release"\nlock = "mmap_lock"\n'
               'mm = "m0"\n')
    path = ['do = "alloc"\noutcome = "auto"', 'do = "done"\nif = { alloc = "ok" }', 'do = "take"\nlock = "oom_lock"',
            'do = "alloc"\noutcome = "auto"\nwatermark = "high"', 'do = "oom"\nif = { alloc = "fail" }',
            'do = "kill"\nif = { alloc = "fail" }', 'do = "release"\nlock = "oom_lock"']
    for i in range(workers):
        out.append(f'[[actor]]\ntask = "w{i}"\n' + "".join(f"[[actor.step]]\n{s}\n" for s in path))
    return "\n".join(out)


def measure(path: Path) -> dict[str, object]:
    runs = {}
    for reduce in (True, False):
        e = explore_file(str(path), max_states=20_000_000, reduce=reduce)
        runs[reduce] = e
    r, n = runs[True], runs[False]
    assert {c.label() for c in r.classes} == {c.label() for c in n.classes}, "the reduction lost an outcome"

    def rates(e) -> str:
        s = max(e.seconds, 1e-9)
        return (f"{e.states:,} states, {e.transitions:,} moves, {interleavings(e.paths)}, {e.seconds:.3f} s: "
                f"{e.states / s:,.0f} states/s, {e.transitions / s:,.0f} moves/s")

    return {"outcomes": len(r.classes), "reduced": rates(r), "naive": rates(n),
            "states naive / reduced": f"{n.states / r.states:.2f}", "exhaustive": r.exhaustive and n.exhaustive}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4, help="allocating tasks in the large race")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result: dict[str, object] = {"machine": machine()}
    for path in sorted(RACES.glob("*.toml")):
        for k, v in measure(path).items():
            result[f"{path.stem}: {k}"] = v
    with tempfile.TemporaryDirectory() as d:
        big = Path(d) / "big.toml"
        big.write_text(big_race(args.workers), encoding="utf-8")
        for k, v in measure(big).items():
            result[f"{args.workers} workers: {k}"] = v
    print_figures(result, args.json)


if __name__ == "__main__":
    main()
