// The live dashboard in a real headless Chromium: it loads from the admin endpoint alone, and
// its numbers follow real nodes as they join and time out.
import { HeartbeatClient } from "@hb/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminServer } from "../../src/admin/index.js";
import { HeartbeatServer } from "../../src/index.js";
import { FAST } from "../helpers.js";
import { RawPeer } from "../raw-peer.js";
import { launchChromium } from "./chromium.js";

let server: HeartbeatServer;
let admin: AdminServer;
let base: string;
let port: number;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const clients: HeartbeatClient[] = [];
const peers: RawPeer[] = [];
const TOKEN = "dashboard-test-token-0123";

beforeAll(async () => {
  server = new HeartbeatServer({ ...FAST, heartbeatTimeout: 1_500 });
  admin = new AdminServer(server, { port: 0, token: TOKEN });
  port = (await server.listen()).port;
  base = `http://127.0.0.1:${(await admin.listen()).port}`;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  for (const p of peers) p.socket.destroy();
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await admin?.close();
  await server?.close();
});

describe("dashboard (headless Chromium)", () => {
  it("shows nodes online and suspect, the presence feed, timeouts, processes and search, live", async () => {
    const page = await browser.context.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(`${base}/?token=${TOKEN}`);
    await page.locator("#ready", { hasText: "ready" }).waitFor({ timeout: 15_000 });
    await page.locator("#online", { hasText: /^0$/ }).waitFor();

    // 5 nodes join: 3 live clients in two regions, 2 raw peers that will fall silent.
    for (const [id, region] of [["eu-1", "eu"], ["eu-2", "eu"], ["us-1", "us"]] as const) {
      const c = new HeartbeatClient({ host: "127.0.0.1", port, nodeId: id, metadata: { region } });
      c.on("error", () => {});
      clients.push(c);
      await c.connect();
    }
    for (const id of ["quiet-1", "quiet-2"]) {
      const p = await RawPeer.connect(port);
      peers.push(p);
      await p.hello({ nodeId: id, labels: { region: "eu" }, heartbeatIntervalMs: 200 });
    }
    await page.locator("#online", { hasText: /^5$/ }).or(page.locator("#suspect", { hasText: /^[12]$/ })).first().waitFor({ timeout: 10_000 });
    await page.locator('#feed li.joined[data-node="quiet-2"]').waitFor({ timeout: 10_000 });

    // The silent ones go suspect, then time out; the live ones stay.
    await page.locator('#feed li.timeout[data-node="quiet-1"]').waitFor({ timeout: 15_000 });
    await page.locator('#feed li.timeout[data-node="quiet-2"]').waitFor({ timeout: 15_000 });
    await page.locator("#online", { hasText: /^3$/ }).waitFor({ timeout: 10_000 });
    await page.locator("#timeouts", { hasText: /^2$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#suspect").textContent()).toBe("0");
    expect(await page.locator('#feed li.suspect[data-node="quiet-1"]').count()).toBe(1);

    // By label, processes, charts.
    // (online / suspect: the two silent eu nodes are gone from the label view too)
    await page.locator('#labels .row[data-label="region=eu"] .n', { hasText: /^2 \/ 0$/ }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#workers tbody tr").count()).toBeGreaterThanOrEqual(1);
    await page.locator("#chart-nodes polyline").first().waitFor({ state: "attached" });
    expect(Number(await page.locator("#hbps").textContent())).toBeGreaterThan(0);

    // Search by label (clicking the label row) and by node id.
    await page.locator('#labels .row[data-label="region=us"]').click();
    await page.locator("#results tbody tr").first().waitFor();
    expect(await page.locator("#results tbody tr td").first().textContent()).toBe("us-1");
    await page.locator("#query").fill("eu-2");
    await page.locator("#search button").click();
    await page.locator("#results td", { hasText: "eu-2" }).waitFor();
    await page.locator("#query").fill("quiet-1");
    await page.locator("#search button").click();
    await page.locator("#results", { hasText: "node quiet-1 is not registered" }).waitFor();

    expect(foreign).toEqual([]);
    // The browser logs the 404 of the search for an unregistered node; nothing else may fail.
    expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
    await page.close();
  }, 90_000);

  it("without the token, the page loads and says a token is needed; the data stays behind it", async () => {
    const page = await browser.context.newPage();
    // sessionStorage is per tab: this one has no token.
    await page.goto(`${base}/`);
    await page.locator("#server", { hasText: "admin token required" }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#online").textContent()).toBe("–");
    expect((await page.request.get(`${base}/v1/stats`)).status()).toBe(401);
    await page.close();
  });
});
