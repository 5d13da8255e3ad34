// Socket.IO protocol cases for the official JavaScript client against
// tests/e2e/protocol_peer.py (goftogu's server).
//
// usage: node protocol.mjs <base-url> <transports-json>
// prints one JSON line per case: {"case": name, "ok": true} or {"case", "ok": false, "error"},
// then {"done": true}.
import { io } from "socket.io-client";

const [url, transportsJson] = process.argv.slice(2);
const transports = JSON.parse(transportsJson);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function open(options = {}) {
  const socket = io(url, { transports, reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

const once = (socket, event, ms = 10000) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });

// Wait for a condition, never for a fixed time.
async function until(probe, what, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const sameBytes = (a, b) =>
  a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);

const cases = {
  async "connect and transport"() {
    const socket = await open();
    if (transports.includes("websocket")) {
      await until(() => socket.io.engine.transport.name === "websocket", "the websocket transport");
    } else {
      assert(socket.io.engine.transport.name === "polling", "polling transport");
    }
    socket.close();
  },
  async "ack with JSON"() {
    const socket = await open();
    const data = { text: "سلام, hello", n: [1, 2.5, -3], nested: { ok: true, none: null } };
    const answer = await socket.timeout(10000).emitWithAck("echo", data);
    assert(JSON.stringify(answer) === JSON.stringify(data), `echoed ${JSON.stringify(answer)}`);
    socket.close();
  },
  async "ack with binary"() {
    const socket = await open();
    const answer = await socket.timeout(10000).emitWithAck("echo", { blob: bytes, tag: "b" });
    assert(answer.tag === "b" && sameBytes(answer.blob, bytes), "binary echoed intact");
    socket.close();
  },
  async "binary event from the server"() {
    const socket = await open();
    const arrived = once(socket, "echoed");
    await socket.timeout(10000).emitWithAck("echo:event", { blob: bytes, list: [bytes, 1] });
    const [data] = await arrived;
    assert(sameBytes(data.blob, bytes) && sameBytes(data.list[0], bytes), "binary event intact");
    socket.close();
  },
  async "server asks, client acks"() {
    const socket = await open();
    socket.on("question", (data, callback) => callback({ double: data.n * 2 }));
    const answer = await socket.timeout(10000).emitWithAck("ask", { n: 21 });
    assert(answer.double === 42, `answered ${JSON.stringify(answer)}`);
    socket.close();
  },
  async "room fan-out in order, nothing lost or doubled"() {
    const room = `group:js-${Math.random()}`;
    const sockets = await Promise.all([open(), open(), open()]);
    const seen = sockets.map(() => []);
    sockets.forEach((socket, i) => socket.on("message:new", (m) => seen[i].push(m.seq)));
    for (const socket of sockets) await socket.timeout(10000).emitWithAck("join", { room });
    const count = 2000;
    await sockets[0].timeout(20000).emitWithAck("burst", { room, count, size: 50 });
    await until(() => seen.every((s) => s.length >= count), "every event at every socket");
    for (const s of seen) {
      assert(s.length === count, `${s.length} events, expected ${count}`);
      s.forEach((seq, i) => assert(seq === i + 1, `event ${i} has seq ${seq}`));
    }
    sockets.forEach((socket) => socket.close());
  },
  async "reconnect after the transport drops"() {
    const socket = await open({ reconnection: true, reconnectionDelay: 100 });
    const reasons = [];
    socket.on("disconnect", (reason) => reasons.push(reason));
    let connects = 0;
    socket.on("connect", () => (connects += 1));
    await socket.timeout(10000).emitWithAck("drop", {});
    await until(() => connects >= 1, "the reconnect");
    assert(reasons.length === 1 && reasons[0].startsWith("transport"), `reasons ${reasons}`);
    const answer = await socket.timeout(10000).emitWithAck("echo", { again: 1 });
    assert(answer.again === 1, "usable after the reconnect");
    socket.close();
  },
  async "server disconnect"() {
    const socket = await open();
    const gone = once(socket, "disconnect");
    await socket.timeout(10000).emitWithAck("kick", {});
    const [reason] = await gone;
    assert(reason === "io server disconnect", `reason ${reason}`);
  },
};

for (const [name, run] of Object.entries(cases)) {
  try {
    await run();
    out({ case: name, ok: true });
  } catch (error) {
    out({ case: name, ok: false, error: String(error?.stack || error) });
  }
}
out({ done: true });
process.exit(0);
