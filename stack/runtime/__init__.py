"""I/O: starting the stack (compose or local processes), verify, bench.

It starts and checks what render wrote: it imports render, write and validate, never the builders.
The entry points of up/down/status are in `lifecycle`.
"""
