"""The HTML timeline of harness.analysis.report, read back as a DOM from hand-built traces: no ptrace, no browser."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from support.stories import Story

from harness.analysis.explain import explain
from harness.analysis.report import render_report
from harness.analysis.timeline import CHAR_WIDTH, MARKER_HALF, STEP, Axis, timeline_data
from harness.model import record
from harness.model.events import ExitEvent, SignalEvent, SpawnEvent, SyscallEvent
from harness.model.frames import Frame
from harness.model.trace import Trace

HOSTILE = "<script>alert(1)</script>"


@dataclass
class Element:
    """A start tag of the page: its name, attributes and classes."""

    tag: str
    attrs: dict[str, str]

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(Element(tag, {name: value or "" for name, value in attrs}))


def elements(page: str, tag: str, *classes: str, **data: str) -> list[Element]:
    """The page's elements with this tag, these classes, and these ``data-`` attributes, in document order."""
    parser = _Elements()
    parser.feed(page)
    wanted = {f"data-{name.replace('_', '-')}": value for name, value in data.items()}
    return [
        element
        for element in parser.found
        if element.tag == tag
        and set(classes) <= element.classes
        and all(element.attrs.get(name) == value for name, value in wanted.items())
    ]


PIDS = {"main": 100, "main.1": 101, "main.2": 102, "main.1.1": 103, "main.1/t1": 104}


def fork_story() -> Story:
    """A fork server's story: main.1's exit interrupts main's accept4; main reaps main.1, never main.2.

    main.1 makes a thread and a child of its own (main.1/t1 and main.1.1) that never act; main.2 is
    killed in accept4, so the call never returns.  The program's exec carries a hostile file name.
    """
    story = Story(PIDS["main"], tids=PIDS)
    story.exec("main", HOSTILE, ("python3", '"><img src=x onerror=alert(1)>'))
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={"handler": "0x4011d6", "mask": [], "flags": []})
    for child in ("main.1", "main.2"):
        clone = story.enter()
        story.spawn("main", child)
        story.call("main", "clone", PIDS[child], enter=clone, flags=[], exit_signal="SIGCHLD")
    accept = story.enter()
    story.spawn("main.1", "main.1/t1", thread=True)
    story.spawn("main.1", "main.1.1")
    story.call("main.1", "close", 0, fd=3)
    story.call("main.1", "exit_group", None, status=0)
    story.exit("main.1", 0)
    story.call("main", "accept4", -512, enter=accept, fd=3, flags=[])
    story.signal("main", "SIGCHLD", si_code="CLD_EXITED", si_pid=101, si_status=0)
    story.call("main", "rt_sigreturn", -4)
    story.call("main", "wait4", 101, pid=-1, status={"exited": 0}, options=["WNOHANG"])
    story.call("main", "wait4", -10, pid=-1, options=["WNOHANG"])
    story.call("main.2", "accept4", None, fd=3)
    story.exit("main.2", signal="SIGKILL")
    story.call("main", "exit_group", None, status=0)
    story.exit("main", 0)
    return story


@pytest.fixture(scope="module")
def story() -> Story:
    return fork_story()


@pytest.fixture(scope="module")
def page(story: Story) -> str:
    return render_report(story.trace(), title=f"run of {HOSTILE}")


def the(page: str, tag: str, *classes: str, **data: str) -> Element:
    found = elements(page, tag, *classes, **data)
    assert len(found) == 1, f"{len(found)} <{tag} class={classes} {data}> elements"
    return found[0]


def test_one_lane_per_task_in_tree_order_labelled_with_its_pid(page: str) -> None:
    lanes = elements(page, "g", "lane")
    assert [lane["data-role"] for lane in lanes] == ["main", "main.1", "main.1.1", "main.1/t1", "main.2"]
    assert lanes[0]["data-label"] == "main [pid 100]"
    assert lanes[3]["data-label"] == "main.1/t1 [pid 104]"  # it never acted: named from its spawn
    assert [label["data-role"] for label in elements(page, "div", "lane-label")] == [
        lane["data-role"] for lane in lanes
    ]
    assert len(elements(page, "svg")) == 1 and elements(page, "svg")[0]["id"] == "timeline"


