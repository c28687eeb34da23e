import { generateToken, hashToken } from "@hb/server/internal";

/** Options of {@link hashTokenCommand}. */
export interface HashTokenOptions {
  /** Make a random token (256 bits) instead of reading one. */
  generate: boolean;
  /** scrypt instead of sha256 (for tokens people choose). */
  scrypt: boolean;
}

/**
 * `hb-server hash-token`: the hash of a token for `auth.tokens[].hash`
 * (never store the token itself). Reads the token from the first line of
 * stdin, or makes a random one (`--generate`, printed once with its hash).
 *
 * @returns the text to print
 * @throws Error when stdin holds no token
 */
export async function hashTokenCommand(options: HashTokenOptions, stdin: NodeJS.ReadableStream): Promise<string> {
  const algorithm = options.scrypt ? "scrypt" : "sha256";
  if (options.generate) {
    const token = generateToken();
    return `token: ${token}\nhash: ${await hashToken(token, algorithm)}\n`;
  }
  let text = "";
  for await (const chunk of stdin) text += chunk.toString();
  const token = text.split(/\r?\n/)[0] ?? "";
  if (token === "") throw new Error("no token on stdin (echo -n \"$TOKEN\" | hb-server hash-token), or use --generate");
  return `${await hashToken(token, algorithm)}\n`;
}
