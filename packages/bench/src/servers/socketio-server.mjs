// The Socket.IO server of bench:peers, alone in its process: WebSocket
// transport only (no long-polling: the raw clients open a WebSocket
// directly), no compression, Engine.IO pings every `pingInterval` ms (the
// heartbeat of every connection), and an "echo" event acked at once (the
// timed ping of the RTT samplers).
//
//   node socketio-server.mjs '{"port":0,"pingInterval":10000}'
//   IPC out: { type: "ready", port, pid }
import { createServer } from "node:http";
import { Server } from "socket.io";

const o = JSON.parse(process.argv[2] ?? "{}");
const http = createServer();
const io = new Server(http, {
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  pingInterval: o.pingInterval ?? 25_000,
  pingTimeout: o.pingTimeout ?? 20_000,
});
io.on("connection", (socket) => {
  socket.on("echo", (ack) => {
    if (typeof ack === "function") ack();
  });
});
http.listen({ host: "127.0.0.1", port: o.port ?? 0, backlog: 4_096 }, () => {
  process.send({ type: "ready", port: http.address().port, pid: process.pid });
});
process.on("disconnect", () => process.exit(0));
