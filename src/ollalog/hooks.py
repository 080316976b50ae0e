"""Commands run on an event (`ollalog watch --on-cpu CMD`), never in the way of the watch.

Each command runs through the shell (it is the operator's own command line, not log text), with
the event as one JSON document on its standard input and a few of its fields in the environment
(`OLLALOG_EVENT`, `OLLALOG_PLACEMENT`, `OLLALOG_CAUSE`, `OLLALOG_MODEL`, `OLLALOG_HOST`: label-safe
values, see metrics.clean). Runs happen in worker threads, at most `workers` at once; a command
still running after `timeout` seconds is killed with its process group. When more than `queue`
runs wait, new ones are dropped and reported. The command's standard output is discarded; the last
line of its standard error is reported when it fails.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from typing import Callable, Optional

from .metrics import clean

Report = Callable[[str, str, str], None]   # (hook name, result: ok, failed, timeout, dropped, detail)


class Hooks:
    def __init__(self, commands: dict, timeout: float = 10.0, report: Optional[Report] = None,
                 workers: int = 2, queue_max: int = 64):
        self.commands = {k: v for k, v in commands.items() if v}
        self.timeout = timeout
        self.report = report or (lambda hook, result, detail: None)
        self.jobs: queue.Queue = queue.Queue()
        self.queue_max = queue_max
        self.running: set = set()
        self.lock = threading.Lock()
        self.threads = []
        self.closing = False
        if self.commands:
            for i in range(workers):
                t = threading.Thread(target=self._work, daemon=True, name=f"ollalog-hook-{i}")
                t.start()
                self.threads.append(t)

    def wants(self, name: str) -> bool:
        return name in self.commands

    def run(self, name: str, payload: bytes, fields: dict) -> None:
        """Queue one run of hook `name` (returns at once)."""
        if name not in self.commands:
            return
        if self.jobs.qsize() >= self.queue_max:
            self.report(name, "dropped", f"{self.jobs.qsize()} runs already waiting")
            return
        self.jobs.put((name, payload, fields))

    def _env(self, fields: dict) -> dict:
        env = dict(os.environ)
        for k, v in fields.items():
            env["OLLALOG_" + k.upper()] = clean(v)
        return env

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            name, payload, fields = job
            try:
                self._one(name, payload, fields)
            except Exception as e:  # a hook must never end the watch
                self.report(name, "failed", f"{type(e).__name__}: {e}")
            finally:
                self.jobs.task_done()

    def _one(self, name: str, payload: bytes, fields: dict) -> None:
        posix = os.name == "posix"
        try:
            p = subprocess.Popen(self.commands[name], shell=True, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, env=self._env(fields), start_new_session=posix)
        except OSError as e:
            self.report(name, "failed", f"cannot start: {e.strerror or e}")
            return
        with self.lock:
            self.running.add(p)
        try:
            try:
                _, err = p.communicate(payload, timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self._kill(p)
                p.communicate()
                self.report(name, "timeout", f"killed after {self.timeout:g} s")
                return
            if p.returncode == 0:
                self.report(name, "ok", "")
            else:
                last = (err or b"").decode("utf-8", "replace").strip().splitlines()
                self.report(name, "failed", f"exit status {p.returncode}" + (f": {last[-1][:300]}" if last else ""))
        finally:
            with self.lock:
                self.running.discard(p)

    @staticmethod
    def _kill(p) -> None:
        try:
            if os.name == "posix":
                os.killpg(p.pid, signal.SIGKILL)
            else:
                p.kill()
        except OSError:
            pass

    def close(self, grace: float = 5.0) -> None:
        """Let waiting and running hooks finish for up to `grace` seconds, then kill what still runs."""
        if not self.threads:
            return
        done = threading.Event()

        def drain():
            self.jobs.join()
            done.set()
        threading.Thread(target=drain, daemon=True).start()
        done.wait(grace)
        while True:  # what has not started by now is not run
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                self.report(job[0], "dropped", "the watch stopped first")
            self.jobs.task_done()
        with self.lock:
            for p in list(self.running):
                self._kill(p)
        for _ in self.threads:
            self.jobs.put(None)
