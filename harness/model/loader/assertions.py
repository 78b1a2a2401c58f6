"""The assertions of an expectation file: each one's check, its steps and its roles, read from the marked YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.model import kernel
from harness.model.amounts import AmountError, parse_amount
from harness.model.durations import DurationError, parse_duration
from harness.model.expectations import (
    GOLDEN_SUFFIX,
    MAIN,
    Assertion,
    Check,
    CountCheck,
    EachCheck,
    FactCheck,
    FileWarning,
    GoldenCheck,
    InForceCheck,
    Location,
    NeverCheck,
    Operator,
    RoleSelector,
    SequenceCheck,
    Window,
    spawned_capture,
)
from harness.model.hints import closest
from harness.model.loader.marks import Path_, Source
from harness.model.steps import (
    Literal,
    SimpleStep,
    Step,
    StepError,
    SyscallStep,
    any_of,
    captures_of,
    parse_step,
)
from harness.model.sweep import DEFAULT_SIGNAL, SiteSelector, SweepCheck

MAX_ASSERTIONS = 2000
CHECK_KEYS = ("sequence", "count", "never", "each", "fact", "golden", "in_force", "sweep")
#: Keys that only go with one kind of check, and the checks they go with.
BELONGS: dict[str, tuple[str, ...]] = {
    "adjacent": ("sequence",),
    "equals": ("count",),
    "at_least": ("count",),
    "at_most": ("count",),
    "then": ("each",),
    "child": ("each",),
    "in": ("each",),
    "after": ("never", "count"),
    "before": ("never", "count"),
    "within": ("never", "count"),
    "at": ("in_force",),
    "signal": ("sweep",),
    "except": ("sweep",),
}
AMOUNT_KEYS: dict[str, Operator] = {"equals": "==", "at_least": ">=", "at_most": "<="}


class Reader:
    """Reads the steps and checks of one file, keeping what they bind and warn about, for the file as a whole."""

    def __init__(self, source: Source, syscalls: frozenset[str]) -> None:
        self.source = source
        self.syscalls = syscalls
        self.parsed: list[Step] = []
        self.written: list[tuple[Path_, SimpleStep]] = []
        """The steps of the assertion being read, each with its place."""
        self.global_captures: tuple[str, ...] = ()
        """The captures of the file's ``start_after``: visible to every assertion."""
        self.warnings: list[FileWarning] = []

    def _golden_path(self, path: Path_, written: str) -> Path:
        """A golden file's path: a ``.golden.yaml`` file, relative ones inside this file's directory tree.

        The suffix keeps a ``golden:`` key from pointing the comparison (and
        its failure report) at any other file; the tree keeps ``../`` from
        reaching out of the project.  An absolute path is taken as meant.
        """
        golden = Path(written)
        if not golden.name.endswith(GOLDEN_SUFFIX):
            raise self.source.error(path, f"a golden file's name ends in {GOLDEN_SUFFIX} (got {golden.name!r})")
        if golden.is_absolute():
            return golden
        here = self.source.path.parent
        if not (here / golden).resolve().is_relative_to(here.resolve()):
            raise self.source.error(
                path,
                "a relative golden path stays inside this file's directory; "
                "write an absolute path to use a golden file elsewhere",
            )
        return here / golden

    def _at(self, path: Path_) -> Any:
        value = self.source.data
        for key in path:
            value = value[key]
        return value

    def capture_warnings(self, path: Path_, check: Check) -> list[FileWarning]:
        """A capture written once in an assertion binds whatever it meets and compares nothing: most often a typo.

        The file's ``start_after`` captures count as written already, and so
        does the capture an ``each`` names the ``child`` process by; a name
        that starts with ``_`` (``accept4 -> $_conn``: any successful result)
        says the single use is meant.
        """
        uses: dict[str, list[tuple[Path_, str]]] = {}
        for where, step in self.written:
            for name in captures_of(step):
                uses.setdefault(name, []).append((where, step.text))
        used = set(self.global_captures)
        if isinstance(check, EachCheck) and check.child:
            used.add(check.in_capture or spawned_capture((check.each, *check.then)) or "")
        warnings = []
        for name, places in uses.items():
            if len(places) != 1 or name in used or name.startswith("_"):
                continue
            where, text = places[0]
            others = [other for other in [*uses, *self.global_captures] if other != name]
            close = closest(name, others)
            hint = f": a typo of ${close[0]}?" if close else ""
            message = (
                f"${name} is used only once in assertion {self._at((*path, 'name'))!r}, so it binds whatever it "
                f"meets and is compared with nothing{hint} (write _ for any value, or ${'_' + name} for a "
                "result that only has to be a success)"
            )
            error = self.source.error(where, message, offset=text.find(f"${name}"))
            excerpt = str(error).split("\n", 1)[1] if "\n" in str(error) else ""
            warnings.append(FileWarning(error.location, message, excerpt))
        return warnings

    def step(self, path: Path_) -> Step:
        """The step written at ``path``: a string, or ``any_of:`` and a list of strings."""
        written = self._at(path)
        if isinstance(written, dict):
            options = tuple(self.simple_step((*path, "any_of", number)) for number in range(len(written["any_of"])))
            return any_of(options)
        return self.simple_step(path)

    def simple_step(self, path: Path_) -> SimpleStep:
        """One step written at ``path``, as text or as an ``any_of`` mapping."""
        text = self._at(path)
        try:
            step = parse_step(str(text), syscalls=self.syscalls)
        except StepError as error:
            mark = self.source.values.get(path)
            if mark is not None and mark.in_flow_list and str(text).count("(") > str(text).count(")"):
                raise self.source.error(
                    path,
                    "this step was cut at a comma: inside [a, b] YAML splits unquoted text at every comma; "
                    'quote the step ("rt_sigaction(SIGCHLD, act.flags=!SA_RESTART) -> 0") '
                    "or write the list one '- step' per line",
                ) from None
            raise self.source.error(path, error.message, offset=error.offset) from None
        self.parsed.append(step)
        self.written.append((path, step))
        return step

    def assertion(self, index: int, data: dict[str, Any]) -> Assertion:
        """The ``index``-th assertion: its one check, its roles, its own start."""
        path: Path_ = ("assertions", index)
        checks = [key for key in CHECK_KEYS if key in data]
        if len(checks) != 1:
            what = "none" if not checks else " and ".join(checks)
            raise self.source.error(
                path, f"assertion {data['name']!r} needs exactly one of {', '.join(CHECK_KEYS)} (it has {what})"
            )
        kind = checks[0]
        for key, kinds in BELONGS.items():
            if key in data and kind not in kinds:
                raise self.source.error(
                    (*path, key), f"{key!r} only goes with {' or '.join(map(repr, kinds))}", key=True
                )
        if kind == "each" and "then" not in data and "child" not in data:
            raise self.source.error(
                (*path, "each"), "'each' needs 'then' (steps of this role) or 'child' (steps of the process it spawned)"
            )
        if kind == "sweep":
            for key in ("role", "start_after", "whole_trace"):
                if key in data:
                    raise self.source.error(
                        (*path, key),
                        f"{key!r} does not go with 'sweep': a sweep delivers its signal at every site, in every "
                        "role, and judges each whole run",
                        key=True,
                    )
        if "start_after" in data and data.get("whole_trace"):
            raise self.source.error(
                (*path, "start_after"), "'start_after' and 'whole_trace: true' contradict: keep one", key=True
            )
        self.written = []
        roles = MAIN
        if "role" in data:
            try:
                roles = RoleSelector.parse(data["role"])
            except ValueError as error:
                raise self.source.error((*path, "role"), str(error)) from None
        check = self.check(kind, data, path)
        start_after = self.step((*path, "start_after")) if "start_after" in data else None
        self.warnings.extend(self.capture_warnings(path, check))
        location = Location(str(self.source.path), self.source.line((*path, "name")))
        return Assertion(
            data["name"],
            roles,
            check,
            location,
            whole_trace=bool(data.get("whole_trace", False)),
            start_after=start_after,
        )

    def steps(self, path: Path_) -> tuple[Step, ...]:
        """The list of steps written at ``path``."""
        return tuple(self.step((*path, number)) for number in range(len(self._at(path))))

    def lines(self, path: Path_) -> tuple[int, ...]:
        """The line each step of the list at ``path`` was written on."""
        return tuple(self.source.line((*path, number)) for number in range(len(self._at(path))))

    def window(self, data: dict[str, Any], path: Path_) -> Window:
        """The ``after``/``before``/``within`` window of a count or never check."""
        after = self.step((*path, "after")) if "after" in data else None
        before = self.step((*path, "before")) if "before" in data else None
        within = None
        if "within" in data:
            if after is None:
                raise self.source.error(
                    (*path, "within"),
                    "'within' counts from the event 'after' names: add 'after: STEP' (e.g. after: listen)",
                )
            try:
                within = parse_duration(data["within"])
            except DurationError as error:
                raise self.source.error((*path, "within"), str(error)) from None
        return Window(after, before, within)

    def amount(self, path: Path_) -> int | str:
        """A number or an expression of ``connections`` (``equals: connections + 1``)."""
        written = self._at(path)
        try:
            parse_amount(written)
        except AmountError as error:
            raise self.source.error(path, error.message, offset=error.offset) from None
        return int(written) if isinstance(written, int) else str(written)

    def check(self, kind: str, data: dict[str, Any], path: Path_) -> Check:
        """The check of kind ``kind`` (``sequence``, ``count``...) an assertion holds."""
        if kind == "sequence":
            steps = self.steps((*path, "sequence"))
            return SequenceCheck(steps, bool(data.get("adjacent", False)), self.lines((*path, "sequence")))
        if kind == "count":
            amounts = [key for key in AMOUNT_KEYS if key in data]
            if len(amounts) != 1:
                raise self.source.error(
                    (*path, "count"),
                    "a count needs exactly one of equals, at_least, at_most (e.g. equals: connections)",
                )
            step = self.step((*path, "count"))
            value = self.amount((*path, amounts[0]))
            return CountCheck(step, AMOUNT_KEYS[amounts[0]], value, self.window(data, path))
        if kind == "never":
            step = self.step((*path, "never"))
            return NeverCheck(step, self.window(data, path))
        if kind == "each":
            return self.each(data, path)
        if kind == "fact":
            return FactCheck(data["fact"])
        if kind == "in_force":
            return self.in_force(data, path)
        if kind == "sweep":
            return self.sweep(data, path)
        return GoldenCheck(self._golden_path((*path, "golden"), data["golden"]))

    def in_force(self, data: dict[str, Any], path: Path_) -> InForceCheck:
        """An ``in_force`` check: the rt_sigaction step and the ``at`` calls."""
        if "at" not in data:
            raise self.source.error(
                (*path, "in_force"),
                "'in_force' needs 'at': the calls at which the disposition must be in force (e.g. at: accept4)",
            )
        disposition = self.step((*path, "in_force"))
        signal = dict(disposition.args).get("signal") if isinstance(disposition, SyscallStep) else None
        if not isinstance(disposition, SyscallStep) or disposition.name != "rt_sigaction":
            raise self.source.error(
                (*path, "in_force"),
                "'in_force' takes an rt_sigaction step naming the signal, "
                "e.g. rt_sigaction(SIGCHLD, act.flags=!SA_RESTART)",
            )
        if not isinstance(signal, Literal) or not isinstance(signal.value, str):
            raise self.source.error((*path, "in_force"), "'in_force' must name one signal: rt_sigaction(SIGCHLD, ...)")
        return InForceCheck(self.step((*path, "at")), disposition, signal.value)

    def sweep(self, data: dict[str, Any], path: Path_) -> SweepCheck:
        """A ``sweep: safe`` check: the signal, and the sites ``except`` accepts as broken."""
        signal = data.get("signal", DEFAULT_SIGNAL)
        if signal not in kernel.SIGNAL_NUMBERS or signal in ("SIGKILL", "SIGSTOP"):
            close = closest(signal, kernel.SIGNAL_NUMBERS)
            hint = f"; did you mean {close[0]!r}?" if close and signal not in kernel.SIGNAL_NUMBERS else ""
            raise self.source.error(
                (*path, "signal"), f"{signal!r} is not a signal a program can catch (e.g. SIGCHLD, SIGUSR1){hint}"
            )
        excepted = []
        for number, text in enumerate(data.get("except", [])):
            try:
                excepted.append(SiteSelector.parse(text))
            except ValueError as error:
                raise self.source.error((*path, "except", number), str(error)) from None
        return SweepCheck(signal, tuple(excepted))

    def each(self, data: dict[str, Any], path: Path_) -> EachCheck:
        """An ``each`` check: its occurrence step, its ``then`` and ``child`` steps, the process they run in."""
        each = self.step((*path, "each"))
        then = self.steps((*path, "then")) if "then" in data else ()
        child = self.steps((*path, "child")) if "child" in data else ()
        lines = (
            self.source.line((*path, "each")),
            *(self.lines((*path, "then")) if then else ()),
            *(self.lines((*path, "child")) if child else ()),
        )
        named = data.get("in")
        if named is not None:
            bound = {name for step in (each, *then) for name in captures_of(step)}
            if named.removeprefix("$") not in bound:
                known = ", ".join(f"${name}" for name in sorted(bound)) or "none"
                raise self.source.error(
                    (*path, "in"),
                    f"'in: {named}' names no capture of 'each' or 'then' (their captures: {known})",
                )
            return EachCheck(each, then, child, named.removeprefix("$"), lines)
        if child and spawned_capture((each, *then)) is None:
            raise self.source.error(
                (*path, "child"),
                "'child' steps need the process they run in: bind it in 'then' (clone -> $child, "
                "spawn process $child) or name a capture with 'in: $worker'",
                key=True,
            )
        return EachCheck(each, then, child, None, lines)
