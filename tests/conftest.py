"""What the tests share: where the repository, its bundled incidents, the tests' own data and the shared corpus of
real kernel output are, and the fixture that skips a test when the corpus is absent.

The corpus (``../shared/corpus`` beside the checkout, or wherever ``OOMREPLAY_CORPUS`` points) is real data written
by kernels; it is not part of the repository, so every test that reads it says so and skips without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: the incidents bundled with the package
TRACES = REPO / "traces"
#: the seed incident every view is tested on
SEED_LOG = TRACES / "seed-006-unable-to-reap.log"
#: small inputs the tests need that are not incidents (an old-format trace, perf script samples)
DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(os.environ.get("OOMREPLAY_CORPUS") or REPO.parent / "shared" / "corpus")


def corpus_file(relative: str) -> Path:
    """The corpus file at ``relative`` (a glob pattern matching exactly one), or a skip saying it is absent."""
    found = sorted(CORPUS.glob(relative)) if CORPUS.is_dir() else []
    if len(found) != 1:
        pytest.skip(f"the corpus file {relative} is not in {CORPUS}" if not found else
                    f"{relative} matches {len(found)} files in {CORPUS}")
    return found[0]
