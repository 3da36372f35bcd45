"""helpers.errors.run_command: how every command-line tool of the course ends."""

from __future__ import annotations

from helpers.errors import BadInputError, run_command


def test_run_command_exit_codes_and_one_line_messages(capsys):
    assert run_command(lambda: None) == 0

    def bad() -> None:
        raise BadInputError("clip.mp4: no such file")

    assert run_command(bad) == 2
    assert capsys.readouterr().err == "error: clip.mp4: no such file\n"

    def interrupted() -> None:
        raise KeyboardInterrupt

    assert run_command(interrupted, "the last checkpoint is kept") == 130
    assert capsys.readouterr().err == "error: interrupted; the last checkpoint is kept\n"


def test_run_command_lets_real_bugs_through():
    def bug() -> None:
        raise ZeroDivisionError

    try:
        run_command(bug)
    except ZeroDivisionError:
        return
    raise AssertionError("a bug must surface as a traceback, not as a one-line error")
