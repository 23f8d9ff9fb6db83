"""The page ``ckdmbd app`` serves (:mod:`ckdmbd.app`): controls, plots and a table, filled by its own server's API.

URL parameters preset the controls, so a what-if can be linked or tested: ``?scenario=seed-case&binder_adherence=1
&months=6&run=1`` (``run=1`` simulates on load); ``day.graft-excision=180`` moves the scenario's event of that id
(its name, or ``events[k]``) to day 180; ``labs=`` (a lab CSV's text, URL-encoded) and ``labs_date=``
(YYYY-MM-DD of day 0) preset an uploaded lab series; ``scenario_file=`` (a scenario TOML's text) is posted as an
uploaded scenario file would be and becomes the current scenario. plotly.js is embedded (the report's bundle); the
page requests nothing but its own server (Content-Security-Policy ``connect-src 'self'``).
"""

from __future__ import annotations

from functools import cache

_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:"
_CSS = """
body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
main{max-width:1150px;margin:auto;padding:1em 2em}
#controls{display:grid;grid-template-columns:repeat(auto-fit,minmax(250px,1fr));gap:.6em 1.5em;background:#fff;
  border:1px solid #ddd;padding:1em;border-radius:6px}
label{display:block;font-size:.9em;color:#444}input[type=range]{width:100%}
button{font-size:1em;padding:.4em 1.2em;margin-top:.6em}
#status{margin:.8em 0;min-height:1.2em}#error{color:#b00020;margin:.5em 0;min-height:1.2em}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:1em}.plot{background:#fff;min-width:0}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}footer{color:#666;margin:2em 0}
#scenario-note,#labs-note{font-size:.85em;color:#444}
#events .event{display:flex;gap:.5em;align-items:center}#events .event label{flex:1}#events input{width:6em}
"""

