"""`harness report` end to end: a real run under ptrace, the page loaded in headless Chromium.

No browser driver and no new Python dependency: Chromium's own switches do
the work.  ``--dump-dom`` prints the DOM after the page's scripts ran; the
page's script counts JS errors into ``<body data-js-errors>`` and sets
``data-rendered="1"`` when it reached its end, so the DOM proves the script
ran cleanly; ``--enable-logging=stderr`` also shows any "Uncaught" console
error.  ``--screenshot`` keeps a PNG of the page as a test artifact.

Runs use the deterministic schedule with 3 connections: the first two
children exit while the server blocks in accept4 (a SIGCHLD each); the
third exits while the server reaps at the end with SIGCHLD blocked, so it is
never delivered (see test_each_variant_shows_its_lesson.py).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from support.capability import missing

from harness.faces.cli import main

CONNECTIONS = 3
SIGCHLDS = CONNECTIONS - 1  # the last child exits while the server reaps with SIGCHLD blocked
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: dict[str, str]

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append(Element(tag, {name: value or "" for name, value in attrs}))


class Dom:
    """The DOM Chromium dumped, queried by tag, classes and attributes."""

    def __init__(self, html: str) -> None:
        parser = _Elements()
        parser.feed(html)
        self.elements = parser.found

    def select(self, tag: str, *classes: str, **attrs: str) -> list[Element]:
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        return [
            element
            for element in self.elements
            if element.tag == tag
            and set(classes) <= element.classes
            and all(element.attrs.get(name) == value for name, value in wanted.items())
        ]

    @property
    def body(self) -> Element:
        return self.select("body")[0]


@pytest.fixture(scope="module")
def browser() -> str:
    """The headless browser's binary; a skip (or CI failure) where there is none."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found is not None:
            return found
    missing(f"no headless browser ({', '.join(BROWSERS)}): apt-get install chromium")


