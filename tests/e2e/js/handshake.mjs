// Connects with the official Socket.IO client and prints "connected" or the error.
// usage: node handshake.mjs <base-url> [token]
import { io } from "socket.io-client";

const [url, token] = process.argv.slice(2);
const socket = io(url, { transports: ["websocket"], reconnection: false, auth: token ? { token } : {} });
socket.on("connect", () => {
  console.log("connected");
  socket.close();
});
socket.on("connect_error", (err) => {
  console.log(`error ${err.message}`);
  process.exit(1);
});
