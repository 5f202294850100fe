"""Themes as TOML data files (see themes/README.md): a Textual ``Theme`` plus the pygments style of the log panel.

Only ``textual.theme``/``textual.color``/``textual.style`` and pygments are imported, so the CLI can list themes
without starting the app.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pygments.style import Style as PygmentsStyle
from pygments.styles import get_style_by_name
from pygments.token import Token, _TokenType, string_to_tokentype
from pygments.util import ClassNotFound
from textual.color import Color, ColorParseError
from textual.style import Style
from textual.theme import BUILTIN_THEMES, Theme

from .._util.resources import bundled

DEFAULT_THEME = "oomreplay-dark"
_COLOR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background",
                 "surface", "panel", "boost")
_KEYS = {"name", "description", "dark", "pygments_style", "colors", "variables", "syntax"}


class ThemeError(Exception):
    """A theme that cannot be used; the message is one line."""


@dataclass(frozen=True)
class ReplayTheme:
    theme: Theme
    pygments_style: str
    description: str = ""
    path: Path | None = None
    #: Log panel colour overrides: token type -> style string (``[bold] [italic] [underline] #rrggbb``).
    syntax: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.theme.name


def _fail(path: Path, why: str) -> ThemeError:
    return ThemeError(f"{path}: bad theme: {why}")


def _parse_syntax_style(value: str) -> Style:
    bold = italic = underline = None
    foreground: Color | None = None
    for word in value.split():
        if word == "bold":
            bold = True
        elif word == "italic":
            italic = True
        elif word == "underline":
            underline = True
        else:
            foreground = Color.parse(word)  # raises ColorParseError
    return Style(foreground=foreground, bold=bold, italic=italic, underline=underline)


def load_theme_file(path: str | Path) -> ReplayTheme:
    """Read and check one theme file; every problem is a ``ThemeError`` naming the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise _fail(path, e.strerror or str(e)) from None
    except UnicodeDecodeError:
        raise _fail(path, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise _fail(path, f"not TOML ({e})") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(path, f"unknown key {unknown[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "'name' must be a non-empty string")
    colors = data.get("colors", {})
    if not isinstance(colors, dict) or not isinstance(colors.get("primary"), str):
        raise _fail(path, "[colors] must set primary")
    for key, value in colors.items():
        if key not in _COLOR_FIELDS:
            raise _fail(path, f"unknown colour {key!r}; colours are: {', '.join(_COLOR_FIELDS)}")
        try:
            Color.parse(value)
        except (ColorParseError, TypeError, ValueError):
            raise _fail(path, f"colour {key} = {value!r} is not a colour") from None
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise _fail(path, "[variables] must map names to strings")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise _fail(path, "'dark' must be true or false")
    style = data.get("pygments_style", "monokai" if dark else "default")
    try:
        get_style_by_name(style)
    except (ClassNotFound, TypeError):
        raise _fail(path, f"unknown pygments style {style!r}") from None
    syntax = data.get("syntax", {})
    if not isinstance(syntax, dict):
        raise _fail(path, "[syntax] must map token types to styles")
    for token, value in syntax.items():
        if not isinstance(value, str) or not all(part.isalpha() for part in token.split(".")):
            raise _fail(path, f"syntax {token!r} must be a token type mapped to a style string")
        try:
            _parse_syntax_style(value)
        except (ColorParseError, ValueError):
            raise _fail(path, f"syntax {token} = {value!r}: not a colour or bold/italic/underline") from None
    description = data.get("description", "")
    theme = Theme(name=name.strip(), dark=dark, variables=dict(variables), **colors)
    return ReplayTheme(theme, style, str(description), path, dict(syntax))


def bundled_themes() -> list[ReplayTheme]:
    """The themes shipped in ``themes/``, the default first."""
    found = [load_theme_file(p) for p in sorted(bundled("themes").glob("*.toml"))]
    return sorted(found, key=lambda t: (t.name != DEFAULT_THEME, t.name))


def resolve(name_or_path: str | Path | None) -> ReplayTheme:
    """A bundled theme's name, one of Textual's built-in names, or a theme file."""
    if name_or_path is None:
        name_or_path = DEFAULT_THEME
    themes = bundled_themes()
    for t in themes:
        if t.name == str(name_or_path):
            return t
    if str(name_or_path) in BUILTIN_THEMES:
        builtin = BUILTIN_THEMES[str(name_or_path)]
        return ReplayTheme(builtin, "monokai" if builtin.dark else "default", "Textual built-in theme")
    path = Path(name_or_path)
    if path.is_file():
        return load_theme_file(path)
    names = ", ".join(t.name for t in themes)
    raise ThemeError(f"{name_or_path}: no such theme or theme file; bundled themes are: {names}")


class SyntaxColours:
    """Token type -> Textual ``Style`` for one theme (pygments style, then the theme's overrides), cached."""

    def __init__(self, replay_theme: ReplayTheme) -> None:
        self._style: type[PygmentsStyle] = get_style_by_name(replay_theme.pygments_style)
        self._overrides = {string_to_tokentype(k): _parse_syntax_style(v) for k, v in replay_theme.syntax.items()}
        self._cache: dict[_TokenType, Style | None] = {}

    def style(self, token: _TokenType) -> Style | None:
        if token in self._cache:
            return self._cache[token]
        result: Style | None = None
        t = token
        while t is not None:
            if t in self._overrides:
                result = self._overrides[t]
                break
            t = t.parent
        if result is None and token is not Token.Text:
            t = token
            while t is not None and not self._style.styles_token(t):
                t = t.parent
            s = self._style.style_for_token(t) if t is not None else {}
            fg = Color.parse(f"#{s['color']}") if s.get("color") else None
            if fg is not None or s.get("bold") or s.get("italic") or s.get("underline"):
                result = Style(foreground=fg, bold=s.get("bold") or None, italic=s.get("italic") or None,
                               underline=s.get("underline") or None)
        self._cache[token] = result
        return result
