// Reconnect storm: every receiver drops at once and reconnects with its cursors
// (`auth.cursors`) while senders keep sending; counts what each user received.
//
// usage: node load/storm.mjs <config.json>
// config: {url, rooms: [{conversation, sender: auth, receivers: [auth, ...]}],
//          rate (messages/s, all rooms together), steadyMs, downMs, afterMs,
//          drainMs, out, payloadBytes}
// stdout: {"type": "ready"} once all are connected; after "go" on stdin the
// timeline runs by itself and ends with {"type": "done", ...}.
// Raw samples: <out>.deliveries.f64 (send_us, recv_us), <out>.catchup.f64
// (reconnect_start_us, caught_up_us), <out>.connect.f64 and <out>.reconnect.f64
// (start_us, connected_us).
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import readline from "node:readline";
import { io } from "socket.io-client";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const deliveries = [];
const catchups = [];
const connects = [];
const reconnects = [];
const latestAcked = new Map(); // conversation -> highest seq acked to a sender
const stats = { sent: 0, acked: 0, ackErrors: 0, firstAckError: null, connectErrors: 0,
  firstConnectError: null, unexpectedDisconnects: 0 };

function payloadFor(conversation, sendUs) {
  const payload = { conversation, client_id: randomUUID(), content: `storm|${sendUs}|` };
  const pad = config.payloadBytes - JSON.stringify(payload).length;
  if (pad > 0) payload.content += "x".repeat(pad);
  return payload;
}

function connect(auth, onEvent) {
  return new Promise((resolve) => {
    const started = nowUs();
    const socket = io(config.url, { transports: ["websocket"], reconnection: false, auth, timeout: 60000, forceNew: true });
    let settled = false;
    const fail = (reason) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      stats.connectErrors += 1;
      stats.firstConnectError ??= reason;
      socket.close();
      resolve(null);
    };
    // The client waits forever for a namespace CONNECT the server never sends
    // (a transport closed mid-handshake): bound it, and count it as a failure.
    const deadline = setTimeout(() => fail("no answer to connect within 60 s"), 60000);
    socket.on("message:new", onEvent);
    socket.once("connect", () => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      connects.push(started, nowUs());
      resolve(socket);
    });
    socket.once("connect_error", (err) => fail(String(err?.message ?? err)));
    socket.once("disconnect", (reason) => fail(`closed before connecting: ${reason}`));
  });
}

// One receiver: a user whose connection drops and comes back; what it received
// is counted per user, across both connections.
class Receiver {
  constructor(room, auth) {
    this.room = room;
    this.auth = auth;
    this.seen = new Map(); // seq -> times received
    this.last = 0; // highest seq received
    this.outOfOrder = 0;
    this.target = null; // seq to reach to be caught up after the reconnect
    this.reconnectUs = null;
    this.dropping = false;
  }
  onEvent = (data) => {
    const recvUs = nowUs();
    const seq = data?.seq;
    if (typeof seq !== "number" || data?.conversation !== this.room.conversation) return;
    const content = data?.message?.content ?? "";
    const sendUs = Number(content.split("|")[1]);
    if (sendUs) deliveries.push(sendUs, recvUs);
    this.seen.set(seq, (this.seen.get(seq) || 0) + 1);
    if (seq < this.last) this.outOfOrder += 1;
    this.last = Math.max(this.last, seq);
    if (this.target !== null && this.caughtUp()) {
      catchups.push(this.reconnectUs, recvUs);
      this.target = null;
    }
  };
  caughtUp() {
    for (let s = this.cursor + 1; s <= this.target; s += 1) if (!this.seen.has(s)) return false;
    return true;
  }
  async start() { this.socket = await connect(this.auth, this.onEvent); }
  drop() {
    this.dropping = true;
    this.cursor = this.last; // what the client knows it has
    this.socket?.disconnect();
  }
  async reconnect() {
    this.reconnectUs = nowUs();
    this.target = latestAcked.get(this.room.conversation) || 0;
    const auth = { ...this.auth, cursors: { [this.room.conversation]: this.cursor } };
    this.socket = await connect(auth, this.onEvent);
    if (this.socket) reconnects.push(this.reconnectUs, nowUs());
    if (this.target !== null && this.caughtUp()) {
      catchups.push(this.reconnectUs, nowUs());
      this.target = null;
    }
  }
}

