"""The replay's panels, one widget per module, each painting what a ``session.frame.Frame`` holds."""
