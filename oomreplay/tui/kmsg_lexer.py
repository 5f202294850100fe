"""A pygments lexer for Linux kernel logs (dmesg, with or without syslog/journal prefixes).

Registered as the ``kmsg`` pygments entry point. Pygments (2.x) ships its own, much simpler ``KernelLogLexer``
under the aliases ``kmsg``/``dmesg`` and looks its built-in lexers up before plugins, so ``pygmentize -l kmsg``
picks that one; ``pygmentize -l oomreplay-kmsg`` (or ``-l oomreplay``) picks this one. It never raises: anything
it does not recognise is ``Text``.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Generic, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

__all__ = ["KmsgLexer"]

#: Lines (or line parts) that say something was killed, failed or broke.
_BAD = (r"Out of memory(?: \(oom_kill_allocating_task\))?|Memory cgroup out of memory|Killed process|Kill process"
        r"|Call Trace|BUG|WARNING|Oops|Kernel panic|general protection fault|INFO: task \S+ blocked|"
        r"possible circular locking dependency detected|page allocation failure|unable to reap|"
        r"hung_task_timeout_secs")
#: Words worth noticing that are not failures.
_NOTE = (r"invoked oom-killer|oom-kill|reaped process|Showing all locks held in the system|Mem-Info|Node \d+|"
         r"Tasks state \(memory values in pages\)|locks? held by|sacrifice child|score|oom_score_adj|gfp_mask|"
         r"order|Hardware name")


class KmsgLexer(RegexLexer):
    name = "Kernel log (oomreplay)"
    aliases = ["oomreplay-kmsg", "oomreplay", "kmsg", "dmesg"]
    filenames = ["*.kmsg", "*.dmesg"]
    mimetypes = ["text/x-kmsg"]
    url = "https://www.kernel.org/doc/Documentation/ABI/testing/dev-kmsg"

    tokens = {
        "root": [
            (r"\n", Whitespace),
            # syslog priority, <4>
            (r"^<\d{1,3}>", Keyword.Type),
            # printk time stamp, [  493.787997]
            (r"\[\s*\d+\.\d+\]", Comment.Special),
            # lockdep dump line: #0:  (&mm->mmap_sem){++++++}, at: ...
            (r"(#\d+:)(\s+)(\(.*?\))(\{[^}\n]*\})",
             bygroups(Name.Label, Whitespace, Name.Variable, String.Other)),
            # lockdep holder: 1 lock held by oom_reaper/59:
            (r"(\d+)( locks? held by )([^\n]*?)(/)(\d+)(:)",
             bygroups(Number.Integer, Keyword, Name.Function, Punctuation, Number.Integer, Punctuation)),
            (r"oom_reaper(?=:)", Name.Builtin),
            # Killed process 3163 (a.out), Kill process 3163 (a.out)
            (r"(Kill(?:ed)? process)(\s+)(\d+)(\s+)(\()([^)\n]*)(\))",
             bygroups(Generic.Error, Whitespace, Number.Integer, Whitespace, Punctuation, Name.Function, Punctuation)),
            # process 3163 (a.out)
            (r"(process)(\s+)(\d+)(\s+)(\()([^)\n]*)(\))",
             bygroups(Text, Whitespace, Number.Integer, Whitespace, Punctuation, Name.Function, Punctuation)),
            # pid:3163 (a.out) and pid=3163
            (r"(pid)([:=])(\d+)(\s+)(\()([^)\n]*)(\))",
             bygroups(Name.Attribute, Operator, Number.Integer, Whitespace, Punctuation, Name.Function,
                      Punctuation)),
            (rf"\b(?:{_BAD})\b", Generic.Error),
            (rf"\b(?:{_NOTE})\b", Keyword),
            # [<ffffffff9f0c202d>]
            (r"(\[<)([0-9a-fA-F]+)(>\])", bygroups(Punctuation, Number.Hex, Punctuation)),
            # function+0x3d/0x1a0
            (r"([A-Za-z_][\w.]*)(\+)(0x[0-9a-fA-F]+)(/)(0x[0-9a-fA-F]+)",
             bygroups(Name.Function, Operator, Number.Hex, Operator, Number.Hex)),
            # module name after a symbol: [xfs]
            (r"(\[)([A-Za-z_]\w*)(\])", bygroups(Punctuation, Name.Namespace, Punctuation)),
            (r"0x[0-9a-fA-F]+", Number.Hex),
            # key:value and key=value, total-vm:4268108kB
            (r"([A-Za-z_][\w-]*)([:=])(?=[-\d#])", bygroups(Name.Attribute, Operator)),
            (r"\b\d+(?:\.\d+)?(?:[kKmMgG]B|kB)?\b", Number),
            (r"\b[0-9a-f]{8,16}\b", Number.Hex),
            (r"[A-Za-z_][\w.-]*", Text),
            (r"\s+", Whitespace),
            (r".", Text),
        ],
    }
