// therasim explorer: one community team, week by week, with and without DIALOG on the same seed.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import scenarioYaml from '../../scenarios/teaching_small.yaml';
import { CONTROLS, SCENARIO_FILE, command, defaults, overrides } from './controls.js';
import { Simulation, loadEngine } from './engine.js';
import { drawTeam, patientAt, STATE_COLOURS, patientState } from './team.js';
import { storyEvents } from './story.js';

const $ = (id) => document.getElementById(id);
const COLOURS = { a: '#1f5fa8', b: '#c2571a' };

const app = {
  M: null,
  state: defaults(),
  worlds: [],        // [with the controls' settings, the same team without DIALOG]
  playing: false,
  timer: null,
  selected: null,    // patient row whose story is shown
  plots: [],
  thresholds: {},
};

// ---- controls -------------------------------------------------------------------------------

function buildControls() {
  const box = $('controls');
  for (const c of CONTROLS) {
    const row = document.createElement('div');
    row.className = 'control';
    const id = `ctl-${c.id}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = c.label;
    let input;
    if (c.kind === 'select') {
      input = document.createElement('select');
      for (const [v, text] of c.options) input.add(new Option(text, v));
    } else {
      input = document.createElement('input');
      input.type = c.kind === 'switch' ? 'checkbox' : c.kind;
      if (c.kind === 'range' || c.kind === 'number') Object.assign(input, { min: c.min, max: c.max, step: c.step ?? 1 });
    }
    input.id = id;
    if (c.help) input.title = c.help;
    const out = document.createElement('output');
    out.htmlFor = id;
    const show = () => { out.textContent = c.kind === 'range' ? String(app.state[c.id]) : ''; };
    if (c.kind === 'switch') input.checked = c.value; else input.value = c.value;
    input.addEventListener('change', () => {
      const v = c.kind === 'switch' ? input.checked : c.kind === 'range' || c.kind === 'number' ? Number(input.value) : input.value;
      setControl(c.id, v);
      show();
    });
    if (c.kind === 'range') input.addEventListener('input', () => { out.textContent = input.value; });
    show();
    row.append(label, input, out);
    if (c.help) {
      const help = document.createElement('div');
      help.className = 'help';
      help.textContent = c.help;
      row.append(help);
    }
    box.append(row);
  }
  $('compare').addEventListener('change', () => rebuild());
  $('defaults').addEventListener('click', restoreDefaults);
}

function restoreDefaults() {
  app.state = defaults();
  rebuild();
  syncControls();
}

function syncControls() {
  for (const c of CONTROLS) {
    const input = $(`ctl-${c.id}`);
    if (c.kind === 'switch') input.checked = app.state[c.id]; else input.value = app.state[c.id];
    input.disabled = c.enabledIf ? !c.enabledIf(app.state) : false;
    const out = input.parentElement.querySelector('output');
    if (out) out.textContent = c.kind === 'range' ? String(app.state[c.id]) : '';
  }
}

/** Sets a control and rebuilds the worlds at the current week. @return the error message or null. */
function setControl(id, value) {
  const before = app.state[id];
  app.state[id] = value;
  const err = rebuild();
  if (err) app.state[id] = before;
  syncControls();
  return err;
}

// ---- the worlds -----------------------------------------------------------------------------

function makeWorlds(week) {
  const sets = overrides(app.state);
  const worlds = [new Simulation(app.M, scenarioYaml, SCENARIO_FILE, sets)];
  if ($('compare').checked && app.state.dialog) {
    worlds.push(new Simulation(app.M, scenarioYaml, SCENARIO_FILE, [...sets, 'dialog.enabled=false']));
  }
  for (const w of worlds) while (w.week < week && !w.done) w.step();
  return worlds;
}

/** New worlds for the controls, stepped to the week the old ones had reached. */
function rebuild() {
  const week = app.worlds.length ? app.worlds[0].week : 0;
  let worlds;
  try {
    worlds = makeWorlds(week);
  } catch (e) {
    showError(e.message);
    return e.message;
  }
  showError(null);
  for (const w of app.worlds) w.dispose();
  app.worlds = worlds;
  const w = worlds[0];
  app.thresholds = {
    engagement: w.param('engagement.threshold'),
    adherence: w.param('adherence.threshold'),
    good: w.param('adherence.good_threshold'),
  };
  if (app.selected !== null && app.selected >= w.nPatients) app.selected = null;
  updateCommand();
  buildPatientList();
  render();
  return null;
}

function showError(message) {
  const box = $('error');
  box.hidden = !message;
  box.textContent = message ? `therasim: ${message}` : '';
}

function updateCommand() {
  const sets = overrides(app.state);
  const lines = [command(sets, 'team.h5')];
  if (app.worlds.length > 1) lines.push(command([...sets, 'dialog.enabled=false'], 'team_no_dialog.h5'));
  $('command').textContent = lines.join('\n');
}

// ---- playing --------------------------------------------------------------------------------

function stepAll() {
  if (!app.worlds.length || app.worlds[0].done) {
    pause();
    return false;
  }
  for (const w of app.worlds) w.step();
  render();
  return true;
}

function play() {
  if (app.playing) return;
  if (app.worlds[0].done) reset();
  app.playing = true;
  $('play').textContent = 'Pause';
  $('play').setAttribute('aria-pressed', 'true');
  const tick = () => {
    if (!app.playing) return;
    if (stepAll()) app.timer = setTimeout(tick, 1000 / Number($('speed').value));
  };
  tick();
}

function pause() {
  app.playing = false;
  clearTimeout(app.timer);
  $('play').textContent = 'Play';
  $('play').setAttribute('aria-pressed', 'false');
}

function reset() {
  pause();
  for (const w of app.worlds) w.dispose();
  app.worlds = [];
  rebuild();
}

// ---- drawing --------------------------------------------------------------------------------

function render() {
  const [a, b] = app.worlds;
  $('week').textContent = `Week ${a.week} of ${a.nSteps}`;
  $('progress').value = a.week;
  $('progress').max = a.nSteps;
  const panels = [[$('team-a'), a, a.overrides.includes('dialog.enabled=false') ? 'Without DIALOG' : b ? 'With DIALOG' : 'This team'], [$('team-b'), b, 'The same team without DIALOG']];
  for (const [canvas, world, title] of panels) {
    canvas.parentElement.hidden = !world;
    if (!world) continue;
    canvas.parentElement.querySelector('h2').textContent = title;
    drawTeam(canvas, world, app.thresholds, app.selected);
  }
  updatePlots();
  updateStory();
}

function buildLegend() {
  const box = $('legend');
  for (const [key, [colour, text]] of Object.entries(STATE_COLOURS)) {
    const item = document.createElement('span');
    item.className = 'key';
    item.innerHTML = `<i style="background:${colour}"></i>${text}`;
    item.dataset.state = key;
    box.append(item);
  }
  const ring = document.createElement('span');
  ring.className = 'key';
  ring.innerHTML = '<i class="ring"></i>DIALOG session this week';
  box.append(ring);
  const dash = document.createElement('span');
  dash.className = 'key';
  dash.innerHTML = '<i class="dash"></i>out of contact (disengaged)';
  box.append(dash);
  const thick = document.createElement('span');
  thick.className = 'key';
  thick.innerHTML = '<i class="thick"></i>thicker: a better felt relationship';
  box.append(thick);
}

// The cascade: each panel is the next link, all on one week axis with a shared cursor.
const PANELS = [
  { id: 'relationship', title: '1. Relationship: mean felt relationship and STAR-P (0-4)', value: (w) => w.historyMean('felt'),
    extra: { label: 'STAR-P (the rating)', value: (w) => w.seriesValues('mean_star_p') },
    lines: (t) => [[t.engagement, 'engagement threshold'], [t.adherence, 'adherence threshold']], range: [1.5, 4] },
  { id: 'engaged', title: '2. Engaged with the team (% of patients)', value: (w) => share(w, 'engaged'), range: [0, 100] },
  { id: 'adherent', title: '3. Good adherence (% of patients)', value: (w) => share(w, 'adherent'), range: [0, 100] },
  { id: 'events', title: '4. In relapse or admitted (patients)', value: (w) => sum(w.seriesValues('relapsed'), w.seriesValues('inpatient')), range: [0, null] },
  { id: 'qol', title: '5. Change: mean quality of life (1-7)', value: (w) => w.seriesValues('mean_qol'), range: [null, null] },
];

function share(w, name) {
  const n = w.seriesValues('patients');
  return w.seriesValues(name).map((v, i) => (100 * v) / n[i]);
}

function sum(x, y) {
  return x.map((v, i) => v + y[i]);
}

function buildPlots() {
  const box = $('plots');
  const width = Math.max(320, box.clientWidth - 8);
  for (const p of PANELS) {
    const holder = document.createElement('div');
    holder.className = 'plot';
    holder.id = `plot-${p.id}`;
    box.append(holder);
    const series = [{ label: 'week' },
      { label: 'as set on the left', stroke: COLOURS.a, width: 2.5 },
      { label: 'without DIALOG', stroke: COLOURS.b, width: 2.5, dash: [8, 4] }];
    if (p.extra) {
      series[1].label = 'felt, as set on the left';
      series[2].label = 'felt, without DIALOG';
      series.push({ label: p.extra.label, stroke: COLOURS.a, width: 1.5, dash: [2, 3] },
        { label: `${p.extra.label} without DIALOG`, stroke: COLOURS.b, width: 1.5, dash: [2, 3] });
    }
    const lines = p.lines ? p.lines({ engagement: 0, adherence: 0 }) : [];
    for (const [, label] of lines) series.push({ label, stroke: '#777', width: 1.5, dash: [3, 5], points: { show: false } });
    const opts = {
      title: p.title, width, height: 150,
      cursor: { sync: { key: 'cascade' } },
      legend: { show: true, live: false },
      scales: { x: { time: false }, y: { range: (u, lo, hi) => [p.range[0] ?? lo - 0.05, p.range[1] ?? hi + 0.05] } },
      axes: [{ label: 'week', size: 40, font: '14px sans-serif', labelFont: 'bold 14px sans-serif' }, { size: 50, font: '14px sans-serif' }],
      series,
    };
    const plot = new uPlot(opts, series.slice(1).reduce((d) => [...d, [null]], [[0]]), holder);
    app.plots.push({ panel: p, plot });
  }
}

function updatePlots() {
  const [a, b] = app.worlds;
  const nSteps = a.nSteps;
  const x = Array.from({ length: nSteps + 1 }, (_, i) => i);
  const pad = (v) => x.map((i) => (i < v.length ? v[i] : null));
  for (const { panel, plot } of app.plots) {
    const none = x.map(() => null);
    const data = [x, pad(panel.value(a)), b ? pad(panel.value(b)) : none];
    if (panel.extra) data.push(pad(panel.extra.value(a)), b ? pad(panel.extra.value(b)) : none);
    if (panel.lines) for (const [level] of panel.lines(app.thresholds)) data.push(x.map(() => level));
    plot.setSeries(2, { show: !!b });
    if (panel.extra) plot.setSeries(4, { show: !!b });
    plot.setData(data, true);
  }
}

// ---- a patient's story ----------------------------------------------------------------------

function buildPatientList() {
  const sel = $('patient');
  const n = app.worlds[0].nPatients;
  if (sel.options.length === n + 1) return;
  sel.length = 0;
  sel.add(new Option('choose a patient (or click one)', ''));
  for (let i = 0; i < n; ++i) sel.add(new Option(`Patient ${i}`, String(i)));
}

function selectPatient(row) {
  app.selected = row;
  $('patient').value = row === null ? '' : String(row);
  render();
}

let storyPlot = null;

function updateStory() {
  const box = $('story-events');
  const row = app.selected;
  $('story').hidden = row === null;
  if (row === null) return;
  const [a, b] = app.worlds;
  $('story-title').textContent = `Patient ${row}: week by week`;
  box.textContent = '';
  const columns = app.worlds.map((w, k) => ({ w, label: k === 0 ? (b ? 'With DIALOG' : 'This team') : 'Without DIALOG' }));
  for (const { w, label } of columns) {
    const col = document.createElement('div');
    col.className = 'story-col';
    const h = document.createElement('h3');
    h.textContent = label;
    const now = patientState(w.history[w.week], row, app.thresholds);
    const p = document.createElement('p');
    const s = w.history[w.week];
    p.textContent = `Now: ${STATE_COLOURS[now.state][1]}; felt relationship ${s.felt[row].toFixed(2)}, STAR-P ${s.star_p[row].toFixed(2)}, adherence ${(100 * s.adherence[row]).toFixed(0)}%`;
    const list = document.createElement('ul');
    const events = storyEvents(w.history, row, app.thresholds);
    for (const e of events) {
      const li = document.createElement('li');
      li.textContent = `week ${e.week}: ${e.text}`;
      list.append(li);
    }
    if (!events.length) list.innerHTML = '<li>nothing has happened yet</li>';
    col.append(h, p, list);
    box.append(col);
  }
  const x = a.history.map((_, i) => i);
  const { engagement, adherence } = app.thresholds;
  const data = [x, a.history.map((s) => s.felt[row]), a.history.map((s) => s.star_p[row]), a.history.map((s) => s.adherence[row] * 4)];
  if (b) data.push(b.history.map((s) => s.felt[row]), b.history.map((s) => s.adherence[row] * 4));
  data.push(x.map(() => engagement), x.map(() => adherence));
  const series = [{ label: 'week' },
    { label: 'felt relationship', stroke: COLOURS.a, width: 2.5 },
    { label: 'STAR-P', stroke: COLOURS.a, width: 1.5, dash: [2, 3] },
    { label: 'adherence (0-4 = 0-100%)', stroke: '#2a9d4b', width: 2 }];
  if (b) series.push({ label: 'felt, without DIALOG', stroke: COLOURS.b, width: 2.5, dash: [8, 4] },
    { label: 'adherence without DIALOG', stroke: '#7fbf8f', width: 2, dash: [8, 4] });
  series.push({ label: 'engagement threshold', stroke: '#777', width: 1, dash: [3, 5] },
    { label: 'adherence threshold', stroke: '#777', width: 1, dash: [3, 5] });
  if (!storyPlot || storyPlot.series.length !== series.length) {
    if (storyPlot) storyPlot.destroy();
    storyPlot = new uPlot({
      title: 'Relationship and adherence of this patient', legend: { live: false }, width: Math.max(320, $('story').clientWidth - 16), height: 170,
      scales: { x: { time: false }, y: { range: [0, 4] } },
      axes: [{ label: 'week', font: '14px sans-serif' }, { font: '14px sans-serif' }], series,
    }, data, $('story-plot'));
  } else {
    storyPlot.setData(data);
  }
}

// ---- start ----------------------------------------------------------------------------------

/** Larger text and team drawings, for a room: the plots are drawn again at their new width. */
function toggleProjector() {
  const on = document.documentElement.classList.toggle('projector');
  $('projector').setAttribute('aria-pressed', String(on));
  const width = Math.max(320, $('plots').clientWidth - 8);
  for (const { plot } of app.plots) plot.setSize({ width, height: on ? 190 : 150 });
  render();
}

function bindKeys() {
  $('play').addEventListener('click', () => (app.playing ? pause() : play()));
  $('step').addEventListener('click', () => { pause(); stepAll(); });
  $('reset').addEventListener('click', reset);
  $('projector').addEventListener('click', toggleProjector);
  $('speed').addEventListener('input', () => { $('speed-out').textContent = `${$('speed').value} weeks/s`; });
  $('patient').addEventListener('change', () => selectPatient($('patient').value === '' ? null : Number($('patient').value)));
  for (const id of ['team-a', 'team-b']) {
    $(id).addEventListener('click', (ev) => {
      const row = patientAt($(id), ev.offsetX, ev.offsetY);
      if (row !== null) selectPatient(row);
    });
  }
  document.addEventListener('keydown', (ev) => {
    // arrows and space belong to a focused field; space on a focused button clicks it
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
    if (ev.target instanceof HTMLButtonElement && ev.key === ' ') return;
    if (ev.key === ' ') { ev.preventDefault(); app.playing ? pause() : play(); }
    else if (ev.key === 'ArrowRight') { pause(); stepAll(); }
    else if (ev.key === 'r' || ev.key === 'R') reset();
    else if (ev.key === 'p' || ev.key === 'P') toggleProjector();
  });
}

async function main() {
  buildLegend();
  buildControls();
  bindKeys();
  try {
    app.M = await loadEngine();
  } catch (e) {
    showError(`the engine did not load: ${e.message}`);
    return;
  }
  buildPlots();
  rebuild();
  syncControls();
  document.body.dataset.ready = 'true';
}

// What the browser test (web/test) and a curious teacher at the console can use.
window.explorer = {
  get week() { return app.worlds[0]?.week ?? -1; },
  get worlds() { return app.worlds; },
  play, pause, reset, step: stepAll,
  set: setControl,
  defaults: restoreDefaults,
  runToEnd() { pause(); while (stepAll()); return app.worlds[0].week; },
  hashes(k = 0) { return app.worlds[k].hashes(); },
  overrides: () => overrides(app.state),
  select: selectPatient,
};

main();
