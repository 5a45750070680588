"""The CLI's one error path: every command's errors become lines on stderr and an exit code.

A StackError (bad input, a missing tool) is its lines and exit 2; a bad command line is one line and exit 2
(not click's usage box); anything else is a bug of obsstack's: one line saying "internal error", pointing at
--debug, exit 70. `obsstack --debug ...` raises instead, for the traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from stack.errors import StackError, one_line, shown

STATE = {"debug": False}


def fail(error: StackError) -> None:
    """Print the error's lines and exit with its code (or raise it under --debug)."""
    if STATE["debug"]:
        raise error
    for line in error.lines():
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(error.exit_code)


INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug of obsstack's, never a verdict on the input


class GuardedGroup(TyperGroup):
    """The one error path of every command: a StackError is its lines and exit 2; a bad flag value is one line
    and exit 2 (not click's usage box); anything else is a bug: one line pointing at --debug, exit 70."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """obsstack's own options (before the command): a bad one is one line too. --debug holds from here on
        (before the command is resolved: an unknown one is reported as --debug asks)."""
        STATE["debug"] = False
        try:
            rest = super().parse_args(ctx, args)
            STATE["debug"] = bool(ctx.params.get("debug"))
            return rest
        except typer.TyperException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # `obsstack` alone: click prints the help
                raise
            typer.echo(f"error: {one_line(_usage_line(error))}", err=True)
            raise typer.Exit(2) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except StackError as error:
            fail(error)
        except typer.TyperException as error:  # click's usage errors: a flag's value, a missing argument
            if STATE["debug"] or type(error).__name__ == "NoArgsIsHelpError":
                raise
            typer.echo(f"error: {one_line(_usage_line(error))}", err=True)
            raise typer.Exit(2) from None
        except Exception as error:
            if STATE["debug"]:
                raise
            typer.echo(
                f"error: internal error ({type(error).__name__}: {shown(str(error))}); this is a bug of obsstack: "
                "run the command again with --debug for the traceback and report it",
                err=True,
            )
            raise typer.Exit(INTERNAL_ERROR) from None


def _usage_line(error: Any) -> str:
    """`--port in the command line: 0 is not in the range 1<=x<=65535.`"""
    param = getattr(error, "param", None)
    if param is not None:
        name = "/".join(getattr(param, "opts", ()) or ()) or str(getattr(param, "name", "argument"))
        return f"{name} in the command line: {getattr(error, 'message', error)}"
    return f"the command line: {error.format_message() if hasattr(error, 'format_message') else error}"
