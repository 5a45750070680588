"""One base error; the CLI prints one line per error and exits 2."""

from __future__ import annotations

from typing import Any

SHOWN_CHARS = 80  # a value echoed back in an error is cut to about this many characters
LINE_CHARS = 1000  # and a whole error line to this many (a last resort: validators cut their values)


def shown(value: Any) -> str:
    """`value` as an error shows it: its repr, cut to about SHOWN_CHARS characters (a 50 MB value is not echoed)."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"


def one_line(text: str) -> str:
    """An error message as one line of at most LINE_CHARS characters (a newline inside a value never splits it)."""
    flat = " ".join(text.splitlines()) if "\n" in text or "\r" in text else text
    return flat if len(flat) <= LINE_CHARS else f"{flat[:LINE_CHARS]}... (cut)"


class StackError(Exception):
    """Base of every error the CLI reports as a clean one-line message."""

    exit_code = 2

    def lines(self) -> list[str]:
        return [one_line(str(self))]


class ConfigError(StackError):
    """Invalid input: says what, where, the value and what was expected."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = [one_line(message) for message in messages]

    def lines(self) -> list[str]:
        return list(self.messages)


class ToolMissingError(StackError):
    """A required external tool is not installed; names the install command."""
