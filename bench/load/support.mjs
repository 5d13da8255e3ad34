// Support routing load: operators connected with the official socket.io-client
// (online, accepting), customers' first messages sent at a fixed rate through
// the REST API; each `support:assigned` at an operator's socket is matched to
// its intake.
//
// usage: node load/support.mjs <config.json>
// config: {url, operators: [token...], customers: [token...], rate (intakes/s),
//          sendMs, drainMs, out}
// stdout: {"type": "ready"} once operators are online; after "go <start_us>" on
// stdin, {"type": "done", ...}. Raw samples: <out>.routed.f64 (sent_us,
// assigned_us) and <out>.intake.f64 (sent_us, answered_us).
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import readline from "node:readline";
import { io } from "socket.io-client";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const sentAt = new Map(); // chat id -> intake send time
const pendingAssigned = new Map(); // chat id -> assigned time, when it beat the HTTP answer
const routed = [];
const intakes = [];
// An intake answered 503 (the gateway refusing what it cannot finish) is refused;
// one never answered within 30 s (or cut off) is lost; any other non-2xx is an
// HTTP error.
const stats = { sent: 0, created: 0, httpErrors: 0, firstHttpError: null, refused: 0, lost: 0,
  assigned: 0, duplicateAssigned: 0, operatorErrors: 0, firstOperatorError: null };
const assignedOnce = new Set();

function onAssigned(data) {
  const at = nowUs();
  const chatId = data?.chat_id;
  if (!chatId) return;
  if (assignedOnce.has(chatId)) { stats.duplicateAssigned += 1; return; }
  assignedOnce.add(chatId);
  stats.assigned += 1;
  const sent = sentAt.get(chatId);
  if (sent !== undefined) routed.push(sent, at);
  else pendingAssigned.set(chatId, at);
}

async function connectOperator(token) {
  const socket = io(config.url, { transports: ["websocket"], reconnection: false, auth: { token }, timeout: 60000 });
  socket.on("support:assigned", onAssigned);
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const answer = await socket.timeout(30000).emitWithAck("presence:set", { status: "online", accepting: true });
  if (!answer?.ok) {
    stats.operatorErrors += 1;
    stats.firstOperatorError ??= answer?.error ?? answer;
  }
  return socket;
}

let nextCustomer = 0;
async function intake() {
  const token = config.customers[nextCustomer++ % config.customers.length];
  const sent = nowUs();
  stats.sent += 1;
  try {
    const response = await fetch(`${config.url}/api/v1/support/chats`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ client_id: randomUUID(), body: `Hello, I need help with order ${sent}` }),
      signal: AbortSignal.timeout(30000),
    });
    const body = await response.json().catch(() => null);
    intakes.push(sent, nowUs());
    if (response.status === 503) {
      stats.refused += 1;
      return;
    }
    if (!response.ok) {
      stats.httpErrors += 1;
      stats.firstHttpError ??= body;
      return;
    }
    stats.created += 1;
    sentAt.set(body.id, sent);
    const early = pendingAssigned.get(body.id);
    if (early !== undefined) { routed.push(sent, early); pendingAssigned.delete(body.id); }
  } catch (err) {
    stats.lost += 1;
    stats.firstHttpError ??= String(err);
  }
}

async function run(startUs) {
  while (nowUs() < startUs) await sleep(1);
  const endUs = startUs + config.sendMs * 1000;
  const inflight = new Set();
  let due = 0;
  while (nowUs() < endUs) {
    const target = Math.floor(((nowUs() - startUs) / 1e6) * config.rate);
    while (due < target && due < config.customers.length) {
      due += 1;
      const p = intake();
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  const deadline = nowUs() + config.drainMs * 1000;
  while (nowUs() < deadline && stats.assigned < stats.created) await sleep(20);
  writeFileSync(`${config.out}.routed.f64`, Buffer.from(new Float64Array(routed).buffer));
  writeFileSync(`${config.out}.intake.f64`, Buffer.from(new Float64Array(intakes).buffer));
  out({ type: "done", notRouted: stats.created - stats.assigned, ...stats });
  setTimeout(() => process.exit(0), 100);
}

const operators = [];
for (const token of config.operators) operators.push(await connectOperator(token));
out({ type: "ready", operators: operators.length, ...stats });
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, startUs] = line.trim().split(/\s+/);
  if (command === "go") run(Number(startUs));
});