const receivers = [];
const senders = [];
for (const room of config.rooms) {
  senders.push({ room, auth: room.sender });
  for (const auth of room.receivers) receivers.push(new Receiver(room, auth));
}

async function startAll(items, concurrency) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await items[next++].start();
  }));
}

let sending = true;
async function sendLoop() {
  // The same clock-driven pacing as the fan-out generator: what is due is sent.
  const start = nowUs();
  let due = 0;
  let rotor = 0;
  while (sending) {
    const target = Math.floor(((nowUs() - start) / 1e6) * config.rate);
    while (due < target) {
      due += 1;
      const sender = senders[rotor++ % senders.length];
      const conversation = sender.room.conversation;
      stats.sent += 1;
      sender.socket.timeout(30000).emit("message:send", payloadFor(conversation, nowUs()), (err, answer) => {
        if (err || !answer?.ok) {
          stats.ackErrors += 1;
          stats.firstAckError ??= err ? "timeout" : answer?.error;
          return;
        }
        stats.acked += 1;
        const seq = answer.data?.message?.seq;
        if (typeof seq === "number" && seq > (latestAcked.get(conversation) || 0)) latestAcked.set(conversation, seq);
      });
    }
    await sleep(1);
  }
}

function tally() {
  let missing = 0, duplicates = 0, outOfOrder = 0, delivered = 0, notCaughtUp = 0, silent = 0;
  for (const r of receivers) {
    const final = latestAcked.get(r.room.conversation) || 0;
    if (r.seen.size === 0) { silent += 1; continue; }
    const first = Math.min(...r.seen.keys());
    for (let s = first; s <= final; s += 1) {
      const times = r.seen.get(s) || 0;
      if (times === 0) missing += 1;
      if (times > 1) duplicates += times - 1;
    }
    for (const times of r.seen.values()) delivered += times;
    outOfOrder += r.outOfOrder;
    if (r.target !== null) notCaughtUp += 1;
  }
  return { missing, duplicates, outOfOrder, delivered, notCaughtUp, silent };
}

async function run() {
  const t0 = nowUs();
  const marks = { t0 };
  const flow = sendLoop();
  await sleep(config.steadyMs);
  marks.drop = nowUs();
  for (const r of receivers) r.drop();
  await sleep(config.downMs);
  marks.reconnect = nowUs();
  // The storm: every receiver reconnects at once.
  await Promise.all(receivers.map((r) => r.reconnect()));
  marks.allConnected = nowUs();
  await sleep(config.afterMs);
  sending = false;
  await flow;
  marks.stopSending = nowUs();
  // Drain: until every receiver has every acked seq (or the deadline).
  const deadline = nowUs() + config.drainMs * 1000;
  const complete = () => receivers.every((r) => r.last >= (latestAcked.get(r.room.conversation) || 0));
  while (nowUs() < deadline && !complete()) await sleep(20);
  marks.drained = nowUs();
  const write = (name, values) => writeFileSync(`${config.out}.${name}.f64`, Buffer.from(new Float64Array(values).buffer));
  write("deliveries", deliveries);
  write("catchup", catchups);
  write("connect", connects);
  write("reconnect", reconnects);
  out({ type: "done", marks, receivers: receivers.length, caughtUp: catchups.length / 2, ...stats, ...tally() });
  for (const r of receivers) r.socket?.close();
  for (const s of senders) s.socket?.close();
  setTimeout(() => process.exit(0), 200);
}

for (const s of senders) s.start = async function () { this.socket = await connect(this.auth, () => {}); };
await startAll(senders, 20);
await startAll(receivers, 50);
out({ type: "ready", receivers: receivers.length, senders: senders.length, ...stats });
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "go") run();
});