def test_a_call_spans_from_its_entry_to_its_return(story: Story, page: str) -> None:
    axis = Axis(story.trace())
    accept = next(e for e in story.events if isinstance(e, SyscallEvent) and e.errno == "ERESTARTSYS")
    rect = the(page, "rect", "call", seq=str(accept.seq))
    assert (rect["data-enter-seq"], rect["data-end-seq"]) == (str(accept.enter_seq), str(accept.seq))
    assert rect["data-role"] == "main" and rect["data-name"] == "accept4"
    assert float(rect["x"]) == axis.x(accept.enter_seq) + 1
    assert float(rect["x"]) + float(rect["width"]) == axis.x(accept.seq) + STEP - 1
    assert accept.seq - accept.enter_seq > 5  # it blocked while main.1 acted: a long span
    short = the(page, "rect", "call", name="rt_sigaction")
    assert float(rect["width"]) > 4 * float(short["width"])  # entered and returned at once: two columns


def test_a_call_that_never_returned_ends_at_its_tasks_exit_or_the_end(story: Story, page: str) -> None:
    exits = {event.role: event.seq for event in story.events if isinstance(event, ExitEvent)}
    cut_off = the(page, "rect", "call", "no-return", role="main.2", name="accept4")
    assert cut_off["data-end-seq"] == str(exits["main.2"])
    exit_group = the(page, "rect", "call", "no-return", role="main.1", name="exit_group")
    assert exit_group["data-end-seq"] == str(exits["main.1"])
    lonely = Story(1)
    lonely.call("main", "accept4", None, fd=3)
    lonely.call("main", "close", 0, fd=5)
    rect = the(render_report(lonely.trace()), "rect", "call", "no-return", name="accept4")
    assert rect["data-end-seq"] == str(lonely.seq)


def test_restart_codes_and_eintr_are_interrupted_other_errors_failed(page: str) -> None:
    interrupted = elements(page, "rect", "call", "interrupted")
    assert sorted(rect["data-name"] for rect in interrupted) == ["accept4", "rt_sigreturn"]
    failed = elements(page, "rect", "call", "failed")
    assert [(rect["data-name"], "interrupted" in rect.classes) for rect in failed] == [("wait4", False)]
    assert "interrupted by a signal" in page  # the legend says what the colour means


def test_point_events_are_markers_with_the_decoded_event_as_tooltip(story: Story, page: str) -> None:
    kinds = {"exec": 1, "spawn": 4, "signal": 1, "exit": 3}
    for kind, count in kinds.items():
        assert len(elements(page, "path", "marker", kind)) == count, kind
    assert the(page, "path", "marker", "exit", "killed")["data-role"] == "main.2"
    signal = the(page, "path", "marker", "signal")
    assert signal["data-role"] == "main"
    assert "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_status=0} ---</title>" in page
    assert "accept4(3, 0) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)</title>" in page


def test_spawn_arrows_go_from_the_creator_at_the_spawn_to_the_new_task(story: Story, page: str) -> None:
    spawns = [event for event in story.events if isinstance(event, SpawnEvent)]
    arrows = elements(page, "path", "arrow", "spawn")
    assert [(a["data-from"], a["data-to"], a["data-from-seq"], a["data-seq"]) for a in arrows] == [
        (spawn.role, spawn.child_role, str(spawn.seq), str(spawn.seq)) for spawn in spawns
    ]


def test_a_sigchld_arrow_goes_from_the_childs_exit_to_the_delivery(story: Story, page: str) -> None:
    child_exit = next(e for e in story.events if isinstance(e, ExitEvent) and e.role == "main.1")
    delivery = next(e for e in story.events if isinstance(e, SignalEvent))
    arrow = the(page, "path", "arrow", "signal")
    assert (arrow["data-from"], arrow["data-from-seq"]) == ("main.1", str(child_exit.seq))
    assert (arrow["data-to"], arrow["data-to-seq"], arrow["data-seq"]) == ("main", str(delivery.seq), str(delivery.seq))