_SCRIPT = r"""
const PANELS = [
  ["pre_phosphate_mmol_L", "Pre-dialysis phosphate", "mmol/L", "linear"],
  ["pre_calcium_mmol_L", "Pre-dialysis calcium", "mmol/L", "linear"],
  ["pre_pth_pmol_L", "Pre-dialysis intact PTH", "pmol/L", "log"],
  ["deposit_mass_g", "Soft-tissue deposit", "g", "linear"],
];
const params = new URLSearchParams(window.location.search);
let catalogue = [];
const LAB_LIMIT = __LAB_LIMIT__;
const SCENARIO_LIMIT = __SCENARIO_LIMIT__;
let labs = null;        // the uploaded lab results (POST /api/labs), drawn on their panels
let lastResult = null;  // the last simulation, redrawn when labs arrive

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function nice(x) { return Number(Number(x).toPrecision(4)).toString(); }

function sliders(name) {
  const box = document.getElementById("sliders");
  box.replaceChildren();
  const entry = catalogue.find(s => s.name === name);
  for (const p of entry.parameters) {
    const wrap = el("div");
    const value = params.has(p.name) ? Number(params.get(p.name)) : p.value;
    const input = el("input", {type: "range", id: "p-" + p.name, min: p.low, max: p.high, step: p.step,
                               "data-name": p.name, "data-unit": p.unit, "data-default": p.value});
    input.value = value;
    if (params.has(p.name)) input.dataset.touched = "1";  // a linked what-if holds its values even if unchanged
    input.addEventListener("input", () => { input.dataset.touched = "1"; });
    const lab = el("label", {for: input.id});
    const show = () => {
      const same = Number(input.value) === p.value && input.dataset.touched !== "1";
      let note = same ? " (as written)" : ` (as written ${nice(p.value)}; from t = 0 on)`;
      if (p.set_by_events) note = same ? " (as written: set by the scenario's events)"
        : " (from t = 0 on, instead of the scenario's events)";
      lab.textContent = `${p.label}: ${nice(input.value)} ${p.unit}`.trimEnd() + note;
    };
    input.addEventListener("input", show);
    show();
    wrap.append(lab, input);
    box.append(wrap);
  }
}

function eventFields(name) {
  // the scenario's own events from t = 0 on, one day field each: moved, the what-if runs with the event there
  const box = document.getElementById("events");
  box.replaceChildren();
  const entry = catalogue.find(s => s.name === name);
  box.append(el("label", {}, entry.events.length ? "the scenario's events from t = 0 (day; change one to move it)"
                                                 : "the scenario has no events from t = 0 on to move"));
  entry.events.forEach((ev, k) => {
    const row = el("div", {class: "event"});
    const input = el("input", {type: "number", id: "day-" + k, min: 0, step: "any", "data-id": ev.id,
                               "data-default": ev.day});
    input.value = params.has("day." + ev.id) ? params.get("day." + ev.id) : ev.day;
    row.append(el("label", {for: input.id}, `${ev.label}, day`), input);
    box.append(row);
  });
}

function eventDays() {
  const out = {};
  for (const input of document.querySelectorAll("#events input")) {
    if (Number(input.value) !== Number(input.dataset.default)) out[input.dataset.id] = Number(input.value);
  }
  return out;
}

function changes() {
  const out = {};
  for (const input of document.querySelectorAll("#sliders input")) {
    // a parameter the scenario's events set is held once touched, even at its default value (e.g. adherence 1
    // against a scenario whose patient stops his binders)
    if (Number(input.value) !== Number(input.dataset.default) || input.dataset.touched === "1") {
      out[input.dataset.name] = `${input.value} ${input.dataset.unit}`.trim();
    }
  }
  return out;
}

function mean(xs) {
  const v = xs.filter(x => x !== null);
  return v.length ? v.reduce((a, b) => a + b) / v.length : null;
}

function lastWeeks(run, column) {
  if (!run[column]) return null;
  const end = Math.max(...run.start_day);
  return mean(run[column].filter((_, i) => run.start_day[i] >= end - 28));
}

function fmt(x, column) {
  if (x === null) return "–";
  if (column === "pre_pth_pmol_L" && x < 0.1) return "< 0.1";
  if (column === "deposit_mass_g" && x < 0.01) return "< 0.01";
  return x.toPrecision(3);
}

function show(result) {
  lastResult = result;
  const runs = result.runs;
  const grid = document.getElementById("plots");
  grid.replaceChildren();
  const rows = [];
  for (const [column, title, unit, axis] of PANELS) {
    const traces = [];
    for (const [label, colour] of [["as written", "#999"], ["what-if", "#1f77b4"]]) {
      const run = runs[label];
      if (run.status === "ok" && run[column]) {
        traces.push({x: run.start_day, y: run[column], name: label, mode: "lines+markers",
                     marker: {size: 3}, line: {color: colour}});
      }
    }
    if (!traces.length) continue;
    if (column === "deposit_mass_g" && traces.every(t => t.y.every(v => !v))) continue;  // no site: no deposit
    const mine = labs ? labs.points.filter(p => p.panel === column) : [];
    if (mine.length) {  // the report's style for a patient's own values: orange diamonds
      traces.push({x: mine.map(p => p.day), y: mine.map(p => p.value), name: "uploaded labs", mode: "markers",
                   text: mine.map(p => `${p.reported}${p.sample ? ", " + p.sample : ""}`),
                   hovertemplate: "day %{x:.1f}: %{y:.3g} " + unit + " (%{text})<extra>uploaded labs</extra>",
                   marker: {symbol: "diamond", size: 11, color: "#ff7f0e", line: {color: "#222", width: 1.5}}});
    }
    const div = el("div", {class: "plot", id: "plot-" + column});
    grid.append(div);
    // the events on the timeline: as written (grey, dotted) and, where moved, in the what-if (blue, dashed)
    const line = (day, colour, dash) => ({type: "line", xref: "x", yref: "paper", x0: day, x1: day, y0: 0, y1: 1,
                                          line: {color: colour, width: 1, dash: dash}});
    const shapes = [];
    for (const ev of result.events || []) {
      shapes.push(line(ev.day, "#aaa", "dot"));
      if (ev.what_if_day !== ev.day) shapes.push(line(ev.what_if_day, "#1f77b4", "dash"));
    }
    Plotly.newPlot(div, traces, {height: 300, margin: {l: 55, r: 10, t: 30, b: 40}, title: {text: title,
      font: {size: 13}}, xaxis: {title: {text: "day"}}, yaxis: {title: {text: unit}, type: axis},
      shapes: shapes, legend: {orientation: "h", y: -0.25}}, {displaylogo: false, responsive: true});
    const a = lastWeeks(runs["as written"], column), w = lastWeeks(runs["what-if"], column);
    rows.push([`${title} (${unit})`, fmt(a, column), fmt(w, column),
               a === null || w === null ? "–" : (w - a >= 0 ? "+" : "") + (w - a).toPrecision(2)]);
    if (column === "deposit_mass_g") {
      const most = run => run.status === "ok" && run[column] ? Math.max(...run[column].filter(v => v !== null)) : null;
      const ma = most(runs["as written"]), mw = most(runs["what-if"]);
      rows.push(["Largest soft-tissue deposit (g)", fmt(ma, column), fmt(mw, column),
                 ma === null || mw === null ? "–" : (mw - ma >= 0 ? "+" : "") + (mw - ma).toPrecision(2)]);
    }
  }
  for (const ev of (result.events || []).filter(e => e.what_if_day !== e.day)) {
    rows.push([`${ev.label}, day (moved)`, nice(ev.day), nice(ev.what_if_day),
               (ev.what_if_day - ev.day >= 0 ? "+" : "") + nice(ev.what_if_day - ev.day)]);
  }
  const body = document.querySelector("#summary tbody");
  body.replaceChildren();
  for (const r of rows) {
    const tr = el("tr");
    r.forEach(c => tr.append(el("td", {}, c)));
    body.append(tr);
  }
  const failed = Object.entries(runs).filter(([_, r]) => r.status !== "ok");
  document.getElementById("error").textContent = failed.map(([l, r]) => `${l}: ${r.message}`).join("; ");
  document.getElementById("status").textContent =
    `${result.label}, ${result.months} months: each session's pre-dialysis value; table: mean of the last 4 weeks.`;
  document.body.dataset.state = "done";
}

async function run() {
  const scenario = document.getElementById("scenario").value;
  const months = Number(document.getElementById("months").value);
  document.getElementById("error").textContent = "";
  document.getElementById("status").textContent = "simulating (a few seconds per simulated year)…";
  document.body.dataset.state = "running";
  try {
    const response = await fetch("/api/simulate", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({scenario: scenario, changes: changes(), months: months, event_days: eventDays(),
                            cinacalcet: Number(document.getElementById("cinacalcet").value),
                            cinacalcet_day: Number(document.getElementById("cinacalcet-day").value)})});
    const payload = await response.json();
    if (!response.ok) {
      document.getElementById("error").textContent = payload.error;
      document.getElementById("status").textContent = "";
      document.body.dataset.state = "error";
      return;
    }
    show(payload);
  } catch (err) {
    document.getElementById("error").textContent = "the ckdmbd app server did not answer: " + err;
    document.body.dataset.state = "error";
  }
}

async function uploadLabs() {
  const file = document.getElementById("labs").files[0];
  if (!file) {
    labs = null;
    document.getElementById("labs-note").textContent = "";
    if (lastResult) show(lastResult);
    return;
  }
  await postLabs(file.name, file.size, () => file.text());
}

async function postLabs(name, size, read) {
  // the file goes to the server as data (POST /api/labs, parsed by the reader of `ckdmbd labs check`, never stored)
  const note = document.getElementById("labs-note");
  document.getElementById("error").textContent = "";
  if (size > LAB_LIMIT) {  // the server's limit (ckdmbd.app.MAX_LAB_BYTES): said before sending anything
    labs = null;
    note.textContent = "";
    document.getElementById("error").textContent = `labs: a file of ${size} bytes (1-${LAB_LIMIT})`;
    document.getElementById("labs-note").dataset.state = "error";
    return;
  }
  const query = new URLSearchParams({name: name});
  const date = document.getElementById("labs-date").value;
  if (date) query.set("start_date", date);
  document.getElementById("labs-note").dataset.state = "loading";
  try {
    const response = await fetch("/api/labs?" + query.toString(), {method: "POST",
      headers: {"Content-Type": "text/csv"}, body: await read()});
    const payload = await response.json();
    if (!response.ok) {
      labs = null;
      note.textContent = "";
      document.getElementById("error").textContent = payload.error;
      document.getElementById("labs-note").dataset.state = "error";
    } else {
      labs = payload;
      note.textContent = `${payload.points.length} results drawn (${payload.placement})` +
        (payload.not_drawn ? `; ${payload.not_drawn} of other analytes not drawn` : "");
      document.getElementById("labs-note").dataset.state = "done";
    }
  } catch (err) {
    document.getElementById("error").textContent = "the ckdmbd app server did not answer: " + err;
    document.getElementById("labs-note").dataset.state = "error";
  }
  if (lastResult) show(lastResult);
}

function choose(name) {
  const select = document.getElementById("scenario");
  select.value = name;
  sliders(name);
  eventFields(name);
  document.getElementById("months").value = catalogue.find(s => s.name === name).months;
}

async function uploadScenario() {
  const file = document.getElementById("scenario-file").files[0];
  if (file) await postScenario(file.name, file.size, async () => file);  // the bytes as they are (UTF-8 checked there)
}

async function postScenario(name, size, read) {
  // the file goes to the server as data (POST /api/scenario: parsed as `ckdmbd run` parses a file, never run as code,
  // never stored on disk); a valid one becomes the current scenario, its controls filled from it
  const note = document.getElementById("scenario-note");
  const error = document.getElementById("error");
  error.textContent = "";
  note.textContent = "";
  if (size > SCENARIO_LIMIT) {  // the server's limit (ckdmbd.scenario.MAX_FILE_BYTES): said before sending anything
    error.textContent = `cannot read scenario file '${name}': larger than ${SCENARIO_LIMIT} bytes, too large for a ` +
      "scenario file";
    note.dataset.state = "error";
    return false;
  }
  note.dataset.state = "loading";
  try {
    const response = await fetch("/api/scenario?" + new URLSearchParams({name: name}).toString(), {method: "POST",
      headers: {"Content-Type": "application/toml"}, body: await read()});
    const payload = await response.json();
    if (!response.ok) {
      error.textContent = payload.error;
      note.dataset.state = "error";
      return false;
    }
    catalogue = catalogue.filter(s => s.name !== payload.name).concat([payload]);
    const select = document.getElementById("scenario");
    if (![...select.options].some(o => o.value === payload.name)) {
      select.append(el("option", {value: payload.name}, payload.label));
    }
    choose(payload.name);
    const n = payload.events.length;
    note.textContent = `${payload.label}: ${n} event${n === 1 ? "" : "s"} from t = 0 on to move`;
    note.dataset.state = "done";
    return true;
  } catch (err) {
    error.textContent = "the ckdmbd app server did not answer: " + err;
    note.dataset.state = "error";
    return false;
  }
}

async function start() {
  const response = await fetch("/api/scenarios");
  catalogue = (await response.json()).scenarios;
  const select = document.getElementById("scenario");
  for (const s of catalogue) select.append(el("option", {value: s.name}, s.name));
  if (params.has("scenario")) select.value = params.get("scenario");
  if (params.has("months")) document.getElementById("months").value = params.get("months");
  if (params.has("cinacalcet")) document.getElementById("cinacalcet").value = params.get("cinacalcet");
  if (params.has("cinacalcet_day")) document.getElementById("cinacalcet-day").value = params.get("cinacalcet_day");
  const months = document.getElementById("months");
  const preset = () => { months.value = catalogue.find(s => s.name === select.value).months; };
  select.addEventListener("change", () => { sliders(select.value); eventFields(select.value); preset(); });
  sliders(select.value);
  eventFields(select.value);
  if (!params.has("months")) preset();
  document.getElementById("scenario-file").addEventListener("change", uploadScenario);
  if (params.has("scenario_file")) {  // a linked scenario file (its text in the URL), posted as an upload would be
    const text = params.get("scenario_file");
    const ok = await postScenario("linked-scenario.toml", new Blob([text]).size, async () => text);
    if (ok && params.has("months")) document.getElementById("months").value = params.get("months");
    if (!ok) { document.body.dataset.state = "ready"; return; }  // nothing to run: the error is on the page
  }
  document.getElementById("run").addEventListener("click", run);
  document.getElementById("labs").addEventListener("change", uploadLabs);
  document.getElementById("labs-date").addEventListener("change", uploadLabs);
  if (params.has("labs_date")) document.getElementById("labs-date").value = params.get("labs_date");
  if (params.has("labs")) {  // a linked lab series (the CSV's text in the URL), posted as an uploaded file would be
    const text = params.get("labs");
    await postLabs("linked labs", new Blob([text]).size, async () => text);
  }
  document.body.dataset.state = "ready";
  if (params.get("run") === "1") run();
}
start();
"""


