import { BinaryReader } from "./binary-reader.js";
import { BinaryWriter } from "./binary-writer.js";
import type { BusNode } from "../core/ports/bus-link.js";
import { readLabels, writeLabels } from "./label-codec.js";

const ONLINE = 1;
const SUSPECT = 2;

/**
 * Encodes the stored form of a node in a member's directory hash (the field
 * is the node id, the member is the hash's): `state:u8 labels` (1 online,
 * 2 suspect; labels as in the presence codec). A node with two short labels
 * takes about 20 bytes.
 */
export function encodeDirectoryEntry(state: BusNode["state"], labels: Readonly<Record<string, string>>): Buffer {
  const w = new BinaryWriter(48);
  w.byte(state === "suspect" ? SUSPECT : ONLINE);
  writeLabels(w, labels);
  return w.finish();
}

/**
 * Decodes a stored directory entry of node `nodeId` held by `memberId`.
 *
 * @throws RangeError for malformed input
 */
export function decodeDirectoryEntry(input: Uint8Array, nodeId: string, memberId: string): BusNode {
  const r = new BinaryReader(input);
  const code = r.byte();
  if (code !== ONLINE && code !== SUSPECT) throw new RangeError(`unknown node state ${code}`);
  const labels = readLabels(r);
  r.end();
  return { nodeId, labels, state: code === SUSPECT ? "suspect" : "online", memberId };
}
