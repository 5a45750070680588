"""I/O: starting the stack (compose or local processes), verify, bench.

Kept empty on purpose: `stack.validate` imports `stack.runtime.compose_check`, so importing this
package must stay cheap and free of cycles. The entry points of up/down/status are in `lifecycle`.
"""
