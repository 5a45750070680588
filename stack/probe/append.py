"""PURE: add a service entry at the end of a stack.yaml's top-level `services:` block sequence, as text, so
the user's comments and layout stay as they are."""

from __future__ import annotations

import re

from stack.probe.entry import ITEM, reindent
from stack.probe.observed import ProbeError

SERVICES = re.compile(r"^services:[ \t]*(#.*)?$")
FLOW = re.compile(r"^services:[ \t]*[\[{]")
ITEM_RE = re.compile(r"^([ \t]*)- ")


def append_service(text: str, entry: str, where: str) -> str:
    """`text` with `entry` (indented as the template's) as the last item of `services:`."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if SERVICES.match(line)), None)
    if start is None:
        if any(FLOW.match(line) for line in lines):
            raise ProbeError(
                f"{where}: services is written in flow style (services: [...]), expected a block sequence "
                "(`services:` then `  - name: ...` lines) to add the entry to"
            )
        return "".join(lines) + "\nservices:\n" + entry
    end = _block_end(lines, start)
    indent = next((m.group(1) for line in lines[start + 1 : end] if (m := ITEM_RE.match(line))), ITEM[:-2])
    return "".join(lines[:end]) + reindent(entry, indent) + "".join(lines[end:])


def _block_end(lines: list[str], start: int) -> int:
    """The index after the block's last line: indented lines (indented comments too, which belong to the
    last item) and indentless `- ` items; a column-0 comment or blank line after them is not part of it."""
    end = start + 1
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.strip() or line.startswith("#"):
            continue
        if line[0] in " \t" or line.startswith("- ") or line.rstrip("\n") == "-":
            end = index + 1
            continue
        break
    return end
