// A plain socket.io chat server, written the way teams hand-roll live chat on it, so
// switchboard-bench can measure it beside Switchboard (crates/switchboard-bench-peers).
//
// Visitors and agents join a room per conversation; a message is relayed to the rest of
// the room and the sender's acknowledgement callback is called. Stock socket.io options:
// the in-memory adapter, no connection state recovery, nothing persisted. So the ack
// means only "this server process handled the event"; a message a disconnected agent
// misses is gone (socket.io's documented at-most-once delivery).
//
// Usage: node server.js [PORT]   (or PORT=…; 0 or nothing picks a free port)
// Prints "listening on 127.0.0.1:PORT" once it accepts connections.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const httpServer = http.createServer();
const io = new Server(httpServer);

io.on("connection", (socket) => {
  // join(conversation, ack): enter the conversation's room.
  socket.on("join", (conversation, ack) => {
    socket.join(String(conversation));
    if (typeof ack === "function") ack({ ok: true });
  });

  // message({ conversation, ... }, ack): relay to the others in the room, then ack.
  socket.on("message", (message, ack) => {
    const room = String(message?.conversation);
    if (!socket.rooms.has(room)) {
      if (typeof ack === "function") ack({ ok: false, error: "not_in_conversation" });
      return;
    }
    socket.to(room).emit("message", message);
    if (typeof ack === "function") ack({ ok: true });
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on 127.0.0.1:${httpServer.address().port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
