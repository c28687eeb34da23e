#!/usr/bin/env node
// Takes the dashboard screenshots in docs/: runs the built hb-server with its demo fleet
// (2 worker processes, 127.0.0.1, free ports), lets the fleet churn for a while, and shoots the
// page with Debian's headless Chromium (apt-get install chromium). `pnpm screenshots`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("..", import.meta.url));
const seconds = Number(process.env.HB_SCREENSHOT_SECONDS ?? 40);
const server = spawn(
  process.execPath,
  [join(root, "packages/cli/dist/hb-server.js"), "--demo", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--worker-count", "2",
    "--heartbeat-interval", "1s", "--heartbeat-timeout", "4s", "--heartbeat-check-interval", "200ms", "--log-format", "json"],
  { stdio: ["ignore", "pipe", "inherit"] },
);
let admin;
await new Promise((resolve, reject) => {
  let buf = "";
  server.stdout.on("data", (d) => {
    buf += d;
    for (const line of buf.split("\n")) {
      if (!line.includes("hb-server ready")) continue;
      admin = `http://127.0.0.1:${JSON.parse(line).adminPort}`;
      resolve();
    }
  });
  server.once("exit", () => reject(new Error("hb-server exited")));
});
const profile = mkdtempSync(join(tmpdir(), "hb-shots-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1440, height: 1100 },
  deviceScaleFactor: 1,
});
try {
  const page = await context.newPage();
  await page.goto(`${admin}/`);
  console.log(`dashboard at ${admin}/ — letting the demo fleet run ${seconds} s`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await page.screenshot({ path: join(root, "docs/dashboard.png"), fullPage: true });
  await page.locator("#query").fill("role=sensor");
  await page.locator("#search button").click();
  await page.locator("#results tbody tr").first().waitFor();
  await page.locator(".panels").screenshot({ path: join(root, "docs/dashboard-search.png") });
  console.log("wrote docs/dashboard.png and docs/dashboard-search.png");
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  server.kill("SIGTERM");
}