@pytest.fixture(scope="module")
def report(ptrace_permitted: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of one deterministic run of fork_sigchld, written by the command line as a person runs it."""
    path = tmp_path_factory.mktemp("report") / "fork_sigchld.html"
    assert main(["report", "fork_sigchld", "-o", str(path), "--connections", str(CONNECTIONS)]) == 0
    return path


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $HARNESS_ARTIFACTS (CI keeps it), else the test's own tmp_path."""
    configured = os.environ.get("HARNESS_ARTIFACTS")
    directory = Path(configured) if configured else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def chromium(browser: str, tmp_path: Path, url: str, *switches: str) -> subprocess.CompletedProcess[str]:
    """One headless run of the browser on ``url``, with a profile of its own (parallel runs never share one)."""
    done = subprocess.run(
        [
            browser,
            "--headless=new",
            "--disable-gpu",
            "--no-sandbox",  # as root, Chromium refuses to start with its sandbox
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *switches,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{browser} exited with {done.returncode}:\n{done.stderr[-3000:]}"
    assert "Uncaught" not in done.stderr, [line for line in done.stderr.splitlines() if "Uncaught" in line]
    return done


def rendered(browser: str, tmp_path: Path, url: str) -> Dom:
    """The DOM after the page's script ran, checked to have run to its end without a JS error."""
    return checked(chromium(browser, tmp_path, url, "--dump-dom").stdout)


@pytest.fixture(scope="module")
def opened(browser: str, report: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The DOM of the report as it opens (no query), dumped once for the tests that read it (a browser run is slow)."""
    return chromium(browser, tmp_path_factory.mktemp("chromium"), report.as_uri(), "--dump-dom").stdout


def checked(html: str) -> Dom:
    """A dumped DOM, checked to show that the page's script ran to its end without a JS error."""
    dom = Dom(html)
    body = dom.body.attrs
    assert body.get("data-js-errors") == "0", body.get("data-js-error-message")
    assert body.get("data-rendered") == "1", "the page's script did not run to its end"
    return dom


def test_the_command_says_where_it_wrote_the_report(
    ptrace_permitted: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "r.html"
    assert main(["report", "fork_sigchld", "-o", str(path), "--connections", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {path}: 2 lanes, ") and out.endswith(" events\n") and out.count("\n") == 1
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_the_timeline_of_fork_sigchld_renders_in_chromium(opened: str) -> None:
    dom = checked(opened)

    assert len(dom.select("svg", id="timeline")) == 1
    roles = [lane.attrs["data-role"] for lane in dom.select("g", "lane")]
    assert roles == ["main", "main.1", "main.2", "main.3"]
    spawns = dom.select("path", "arrow", "spawn")
    assert sorted((a.attrs["data-from"], a.attrs["data-to"]) for a in spawns) == [
        ("main", f"main.{n}") for n in range(1, CONNECTIONS + 1)
    ]
    signals = dom.select("path", "arrow", "signal")
    assert len(signals) == SIGCHLDS == len(dom.select("path", "marker", "signal", data_name="SIGCHLD"))
    assert sorted((a.attrs["data-from"], a.attrs["data-to"]) for a in signals) == [
        (f"main.{n}", "main") for n in range(1, SIGCHLDS + 1)
    ]
    interrupted = dom.select("rect", "call", "interrupted")
    assert {rect.attrs["data-name"] for rect in interrupted} >= {"accept4", "rt_sigreturn"}
    assert len(dom.select("rect", "zombie", data_until="reap")) == CONNECTIONS  # each child, until its wait4
    assert dom.select("article", "finding"), "the explanations of harness.analysis.explain are missing"


def test_a_finding_link_highlights_its_events(browser: str, report: Path, tmp_path: Path) -> None:
    dom = rendered(browser, tmp_path, report.as_uri() + "#finding-1")

    finding = dom.select("article", "finding", id="finding-1")[0]
    assert "active" in finding.classes
    seqs = set(finding.attrs["data-seqs"].split())
    highlighted = [element for element in dom.elements if "highlight" in element.classes and element.tag != "div"]
    assert highlighted and {element.attrs["data-seq"] for element in highlighted} <= seqs
    assert dom.select("svg", id="timeline")[0].attrs["data-highlighted"] == str(len(highlighted))


def test_a_screenshot_of_the_page_is_kept(browser: str, report: Path, tmp_path: Path, artifacts: Path) -> None:
    screenshot = artifacts / "report_fork_sigchld.png"
    screenshot.unlink(missing_ok=True)
    chromium(browser, tmp_path, report.as_uri(), f"--screenshot={screenshot}", "--window-size=1600,1000")

    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a picture, not a blank page
    if artifacts != tmp_path:
        shutil.copy(report, artifacts / report.name)
    print(f"screenshot of the report: {screenshot}")


# -- the axes, the folded start-up, the labels ----------------------------------------------------------------

#: Where a marker's centre is, from its path ``M<cx>,<cy> ...``.
MARKER_CENTRE = re.compile(r"^M(-?[\d.]+),")


def layout_of(dom: Dom) -> dict[str, Any]:
    """The seqs, times and fold the page laid itself out from (the timeline's data-layout)."""
    data: dict[str, Any] = json.loads(dom.select("svg", id="timeline")[0].attrs["data-layout"])
    return data


def shown(elements: list[Element]) -> list[Element]:
    return [element for element in elements if "folded-away" not in element.classes]


def unmarked(dom: Dom) -> list[Element]:
    """The shown calls with no marker of their lane between their entry and their end: a name may go there."""
    marked = [(m.attrs["data-role"], int(m.attrs["data-seq"])) for m in shown(dom.select("path", "marker"))]
    return [
        call
        for call in shown(dom.select("rect", "call"))
        if not any(
            role == call.attrs["data-role"]
            and int(call.attrs["data-enter-seq"]) <= seq <= int(call.attrs["data-end-seq"])
            for role, seq in marked
        )
    ]


def test_the_page_opens_on_a_time_axis_at_the_start_of_the_story_with_the_start_up_folded(opened: str) -> None:
    dom = checked(opened)
    svg = dom.select("svg", id="timeline")[0].attrs
    assert (svg["data-axis"], svg["data-folded"]) == ("time", "1")
    data = layout_of(dom)
    fold = data["fold"]["seq"]
    times = dict(zip(data["seqs"], data["times"], strict=True))
    assert dom.select("g", id="fold-band")[0].attrs["display"] == "inline"
    assert dom.select("p", id="fold-note")[0].attrs["data-folded"] == "1"
    calls = dom.select("rect", "call")
    # Folded: exactly what ended before listen's entry; the story starts at the left edge, after the band.
    assert {c.attrs["data-name"] for c in calls if int(c.attrs["data-end-seq"]) < fold} >= {"rt_sigaction"}
    assert all(("folded-away" in c.classes) == (int(c.attrs["data-end-seq"]) < fold) for c in calls)
    listen = dom.select("rect", "call", data_name="listen")[0]
    assert 40 <= float(listen.attrs["x"]) <= 60
    # To scale: entries further in time are further right, and the longest call is the widest.
    visible = shown(calls)
    by_time = sorted(visible, key=lambda c: (times[int(c.attrs["data-enter-seq"])], float(c.attrs["x"])))
    assert [float(c.attrs["x"]) for c in by_time] == sorted(float(c.attrs["x"]) for c in visible)

    def lasted(c: Element) -> float:
        return times[int(c.attrs["data-end-seq"])] - times[int(c.attrs["data-enter-seq"])]

    assert max(visible, key=lasted) is max(visible, key=lambda c: float(c.attrs["width"]))
    assert "time since the command started" in opened


def test_the_axis_switches_to_event_order_and_the_start_up_unfolds(browser: str, report: Path, tmp_path: Path) -> None:
    dom = rendered(browser, tmp_path, report.as_uri() + "?axis=order&startup=shown")
    svg = dom.select("svg", id="timeline")[0].attrs
    assert (svg["data-axis"], svg["data-folded"]) == ("order", "0")
    assert not [e for e in dom.elements if "folded-away" in e.classes]
    assert dom.select("g", id="fold-band")[0].attrs["display"] == "none"
    seqs = layout_of(dom)["seqs"]
    column = {seq: index for index, seq in enumerate(seqs)}
    step = layout_of(dom)["step"]
    for call in dom.select("rect", "call"):  # one column per seq, from the entry's to the end's
        enter, end = column[int(call.attrs["data-enter-seq"])], column[int(call.attrs["data-end-seq"])]
        assert float(call.attrs["x"]) == pytest.approx(enter * step + 1, abs=0.1)
        assert float(call.attrs["width"]) == pytest.approx((end - enter + 1) * step - 2, abs=0.2)
    zoomed = rendered(browser, tmp_path, report.as_uri() + "?axis=order&startup=shown&zoom=4")
    width = float(svg["width"])
    assert float(zoomed.select("svg", id="timeline")[0].attrs["width"]) > 3 * width


def zoom_to_name_the_longest_call(dom: Dom) -> float:
    """A zoom at which the story's longest call is wide enough for its name.

    The time axis fits the story to at least 400 px at zoom 1.  Which calls are named depends on the run's
    timing, but at this zoom the longest one with no marker inside it always is.  (A clone's span holds its
    spawn marker, and on a loaded machine the clone can be the story's longest call.)
    """
    data = layout_of(dom)
    times = dict(zip(data["seqs"], data["times"], strict=True))
    story = unmarked(dom)
    lasted = [times[int(c.attrs["data-end-seq"])] - times[int(c.attrs["data-enter-seq"])] for c in story]
    start = times[data["fold"]["seq"]]
    span = max(times.values()) - start
    return min(256.0, 2 * (len("rt_sigaction") * data["charWidth"] + 8) * span / (max(lasted) * 400) + 1)


#: Positions are written rounded to 0.1 px: a name this close to an edge may rightly be judged either way.
ROUNDING = 0.11


def room_for_names(dom: Dom) -> dict[str, bool | None]:
    """Whether each shown call's name has room, by seq; None where rounding leaves it open.

    The page's rule: the name (with 4 px of padding) ends where the next span of its lane starts, or
    before, and no marker of its lane comes within half a marker's width of it.
    """
    layout = layout_of(dom)
    char_width, half = layout["charWidth"], layout["markerHalf"]
    calls = shown(dom.select("rect", "call"))
    starts: dict[str, list[float]] = {}
    for call in calls:
        starts.setdefault(call.attrs["data-role"], []).append(float(call.attrs["x"]))
    centres: dict[str, list[float]] = {}
    for marker in shown(dom.select("path", "marker")):
        match = MARKER_CENTRE.match(marker.attrs["d"])
        assert match is not None
        centres.setdefault(marker.attrs["data-role"], []).append(float(match.group(1)))
    room: dict[str, bool | None] = {}
    for call in calls:
        role, start = call.attrs["data-role"], float(call.attrs["x"])
        end = start + len(call.attrs["data-name"]) * char_width + 4
        following = min((other for other in starts[role] if other > start), default=math.inf)
        margins = [following - end] + [max(start - (c + half), (c - half) - end) for c in centres.get(role, [])]
        room[call.attrs["data-seq"]] = None if any(abs(m) < ROUNDING for m in margins) else min(margins) >= 0
    return room


@pytest.mark.parametrize("axis", ["time", "order"])
def test_a_call_is_named_where_its_name_has_room_and_never_under_a_marker(
    browser: str, report: Path, tmp_path: Path, opened: str, axis: str
) -> None:
    """Zoomed in until some name has room (on a time axis, a loaded run's timing decides which)."""
    zoom = 3.0 if axis == "order" else zoom_to_name_the_longest_call(checked(opened))
    while True:
        dom = rendered(browser, tmp_path, f"{report.as_uri()}?axis={axis}&zoom={zoom:.3f}")
        room = room_for_names(dom)
        if any(room.values()) or zoom >= 256:
            break
        zoom = min(256.0, zoom * 2)
    named = {e.attrs["data-seq"] for e in dom.select("text", "call-label") if "hidden" not in e.classes}
    assert named, f"no call is named at zoom {zoom:g}"
    assert named <= set(room), "a folded call is named"
    wrong = {seq: has_room for seq, has_room in room.items() if has_room is not None and (seq in named) != has_room}
    assert not wrong, f"named though without room (False) or not named with room (True), by seq: {wrong}"


def test_a_trace_recorded_without_times_opens_in_event_order(
    ptrace_permitted: None, browser: str, tmp_path: Path
) -> None:
    recorded, old, page = tmp_path / "run.jsonl", tmp_path / "old.jsonl", tmp_path / "old.html"
    assert main(["run", "fork_sigchld", "--connections", "2", "--jsonl", str(recorded), "-o", os.devnull]) == 0
    untimed = []
    for line in recorded.read_text().splitlines():
        event = json.loads(line)
        for key in ("time", "duration", "start_realtime"):
            event.pop(key, None)
        untimed.append(json.dumps(event))
    old.write_text("\n".join(untimed) + "\n")
    assert main(["report", str(old), "-o", str(page)]) == 0

    dom = rendered(browser, tmp_path, page.as_uri())
    svg = dom.select("svg", id="timeline")[0].attrs
    assert (svg["data-axis"], svg["data-folded"]) == ("order", "1")
    assert "disabled" in dom.select("button", id="axis-time")[0].attrs
    assert layout_of(dom)["times"] is None
