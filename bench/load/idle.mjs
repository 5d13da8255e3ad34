// Idle connections: open many official socket.io-client connections in steps
// and keep them open, doing nothing (Engine.IO pings keep them alive).
//
// usage: node load/idle.mjs <config.json>
// config: {url, auths: [auth, ...], steps: [1000, 2000, ...], connectConcurrency, out}
// stdout, one JSON line each: {"type": "step", connected, failed, ...} after each
// step; stdin: "next" opens the next step, "quit" closes everything and exits.
// Raw samples: <out>.connect.f64 (start_us, connected_us pairs).
import { readFileSync, writeFileSync } from "node:fs";
import readline from "node:readline";
import { io } from "socket.io-client";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const sockets = [];
const connectTimes = [];
let failed = 0;
let firstError = null;
let disconnects = 0;
let next = 0;

function openOne() {
  return new Promise((resolve) => {
    const auth = config.auths[next++];
    const started = nowUs();
    const socket = io(config.url, { transports: ["websocket"], reconnection: false, auth, timeout: 60000 });
    sockets.push(socket);
    socket.once("connect", () => { connectTimes.push(started, nowUs()); resolve(); });
    socket.once("connect_error", (err) => { failed += 1; firstError ??= String(err?.message ?? err); resolve(); });
    socket.on("disconnect", () => { disconnects += 1; });
  });
}

async function step(upTo) {
  const lanes = Array.from({ length: config.connectConcurrency || 50 }, async () => {
    while (next < upTo) await openOne();
  });
  await Promise.all(lanes);
  out({ type: "step", connected: sockets.filter((s) => s.connected).length, failed, firstError, disconnects });
}

let stepIndex = 0;
await step(config.steps[stepIndex++]);
readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const command = line.trim();
  if (command === "next" && stepIndex < config.steps.length) await step(config.steps[stepIndex++]);
  else if (command === "status") {
    out({ type: "status", connected: sockets.filter((s) => s.connected).length, failed, disconnects });
  } else if (command === "quit") {
    writeFileSync(`${config.out}.connect.f64`, Buffer.from(new Float64Array(connectTimes).buffer));
    for (const socket of sockets) socket.close();
    setTimeout(() => process.exit(0), 200);
  }
});
