// A scriptable official Socket.IO client for the Python end-to-end tests.
//
// usage: node driver.mjs <base-url> <auth-json>
// stdin, one JSON command per line:
//   {"id": 1, "op": "emit", "event": "message:send", "data": {...}}   -> ack
//   {"id": 2, "op": "close"}
// stdout, one JSON line per happening:
//   {"type": "connect", "sid": "..."}
//   {"type": "connect_error", "message": "...", "data": {...}}
//   {"type": "event", "event": "message:new", "data": {...}}
//   {"type": "ack", "id": 1, "data": {...}}
//   {"type": "disconnect", "reason": "..."}
import { io } from "socket.io-client";
import readline from "node:readline";

const [url, authJson] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const socket = io(url, {
  transports: ["websocket"],
  reconnection: false,
  auth: JSON.parse(authJson || "{}"),
});
socket.on("connect", () => out({ type: "connect", sid: socket.id }));
socket.on("connect_error", (err) => out({ type: "connect_error", message: err.message, data: err.data ?? null }));
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.onAny((event, data) => out({ type: "event", event, data }));

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.op === "emit") {
    socket.timeout(10000).emit(command.event, command.data, (err, answer) => {
      out({ type: "ack", id: command.id, data: err ? { timeout: true } : answer });
    });
  } else if (command.op === "close") {
    socket.close();
    setTimeout(() => process.exit(0), 50);
  }
});
