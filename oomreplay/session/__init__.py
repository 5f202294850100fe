"""The replay engine, with no Textual in it: one loader thread that opens the trace, answers each request of the
app with one typed message (``messages``), and builds the frames (``frame``), searches (``search``) and findings
(``findings``) the panels paint. The TUI only sends requests and paints answers."""
