"""Messages for people that a front end can say in the user's language.

A layer below the front ends (the rule-file parser, the log) cannot know
the user's language, and must not depend on the front end that does. So it
words a message as an English template with `{name}` placeholders plus the
values that fill them in: the English text is what it always was, and a
front end renders the same message with its own `translate` (the CLI's
`tr`). Values are user text (quoted names, file names, OS reasons) that
stays as it is, or Messages of their own, rendered too.
"""

from __future__ import annotations

from collections.abc import Callable


class Message(str):
    """The English text (this str: scripts and tests compare it) that remembers
    its template and values, for `render`.

    Write the template as a literal, or `a if c else b` of literals: that is
    where tests/test_i18n.py finds it, to check it has a translation.
    """

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, **values: object) -> Message:
        self = super().__new__(cls, template.format(**values))
        self.template = template
        self.values = values
        return self

    def render(self, translate: Callable[[str], str] = str) -> str:
        """The text with every template, this one's and its values', passed through `translate`."""
        return translate(self.template).format(
            **{
                name: value.render(translate) if isinstance(value, Message) else value
                for name, value in self.values.items()
            }
        )


def with_hint(message: Message, hint: Message | None) -> Message:
    """`message (hint)`: an error with the advice that goes with it."""
    return Message("{message} ({hint})", message=message, hint=hint) if hint else message


class MessageError(Exception):
    """An error that is one Message: str() is its English text, `render` the
    front end's."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # explicit: before a mixed-in KeyError's repr()
        return str(self.message)

    def render(self, translate: Callable[[str], str] = str) -> str:
        """The message in the language `translate` gives its templates."""
        return self.message.render(translate)


def os_reason(exc: BaseException) -> str:
    """Why a file operation failed, as a message value: an OSError's text
    without its errno ("No such file or directory"), else the error's str."""
    return str(exc.strerror if isinstance(exc, OSError) and exc.strerror else exc)
