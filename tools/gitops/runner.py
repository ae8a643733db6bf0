"""The one place that runs subprocesses.

Every external tool (kustomize, git) goes through :func:`run`, which takes an argv list (never a
shell string), a timeout and the exit codes that count as success, logs the quoted command at debug
level and turns every failure into a :class:`CommandError` naming the command and its stderr.

    >>> result = run(Command(argv=("git", "--version"), timeout=10))
    >>> result.stdout.startswith("git version")
    True
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gitops.errors import CommandError, ToolNotFoundError

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    cwd: Path | None = None
    timeout: float = 120.0
    ok_codes: frozenset[int] = frozenset({0})
    env: Mapping[str, str] | None = field(default=None, hash=False)
    # Address-space limit (RLIMIT_AS) in bytes for the child and what it starts (kustomize's
    # helm): a YAML alias bomb then ends in "out of memory" instead of taking the machine.
    memory_limit: int | None = None
    # Text written to the child's stdin (then closed); None: stdin is /dev/null.
    stdin: str | None = field(default=None, repr=False)

    def quoted(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class CommandResult:
    command: Command
    returncode: int
    stdout: str
    stderr: str


# Go's collector runs when the heap has grown by GOGC percent since the last collection (100 by
# default; https://go.dev/doc/gc-guide). The Go programs gitops runs (kustomize, the upstream
# validator) are short-lived with small heaps, so at 400 they spend far less on collection:
# the prod airbyte overlay's build took about 0.14 CPU-s instead of 0.23 for 20 MiB more
# resident memory; the validator's run over this repository's output 0.16 CPU-s instead of
# 0.21, and its first verdict after learning the bundled CRDs came after 96 ms instead of 105.
GO_GC_PERCENT = "400"


def go_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a Go program we run: the caller's, with GOGC at GO_GC_PERCENT
    unless it sets one."""
    env = dict(os.environ if environ is None else environ)
    env.setdefault("GOGC", GO_GC_PERCENT)
    return env


# What runs a Command: :func:`run`, or a test's counting or fake runner. The one alias.
Runner = Callable[[Command], CommandResult]


def run(command: Command) -> CommandResult:
    """Run ``command`` and return its output, or raise :class:`CommandError`."""
    return start(command, stdin=command.stdin is not None).finish(command.stdin)


def start(command: Command, stdin: bool = False) -> Started:
    """Start ``command`` now, to be given its input (``stdin``) and waited for later with
    :meth:`Started.finish`: a tool that takes a while to get ready does so meanwhile."""
    log.debug("run: %s (cwd=%s)", command.quoted(), command.cwd or ".")
    try:
        popen = subprocess.Popen(  # argv list, never a shell
            list(command.argv),
            cwd=command.cwd,
            env=dict(command.env) if command.env is not None else None,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",  # a tool echoing non-UTF-8 input must not crash the decoding
        )
    except FileNotFoundError as exc:
        raise CommandError(f"{command.argv[0]}: command not found ({command.quoted()})") from exc
    if command.memory_limit is not None:
        # Set on the running child (not in a preexec_fn, which is unsafe with the render
        # threads): it has barely started, and every later allocation counts.
        _limit_memory(popen, command.memory_limit)
    return Started(command, popen)


@dataclass
class Started:
    """A command :func:`start` started."""

    command: Command
    popen: subprocess.Popen[str]

    def finish(self, stdin: str | None = None, timeout: float | None = None) -> CommandResult:
        """Write ``stdin`` (if it was started with one), wait up to ``timeout`` (default: the
        command's), and return its output or raise :class:`CommandError`."""
        command, popen = self.command, self.popen
        timeout = command.timeout if timeout is None else timeout
        try:
            stdout, stderr = popen.communicate(input=stdin, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            popen.kill()
            popen.communicate()
            raise CommandError(f"{command.quoted()} timed out after {timeout:g}s") from exc
        return _result(command, popen.returncode, stdout, stderr)

    def feed(self) -> Feed:
        """Give it its input piece by piece from now on (:class:`Feed`)."""
        return Feed(self)


def _result(command: Command, returncode: int, stdout: str, stderr: str) -> CommandResult:
    """The output of a finished command, or :class:`CommandError` naming why it failed."""
    if returncode not in command.ok_codes:
        if command.memory_limit is not None and _out_of_memory(stderr):
            raise CommandError(
                f"{command.quoted()} exited {returncode}: ran out of memory under "
                f"the {command.memory_limit // 2**20} MiB limit (kustomize.memoryLimitMiB, "
                "--render-memory)"
            )
        message = first_error_line(stderr)
        raise CommandError(f"{command.quoted()} exited {returncode}: {message}")
    return CommandResult(command, returncode, stdout, stderr)


class Feed:
    """A started command given its stdin piece by piece while it runs, so it works on the
    first pieces while the caller prepares the next. Its stdout and stderr are read by threads
    meanwhile: a command that answers as it reads never blocks on a full pipe (which would
    block the caller's next write in turn)."""

    def __init__(self, started: Started) -> None:
        self.command, self.popen = started.command, started.popen
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=_drain, args=(stream, into), daemon=True)
            for stream, into in ((self.popen.stdout, self._out), (self.popen.stderr, self._err))
        ]
        for reader in self._readers:
            reader.start()
        self._broken = False
        if self.popen.stdin is not None:
            _widen_pipe(self.popen.stdin.fileno())

    def write(self, text: str) -> None:
        """Send TEXT (buffered: :meth:`flush` sends what is buffered now). A command that has
        exited reads no more: its exit is reported by :meth:`finish`."""
        if self._broken or self.popen.stdin is None:
            return
        try:
            self.popen.stdin.write(text)
        except (BrokenPipeError, OSError):
            self._broken = True

    def flush(self) -> None:
        if self._broken or self.popen.stdin is None:
            return
        try:
            self.popen.stdin.flush()
        except (BrokenPipeError, OSError):
            self._broken = True

    def finish(self, timeout: float | None = None) -> CommandResult:
        """Close its input, wait up to TIMEOUT (default: the command's) and return its output,
        or raise :class:`CommandError` as :meth:`Started.finish` does."""
        timeout = self.command.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout if timeout is not None else None
        if self.popen.stdin is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.popen.stdin.close()
        try:
            # Its output ends first (the readers return at once then), then it exits. Waiting
            # on the process alone would poll it, sleeping up to 50 ms between looks.
            for reader in self._readers:
                reader.join(_remaining(deadline))
                if reader.is_alive():
                    raise subprocess.TimeoutExpired(self.command.argv, timeout or 0)
            self.popen.wait(timeout=_remaining(deadline))
        except subprocess.TimeoutExpired as exc:
            self.kill()
            raise CommandError(f"{self.command.quoted()} timed out after {timeout:g}s") from exc
        return _result(self.command, self.popen.returncode, "".join(self._out), "".join(self._err))

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        for reader in self._readers:
            reader.join()


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


