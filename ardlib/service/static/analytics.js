/* ARD analytics dashboard: reads the three listing endpoints and draws them with plain SVG.
 *
 * Works offline and under a strict CSP (script-src 'self'; style-src 'self'): no inline
 * script or style, no CDN, every value inserted as text (never as HTML).
 *
 * Requests (relative to the page, or to <meta name="ardlib-api-base"> when that is set):
 *   GET api/experiments?limit=100        -> {"experiments": [...], "count": n}
 *   GET api/optimization_runs?limit=50   -> {"optimization_runs": [...], "count": n}
 *   GET api/ai_queries?include_cost_analysis=true&limit=100
 *        -> {"ai_queries": [...], "count": n,
 *            "cost_analysis": {"total_cost_usd", "average_cost_per_query"}}
 *
 * CONVERGENCE KEY: each optimization run's `results.convergence`, one entry per evaluation,
 * either an object {"step": int, "best_observed": number | null, ...} (what
 * `ardlib service seed-demo` writes; x = step, y = best_observed) or a bare number
 * (x = position + 1). When that is absent, `results.best_so_far`, a list of numbers with the
 * same meaning. Null entries are skipped; `results` may be an object or a JSON string. Runs
 * with neither list are counted in the caption and not drawn.
 *
 * AI cost: bars from `cost_analysis.by_model` ({selected_model, query_count,
 * total_cost_usd, average_latency_ms}, over every query) when present, otherwise summed
 * over the listed queries.
 *
 * API key: when a listing answers 401 (the service protects reads), the page shows
 * #key-form; the key entered is kept in sessionStorage["ardlib-api-key"] (this tab only;
 * never in the URL or localStorage), sent as X-API-Key on every request, and the page
 * reloads to use it. A key that is refused again is dropped and asked for anew.
 *
 * Colours: <meta name="ardlib-palette"> holds ardlib's palette (ardlib/_palette.py) as
 * JSON, filled in by the service when it serves this page; methods are coloured by the rule
 * of ardlib.reports.planner_color, so the dashboard and the report figures agree.
 *
 * Contract with ardlib.deploy.check_dashboard:
 *   - every chart element has `data-chart`, an id and `data-count`, the number of data
 *     points drawn (bars, table rows, line vertices); 0 when empty or its data failed;
 *   - and, once drawn, `data-state`: "drawn", "error", or "empty" when there is nothing to
 *     draw (the panel then says so, e.g. "No experiments yet."). The check accepts an empty
 *     chart only when the listings it is drawn from held no records (a fresh service);
 *   - body[data-ready="true"] once every request settled; body[data-error] holds the
 *     messages when any request or drawing failed (also shown in #error-banner).
 */
