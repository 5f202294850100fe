"""``oomreplay explore``: every way a scenario's race can go, each outcome with a replayable witness.

A layer of its own, above ``ingest`` (the scenario's parsing and checks) and ``analysis`` (the kernel's version
rules), below ``cli``: ``program`` builds the core's search program with the declared kernel's rules, the
search runs in the core (``oomreplay.model.search``), ``outcome`` names the classes and checks the
``[[expect]]`` blocks, ``witness`` writes each witness as a fixed-order scenario and a trace, ``report``
renders the result.
"""

from .run import Exploration, explore_file

__all__ = ["Exploration", "explore_file"]
