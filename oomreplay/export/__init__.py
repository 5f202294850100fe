"""Views of a trace as files and text: state snapshots now; Chrome trace JSON and stories later."""
