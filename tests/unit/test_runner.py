"""``gitops.runner``: the one subprocess boundary. argv lists, timeouts, accepted exit codes,
a one-line error naming the command, and background processes stopped like kubelet does."""

from __future__ import annotations

import fcntl
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from gitops.errors import CommandError, ToolNotFoundError
from gitops.runner import (
    PIPE_BYTES,
    Command,
    configured_executable,
    first_error_line,
    run,
    spawn,
    start,
)

PY = sys.executable


def test_run_returns_the_output_of_an_argv_never_a_shell() -> None:
    result = run(Command((PY, "-c", "import sys; print(sys.argv[1])", "$HOME; echo hi")))
    assert (result.returncode, result.stdout) == (0, "$HOME; echo hi\n")


def test_failures_are_one_command_error_naming_the_command() -> None:
    failing = (PY, "-c", "import sys; print('warning: x\\nError: bad input', file=sys.stderr); "
               "sys.exit(3)")  # fmt: skip
    with pytest.raises(CommandError, match=r"exited 3: bad input$") as caught:
        run(Command(failing))
    assert str(caught.value).startswith(f"{PY} -c ")
    assert run(Command(failing, ok_codes=frozenset({3}))).returncode == 3
    with pytest.raises(CommandError, match=r"no-such-tool-xyz: command not found"):
        run(Command(("no-such-tool-xyz",)))
    with pytest.raises(CommandError, match=r"timed out after 0\.5s"):
        run(Command((PY, "-c", "import time; time.sleep(30)"), timeout=0.5))


def test_a_memory_limit_turns_an_allocation_failure_into_a_clear_error() -> None:
    hog = (PY, "-c", "b = bytearray(1 << 30)")
    with pytest.raises(CommandError) as caught:
        run(Command(hog, memory_limit=256 * 2**20))
    assert "exited 1" in str(caught.value)
    assert "MemoryError" in str(caught.value)


def test_first_error_line_prefers_the_error_line() -> None:
    assert first_error_line("W1 warning\nError: accumulating resources\n") == (
        "accumulating resources"
    )
    assert first_error_line("\n  first\n second \n") == "first second"
    assert first_error_line("") == "(no output on stderr)"


def test_the_indented_lines_continuing_an_error_belong_to_it() -> None:
    """helm 4 writes a template error over several indented lines, then a hint."""
    stderr = (
        "Error: web/templates/deployment.yaml:9:22\n"
        '  executing "web/templates/deployment.yaml" at <.Values.x.y>:\n'
        "    can't evaluate field y in type interface {}\n"
        "\n"
        "Use --debug flag to render out invalid YAML\n"
    )
    assert first_error_line(stderr) == (
        'web/templates/deployment.yaml:9:22 executing "web/templates/deployment.yaml" at '
        "<.Values.x.y>: can't evaluate field y in type interface {}"
    )
    assert first_error_line("Error: one\nnext, not indented\n") == "one"


def test_spawn_logs_to_a_file_and_stop_terminates(tmp_path: Path) -> None:
    script = "import time; print('up', flush=True); time.sleep(60)"
    process = spawn(Command((PY, "-c", script)), tmp_path / "log")
    try:
        for _ in range(100):
            if process.log_tail():
                break
            time.sleep(0.05)
        assert process.alive() and process.log_tail() == "up"
    finally:
        code = process.stop(grace=5)
    assert code == -15 and not process.alive()  # SIGTERM within the grace period
    with pytest.raises(CommandError, match="command not found"):
        spawn(Command(("no-such-tool-xyz",)), tmp_path / "log2")


def test_stdin_text_reaches_the_child_and_is_closed() -> None:
    result = run(Command(argv=("cat",), timeout=10, stdin="one\ntwo\n"))
    assert result.stdout == "one\ntwo\n"
    # Without stdin text the child reads /dev/null: an immediate end of input, never a hang.
    assert run(Command(argv=("cat",), timeout=10)).stdout == ""


def test_configured_executable_takes_the_first_set_candidate_and_refuses_a_broken_one(
    tmp_path: Path,
) -> None:
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert configured_executable("x", [(None, "$X"), ("", "file")], "the pinned x") is None
    found = configured_executable("x", [(None, "$X"), (str(tool), "gitops.yaml")], "the pinned x")
    assert found == (str(tool.resolve()), "gitops.yaml")
    assert configured_executable("x", [("sh", "$X")], "y") == (shutil.which("sh"), "$X")
    tool.chmod(0o644)  # no longer executable: the user asked for it, so it is an error
    with pytest.raises(ToolNotFoundError, match=r"x binary '.*tool' \(set by \$X\) was not found"):
        configured_executable("x", [(str(tool), "$X"), ("sh", "later")], "the pinned x")


def test_a_feed_writes_piece_by_piece_while_the_output_is_read() -> None:
    # cat answers as it reads: 4 MB through 64 KiB pipes would block both sides if nobody
    # read its stdout until the input was all written.
    feed = start(Command(argv=("cat",), timeout=30), stdin=True).feed()
    pieces = [f"{i:07d}" * 1000 + "\n" for i in range(512)]
    for piece in pieces:
        feed.write(piece)
    assert feed.finish().stdout == "".join(pieces)


@pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_a_feed_lets_the_caller_get_a_mebibyte_ahead_of_a_command_not_reading_yet(
    tmp_path: Path,
) -> None:
    # The command reads nothing until GO exists: with a 64 KiB pipe the writes below would
    # wait for it forever (and the upstream validator's caller would wait at every file).
    go = tmp_path / "GO"
    script = f"while [ ! -e {go} ]; do sleep 0.02; done; cat"
    feed = start(Command(argv=("sh", "-c", script), timeout=30), stdin=True).feed()
    text = "x" * 1023 + "\n"
    written = threading.Event()

    def write() -> None:
        for _ in range(PIPE_BYTES // len(text) - 8):  # less than the pipe, minus the buffer's
            feed.write(text)
        feed.flush()
        written.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert written.wait(timeout=20), "the writes waited for the command to read"
    finally:
        go.touch()
    writer.join()
    assert feed.finish().stdout == text * (PIPE_BYTES // len(text) - 8)


def test_a_feed_to_a_command_that_exited_reports_its_exit() -> None:
    command = Command(argv=(sys.executable, "-c", "import sys; sys.exit('no')"), timeout=30)
    feed = start(command, stdin=True).feed()
    time.sleep(0.3)
    for _ in range(100):
        feed.write("x" * 65536)  # into a closed pipe: kept quiet, the exit says what happened
    with pytest.raises(CommandError, match="exited 1: no"):
        feed.finish()


def test_go_programs_run_with_a_higher_gc_target_unless_the_caller_set_one() -> None:
    from gitops.runner import GO_GC_PERCENT, go_environment

    assert go_environment({"PATH": "/bin"}) == {"PATH": "/bin", "GOGC": GO_GC_PERCENT}
    assert go_environment({"GOGC": "off"})["GOGC"] == "off"
