"""The overlays pushed over the replay: help, the explanation, the marks, a one-line prompt."""