"use strict";

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const FETCH_TIMEOUT_MS = 15000;
  const LIMITS = { experiments: 100, runs: 50, queries: 100 }; // ?limit= of each listing
  const MAX_ACTIVITY_ROWS = 12;
  const MAX_CONVERGENCE_PANELS = 6; // objectives drawn, newest first
  const MAX_RUNS_PER_PANEL = 6;
  const LOG_RATIO = 30; // a convergence panel uses a log axis beyond this max/min ratio
  const COLUMNS = { 4: 4 }; // small multiples per row by how many are drawn; default 3
  const STATUS_ORDER = ["pending", "running", "completed", "failed"];
  const KEY_STORE = "ardlib-api-key"; // sessionStorage; ardlib.deploy.check_dashboard sets it
  let PALETTE = null; // read by main() from the page
  let uid = 0;

  // ---- DOM helpers ------------------------------------------------------------------------
  function fill(node, attrs, children) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const h = (tag, attrs, ...children) => fill(document.createElement(tag), attrs, children);
  const s = (tag, attrs, ...children) =>
    fill(document.createElementNS(SVG_NS, tag), attrs, children);

  function svgRoot(width, height, title, desc) {
    const id = "svg" + ++uid;
    return s("svg", {
      viewBox: `0 0 ${width} ${height}`, role: "img", class: "plot",
      "aria-labelledby": `${id}-title ${id}-desc`,
    }, s("title", { id: `${id}-title` }, title), s("desc", { id: `${id}-desc` }, desc));
  }

  function setChart(target, count, ...nodes) {
    target.replaceChildren(...nodes);
    target.dataset.count = String(count);
    target.dataset.state = count > 0 ? "drawn" : "empty";
    target.removeAttribute("aria-busy");
  }

  function showMessage(target, text, kind) {
    target.replaceChildren(h("p", { class: `chart-message ${kind}` }, text));
    target.dataset.count = "0";
    target.dataset.state = kind;
    target.removeAttribute("aria-busy");
  }

  // ---- formatting -------------------------------------------------------------------------
  function parseTime(value) {
    if (typeof value !== "string" || value === "") return NaN;
    // Naive ISO timestamps (no zone) are UTC as the service stores them, not browser-local.
    const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : value + "Z";
    const ms = Date.parse(zoned);
    return Number.isNaN(ms) ? Date.parse(value) : ms;
  }

  function fmtTime(value) {
    const ms = parseTime(value);
    if (Number.isNaN(ms)) return value ? String(value) : "\u2013";
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  }

  function decimalsOf(step) {
    const text = String(+step.toPrecision(12));
    const exp = text.match(/e-(\d+)$/);
    if (exp) return Number(exp[1]);
    return (text.split(".")[1] || "").length;
  }

  function fmtNum(value, decimals) {
    if (decimals !== undefined) {
      return value.toLocaleString("en-US", {
        minimumFractionDigits: Math.min(decimals, 10), maximumFractionDigits: Math.min(decimals, 10),
      });
    }
    if (Number.isInteger(value)) return value.toLocaleString("en-US");
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(3);
    return String(+value.toPrecision(5));
  }

  function fmtUsd(value) {
    const abs = Math.abs(value);
    const digits = abs === 0 || abs >= 1 ? 2 : abs >= 0.01 ? 3 : 5;
    return "$" + value.toFixed(digits);
  }

  function truncate(text, n) {
    return text.length > n ? text.slice(0, n - 1) + "\u2026" : text;
  }

  const plural = (n, one, many = one + "s") => `${fmtNum(n)} ${n === 1 ? one : many}`;

  function niceTicks(lo, hi, n, integer) {
    if (!(hi > lo)) {
      const pad = Math.abs(lo) * 0.1 || 1;
      lo -= pad;
      hi += pad;
    }
    const raw = (hi - lo) / n;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const norm = raw / mag;
    let step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
    if (integer) step = Math.max(1, Math.round(step));
    const ticks = [];
    for (let v = Math.floor(lo / step) * step; ; v += step) {
      ticks.push(+v.toPrecision(12));
      if (v >= hi - step * 1e-9 || ticks.length > 50) break;
    }
    return { ticks, step };
  }

  /* Log-axis ticks: decades, with 2x and 5x when fewer than two decades are spanned. */
  function logTicks(lo, hi) {
    const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
    const mults = b - a < 2 ? [1, 2, 5] : [1];
    const ticks = [];
    for (let k = a; k <= b; k++) {
      for (const m of mults) {
        const v = +(m * 10 ** k).toPrecision(12);
        if (v >= 10 ** a && v <= 10 ** b) ticks.push(v);
      }
    }
    const first = ticks.filter((v) => v <= lo).pop(), last = ticks.find((v) => v >= hi);
    return { ticks: ticks.filter((v) => v >= first && v <= last), step: null };
  }

  // ---- data access ------------------------------------------------------------------------
  function apiBase() {
    const meta = document.querySelector('meta[name="ardlib-api-base"]');
    const base = meta ? meta.content.trim() : "";
    return base ? new URL(base.replace(/\/?$/, "/"), document.baseURI) : document.baseURI;
  }

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORE) || "";
    } catch (err) {
      return ""; // storage disabled: the form asks again on every load
    }
  }

  function askForKey(rejected) {
    const form = document.getElementById("key-form");
    const input = document.getElementById("key-input");
    if (rejected) {
      try { sessionStorage.removeItem(KEY_STORE); } catch (err) { /* nothing stored */ }
      document.getElementById("key-message").textContent =
        "The API key was not accepted: enter it again.";
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      try {
        sessionStorage.setItem(KEY_STORE, input.value.trim());
      } catch (err) {
        reportErrors([`cannot keep the key: ${err.message}`]);
        return;
      }
      window.location.reload();
    });
    form.hidden = false;
    input.focus();
  }

  async function fetchJson(path, listKey) {
    const url = new URL(path, apiBase());
    const where = url.origin === window.location.origin ? path : url.href;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
    try {
      let response;
      try {
        const headers = { Accept: "application/json" };
        const key = storedKey();
        if (key) headers["X-API-Key"] = key;
        response = await fetch(url, { headers, cache: "no-store", signal: controller.signal });
      } catch (err) {
        const why = err.name === "AbortError" ? "timed out" : "network error or blocked by CORS";
        throw new Error(`GET ${where}: ${why}`);
      }
      const text = await response.text();
      let body = null;
      try {
        body = JSON.parse(text);
      } catch (err) {
        body = null;
      }
      if (!response.ok) {
        const detail = body && typeof body.error === "string" ? ` (${body.error})` : "";
        const error = new Error(`GET ${where}: HTTP ${response.status}${detail}`);
        error.unauthorized = response.status === 401;
        throw error;
      }
      if (body === null) throw new Error(`GET ${where}: response is not JSON`);
      if (!Array.isArray(body[listKey])) {
        throw new Error(`GET ${where}: response has no "${listKey}" list`);
      }
      return body;
    } finally {
      clearTimeout(timer);
    }
  }

  function countBy(items, key) {
    const counts = new Map();
    for (const item of items) {
      const value = item && item[key] !== null && item[key] !== undefined
        ? String(item[key]) : "(unspecified)";
      counts.set(value, (counts.get(value) || 0) + 1);
    }
    return counts;
  }

  function parseResults(results) {
    if (typeof results === "string") {
      try {
        results = JSON.parse(results);
      } catch (err) {
        return null;
      }
    }
    return results && typeof results === "object" ? results : null;
  }

  function convergenceTrace(run) {
    const results = parseResults(run && run.results);
    if (!results) return [];
    const list = Array.isArray(results.convergence) ? results.convergence
      : Array.isArray(results.best_so_far) ? results.best_so_far : [];
    const number = (v) => (typeof v === "number" ? v
      : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN);
    const points = [];
    list.forEach((entry, i) => {
      const isObject = entry !== null && typeof entry === "object";
      const y = number(isObject ? entry.best_observed : entry);
      const step = isObject ? number(entry.step) : NaN;
      if (Number.isFinite(y)) points.push({ x: Number.isFinite(step) ? step : i + 1, y });
    });
    return points.sort((a, b) => a.x - b.x);
  }

  function runName(run) {
    const results = parseResults(run.results) || {};
    for (const value of [run.name, run.objective, results.objective]) {
      if (typeof value === "string" && value !== "") return value;
    }
    return "";
  }

  // ---- charts -----------------------------------------------------------------------------
  /* Horizontal bars. items: [{label, value, color?, note?}], drawn top to bottom. */
  function barChart({
    title, desc, items, axisLabel, format, integer, width = 560, left = 170, right = 90,
  }) {
    const row = 30, top = 6, bottom = 46;
    const maxChars = Math.floor((left - 10) / 7);
    const height = top + items.length * row + bottom;
    const max = Math.max(0, ...items.map((d) => d.value));
    const { ticks, step } = niceTicks(0, max > 0 ? max : integer ? 1 : 1, 4, integer);
    const span = ticks[ticks.length - 1];
    const x = (v) => left + (Math.max(0, v) / span) * (width - left - right);
    const svg = svgRoot(width, height, title, desc);
    const axisY = top + items.length * row;
    const grid = s("g", { class: "grid", "aria-hidden": "true" });
    for (const t of ticks) {
      grid.append(
        s("line", { x1: x(t), x2: x(t), y1: top, y2: axisY }),
        s("text", { x: x(t), y: axisY + 16, class: "tick", "text-anchor": "middle" },
          fmtNum(t, decimalsOf(step))),
      );
    }
    svg.append(grid);
    items.forEach((d, i) => {
      const y = top + i * row;
      const w = x(d.value) - left;
      const valueText = format(d.value) + (d.note ? ` \u00b7 ${d.note}` : "");
      svg.append(s("g", { class: "bar" },
        s("title", {}, `${d.label}: ${valueText}`),
        s("text", { x: left - 8, y: y + row / 2 + 4, class: "label", "text-anchor": "end" },
          truncate(d.label, maxChars)),
        s("rect", {
          x: left, y: y + 5, width: Math.max(w, d.value > 0 ? 2 : 0), height: row - 10,
          rx: 2, fill: d.color || PALETTE.bar,
        }),
        s("text", { x: left + Math.max(w, 0) + 6, y: y + row / 2 + 4, class: "value" },
          valueText),
      ));
    });
    svg.append(
      s("line", { x1: left, x2: left, y1: top, y2: axisY, class: "axis" }),
      s("line", { x1: left, x2: width - right, y1: axisY, y2: axisY, class: "axis" }),
      s("text", {
        x: (left + width - right) / 2, y: height - 6, class: "axis-label", "text-anchor": "middle",
      }, axisLabel),
    );
    return svg;
  }

  function drawMethods(target, body) {
    const runs = body.optimization_runs;
    if (runs.length === 0) return showMessage(target, "No optimization runs yet.", "empty");
    const items = [...countBy(runs, "method")]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([label, value]) => ({ label, value }));
    const title = "Optimization runs by method";
    const desc = items.map((d) => `${d.label}: ${d.value}`).join(", ");
    setChart(target, items.length,
      barChart({ title, desc, items, axisLabel: "Number of runs", format: fmtNum, integer: true }),
      h("figcaption", {}, `Methods of the ${plural(runs.length, "most recent run")}.`));
  }

  function drawStatus(target, body) {
    const experiments = body.experiments;
    if (experiments.length === 0) return showMessage(target, "No experiments yet.", "empty");
    const counts = countBy(experiments, "status");
    const order = [...STATUS_ORDER.filter((k) => counts.has(k)),
      ...[...counts.keys()].filter((k) => !STATUS_ORDER.includes(k)).sort()];
    const items = order.map((label) => ({
      label, value: counts.get(label), color: PALETTE.status[label] || "#666666",
    }));
    const title = "Experiments by status";
    const desc = items.map((d) => `${d.label}: ${d.value}`).join(", ");
    setChart(target, items.length,
      barChart({
        title, desc, items, axisLabel: "Number of experiments", format: fmtNum, integer: true,
      }),
      h("figcaption", {}, `Status of the ${plural(experiments.length, "most recent experiment")}.`));
  }

  const finite = (value) => (Number.isFinite(Number(value)) ? Number(value) : 0);

  /* Per-model totals: the service's cost_analysis.by_model, else summed over the list. */
  function costByModel(body) {
    const analysis = body.cost_analysis;
    if (analysis && Array.isArray(analysis.by_model)) {
      return {
        source: "service cost analysis, every query",
        models: analysis.by_model.map((m) => ({
          model: m.selected_model ? String(m.selected_model) : "(unspecified)",
          n: finite(m.query_count),
          cost: finite(m.total_cost_usd),
          latency: finite(m.average_latency_ms),
        })),
      };
    }
    const byModel = new Map();
    for (const q of body.ai_queries) {
      const model = q && q.selected_model ? String(q.selected_model) : "(unspecified)";
      const e = byModel.get(model) || { model, n: 0, cost: 0, latencySum: 0 };
      e.cost += finite(q.cost_usd);
      e.latencySum += finite(q.latency_ms);
      e.n += 1;
      byModel.set(model, e);
    }
    return {
      source: `summed over the ${plural(body.ai_queries.length, "listed query", "listed queries")}`,
      models: [...byModel.values()].map((e) => ({ ...e, latency: e.latencySum / e.n })),
    };
  }

  function drawAiCost(target, body) {
    const { source, models } = costByModel(body);
    if (models.length === 0) return showMessage(target, "No AI queries yet.", "empty");
    models.sort((a, b) => b.cost - a.cost || a.model.localeCompare(b.model));
    const items = models.map((m) => ({
      label: m.model, value: m.cost, note: plural(m.n, "query", "queries"), color: PALETTE.cost,
    }));
    const analysis = body.cost_analysis || {};
    const total = Number.isFinite(Number(analysis.total_cost_usd))
      ? Number(analysis.total_cost_usd) : models.reduce((acc, m) => acc + m.cost, 0);
    const n = models.reduce((acc, m) => acc + m.n, 0);
    const average = Number.isFinite(Number(analysis.average_cost_per_query))
      ? Number(analysis.average_cost_per_query) : n ? total / n : 0;
    const tokens = Number.isFinite(Number(analysis.total_input_tokens))
      ? ` \u00b7 tokens in / out ${fmtNum(finite(analysis.total_input_tokens))} / `
        + `${fmtNum(finite(analysis.total_output_tokens))}` : "";
    const caption = `Total ${fmtUsd(total)} \u00b7 average ${fmtUsd(average)} per query`
      + `${tokens} (${source}).`;
    const desc = items.map((d) => `${d.label}: ${fmtUsd(d.value)} over ${d.note}`).join(", ");
    const table = h("table", { class: "data-table" },
      h("caption", { class: "visually-hidden" }, "AI queries per model"),
      h("thead", {}, h("tr", {}, ["Model", "Queries", "Mean latency", "Cost", "Cost per query"]
        .map((c, i) => h("th", { scope: "col", class: i ? "num" : null }, c)))),
      h("tbody", {}, models.map((m) => h("tr", {},
        h("td", {}, m.model),
        h("td", { class: "num" }, fmtNum(m.n)),
        h("td", { class: "num" }, `${fmtNum(Math.round(m.latency))} ms`),
        h("td", { class: "num" }, fmtUsd(m.cost)),
        h("td", { class: "num" }, m.n ? fmtUsd(m.cost / m.n) : "\u2013"),
      ))));
    setChart(target, items.length,
      barChart({
        title: "AI cost by model", desc, items, axisLabel: "Cost (USD)", format: fmtUsd,
        width: 480, left: 130, right: 140,
      }),
      h("div", { class: "table-wrap" }, table),
      h("figcaption", {}, caption));
  }

  /* Text that may wrap after its underscores (bayesian_optimization), nowhere else. */
  function breakable(text) {
    return text.split("_").flatMap((part, i) => (i ? ["_", h("wbr", {}), part] : [part]));
  }

  function statusPill(status) {
    const known = STATUS_ORDER.includes(status) ? status : "other";
    return h("span", { class: `pill status-${known}` }, status || "\u2013");
  }

  function drawActivity(target, experiments, runs) {
    const rows = [
      ...(experiments ? experiments.experiments : []).map((e) => ({
        ...e, kind: "Experiment", time: e.created_at || e.start_time,
      })),
      ...(runs ? runs.optimization_runs : []).map((r) => ({
        ...r, kind: "Run", time: r.created_at || r.start_time,
      })),
    ].map((row) => ({ ...row, ms: parseTime(row.time) }))
      .sort((a, b) => (Number.isNaN(b.ms) ? -Infinity : b.ms) - (Number.isNaN(a.ms) ? -Infinity : a.ms))
      .slice(0, MAX_ACTIVITY_ROWS);
    const missing = [!experiments && "experiments", !runs && "optimization runs"].filter(Boolean);
    const note = missing.length ? ` (${missing.join(" and ")} could not be loaded)` : "";
    if (rows.length === 0) {
      return showMessage(target, `No experiments or optimization runs yet${note}.`, "empty");
    }
    const table = h("table", { class: "data-table activity" },
      h("caption", { class: "visually-hidden" }, "Latest experiments and optimization runs"),
      h("thead", {}, h("tr", {}, ["Time (UTC)", "Kind", "ID", "Method", "Status", "By"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", { class: "time" }, h("time", { datetime: r.time || "" }, fmtTime(r.time))),
        h("td", {}, r.kind),
        h("td", { class: "num" }, r.id === undefined || r.id === null ? "\u2013" : String(r.id)),
        h("td", { class: "method" }, r.method ? breakable(String(r.method)) : "\u2013"),
        h("td", {}, statusPill(r.status ? String(r.status) : "")),
        h("td", {}, r.created_by ? String(r.created_by) : "\u2013"),
      ))));
    setChart(target, rows.length, h("div", { class: "table-wrap" }, table),
      h("figcaption", {}, `The ${rows.length} newest experiments and runs${note}.`));
  }

  /* A method's colour, by the rule of ardlib.reports.planner_color: fixed for the known
   * planners, otherwise picked by the CRC32 of the key (lower case, no separators). */
  function methodColor(method) {
    const key = String(method || "").toLowerCase().replace(/[\s_\-.]+/g, "");
    if (Object.hasOwn(PALETTE.planners, key)) return PALETTE.planners[key];
    let crc = ~0;
    for (const byte of new TextEncoder().encode(key)) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    }
    const others = PALETTE.other_planners;
    return others[(~crc >>> 0) % others.length];
  }

  /* One panel: every traced run of one objective, a line per run coloured by method. */
  function convergencePanel(objective, traced) {
    const width = 300, height = 190, left = 56, right = 12, top = 12, bottom = 40;
    const all = traced.flatMap((t) => t.points);
    const n = Math.max(...all.map((p) => p.x));
    const ymin = Math.min(...all.map((p) => p.y)), ymax = Math.max(...all.map((p) => p.y));
    // Positive values spanning more than LOG_RATIO: log axis, or the first evaluations
    // flatten everything after them.
    const log = ymin > 0 && ymax / ymin > LOG_RATIO;
    const { ticks, step } = log ? logTicks(ymin, ymax) : niceTicks(ymin, ymax, 4, false);
    const f = log ? Math.log10 : (v) => v;
    const y0 = f(ticks[0]), y1 = f(ticks[ticks.length - 1]);
    const x0 = n > 1 ? 1 : 0.5, x1 = n > 1 ? n : 1.5;
    const px = (v) => left + ((v - x0) / (x1 - x0)) * (width - left - right);
    const py = (v) => top + (1 - (f(v) - y0) / (y1 - y0)) * (height - top - bottom);
    const seen = new Map(); // method -> runs drawn so far (repeats are dashed)
    const lines = traced.map((t) => {
      const method = t.run.method ? String(t.run.method) : "unknown method";
      const repeat = seen.get(method) || 0;
      seen.set(method, repeat + 1);
      const last = t.points[t.points.length - 1].y;
      return { ...t, method, color: methodColor(method), dashed: repeat > 0, last };
    });
    const desc = lines.map((l) => `${l.method} (run ${l.run.id}): ${l.points.length} `
      + `evaluations, best so far from ${fmtNum(l.points[0].y)} to ${fmtNum(l.last)}`).join("; ");
    const svg = svgRoot(width, height, `${objective}: best value so far per evaluation`, desc);
    const grid = s("g", { class: "grid", "aria-hidden": "true" });
    for (const tk of ticks) {
      grid.append(s("line", { x1: left, x2: width - right, y1: py(tk), y2: py(tk) }),
        s("text", { x: left - 6, y: py(tk) + 4, class: "tick", "text-anchor": "end" },
          log ? fmtNum(tk) : fmtNum(tk, decimalsOf(step))));
    }
    for (const tk of niceTicks(1, Math.max(n, 2), 4, true).ticks.filter((v) => v >= x0 && v <= x1)) {
      grid.append(s("text", { x: px(tk), y: height - bottom + 16, class: "tick", "text-anchor": "middle" },
        fmtNum(tk)));
    }
    svg.append(grid,
      s("line", { x1: left, x2: left, y1: top, y2: height - bottom, class: "axis" }),
      s("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: "axis" }));
    for (const l of lines) {
      const line = s("g", { class: "run-line" }, s("title", {}, `${l.method}, run ${l.run.id}: best ${fmtNum(l.last)}`),
        s("polyline", {
          points: l.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" "),
          class: l.dashed ? "trace dashed" : "trace", stroke: l.color,
        }));
      if (lines.length === 1 && l.points.length <= 30) {
        for (const p of l.points) line.append(s("circle", { cx: px(p.x), cy: py(p.y), r: 2.5, fill: l.color }));
      }
      svg.append(line);
    }
    svg.append(
      s("text", { x: (left + width - right) / 2, y: height - 6, class: "axis-label", "text-anchor": "middle" },
        "Evaluation"),
      s("text", {
        x: 0, y: 0, class: "axis-label", "text-anchor": "middle",
        transform: `translate(13 ${(top + height - bottom) / 2}) rotate(-90)`,
      }, log ? "Best observed (log scale)" : "Best observed so far"));
    const goals = [...new Set(traced.map((t) => t.run.goal).filter(Boolean))];
    const legend = h("ul", { class: "legend" }, lines.map((l) => h("li", {},
      s("svg", { viewBox: "0 0 18 8", class: "swatch", "aria-hidden": "true" },
        s("line", { x1: 0, x2: 18, y1: 4, y2: 4, stroke: l.color, class: l.dashed ? "dashed" : null })),
      `${l.method} `, h("span", { class: "muted" }, `run ${l.run.id} \u00b7 best ${fmtNum(l.last)}`))));
    return h("div", { class: "small-multiple" },
      h("h3", {}, objective),
      h("p", { class: "run-meta" }, [goals.join(" / "), plural(lines.length, "run")]
        .filter(Boolean).join(" \u00b7 ")),
      svg, legend);
  }

  function drawConvergence(target, body) {
    const runs = body.optimization_runs;
    if (runs.length === 0) return showMessage(target, "No optimization runs yet.", "empty");
    const traced = runs.map((run) => ({ run, points: convergenceTrace(run) }))
      .filter((t) => t.points.length > 0);
    if (traced.length === 0) {
      return showMessage(target,
        `No convergence data: none of the ${plural(runs.length, "run")} has results.convergence.`,
        "empty");
    }
    const groups = new Map(); // objective -> traced runs, newest first
    for (const t of traced) {
      const key = typeof t.run.objective === "string" && t.run.objective !== ""
        ? t.run.objective : runName(t.run) || `run ${t.run.id}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(t);
    }
    const shown = [...groups].slice(0, MAX_CONVERGENCE_PANELS)
      .map(([key, list]) => [key, list.slice(0, MAX_RUNS_PER_PANEL)]);
    const drawn = shown.flatMap(([, list]) => list);
    const count = drawn.reduce((acc, t) => acc + t.points.length, 0);
    const without = runs.length - traced.length;
    const caption = "Best observed objective value after each evaluation, one panel per "
      + `objective (newest first), one line per run coloured by method; `
      + `${drawn.length} of ${plural(traced.length, "run")} with a trace drawn`
      + (without ? `, ${without} without one` : "") + ".";
    setChart(target, count,
      h("div", { class: `multiples cols-${COLUMNS[shown.length] || 3}` },
        shown.map(([key, list]) => convergencePanel(key, list))),
      h("figcaption", {}, caption));
  }

  // ---- page -------------------------------------------------------------------------------
  function fillSummary(data) {
    const put = (id, text) => { document.getElementById(id).textContent = text; };
    // `count` is the number listed; at the request's limit there may be more.
    const count = (body, key, limit) => {
      const n = Number.isFinite(Number(body.count)) ? Number(body.count) : body[key].length;
      return n >= limit ? `${fmtNum(n)}+` : fmtNum(n);
    };
    if (data.experiments) {
      put("total-experiments", count(data.experiments, "experiments", LIMITS.experiments));
    }
    if (data.runs) put("total-runs", count(data.runs, "optimization_runs", LIMITS.runs));
    if (data.queries) {
      const analysis = data.queries.cost_analysis || {};
      put("total-queries", Number.isFinite(Number(analysis.query_count))
        ? fmtNum(Number(analysis.query_count)) : count(data.queries, "ai_queries", LIMITS.queries));
      if (Number.isFinite(Number(analysis.total_cost_usd))) {
        put("total-cost", fmtUsd(Number(analysis.total_cost_usd)));
      }
    }
  }

  function reportErrors(messages) {
    if (messages.length === 0) return;
    document.body.dataset.error = messages.join("; ");
    const banner = document.getElementById("error-banner");
    banner.replaceChildren(h("strong", {}, "Some data could not be loaded or drawn."),
      h("ul", {}, messages.map((m) => h("li", {}, m))));
    banner.hidden = false;
  }

  function readPalette() {
    const meta = document.querySelector('meta[name="ardlib-palette"]');
    try {
      return JSON.parse(meta.content);
    } catch (err) {
      throw new Error("the page carries no colour palette (serve it from the ARD service)");
    }
  }

  async function main() {
    PALETTE = readPalette();
    const requests = {
      experiments: fetchJson(`api/experiments?limit=${LIMITS.experiments}`, "experiments"),
      runs: fetchJson(`api/optimization_runs?limit=${LIMITS.runs}`, "optimization_runs"),
      queries: fetchJson(`api/ai_queries?include_cost_analysis=true&limit=${LIMITS.queries}`,
        "ai_queries"),
    };
    const names = Object.keys(requests);
    const settled = await Promise.allSettled(Object.values(requests));
    const data = {}, failures = {};
    names.forEach((name, i) => {
      if (settled[i].status === "fulfilled") data[name] = settled[i].value;
      else failures[name] = settled[i].reason.message;
    });
    if (settled.some((r) => r.status === "rejected" && r.reason.unauthorized)) {
      askForKey(Boolean(storedKey()));
    }
    const messages = Object.values(failures);
    const render = (id, draw, ...needs) => {
      const target = document.getElementById(id);
      const failed = needs.filter((n) => failures[n]);
      try {
        if (failed.length === needs.length) {
          showMessage(target, `Data unavailable: ${failed.map((n) => failures[n]).join("; ")}`,
            "error");
        } else {
          draw(target, ...needs.map((n) => data[n]));
        }
      } catch (err) {
        messages.push(`${id}: ${err.message}`);
        showMessage(target, `Could not draw this chart: ${err.message}`, "error");
      }
    };
    render("chart-methods", drawMethods, "runs");
    render("chart-status", drawStatus, "experiments");
    render("chart-ai-cost", drawAiCost, "queries");
    render("chart-activity", drawActivity, "experiments", "runs");
    render("chart-convergence", drawConvergence, "runs");
    fillSummary(data);
    reportErrors(messages);
    document.getElementById("loaded-at").textContent =
      `Loaded ${fmtTime(new Date().toISOString())} UTC from ${new URL("api/", apiBase()).href}`;
  }

  main().catch((err) => {
    reportErrors([`dashboard failed: ${err && err.message ? err.message : err}`]);
  }).finally(() => {
    document.body.dataset.ready = "true";
  });
})();
