// NATS core protocol over raw sockets for the load clients (bench:peers):
// INFO → CONNECT + PING, PONG = ready; PING as the heartbeat; the server's
// own PINGs are answered with PONG. Text lines, written by hand (the NATS
// client protocol is a handful of verbs).

const CONNECT = Buffer.from('CONNECT {"verbose":false,"pedantic":false,"lang":"bench","version":"0","protocol":1}\r\nPING\r\n');
const PONG = Buffer.from("PONG\r\n");

export function natsWire() {
  return {
    name: "nats",
    // Nothing on connect: the server speaks first (INFO).
    open: () => undefined,
    ping: Buffer.from("PING\r\n"),
    serverPings: false,
    reader(events) {
      let line = "";
      let ready = false;
      return (chunk) => {
        line += chunk.toString("latin1");
        let nl = line.indexOf("\r\n");
        while (nl >= 0) {
          const l = line.slice(0, nl);
          line = line.slice(nl + 2);
          if (l.startsWith("INFO ")) events.write(CONNECT);
          else if (l === "PONG") {
            if (ready) events.pong();
            else {
              ready = true;
              events.ready();
            }
          } else if (l === "PING") {
            events.write(PONG);
            events.serverPing();
          } else if (l.startsWith("-ERR")) events.refused(l.slice(5));
          nl = line.indexOf("\r\n");
        }
        if (line.length > 4096) events.bad("line too long");
      };
    },
  };
}
