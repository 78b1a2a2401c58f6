"""Python frames as the model keeps them: the standard library told from the user's code, the summary, JSON."""

from __future__ import annotations

import pytest

from harness.model.events import SyscallEntry, SyscallEvent, TraceFormatError, event_from_dict, event_to_dict
from harness.model.frames import Frame, matches, stack_from_json, stack_to_json, summary, user_frame
from harness.model.strace_format import TextRenderer, render_trace

SOCKET = Frame(file="/usr/lib/python3.11/socket.py", line=294, function="accept")
SERVE = Frame(file="/srv/app/myserver.py", line=41, function="serve")
MODULE = Frame(file="/srv/app/myserver.py", line=60, function="<module>")


@pytest.mark.parametrize(
    ("path", "stdlib"),
    [
        ("/usr/lib/python3.11/socket.py", True),
        ("/root/.pyenv/versions/3.13.0/lib/python3.13/asyncio/base_events.py", True),
        ("<frozen importlib._bootstrap>", True),
        ("/usr/lib/python3/dist-packages/requests/api.py", False),
        ("/venv/lib/python3.12/site-packages/gunicorn/arbiter.py", False),
        ("/srv/app/myserver.py", False),
    ],
)
def test_the_standard_library_is_told_by_its_path(path: str, stdlib: bool) -> None:
    assert Frame(file=path, line=1, function="f").in_stdlib is stdlib


def test_the_summary_is_the_users_frame_after_the_library_frame_that_made_the_call() -> None:
    assert summary((SOCKET, SERVE, MODULE)) == "socket.py:294 in accept <- myserver.py:41 in serve"
    assert summary((SERVE, MODULE)) == "myserver.py:41 in serve"
    assert summary((SOCKET,)) == "socket.py:294 in accept"
    assert summary(()) == ""
    assert user_frame((SOCKET, SERVE)) == SERVE and user_frame((SOCKET,)) is None


@pytest.mark.parametrize(
    ("where", "found"),
    [
        ("serve", True),
        ("accept", True),
        ("serve_forever", False),
        ("myserver.py:41", True),
        ("app/myserver.py:41", True),
        ("myserver.py:42", False),
        ("myserver.py", True),
        ("server.py", False),
        ("<module>", True),
    ],
)
def test_a_stack_matches_a_function_a_file_and_line_or_a_file(where: str, found: bool) -> None:
    assert matches((SOCKET, SERVE, MODULE), where) is found


def test_frames_survive_json_lines_and_malformed_ones_are_refused() -> None:
    event = SyscallEvent(
        seq=2, pid=1, tid=1, role="main", name="accept4", ret=4, errno=None, enter_seq=1, python=(SOCKET, SERVE)
    )
    data = event_to_dict(event)
    assert data["python"] == [
        {"file": "/usr/lib/python3.11/socket.py", "line": 294, "function": "accept"},
        {"file": "/srv/app/myserver.py", "line": 41, "function": "serve"},
    ]
    assert event_from_dict(data) == event
    assert "python" not in event_to_dict(
        SyscallEvent(seq=2, pid=1, tid=1, role="main", name="x", ret=0, errno=None, enter_seq=1)
    )
    assert stack_from_json(stack_to_json((SERVE,))) == (SERVE,)
    for bad in ([{"file": "a.py", "line": "1", "function": "f"}], [{"file": "a.py", "line": 1}], {"file": "a.py"}):
        with pytest.raises(TraceFormatError):
            event_from_dict({**data, "python": bad})
    with pytest.raises(TraceFormatError, match="unknown key 'python' in a exit event"):
        event_from_dict({"seq": 3, "pid": 1, "tid": 1, "role": "main", "type": "exit", "code": 0, "python": []})


def test_the_text_line_ends_with_the_calling_code_and_v_adds_the_whole_stack() -> None:
    event = SyscallEvent(
        seq=2,
        pid=7,
        tid=7,
        role="main",
        name="close",
        args={"fd": 4},
        ret=0,
        errno=None,
        enter_seq=1,
        python=(SOCKET, SERVE, MODULE),
    )
    assert render_trace([event]) == ["[pid 7 main] close(4) = 0 <- socket.py:294 in accept <- myserver.py:41 in serve"]
    assert render_trace([event], full_stacks=True)[1:] == [
        "    at /usr/lib/python3.11/socket.py:294 in accept",
        "    at /srv/app/myserver.py:41 in serve",
        "    at /srv/app/myserver.py:60 in <module>",
    ]
    blocked = SyscallEntry(seq=1, pid=7, tid=7, role="main", name="close", args={"fd": 4}, python=(SERVE,))
    renderer = TextRenderer()
    renderer.feed(blocked)
    other = SyscallEntry(seq=2, pid=8, tid=8, role="main.1", name="close", args={"fd": 3})
    assert renderer.feed(other).startswith(" <unfinished ...> <- myserver.py:41 in serve\n")
