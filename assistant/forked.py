"""Work done in a forked child process, so that the memory it touches is not kept here.

Some start-up work needs far more memory than its result: compiling a device
grammar makes and frees millions of small Python objects, and the few that live
on pin the interpreter's memory arenas; measuring the wake word's CPU cost loads
models that a device which will listen on a button press never uses. Done in a
child, that memory goes back to the system when the child exits, and only the
result (pickled through a pipe) comes back.

Where processes cannot be forked (another system; a daemonic multiprocessing
child, which may not have children), or should not be (other threads are
running: one may hold a lock the child would inherit locked, as in the daemon's
reload), the work runs here instead: the same result, more memory kept.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from typing import TypeVar, cast

from assistant.errors import AssistantError

START_METHOD = "fork"  # the child inherits what `work` needs: nothing is pickled on the way in

T = TypeVar("T")


def can_fork() -> bool:
    """Whether `in_child` runs its work in a child process here."""
    return (
        START_METHOD in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
        and threading.active_count() == 1
    )


def in_child(work: Callable[[], T]) -> T:
    """`work()` run in a forked child process (here where that cannot be: module docstring);
    an exception it raises is raised here."""
    if not can_fork():
        return work()
    context = cast(ForkContext, multiprocessing.get_context(START_METHOD))
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_run_and_send, args=(work, sending), daemon=True)
    child.start()
    sending.close()
    try:
        outcome = receiving.recv()  # before join: a large result would fill the pipe and block the child
    except EOFError as error:
        child.join()
        raise AssistantError(f"a child process ended without a result (exit code {child.exitcode})") from error
    finally:
        receiving.close()
    child.join()
    if isinstance(outcome, _Raised):
        raise outcome.error
    return cast(T, outcome)


class _Raised:
    """An exception raised in the child, told apart from a result that is an exception."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _run_and_send(work: Callable[[], object], sending: Connection) -> None:
    try:
        result: object = work()
    except Exception as error:  # handed to the parent, which raises it
        result = _Raised(error)
    sending.send(result)
    sending.close()
