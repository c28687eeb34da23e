// Socket.IO (Engine.IO 4 over WebSocket, no long-polling) over raw sockets
// for the load clients (bench:peers). The HTTP upgrade, the masked client
// frames and the few packets needed are written by hand: socket.io-client
// costs tens of KB per connection in the client process, which would limit
// the fleet a client process can hold, not the server under test.
//
// Engine.IO's heartbeat is the server's: it sends "2" every pingInterval and
// the client answers "3" (serverPings). The timed ping is an emit with an
// ack: `421["echo"]` → `431[]` (the bench's Socket.IO server acks "echo").

/** A masked (zero mask: the payload bytes stay as they are) WebSocket text frame. */
const textFrame = (text) => {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new RangeError("short frames only");
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
};

const PONG = textFrame("3");
const CONNECT = textFrame("40");

/** @param {{ port: number }} o the server's port (Host header) */
export function socketioWire({ port }) {
  const upgrade = Buffer.from(
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
      `Host: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: aGJiZW5jaGhiYmVuY2hoYg==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  return {
    name: "socket.io",
    open: () => upgrade,
    ping: textFrame('421["echo"]'),
    serverPings: true,
    reader(events) {
      let headers = ""; // until the 101 is read
      let upgraded = false;
      let carry;
      const packet = (text) => {
        const c = text.charCodeAt(0);
        if (c === 0x30 /* 0 open */) events.write(CONNECT);
        else if (c === 0x32 /* 2 ping */) {
          events.write(PONG);
          events.serverPing();
        }
        else if (c === 0x34 /* 4 message */) {
          if (text.startsWith("40")) events.ready();
          else if (text.startsWith("43")) events.pong();
          else if (text.startsWith("44")) events.refused(text.slice(2));
        } else if (c === 0x31 /* 1 close */) events.goAway();
      };
      return (chunk) => {
        let buf = chunk;
        if (!upgraded) {
          headers += chunk.toString("latin1");
          const end = headers.indexOf("\r\n\r\n");
          if (end < 0) {
            if (headers.length > 8192) events.bad("headers too long");
            return;
          }
          if (!headers.startsWith("HTTP/1.1 101")) {
            events.refused(headers.slice(0, headers.indexOf("\r\n")));
            return;
          }
          upgraded = true;
          buf = Buffer.from(headers.slice(end + 4), "latin1");
          headers = "";
        }
        if (carry !== undefined) {
          buf = Buffer.concat([carry, buf]);
          carry = undefined;
        }
        let pos = 0;
        while (pos + 2 <= buf.length) {
          const op = buf[pos] & 0x0f;
          let len = buf[pos + 1] & 0x7f;
          let p = pos + 2;
          if (len === 126) {
            if (p + 2 > buf.length) break;
            len = buf.readUInt16BE(p);
            p += 2;
          } else if (len === 127) {
            if (p + 8 > buf.length) break;
            len = Number(buf.readBigUInt64BE(p));
            p += 8;
          }
          if (p + len > buf.length) break;
          if (op === 1) packet(buf.toString("utf8", p, p + len));
          else if (op === 9) events.write(Buffer.from([0x8a, 0x80, 0, 0, 0, 0])); // ping → empty pong
          else if (op === 8) events.goAway();
          pos = p + len;
        }
        if (pos < buf.length) carry = Buffer.from(buf.subarray(pos));
      };
    },
  };
}
