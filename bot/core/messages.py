"""Typed user-facing messages (hints and errors) of the comment and title parsers.

This module owns the `Message` type and the rendering of its text. A message is a `code`
(the template entry's name) plus the `params` the template fills; the texts themselves, zh
and en side by side, live in `bot/templates/parser.yml` (jinja2 syntax, no HTML escaping; user
text goes through the `code` filter, so it shows as inline code and nothing in it is live).
Templates are read once, lazily, so importing the parsers stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from ruamel.yaml import YAML

from bot.core.texts import Lang, code_span

LANGS = ("zh", "en")
TEMPLATE_FILE = "parser.yml"


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class Message:
    """A hint or an error whose text is what the user reads.

    Two messages are equal when code and params are equal; messages are hashable
    (params values should be str, int or tuples of them).
    """

    code: str
    params: dict = field(default_factory=dict)

    def __hash__(self) -> int:
        try:  # the usual params: a flat dict of str/int values
            return hash((self.code, frozenset(self.params.items())))
        except TypeError:
            return hash((self.code, _freeze(self.params)))

    def text(self, lang: Lang = "zh") -> str:
        """The message in `lang` ("zh" or "en"), rendered from the parser templates."""
        return _template(self.code, lang).render(**self.params).strip()


@cache
def _texts() -> dict[str, dict[str, str]]:
    source = resources.files("bot").joinpath("templates", TEMPLATE_FILE).read_text(encoding="utf-8")
    data = YAML(typ="safe").load(source)
    return {str(code): {str(lang): str(text) for lang, text in entry.items()} for code, entry in data.items()}


@cache
def _env():
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters["code"] = code_span  # user text as inline code: never a live mention, link, image or HTML
    return env


@cache
def _template(code: str, lang: Lang):
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    try:
        source = _texts()[code][lang]
    except KeyError:
        raise KeyError(f"no {lang} text for message code {code!r} in templates/{TEMPLATE_FILE}") from None
    return _env().from_string(source)


def known_codes() -> frozenset[str]:
    """Every message code that has texts in the templates."""
    return frozenset(_texts())
