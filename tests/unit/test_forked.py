"""stack.forked: a pure job computed in a forked child while the parent goes on, its result sent back whole; the
parent computes the job itself when the child fails, and forks nothing where a fork is not safe or cannot help.
Each case runs in a fresh interpreter (a pytest process may hold other tests' threads, which rightly turn the
fork off), and ends by checking that no child is left, running or unreaped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import MINIMAL_STACK

ROOT = Path(__file__).resolve().parents[2]
# with one usable CPU the job runs inline by design (nothing to gain from a fork): the cases say which they expect
FORKS = len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1

PRELUDE = """
import json, os, signal, sys, threading, time
from stack import forked
from stack.forked import aside, usable
PARENT = os.getpid()
children = []

def watched(job):
    # aside, noting the process id of each child it starts (0: the job ran inline)
    started = forked.aside(job)
    children.append(started.pid)
    return started

def no_child_left():
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False
"""


def run(body: str) -> dict[str, object]:
    """The JSON object the script's last line prints."""
    script = PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_result_is_computed_in_a_child_and_comes_back_whole() -> None:
    """A result larger than a pipe holds (3 MB) arrives whole, computed by another process; the child is reaped."""
    result = run("""
        job = aside(lambda: (os.getpid(), "x" * 3_000_000))
        started = job.pid
        pid, text = job()
        print(json.dumps({"usable": usable(), "started": started, "pid": pid, "size": len(text),
                          "same": job() is job(), "clean": no_child_left(), "parent": PARENT}))
    """)
    assert result["usable"] is FORKS
    assert result["size"] == 3_000_000
    assert result["same"] is True
    assert result["clean"] is True
    if FORKS:
        assert result["pid"] == result["started"] != result["parent"]
    else:
        assert result["pid"] == result["parent"]
        assert result["started"] == 0


def test_a_child_that_fails_or_dies_leaves_the_job_to_the_parent() -> None:
    """An exception in the child, or the child killed by a signal: the parent computes the result itself."""
    result = run("""
        def raises_in_child():
            if os.getpid() != PARENT:
                raise RuntimeError("only in the child")
            return os.getpid()

        def killed_in_child():
            if os.getpid() != PARENT:
                os.kill(os.getpid(), signal.SIGKILL)
            return os.getpid()

        print(json.dumps({"raised": aside(raises_in_child)(), "killed": aside(killed_in_child)(),
                          "clean": no_child_left(), "parent": PARENT}))
    """)
    assert result["raised"] == result["killed"] == result["parent"]
    assert result["clean"] is True


def test_an_error_of_the_job_is_raised_in_the_parent() -> None:
    """A job that fails wherever it runs raises its own exception in the parent, as it would without a fork."""
    result = run("""
        def fails():
            raise ValueError(f"bad input, seen by {'the parent' if os.getpid() == PARENT else 'a child'}")

        try:
            aside(fails)()
        except ValueError as error:
            print(json.dumps({"error": str(error), "clean": no_child_left()}))
    """)
    assert result == {"error": "bad input, seen by the parent", "clean": True}


def test_the_child_never_flushes_what_the_parent_had_buffered() -> None:
    """Output the parent buffered before the fork is written once, by the parent (the child ends with os._exit)."""
    script = PRELUDE + textwrap.dedent("""
        assert not sys.stdout.line_buffering and not sys.stdout.write_through
        sys.stdout.write("buffered before the fork;")
        aside(lambda: os.getpid())()
        print(json.dumps({"clean": no_child_left()}))
    """)
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=buffered, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'buffered before the fork;{"clean": true}\n'


def test_no_fork_while_another_thread_is_alive() -> None:
    """With a second thread alive the job runs inline, in the parent, when asked for (no child is started)."""
    result = run("""
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        job = aside(lambda: os.getpid())
        print(json.dumps({"usable": usable(), "started": job.pid, "pid": job(), "parent": PARENT,
                          "clean": no_child_left()}))
        stop.set()
        other.join()
    """)
    assert result["usable"] is False
    assert result["started"] == 0
    assert result["pid"] == result["parent"]
    assert result["clean"] is True


def test_no_temporary_file_means_inline_not_a_failure(tmp_path: Path) -> None:
    """The temporary directory does not exist (no file for the result can be made): the job runs inline, in the
    parent; nothing fails and nothing is left."""
    result = run(f"""
        import tempfile
        tempfile.tempdir = {str(tmp_path / "missing")!r}
        job = aside(lambda: os.getpid())
        print(json.dumps({{"started": job.pid, "pid": job(), "parent": PARENT, "clean": no_child_left()}}))
    """)
    assert result["started"] == 0
    assert result["pid"] == result["parent"]
    assert result["clean"] is True


def test_cancel_kills_and_reaps_the_child() -> None:
    """A job no longer wanted (a run that failed elsewhere) is not waited for: its child is killed and reaped."""
    result = run("""
        job = aside(lambda: time.sleep(60))
        started = job.pid
        began = time.monotonic()
        job.cancel()
        job.cancel()
        print(json.dumps({"forked": started > 0, "seconds": time.monotonic() - began, "clean": no_child_left()}))
    """)
    assert result["forked"] is FORKS
    assert isinstance(result["seconds"], float)
    assert result["seconds"] < 30
    assert result["clean"] is True


def test_render_all_gives_the_same_plan_with_the_tests_built_aside(tmp_path: Path) -> None:
    """The promtool tests built in a forked child: the plan is the same, path for path and byte for byte, as
    the plan built in one process."""
    (tmp_path / "stack.yaml").write_text(MINIMAL_STACK, encoding="utf-8")
    result = run(f"""
        from pathlib import Path
        from stack.config import load_settings
        from stack.render import render_all, now


        settings = load_settings(Path({str(tmp_path / "stack.yaml")!r}))
        aside_plan, here_plan = render_all(settings, aside=watched), render_all(settings, aside=now)
        tests = [a.path for a in aside_plan if "/tests/" in a.path]
        print(json.dumps({{"same": aside_plan == here_plan, "children": children, "tests": len(tests),
                          "clean": no_child_left()}}))
    """)
    assert result["same"] is True
    assert isinstance(result["tests"], int)
    assert result["tests"] >= 2
    assert isinstance(result["children"], list)
    assert len(result["children"]) == 1
    assert (result["children"][0] > 0) is FORKS
    assert result["clean"] is True


def test_a_failing_renderer_leaves_no_child_behind(tmp_path: Path) -> None:
    """A renderer fails while the promtool tests are still being built aside: render_all raises that renderer's
    error, and the child is killed and reaped, not waited for."""
    (tmp_path / "stack.yaml").write_text(MINIMAL_STACK, encoding="utf-8")
    result = run(f"""
        from pathlib import Path
        from stack import render
        from stack.config import load_settings


        def broken(settings, placement, shared):
            raise LookupError("a renderer failed")

        render.RENDERERS = (broken, *render.RENDERERS)
        try:
            render.render_all(load_settings(Path({str(tmp_path / "stack.yaml")!r})), aside=watched)
        except LookupError as error:
            print(json.dumps({{"error": str(error), "children": children, "clean": no_child_left()}}))
    """)
    assert result["error"] == "a renderer failed"
    children = result["children"]
    assert isinstance(children, list)
    assert len(children) == 1
    assert (children[0] > 0) is FORKS
    assert result["clean"] is True
