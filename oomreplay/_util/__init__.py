"""Helpers with no home in any layer: every layer may import them, and they import nothing of the package."""