# Linux's default pipe holds 64 KiB: a caller that gets ahead of the command by more than that
# waits for it at every write. 1 MiB is what an unprivileged process may ask for
# (/proc/sys/fs/pipe-max-size's default), enough for this repository's whole rendered output.
PIPE_BYTES = 1 << 20


def _widen_pipe(fd: int) -> None:
    """Let the caller write up to :data:`PIPE_BYTES` ahead of the command without waiting
    (F_SETPIPE_SZ; elsewhere, or when refused, the pipe keeps its size)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, set_size, PIPE_BYTES)


def _drain(stream: IO[str] | None, into: list[str]) -> None:
    if stream is not None:
        for chunk in iter(lambda: stream.read(65536), ""):
            into.append(chunk)
        stream.close()


def _limit_memory(popen: subprocess.Popen[str], limit: int) -> None:
    prlimit = getattr(resource, "prlimit", None)
    if prlimit is None:  # Linux only; elsewhere kustomize runs unlimited
        log.debug("memory limit not applied: no prlimit on this platform")
        return
    try:
        prlimit(popen.pid, resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError) as exc:  # the child already exited, or no prlimit here
        log.debug("memory limit not applied to %s: %s", popen.pid, exc)


def _out_of_memory(stderr: str) -> bool:
    # The Go runtime's words when an allocation fails under RLIMIT_AS.
    head = stderr[:4096]
    return any(
        words in head
        for words in (
            "fatal error: out of memory",
            "runtime: out of memory",
            "runtime: cannot allocate memory",
        )
    )


def first_error_line(stderr: str) -> str:
    """The most informative single line of a tool's stderr (tools like kustomize print one
    ``Error: ...`` line, sometimes after warnings), with the indented lines that continue it
    (helm 4 puts a template error's cause there); the whole text collapsed if none stands out."""
    raw = stderr.splitlines()
    for index, line in enumerate(raw):
        if line.strip().lower().startswith("error:"):
            parts = [line.strip()[len("error:") :].strip()]
            for more in raw[index + 1 :]:
                if not more.strip() or not more[0].isspace():
                    break
                parts.append(more.strip())
            return " ".join(parts)
    lines = [line.strip() for line in raw if line.strip()]
    return " ".join(lines) if lines else "(no output on stderr)"


@dataclass
class Process:
    """A long-running child process (a service under probe), its output going to a log file."""

    command: Command
    popen: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``grace`` seconds (the app drains in-flight requests), then
        SIGKILL, like kubelet at the end of a pod's termination grace period."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        return self.popen.returncode

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(line for line in text.splitlines()[-lines:] if line.strip())


def spawn(command: Command, log_path: Path) -> Process:
    """Start ``command`` in the background; stdout and stderr go to ``log_path``."""
    log.debug("spawn: %s (cwd=%s)", command.quoted(), command.cwd or ".")
    with open(log_path, "wb") as log_file:
        try:
            popen = subprocess.Popen(  # argv list, never a shell
                list(command.argv),
                cwd=command.cwd,
                env=dict(command.env) if command.env is not None else None,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            raise CommandError(
                f"{command.argv[0]}: command not found ({command.quoted()})"
            ) from exc
    return Process(command, popen, log_path)


def configured_executable(
    tool: str,
    candidates: Sequence[tuple[str | None, str]],
    otherwise: str,
    error: type[ToolNotFoundError] = ToolNotFoundError,
) -> tuple[str, str] | None:
    """The first configured ``(value, origin)`` of CANDIDATES as ``(executable path, origin)``,
    or None when none is set. A set value that is no executable raises ERROR at once, naming
    where it was set: the user asked for that binary (OTHERWISE says what unsetting it gives).
    A value with a path separator is a path; a bare name is looked up on PATH."""
    for value, origin in candidates:
        if not value:
            continue
        if os.sep in value:
            path = Path(value).expanduser()
            usable = path.is_file() and os.access(path, os.X_OK)
            resolved = str(path.resolve()) if usable else None
        else:
            resolved = shutil.which(value)
        if resolved is None:
            raise error(
                f"{tool} binary {value!r} (set by {origin}) was not found or is not "
                f"executable; fix the path or unset it to use {otherwise}"
            )
        return resolved, origin
    return None
