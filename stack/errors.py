"""One base error; the CLI prints one line per error and exits 2."""

from __future__ import annotations


class StackError(Exception):
    """Base of every error the CLI reports as a clean one-line message."""

    exit_code = 2

    def lines(self) -> list[str]:
        return [str(self)]


class ConfigError(StackError):
    """Invalid input: says what, where, the value and what was expected."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages

    def lines(self) -> list[str]:
        return list(self.messages)


class ToolMissingError(StackError):
    """A required external tool is not installed; names the install command."""
