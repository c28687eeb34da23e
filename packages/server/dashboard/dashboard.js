// hb fleet dashboard: plain JavaScript, no build step, nothing from the internet.
// Reads the admin endpoint it is served from: /v1/stats and /v1/history every second,
// /v1/labels every two, /v1/events (Server-Sent Events) for the presence feed,
// /v1/nodes for search. With an admin token, open the page as /?token=<token>.

const params = new URLSearchParams(location.search);
const token = params.get("token") ?? sessionStorage.getItem("hb-token") ?? "";
if (params.has("token")) {
  sessionStorage.setItem("hb-token", token);
  history.replaceState(null, "", location.pathname);
}
const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat("en");

async function api(path) {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status === 401) throw new Error("admin token required: open this page as /?token=…");
  if (!res.ok && res.status !== 404) throw new Error(`${path}: HTTP ${res.status}`);
  return res.status === 404 ? undefined : res.json();
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

const ms = (s) => (s === null || s === undefined ? "–" : s < 0.001 ? `${(s * 1e6).toFixed(0)} µs` : `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`);
const bytes = (n) => (n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(1)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(0)} MiB` : `${(n / 1024).toFixed(0)} KiB`);
const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false }) + `.${String(t % 1000).padStart(3, "0")}`;
const labelText = (labels) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(" ");

// ---------------------------------------------------------------- charts (SVG, hand-drawn)

const SVG = "http://www.w3.org/2000/svg";
const COLORS = { ok: "#34d399", warn: "#fbbf24", bad: "#f87171", info: "#60a5fa" };

function chart(id, series, format) {
  const svg = $(`chart-${id}`);
  const all = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const max = Math.max(1e-9, ...all) * 1.1;
  const n = Math.max(2, ...series.map((s) => s.values.length));
  svg.replaceChildren();
  for (const y of [30, 60]) {
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("class", "gridline");
    line.setAttribute("x1", "0");
    line.setAttribute("x2", "300");
    line.setAttribute("y1", String(y));
    line.setAttribute("y2", String(y));
    svg.append(line);
  }
  for (const s of series) {
    const points = [];
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      points.push(`${((i / (n - 1)) * 300).toFixed(1)},${(88 - (v / max) * 84).toFixed(1)}`);
    });
    const pl = document.createElementNS(SVG, "polyline");
    pl.setAttribute("points", points.join(" "));
    pl.setAttribute("stroke", COLORS[s.color]);
    svg.append(pl);
  }
  $(`axis-${id}`).textContent = all.length === 0 ? "no data yet" : `max ${format(max / 1.1)} · last ${Math.round(n)} s`;
}

// ---------------------------------------------------------------- stats, history, labels

async function refresh() {
  try {
    const [stats, history] = await Promise.all([api("v1/stats"), api("v1/history")]);
    render(stats, history.points);
    if (!feedStarted) {
      for (const e of history.events) addEvent(e);
      startFeed();
    }
  } catch (err) {
    $("server").textContent = String(err.message ?? err);
    $("ready").className = "badge notready";
    $("ready").textContent = "unreachable";
  }
}

function render(s, points) {
  $("server").textContent = `${s.serverId} · hb ${s.version} · ${s.workerCount} process${s.workerCount === 1 ? "" : "es"} · up ${Math.floor(s.uptime)} s`;
  $("ready").className = `badge ${s.ready ? "ready" : "notready"}`;
  $("ready").textContent = s.ready ? "ready" : "not ready";
  $("online").textContent = fmt.format(s.fleet.online);
  $("suspect").textContent = fmt.format(s.fleet.suspect);
  $("connections").textContent = fmt.format(s.stats.connections);
  const r = s.rates;
  $("hbps").textContent = r ? fmt.format(Math.round(r.heartbeatsPerSecond)) : "–";
  $("mps").textContent = r ? fmt.format(Math.round(r.messagesPerSecond)) : "–";
  $("latency").textContent = r ? `${ms(r.latencyP50)} / ${ms(r.latencyP99)}` : "–";
  $("lag").textContent = r ? ms(r.loopLagP99) : "–";
  $("timeouts").textContent = fmt.format(Object.values(s.stats.transitions.timeout ?? {}).reduce((a, b) => a + b, 0));
  chart("nodes", [{ values: points.map((p) => p.online), color: "ok" }, { values: points.map((p) => p.suspect), color: "warn" }], (v) => fmt.format(Math.round(v)));
  chart("hbps", [{ values: points.map((p) => p.heartbeatsPerSecond), color: "info" }], (v) => fmt.format(Math.round(v)));
  chart("latency", [{ values: points.map((p) => p.latencyP50), color: "info" }, { values: points.map((p) => p.latencyP99), color: "bad" }], ms);
  chart("lag", [{ values: points.map((p) => p.loopLagP99), color: "warn" }], ms);
  renderProcesses(s);
}

function renderProcesses(s) {
  const rows = [];
  const p = s.process;
  if (p) rows.push(["main", p.pid, s.workerCount === 1 ? s.stats.connections : "–", s.workerCount === 1 ? s.stats.nodes : "–", s.workerCount === 1 ? s.stats.heartbeats : "–", bytes(p.rss), `${(p.cpu * 100).toFixed(0)}%`, ms(p.loopDelay.p99)]);
  for (const w of s.stats.workers ?? []) {
    rows.push([w.memberId, w.pid, w.stats?.connections ?? "–", w.stats?.nodes ?? "–", w.stats?.heartbeats ?? "–", w.process ? bytes(w.process.rss) : "–", w.process ? `${(w.process.cpu * 100).toFixed(0)}%` : "–", w.process ? ms(w.process.loopDelay.p99) : "–"]);
  }
  $("workers").tBodies[0].replaceChildren(...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))));
  const bus = s.stats.bus;
  $("bus").textContent = bus && bus.kind !== "ipc" ? `bus ${bus.kind}: ${bus.health.state}${bus.health.detail ? ` (${bus.health.detail})` : ""}` : "";
}

async function refreshLabels() {
  try {
    const { labels } = await api("v1/labels");
    const box = $("labels");
    if (labels.length === 0) return box.replaceChildren(el("p", { class: "muted" }, "no nodes yet"));
    const parts = [];
    for (const k of labels) {
      parts.push(el("div", { class: "key" }, k.key, k.truncated ? el("span", { class: "muted" }, " (top values)") : ""));
      const top = Math.max(...k.values.map((v) => v.total));
      for (const v of k.values) {
        const on = el("div", { class: "on" });
        const sus = el("div", { class: "sus" });
        on.style.width = `${((v.total - v.suspect) / top) * 100}%`;
        sus.style.width = `${(v.suspect / top) * 100}%`;
        parts.push(
          el("div", { class: "row", "data-label": `${k.key}=${v.value}`, title: `find ${k.key}=${v.value}`, onclick: () => search(`${k.key}=${v.value}`) },
            el("span", {}, v.value || "(empty)"), el("div", { class: "bar" }, on, sus), el("span", { class: "n" }, `${v.total - v.suspect} / ${v.suspect}`)),
        );
      }
    }
    box.replaceChildren(...parts);
  } catch {
    // shown by refresh()
  }
}

// ---------------------------------------------------------------- presence feed (SSE)

let feedStarted = false;
function addEvent(e) {
  const feed = $("feed");
  feed.prepend(el("li", { class: e.kind, "data-node": e.nodeId }, el("span", {}, clock(e.time)), el("span", {}, e.kind), el("span", { class: "what" }, `${e.nodeId} · ${e.reason} · ${labelText(e.labels)}`)));
  while (feed.children.length > 200) feed.lastChild.remove();
}
function startFeed() {
  feedStarted = true;
  const source = new EventSource(token ? `v1/events?token=${encodeURIComponent(token)}` : "v1/events");
  source.onmessage = (m) => addEvent(JSON.parse(m.data));
  source.onopen = () => ($("feed-state").textContent = "live");
  source.onerror = () => ($("feed-state").textContent = "reconnecting…");
}

// ---------------------------------------------------------------- search

async function search(q) {
  $("query").value = q;
  const out = $("results");
  const text = q.trim();
  if (text === "") return out.replaceChildren();
  let nodes;
  let note = "";
  try {
    if (text.includes("=")) {
      const qs = text.split(/\s+/).map((l) => `label=${encodeURIComponent(l)}`).join("&");
      const r = await api(`v1/nodes?${qs}&limit=100`);
      nodes = r.nodes;
      note = `${r.nodes.length} of ${fmt.format(r.count)} nodes with ${text}`;
    } else {
      const n = await api(`v1/nodes/${encodeURIComponent(text)}`);
      nodes = n ? [n] : [];
      note = n ? "" : `node ${text} is not registered`;
    }
  } catch (err) {
    return out.replaceChildren(el("p", { class: "bad" }, String(err.message ?? err)));
  }
  const rows = nodes.map((n) =>
    el("tr", {}, el("td", {}, n.nodeId), el("td", { class: `state-${n.state}` }, n.state), el("td", {}, labelText(n.labels)), el("td", {}, n.serverId ? "–" : `${Math.max(0, Math.round((Date.now() - n.lastHeardAt) / 1000))} s ago`), el("td", {}, n.gatewayNodeId ? `via ${n.gatewayNodeId}` : n.serverId ? `on ${n.serverId}` : n.remoteAddress)),
  );
  const table = el("table", { class: "table" }, el("thead", {}, el("tr", {}, ...["node", "state", "labels", "last heard", "address"].map((h) => el("th", {}, h)))), el("tbody", {}, ...rows));
  out.replaceChildren(...(note ? [el("p", { class: "muted" }, note)] : []), ...(rows.length ? [table] : []));
}
$("search").addEventListener("submit", (e) => {
  e.preventDefault();
  void search($("query").value);
});

void refresh();
void refreshLabels();
setInterval(refresh, 1000);
setInterval(refreshLabels, 2000);
