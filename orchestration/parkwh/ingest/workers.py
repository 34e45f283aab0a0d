"""Worker processes that run ingestion's per-entry work in parallel, one task at a time each.

Each worker is a new interpreter (``python -m parkwh.ingest.workers``), never a fork: Dagster
runs threads in the ingesting process, and a forked copy can inherit a lock another thread
held. Unlike ``multiprocessing``'s spawn, a worker does not import the caller's main script
again, so a script that ingests at its top level (without ``if __name__ == "__main__"``) does
not start a second ingestion in every worker.

A task is a picklable function and its arguments, sent over the worker's stdin; the result or
the exception comes back over its stdout (anything the work prints goes to stderr). A worker
takes one task at a time, so when one dies (killed, out of memory, a crash in a native
library) the task it held is known: that task fails with ``WorkerDied`` and the next one gets
a fresh worker. A worker ends as soon as the process that started it does (its lifeline pipe
closes), so no worker of a killed run goes on landing files while the next run starts.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, BinaryIO, Self


class WorkerDied(RuntimeError):
    """The worker process running a task ended before it answered."""


class WorkerPool:
    """``count`` worker processes, started on first use; ``submit`` returns a ``Future``.

    ``setup`` is called in each worker before its first task (``setup[0](*setup[1:])``): how the
    caller hands over what a worker needs and must not read for itself (a key, say). It travels
    over the pipe, never on a command line or in the environment.
    """

    def __init__(self, count: int, setup: tuple | None = None):
        if count < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.count = count
        self.died = 0
        """How many workers ended before answering."""
        self._setup = setup
        self._tasks: queue.SimpleQueue[tuple[Future, bytes] | None] = queue.SimpleQueue()
        self._slots: list[_Slot] = []
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        future: Future = Future()
        # Pickled here, so a task that cannot be sent fails in the caller, with its own error.
        task = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        if not self._slots:
            self._slots = [_Slot(self, i) for i in range(self.count)]
            for slot in self._slots:
                slot.start()
        self._tasks.put((future, task))
        return future

    def close(self) -> None:
        """Stop every worker once it has finished its task; tasks not started are cancelled."""
        if self._closed:
            return
        self._closed = True
        while True:
            try:
                item = self._tasks.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _slot in self._slots:
            self._tasks.put(None)
        for slot in self._slots:
            slot.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class _Slot(threading.Thread):
    """One worker process and the thread in the caller that feeds it."""

    def __init__(self, pool: WorkerPool, index: int):
        super().__init__(name=f"parkwh-ingest-worker-{index}", daemon=True)
        self.pool = pool
        self.process: subprocess.Popen | None = None
        self.lifeline: int | None = None

    def run(self) -> None:
        try:
            while (item := self.pool._tasks.get()) is not None:
                future, task = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    ok, value = self._call(task)
                except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                    future.set_exception(exc)
                else:
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._stop()

    def _call(self, task: bytes) -> tuple[bool, Any]:
        if self.process is None:
            self._start()
        try:
            _send(self.process.stdin, task)
            return pickle.loads(_receive(self.process.stdout))
        except (EOFError, OSError):
            code = self.process.wait()
            self.pool.died += 1
            self._stop()
            how = (
                f"killed by signal {-code}: out of memory, or killed"
                if code < 0
                else f"exit status {code}"
            )
            raise WorkerDied(f"the process validating it stopped abruptly ({how})") from None

    def _start(self) -> None:
        lifeline_read, lifeline_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(lifeline_read)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                pass_fds=(lifeline_read,),
            )
        except BaseException:
            os.close(lifeline_write)
            raise
        finally:
            os.close(lifeline_read)
        self.lifeline = lifeline_write
        # Modules are found where this process finds them (a test adds its own folder), then
        # the setup is unpickled, which may import them.
        _send(self.process.stdin, pickle.dumps(sys.path, protocol=pickle.HIGHEST_PROTOCOL))
        _send(self.process.stdin, pickle.dumps(self.pool._setup, protocol=pickle.HIGHEST_PROTOCOL))

    def _stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the worker ends when its input does
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None


def _send(channel: BinaryIO, data: bytes) -> None:
    """One message: its length, then its bytes (a message that fails to unpickle is skipped
    whole, and the next one is read from its start)."""
    channel.write(len(data).to_bytes(8, "little") + data)
    channel.flush()


def _receive(channel: BinaryIO) -> bytes:
    header = channel.read(8)
    if len(header) < 8:
        raise EOFError
    size = int.from_bytes(header, "little")
    data = channel.read(size)
    if len(data) < size:
        raise EOFError
    return data


# ---------------------------------------------------------------------------- in the worker


def _hold_lifeline(fd: int) -> None:
    """End this worker at once when the process that started it ends (the pipe closes)."""
    while os.read(fd, 1):
        pass
    os._exit(1)


def _answer(channel: BinaryIO, ok: bool, value: Any) -> None:
    try:
        data = pickle.dumps((ok, value), protocol=pickle.HIGHEST_PROTOCOL)
        if not ok:
            pickle.loads(data)  # some exceptions pickle but cannot be rebuilt
    except Exception as exc:  # noqa: BLE001 - an answer that cannot be sent becomes an error
        what = f"{type(value).__name__}: {value}" if not ok else "its result"
        error = RuntimeError(f"{what} (the worker could not send it back: {type(exc).__name__})")
        data = pickle.dumps((False, error), protocol=pickle.HIGHEST_PROTOCOL)
    _send(channel, data)


def main() -> None:
    threading.Thread(target=_hold_lifeline, args=(int(sys.argv[1]),), daemon=True).start()
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    # What the work prints goes to stderr, not into the channel.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.path[:] = pickle.loads(_receive(requests))
    setup = pickle.loads(_receive(requests))
    if setup is not None:
        setup[0](*setup[1:])
    while True:
        try:
            task = _receive(requests)
        except EOFError:
            return
        try:
            fn, args = pickle.loads(task)
            value = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the caller decides what a failure means
            exc.add_note("in the ingestion worker:\n" + traceback.format_exc().rstrip())
            _answer(answers, False, exc)
        else:
            _answer(answers, True, value)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the caller reports it
        pass
