// One load-generator process of the room fan-out benchmark: the official
// socket.io-client, many connections, senders and receivers in one process.
//
// usage: node load/fanout.mjs <config.json>
//
// config: {
//   url, event ("relay" | "message:send"), echo (the sender gets its own message),
//   rooms: [{conversation, clients: [auth, ...]}],   // whole rooms: this process
//                                                    // sees every delivery of its sends
//   mode: "rate" | "window", rate (messages/s), window (messages in flight),
//   payloadBytes, maxOutstanding, connectConcurrency, out (raw samples file prefix)
// }
// stdout, one JSON line each: {"type": "ready", ...} once every client is
// connected; then, after "go <start_us> <send_ms> <drain_ms>" on stdin (start in
// CLOCK_MONOTONIC microseconds, the clock of process.hrtime and of Python's
// time.monotonic_ns, shared by every process of the machine), {"type": "done", ...}.
// Raw samples: <out>.deliveries.f64 (send_us, recv_us pairs) and
// <out>.acks.f64 (send_us, ack_us pairs), absolute CLOCK_MONOTONIC microseconds.
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import readline from "node:readline";
import { io } from "socket.io-client";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

class Samples {
  constructor() { this.data = new Float64Array(1 << 16); this.length = 0; }
  push(a, b) {
    if (this.length + 2 > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = a;
    this.data[this.length++] = b;
  }
  save(path) { writeFileSync(path, Buffer.from(this.data.buffer, 0, this.length * 8)); }
}

const deliveries = new Samples();
const acks = new Samples();
// An error ack is counted by its code (ackErrorCodes); `overloaded` is a refusal
// (the server said at once that it cannot take the send), any other code an
// error. A send neither acked nor answered by the end (ack timeout, or still
// waiting when the drain ends) is lost: the server's contract is that it never is.
const stats = {
  sent: 0, acked: 0, ackErrors: 0, ackErrorCodes: {}, refused: 0, ackTimeouts: 0, firstAckError: null,
  deliveries: 0, unacked: 0, foreign: 0, duplicates: 0, gaps: 0, missing: 0, skipped: 0,
  connectErrors: 0, firstConnectError: null, disconnects: 0,
};
const inflight = new Map(); // message id -> {expected, received, sendUs}
let outstanding = 0;
let sending = false;
let onComplete = () => {};

// --- payload ------------------------------------------------------------------
// content = "<message id>|<send time us>|" + padding, sized so the JSON the
// sender emits is config.payloadBytes long.
function payloadFor(conversation, id, sendUs) {
  const payload = { conversation, client_id: randomUUID(), content: `${id}|${sendUs}|` };
  const pad = config.payloadBytes - JSON.stringify(payload).length;
  if (pad > 0) payload.content += "x".repeat(pad);
  return payload;
}

function parseDelivery(data) {
  const content = data?.content ?? data?.message?.content;
  if (typeof content !== "string") return null;
  const [id, sendUs] = content.split("|", 2);
  const seq = data?.seq ?? data?.message?.seq;
  return { id, sendUs: Number(sendUs), seq, conversation: data?.conversation };
}

// --- clients --------------------------------------------------------------------
const clients = []; // {socket, conversation}
for (const room of config.rooms) {
  room.clients.forEach((auth, member) => clients.push({ conversation: room.conversation, auth, member }));
}

function retire(id) {
  inflight.delete(id);
  outstanding -= 1;
  onComplete();
}

function attach(client) {
  const lastSeq = new Map();
  client.socket.on("message:new", (data) => {
    const recvUs = nowUs();
    const parsed = parseDelivery(data);
    if (!parsed) { stats.foreign += 1; return; }
    stats.deliveries += 1;
    deliveries.push(parsed.sendUs, recvUs);
    if (typeof parsed.seq === "number") {
      const last = lastSeq.get(parsed.conversation);
      if (last !== undefined && parsed.seq <= last) stats.duplicates += 1;
      else {
        if (last !== undefined && parsed.seq > last + 1) stats.gaps += parsed.seq - last - 1;
        lastSeq.set(parsed.conversation, parsed.seq);
      }
    }
    const entry = inflight.get(parsed.id);
    if (entry) {
      entry.received += 1;
      if (entry.received >= entry.expected && entry.acked) retire(parsed.id);
    }
  });
  client.socket.on("disconnect", () => { stats.disconnects += 1; });
}

async function connectAll() {
  let next = 0;
  const one = () => new Promise((resolve) => {
    const client = clients[next++];
    client.socket = io(config.url, {
      transports: ["websocket"], reconnection: false, auth: client.auth, timeout: 60000,
    });
    client.socket.once("connect", () => { attach(client); resolve(); });
    client.socket.once("connect_error", (err) => {
      stats.connectErrors += 1;
      stats.firstConnectError ??= String(err?.message ?? err);
      resolve();
    });
  });
  const lanes = Array.from({ length: config.connectConcurrency || 50 }, async () => {
    while (next < clients.length) await one();
  });
  await Promise.all(lanes);
}

// --- sending --------------------------------------------------------------------
// Senders take turns: one member of each room, then the next member of each room...
const sendOrder = [];
for (let member = 0, added = true; added; member += 1) {
  added = false;
  for (const client of clients.filter((c) => c.member === member)) { sendOrder.push(client); added = true; }
}
let rotor = 0;
const expected = new Map(config.rooms.map((r) => [r.conversation, r.clients.length - (config.echo ? 0 : 1)]));
let counter = 0;

function sendOne() {
  // Round robin over rooms first, then over the members of each room.
  const client = sendOrder[rotor++ % sendOrder.length];
  if (!client.socket?.connected) { stats.skipped += 1; return; }
  const id = `${config.worker}-${counter++}`;
  const sendUs = nowUs();
  const entry = { expected: expected.get(client.conversation), received: 0, acked: false, sendUs };
  inflight.set(id, entry);
  outstanding += 1;
  stats.sent += 1;
  client.socket.timeout(30000).emit(config.event, payloadFor(client.conversation, id, sendUs), (err, answer) => {
    if (err) { stats.ackTimeouts += 1; }
    else if (!answer?.ok) {
      const code = String(answer?.error?.code ?? "no_code");
      stats.ackErrorCodes[code] = (stats.ackErrorCodes[code] || 0) + 1;
      if (code === "overloaded") stats.refused += 1;
      else {
        stats.ackErrors += 1;
        stats.firstAckError ??= answer?.error ?? answer;
      }
    } else { stats.acked += 1; acks.push(sendUs, nowUs()); }
    entry.acked = true;
    if (err || !answer?.ok) entry.expected = 0; // nothing will be delivered for it
    if (inflight.has(id) && entry.received >= entry.expected) retire(id);
  });
}

function runRate(endUs) {
  // A 1 ms tick sends what is due since the start: the offered rate holds even
  // when a tick comes late; beyond maxOutstanding a due message is skipped
  // (counted), so an overloaded server cannot make the generator buffer forever.
  const start = nowUs();
  return new Promise((resolve) => {
    let due = 0;
    const tick = () => {
      const now = nowUs();
      if (now >= endUs) { resolve(); return; }
      const target = Math.floor(((now - start) / 1e6) * config.rate);
      while (due < target) {
        due += 1;
        if (outstanding >= config.maxOutstanding) stats.skipped += 1;
        else sendOne();
      }
      setTimeout(tick, 1);
    };
    tick();
  });
}

function runWindow(endUs) {
  // Closed loop: `window` messages in flight (sent, not yet acked and delivered
  // to every member); each completion sends the next.
  return new Promise((resolve) => {
    onComplete = () => {
      if (nowUs() >= endUs) { if (sending) { sending = false; resolve(); } return; }
      while (outstanding < config.window) sendOne();
    };
    sending = true;
    while (outstanding < config.window) sendOne();
    const check = setInterval(() => {
      if (nowUs() >= endUs) {
        clearInterval(check);
        if (sending) { sending = false; resolve(); }
      }
    }, 5);
  });
}

function drain(deadlineUs) {
  return new Promise((resolve) => {
    const check = () => {
      if (inflight.size === 0 || nowUs() >= deadlineUs) resolve();
      else setTimeout(check, 10);
    };
    check();
  });
}

async function run(startUs, sendMs, drainMs) {
  while (nowUs() < startUs) await new Promise((r) => setTimeout(r, 1));
  const endUs = startUs + sendMs * 1000;
  if (config.mode === "window") await runWindow(endUs);
  else await runRate(endUs);
  onComplete = () => {};
  await drain(endUs + drainMs * 1000);
  for (const entry of inflight.values()) {
    stats.missing += Math.max(0, entry.expected - entry.received);
    if (!entry.acked) stats.unacked += 1;
  }
  deliveries.save(`${config.out}.deliveries.f64`);
  acks.save(`${config.out}.acks.f64`);
  out({ type: "done", worker: config.worker, inflight: inflight.size, ...stats });
  for (const client of clients) client.socket?.close();
  setTimeout(() => process.exit(0), 100);
}

await connectAll();
out({ type: "ready", worker: config.worker, clients: clients.length, ...stats });
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, startUs, sendMs, drainMs] = line.trim().split(/\s+/);
  if (command === "go") run(Number(startUs), Number(sendMs), Number(drainMs));
  else if (command === "quit") process.exit(0);
});
