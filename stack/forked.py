"""I/O: a pure job run in a forked copy of this process, while this process goes on with other work.

`generate` builds the promtool tests (some 40 % of its rendering) this way, on a second core. The job is a
function of what the process already holds: the child computes it, writes the pickled result to an unlinked
temporary file the parent opened (so it never waits for the parent to read), and ends without running exit
handlers or flushing the buffers it inherited. It exits 0 only once its whole result is written. Whatever else
happens in the child (an exception, a signal), the parent computes the job itself, so an error is raised in the
parent, with its traceback, exactly as without the fork.

The job runs inline instead where a fork cannot help or is not safe: no `os.fork` (Windows), one usable CPU,
or another thread alive (a forked child holds only the forking thread: a lock another thread held would stay
held in the child for ever); and where it cannot start: no temporary file can be made, or no process.
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
import threading
from collections.abc import Callable
from typing import IO, Generic, NoReturn, TypeVar

T = TypeVar("T")

__all__ = ["Forked", "aside", "inline", "usable"]


def usable() -> bool:
    """A forked child can run beside this process: fork exists, two CPUs or more, no other thread."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return cpus > 1


class Forked(Generic[T]):
    """A job, running in a forked child once started: call for its result (the same object every time; the job
    computed here if the child did not deliver it), `cancel()` when it is not wanted (the child is killed and
    reaped)."""

    def __init__(self, job: Callable[[], T], computed: tuple[T] | None = None) -> None:
        self._job = job
        self._result = computed
        self._pid = 0
        self._file: IO[bytes] | None = None

    def start(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - held open until the result is read or cancelled
        pid = os.fork()  # an OSError leaves nothing started: cancel() closes the file
        if pid == 0:
            _child(self._job, self._file)
        self._pid = pid

    def __call__(self) -> T:
        if self._result is None:
            self._result = (self._collect(),)
        return self._result[0]

    def cancel(self) -> None:
        if self._pid:
            _reap(self._pid, kill=True)
            self._pid = 0
        self._close()

    @property
    def pid(self) -> int:
        """The child's process id while it is not collected, else 0."""
        return self._pid

    def _collect(self) -> T:
        """The child's result once it has exited 0; else (it failed or was killed) the job's result computed here.
        The child is reaped either way, killed first when this process is interrupted while it waits."""
        pid, status, self._pid = self._pid, None, 0
        if pid:
            try:
                status = _reap(pid, kill=False)
            finally:
                if status is None:  # interrupted while waiting
                    _reap(pid, kill=True)
                    self._close()
        if self._file is not None and status is not None and os.waitstatus_to_exitcode(status) == 0:
            self._file.seek(0)  # the child shared this open file, its offset too
            result: T = pickle.loads(self._file.read())  # noqa: S301 - our own child's bytes, in our own file
            self._close()
            return result
        self._close()
        return self._job()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _child(job: Callable[[], T], sink: IO[bytes]) -> NoReturn:
    """The forked child's whole life: never returns, never unwinds into the parent's code."""
    code = 1
    try:
        pickle.dump(job(), sink, protocol=pickle.HIGHEST_PROTOCOL)
        sink.flush()
        code = 0
    finally:
        os._exit(code)


def _reap(pid: int, kill: bool) -> int | None:
    """The child's wait status once it has ended (killed first if `kill`); None when it was reaped already."""
    try:
        if kill:
            os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]
    except (ProcessLookupError, ChildProcessError):
        return None


def inline(job: Callable[[], T]) -> Forked[T]:
    """`job` computed now, here, held as a collected job."""
    return Forked(job, (job(),))


def aside(job: Callable[[], T]) -> Forked[T]:
    """`job` started in a forked child, or computed inline when `usable()` says no."""
    if not usable():
        return inline(job)
    started = Forked(job)
    try:
        started.start()
    except OSError:  # no temporary file (TMPDIR not writable) or no process (a limit reached): not worth failing for
        started.cancel()
        return inline(job)
    return started
