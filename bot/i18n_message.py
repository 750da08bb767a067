"""`Message`, the one translatable-message type, and `N_`: no catalog, no I/O.

Apart from :mod:`bot.i18n` (which reads the catalogs with Babel) so that the pure engine can
carry its messages in the same type as every other layer; :mod:`bot.i18n` re-exports both.
"""

from __future__ import annotations

from collections.abc import Callable


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


class Message:
    """A message for people, not yet in any language: an ``N_()``-marked template and its
    parameters. ``str()`` is the English text; :meth:`render` translates first, then fills.

    The one way every layer (engine refusals, flow-file problems, settings, services, CLI)
    carries a translatable message; error types that explain themselves expose one as
    ``.message``. A parameter may itself be a `Message`: it is rendered in the same language.
    """

    __slots__ = ("params", "template")

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params = params

    def render(self, gettext: Callable[[str], str]) -> str:
        """The message in the language of `gettext`."""
        values = {k: v.render(gettext) if isinstance(v, Message) else v
                  for k, v in self.params.items()}
        return gettext(self.template).format(**values)

    def __str__(self) -> str:
        return self.render(_english)

    def __repr__(self) -> str:
        return f"Message({self.template!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Message) and other.template == self.template
                and other.params == self.params)

    def __hash__(self) -> int:
        return hash(self.template)


def _english(message: str) -> str:
    return message
