import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether the openssl binary is there (it makes the test certificates). */
export const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

/** PEM key and certificate. */
export interface Pem {
  key: Buffer;
  cert: Buffer;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/**
 * A throwaway CA and certificates signed by it (EC P-256, one day): a
 * server certificate for localhost / 127.0.0.1, and client certificates
 * with the given common names (and a URI subjectAltName `hb://<cn>`).
 */
export function makeCa(clients: string[]): { ca: Pem; server: Pem; clients: Record<string, Pem> } {
  const dir = mkdtempSync(join(tmpdir(), "hb-mtls-"));
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=hb test CA"]);
    const issue = (name: string, subj: string, ext: string): Pem => {
      openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj]);
      writeFileSync(join(dir, `${name}.ext`), ext);
      openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`]);
      return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) };
    };
    const server = issue("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    const out: Record<string, Pem> = {};
    clients.forEach((cn, i) => {
      out[cn] = issue(`client${i}`, `/CN=${cn}`, `subjectAltName=URI:hb://${cn}\nextendedKeyUsage=clientAuth\n`);
    });
    return { ca: { key: readFileSync(join(dir, "ca.key")), cert: readFileSync(join(dir, "ca.pem")) }, server, clients: out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