@cache
def page() -> str:
    from ckdmbd import __version__
    from ckdmbd.app import MAX_LAB_BYTES
    from ckdmbd.report_html import plotly_js
    from ckdmbd.scenario import MAX_FILE_BYTES

    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">', "<title>ckdmbd what-if</title>",
        f"<style>{_CSS}</style>", f"<script>{plotly_js()}</script>", "</head>", '<body data-state="loading">',
        "<main>", "<h1>What if? A dialysis patient, changed</h1>",
        "<p>Pick a scenario, change the patient, press Run: the model simulates the scenario as written and as "
        "changed (the changes from t = 0 on, after the scenario's simulated history) and shows each session's "
        "pre-dialysis values. "
        "A model, not a patient: not for clinical decisions.</p>",
        # months 0.5-36 and cinacalcet 0-180 mg/day in 30-mg steps: the server's limits (ckdmbd.app.MAX_MONTHS,
        # assumed; MAX_CINACALCET_MG_DAY, the Sensipar label's highest daily dose, titrated from 30 mg); the sliders'
        # ranges come from the server (ckdmbd.app.ADJUSTABLE, sourced there).
        '<div id="controls"><div><label for="scenario">scenario</label><select id="scenario"></select>'
        '<label for="scenario-file">or upload a scenario file (TOML, as for ckdmbd run)</label>'
        '<input id="scenario-file" type="file" accept=".toml,text/plain"><div id="scenario-note"></div>'
        '<label for="months">months to simulate</label><input id="months" type="number" min="0.5" max="36" step="0.5" '
        'value="12"><label for="cinacalcet">add cinacalcet (mg/day, 0: none)</label><input id="cinacalcet" '
        'type="number" min="0" max="180" step="30" value="0"><label for="cinacalcet-day">... from day</label>'
        '<input id="cinacalcet-day" type="number" min="0" max="1095" step="1" value="0">'
        '<label for="labs">labs of the patient (CSV as for ckdmbd '
        'labs check; drawn on the curves)</label><input id="labs" type="file" accept=".csv,text/csv">'
        '<label for="labs-date">date of day 0 (default: the date of the first sample)</label><input id="labs-date" '
        'type="date"><div id="labs-note"></div><br><button id="run">Run</button></div>'
        '<div id="sliders" style="display:contents"></div><div id="events"></div></div>',
        '<div id="status"></div><div id="error" role="alert"></div>',
        '<table id="summary"><thead><tr><th>last 4 weeks</th><th>as written</th><th>what-if</th><th>change</th>'
        "</tr></thead><tbody></tbody></table>",
        '<div class="grid" id="plots"></div>',
        f"<footer>ckdmbd {__version__}</footer>", "</main>",
        "<script>" + _SCRIPT.replace("__LAB_LIMIT__", str(MAX_LAB_BYTES)).replace(
            "__SCENARIO_LIMIT__", str(MAX_FILE_BYTES)) + "</script>", "</body>", "</html>",
    ]) + "\n"