def test_zombie_bands_run_from_exit_to_reap_or_to_the_parents_exit(story: Story, page: str) -> None:
    exits = {event.role: event.seq for event in story.events if isinstance(event, ExitEvent)}
    reap = next(e for e in story.events if isinstance(e, SyscallEvent) and e.name == "wait4" and e.ret == 101)
    reaped = the(page, "rect", "zombie", role="main.1")
    assert (reaped["data-from-seq"], reaped["data-to-seq"], reaped["data-until"]) == (
        str(exits["main.1"]),
        str(reap.seq),
        "reap",
    )
    unreaped = the(page, "rect", "zombie", role="main.2")
    assert (unreaped["data-from-seq"], unreaped["data-to-seq"], unreaped["data-until"]) == (
        str(exits["main.2"]),
        str(exits["main"]),
        "parent-exit",
    )
    assert len(elements(page, "rect", "zombie")) == 2  # main.1.1 never exited; main.1/t1 is a thread


def _child_exits_before_the_parent(*, sigchld_handler: str | None) -> Trace:
    story = Story(1, tids={"main.1": 2})
    if sigchld_handler is not None:
        story.call(
            "main", "rt_sigaction", 0, signal="SIGCHLD", act={"handler": sigchld_handler, "mask": [], "flags": []}
        )
    story.spawn("main", "main.1")
    story.exit("main.1", 0)
    story.call("main", "close", 0, fd=3)
    return story.trace()


def test_no_band_when_the_kernel_reaps_and_a_band_to_the_end_when_nobody_does() -> None:
    assert elements(render_report(_child_exits_before_the_parent(sigchld_handler="SIG_IGN")), "rect", "zombie") == []
    band = the(render_report(_child_exits_before_the_parent(sigchld_handler=None)), "rect", "zombie")
    assert (band["data-from-seq"], band["data-to-seq"], band["data-until"]) == ("2", "4", "end")


def test_every_text_from_the_trace_is_escaped(page: str) -> None:
    assert HOSTILE not in page
    assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")  # only as escaped text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == 2  # the page's own: the error counter and the behaviour


def test_a_hostile_role_name_stays_inside_its_attribute() -> None:
    role = 'main"><script>alert(1)</script>'
    hostile = Trace((ExitEvent(seq=1, pid=1, tid=1, role=role, code=0),))
    page = render_report(hostile)
    assert page.count("<script") == 2
    assert [lane["data-role"] for lane in elements(page, "g", "lane")] == [role]


