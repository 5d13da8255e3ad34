// The Node.js Socket.IO peer of the benchmarks: the stack the messaging
// document was written for, doing the least a chat relay can do.
//
// usage: node peers/node_relay.mjs <port>
//
// A client connects with `auth: {room}` and is joined to that room. Its
// `relay` event `{conversation, client_id, content}` gets the next seq of the
// conversation and goes to every socket of the room (the sender included, as
// goftogu's `message:new` does) as `message:new` `{...payload, seq}`; the ack
// answers `{ok: true, data: {seq}}`. Same contract as peers/goftogu_relay.py.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] || 0);
const httpServer = createServer();
// Socket.IO's defaults match goftogu's (ping 25 s / 20 s, 1 MB packets).
const io = new Server(httpServer, { transports: ["websocket", "polling"] });
const seqs = new Map();

io.on("connection", (socket) => {
  const room = socket.handshake.auth?.room;
  if (typeof room === "string") socket.join(room);
  socket.on("relay", (data, ack) => {
    const conversation = data?.conversation;
    if (typeof conversation !== "string") {
      if (typeof ack === "function") ack({ ok: false, error: { code: "validation_error" } });
      return;
    }
    const seq = (seqs.get(conversation) || 0) + 1;
    seqs.set(conversation, seq);
    io.to(conversation).emit("message:new", { ...data, seq });
    if (typeof ack === "function") ack({ ok: true, data: { seq } });
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ type: "listening", port: httpServer.address().port }) + "\n");
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
