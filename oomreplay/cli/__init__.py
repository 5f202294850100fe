"""The ``oomreplay`` command line (typer): ``main`` is the entry point, ``app`` the typer app. One module per
command group (``trace``, ``explain``, ``convert``, ``replay``, ``review``, ``record``, ``fleet``), each thin."""

from .main import app, main

__all__ = ["app", "main"]
