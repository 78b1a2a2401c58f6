"""server.stop: exit or a signal's name, with a grace only a signal takes; misspellings get the nearest name."""

from __future__ import annotations

import pytest

from harness.model.errors import UsageError
from harness.model.scenario import DEFAULT_GRACE, STOP_BY_ITSELF, ClientCommand, Stop


def test_exit_is_the_default_and_sends_nothing() -> None:
    assert Stop.parse("exit") == STOP_BY_ITSELF == Stop()
    assert STOP_BY_ITSELF.signal is None
    assert str(STOP_BY_ITSELF) == "exit"


def test_a_signal_takes_the_default_grace_unless_given_one() -> None:
    assert Stop.parse("SIGTERM") == Stop("SIGTERM", DEFAULT_GRACE)
    assert Stop.parse("SIGINT", 2.5) == Stop("SIGINT", 2.5)
    assert str(Stop("SIGHUP")) == "SIGHUP"


@pytest.mark.parametrize(
    ("written", "nearest"), [("SIGTREM", "SIGTERM"), ("TERM", "SIGTERM"), ("sigint", "SIGINT"), ("SIGKIL", "SIGKILL")]
)
def test_a_misspelt_signal_is_refused_with_the_nearest_name(written: str, nearest: str) -> None:
    with pytest.raises(UsageError, match=f"unknown signal '{written}'; did you mean '{nearest}'"):
        Stop.parse(written)


def test_a_grace_goes_only_with_a_signal_and_is_a_positive_number_of_seconds() -> None:
    with pytest.raises(UsageError, match="a grace only goes with a stop signal"):
        Stop.parse("exit", 3)
    for grace in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(UsageError, match="the grace must be a positive number of seconds"):
            Stop("SIGTERM", grace)


def test_a_client_command_must_be_told_the_port() -> None:
    assert str(ClientCommand(("curl", "-sf", "http://{host}:{port}/"))) == "curl -sf 'http://{host}:{port}/'"
    with pytest.raises(UsageError, match="must be told the server's port"):
        ClientCommand(("curl", "http://127.0.0.1/"))


@pytest.mark.parametrize("exits", [frozenset(), frozenset({256}), frozenset({0, -1})])
def test_exit_statuses_are_what_waitpid_can_report(exits: frozenset[int]) -> None:
    with pytest.raises(UsageError, match="exit statuses are numbers from 0 to 255"):
        Stop("SIGTERM", exits=exits)


@pytest.mark.parametrize(
    ("code", "signal", "sent", "well"),
    [
        (0, None, False, True),  # a clean status, with or without the stop signal
        (143, None, True, True),  # 128+SIGTERM after SIGTERM: as a shell reports it, as socat exits
        (None, "SIGTERM", True, True),  # killed by the stop signal itself
        (143, None, False, False),  # 143 with no SIGTERM sent: a failure of its own
        (130, None, True, False),  # 128+SIGINT is not the stop signal's status
        (None, "SIGTERM", False, False),  # killed by a SIGTERM the harness did not send
        (1, None, True, False),  # an error status nobody named
    ],
)
def test_a_stop_signal_ends_a_server_well_by_its_death_or_its_shell_status(
    code: int | None, signal: str | None, sent: bool, well: bool
) -> None:
    assert Stop("SIGTERM").ends_well(code=code, signal=signal, sent=sent) is well


def test_a_status_named_as_clean_ends_a_server_well_whatever_the_stop() -> None:
    assert Stop("SIGTERM", exits=frozenset({0, 1})).ends_well(code=1, signal=None, sent=True)
    assert Stop(exits=frozenset({2})).ends_well(code=2, signal=None, sent=False)
    assert not Stop(exits=frozenset({2})).ends_well(code=0, signal=None, sent=False)