def test_the_page_is_self_contained(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert not elements(page, "link") and not elements(page, "img") and not elements(page, "iframe")
    assert all("src" not in script.attrs for script in elements(page, "script"))
    assert page.startswith("<!DOCTYPE html>") and "@import" not in page and "@font-face" not in page


def test_the_findings_of_harness_explain_are_listed_with_their_events(story: Story, page: str) -> None:
    findings = explain(story.trace())
    assert findings, "the interrupted accept4 and the unreaped main.2 are worth explaining"
    articles = elements(page, "article", "finding")
    assert [(a["id"], a["data-kind"], a["data-seqs"]) for a in articles] == [
        (f"finding-{n}", finding.kind, " ".join(map(str, finding.seqs))) for n, finding in enumerate(findings, 1)
    ]
    assert '<section id="explanation">' in page
    claims = [claim for finding in findings for claim in finding.claims]
    paragraphs = [element for element in elements(page, "p") if "data-claim" in element.attrs]
    assert [(p["data-claim"], p["data-seqs"]) for p in paragraphs] == [
        (claim.name, " ".join(map(str, claim.evidence))) for claim in claims
    ]


def test_an_empty_trace_still_makes_a_page() -> None:
    page = render_report(Trace(()))
    assert elements(page, "svg")[0]["id"] == "timeline"
    assert elements(page, "g", "lane") == []
    assert 'data-js-errors="0"' in page


def test_a_calls_hover_has_its_python_stack_and_its_span_names_the_users_function() -> None:
    library = Frame(file="/usr/lib/python3.11/socket.py", line=294, function="accept")
    user = Frame(file="/srv/myserver.py", line=41, function="serve")
    blocked = SyscallEvent(
        seq=12,
        pid=1,
        tid=1,
        role="main",
        name="accept4",
        args={"fd": 3},
        ret=4,
        errno=None,
        enter_seq=1,
        python=(library, user),
    )
    others = [
        SyscallEvent(
            seq=seq, pid=2, tid=2, role="main.1", name="close", args={"fd": 3}, ret=0, errno=None, enter_seq=seq
        )
        for seq in range(2, 12)
    ]
    page = render_report(Trace((*others, blocked)))
    assert (
        "accept4(3) = 4\n  at /usr/lib/python3.11/socket.py:294 in accept\n  at /srv/myserver.py:41 in serve</title>"
        in page
    )
    shown = [label["data-seq"] for label in elements(page, "text", "call-label") if "hidden" not in label.classes]
    assert ">accept4 in serve</text>" in page and shown == ["12"]  # no room to name a one-column close


# -- the axes and the folded start-up -------------------------------------------------------------------------


def timed(trace: Trace, step: float = 0.001) -> Trace:
    """The trace as if each seq took ``step`` seconds, with the wall-clock anchor on its first event."""
    events = []
    for event in trace:
        values: dict[str, object] = {"time": event.seq * step}
        if isinstance(event, SyscallEvent):
            values["duration"] = (event.seq - event.enter_seq) * step
        events.append(record.replace(event, **values))
    return Trace(tuple(events))


def listening_story() -> Story:
    """A start-up (exec, rt_sigaction), then listen, then a connection's child that exits."""
    story = Story(100)
    story.exec("main")
    story.call("main", "rt_sigaction", 0, signal="SIGCHLD", act={"handler": "0x4011d6", "mask": [], "flags": []})
    story.call("main", "listen", 0, fd=3, backlog=128)
    clone = story.enter()
    story.spawn("main", "main.1")
    story.call("main", "clone", 101, enter=clone, flags=[], exit_signal="SIGCHLD")
    story.exit("main.1")
    story.call("main", "wait4", 101, pid=-1, status={"exited": 0}, options=[])
    story.exit("main")
    return story


def test_the_layout_gives_the_script_every_seq_with_its_time_and_where_the_story_starts() -> None:
    trace = timed(listening_story().trace())
    data = timeline_data(trace)
    listen = next(e for e in trace if isinstance(e, SyscallEvent) and e.name == "listen")
    assert data["seqs"] == Axis(trace).seqs
    assert data["times"] == [pytest.approx(seq * 0.001) for seq in Axis(trace).seqs]  # entries: end - duration
    assert data["fold"] == {"seq": listen.enter_seq, "events": 2, "seconds": pytest.approx(listen.enter_seq * 0.001)}
    assert timeline_data(listening_story().trace())["times"] is None  # a trace without times: event order only


def test_the_page_says_the_start_up_is_folded_and_how_to_unfold_it() -> None:
    page = render_report(timed(listening_story().trace()))
    (note,) = [p for p in elements(page, "p") if p.attrs.get("id") == "fold-note"]
    assert note["data-folded"] == "1"
    assert "start-up before <code>listen</code> (#1 to #3: 2 events, 4.0 ms) is folded" in page
    assert 'id="unfold"' in page and "Show the start-up" in page
    assert 'id="axis-time">' in page and "disabled" not in page.split('id="axis-time"')[1].split(">")[0]
    untimed = render_report(listening_story().trace())
    assert 'id="axis-time" disabled' in untimed  # no times, no time axis
    no_listen = Story(100)
    no_listen.call("main", "close", 0, fd=3)
    assert 'id="fold-note"' not in render_report(no_listen.trace())  # nothing to fold


def test_a_label_is_drawn_only_where_it_fits_and_never_under_a_marker(story: Story, page: str) -> None:
    axis = Axis(story.trace())
    centres: dict[str, list[float]] = {}
    for marker in elements(page, "path", "marker"):
        centres.setdefault(marker["data-role"], []).append(float(marker["d"][1:].split(",")[0]))
    calls = {rect["data-seq"]: rect for rect in elements(page, "rect", "call")}
    labels = [label for label in elements(page, "text", "call-label") if "hidden" not in label.classes]
    assert labels and len(elements(page, "text", "call-label")) == len(calls)  # every call has its name, maybe hidden
    for label in labels:
        call = calls[label["data-seq"]]
        start, end = float(label["x"]) - 2, float(label["x"]) - 2 + len(call["data-name"]) * CHAR_WIDTH + 4
        assert all(c + MARKER_HALF <= start or c - MARKER_HALF >= end for c in centres.get(call["data-role"], []))
    clone = next(c for c in calls.values() if c["data-name"] == "clone")
    assert float(clone["width"]) == axis.x(int(clone["data-end-seq"])) + STEP - 1 - float(clone["x"])
