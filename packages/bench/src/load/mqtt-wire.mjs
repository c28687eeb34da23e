// MQTT 3.1.1 over raw sockets for the load clients (bench:peers): CONNECT
// with a keep-alive, PINGREQ as the heartbeat; reports CONNACK, PINGRESP and
// refusals. The packets are a few fixed bytes (MQTT 3.1.1 §3.1, §3.2, §3.12,
// §3.13), written by hand: no client library is needed for them.

const encodeLength = (n) => {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};

/** @param {{ prefix: string, interval: number }} o client ids are `${prefix}-${i}`; keep-alive = interval × 1.5 */
export function mqttWire({ prefix, interval }) {
  // Mosquitto drops a client silent for 1.5 × keep-alive: keep-alive ≥ the interval at which PINGREQ is sent.
  const keepAlive = Math.ceil((interval * 1.5) / 1000);
  return {
    name: "mqtt",
    open(i) {
      const id = Buffer.from(`${prefix}-${i}`);
      const variable = [0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, keepAlive >> 8, keepAlive & 0xff];
      const body = Buffer.concat([Buffer.from(variable), Buffer.from([id.length >> 8, id.length & 0xff]), id]);
      return Buffer.concat([Buffer.from([0x10, ...encodeLength(body.length)]), body]);
    },
    ping: Buffer.from([0xc0, 0x00]),
    serverPings: false,
    reader(events) {
      let carry;
      return (chunk) => {
        let buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
        carry = undefined;
        let pos = 0;
        while (pos < buf.length) {
          // Fixed header: type byte, remaining length (varint, ≤ 4 bytes).
          let len = 0;
          let mul = 1;
          let p = pos + 1;
          let complete = false;
          while (p < buf.length && p < pos + 5) {
            const b = buf[p++];
            len += (b & 0x7f) * mul;
            mul *= 128;
            if ((b & 0x80) === 0) {
              complete = true;
              break;
            }
          }
          if (!complete || p + len > buf.length) {
            carry = Buffer.from(buf.subarray(pos));
            return;
          }
          const type = buf[pos] >> 4;
          if (type === 2) {
            // CONNACK: [flags, return code]
            if (buf[p + 1] === 0) events.ready();
            else events.refused(`CONNACK ${buf[p + 1]}`);
          } else if (type === 13) {
            events.pong();
          }
          pos = p + len;
        }
      };
    },
  };
}
