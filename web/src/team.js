// The team on a canvas: each care coordinator with their patients in a ring around them, a line
// for who works with whom, every patient coloured by their state this week.

/** Patient states, most serious first, with their colour and legend text. */
export const STATE_COLOURS = {
  involuntary: ['#7a0d16', 'admitted, involuntary'],
  voluntary: ['#e07b00', 'admitted, voluntary'],
  relapse: ['#e8483f', 'in relapse'],
  disengaged: ['#9a9a9a', 'disengaged'],
  poor: ['#f2cf3b', 'engaged, poor adherence'],
  good: ['#3a9b4f', 'engaged, good adherence'],
};

/** The state of patient @p row in one week's record (engine.js history). */
export function patientState(s, row, thresholds) {
  let state;
  if (s.inpatient[row]) state = s.involuntary[row] ? 'involuntary' : 'voluntary';
  else if (s.relapsed[row]) state = 'relapse';
  else if (!s.engaged[row]) state = 'disengaged';
  else state = s.adherence[row] >= thresholds.good ? 'good' : 'poor';
  return { state, engaged: !!s.engaged[row] };
}

const hits = new WeakMap();  // canvas -> [{x, y, r, row}]

function layout(canvas, posts) {
  // the grid of coordinators that leaves each the largest square
  const w = canvas.width, h = canvas.height;
  let best = null;
  for (let cols = 1; cols <= posts; ++cols) {
    const rows = Math.ceil(posts / cols), size = Math.min(w / cols, h / rows);
    if (!best || size > best.size) best = { cols, rows, size };
  }
  const cw = w / best.cols, ch = h / best.rows;
  const centres = [];
  for (let k = 0; k < posts; ++k) centres.push({ x: cw * ((k % best.cols) + 0.5), y: ch * (Math.floor(k / best.cols) + 0.5) });
  return { centres, radius: best.size * 0.36 };
}

export function drawTeam(canvas, world, thresholds, selected) {
  const ratio = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 480, cssH = canvas.clientHeight || 360;
  if (canvas.width !== Math.round(cssW * ratio)) {
    canvas.width = Math.round(cssW * ratio);
    canvas.height = Math.round(cssH * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const s = world.history[world.week];
  const prev = world.history[Math.max(0, world.week - 1)];
  const n = world.nPatients;
  const posts = Math.max(1, Math.round(Math.max(...s.clinician) + 1));
  const { centres, radius } = layout({ width: cssW, height: cssH }, posts);
  const byPost = centres.map(() => []);
  for (let i = 0; i < n; ++i) byPost[Math.round(s.clinician[i])].push(i);
  const spots = [];
  const pr = Math.max(9, Math.min(18, radius * 0.2));
  byPost.forEach((rows, k) => {
    const c = centres[k];
    rows.forEach((row, j) => {
      const a = (2 * Math.PI * j) / rows.length - Math.PI / 2;
      spots.push({ row, x: c.x + radius * Math.cos(a), y: c.y + radius * Math.sin(a), r: pr, c });
    });
  });
  // who works with whom: solid while in contact, dashed when out of contact
  for (const p of spots) {
    const engaged = s.engaged[p.row];
    ctx.beginPath();
    ctx.setLineDash(engaged ? [] : [5, 5]);
    ctx.strokeStyle = engaged ? '#5b6b7a' : '#8c8c8c';
    ctx.lineWidth = engaged ? Math.min(6, Math.max(1, 1 + 4 * (s.felt[p.row] - 2.2))) : 2;  // thicker: a better felt relationship
    ctx.moveTo(p.c.x, p.c.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  // the coordinators
  centres.forEach((c, k) => {
    ctx.beginPath();
    ctx.fillStyle = '#22313f';
    ctx.arc(c.x, c.y, pr * 1.6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.font = `bold ${Math.round(pr * 0.9)}px sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(`CC${k + 1}`, c.x, c.y);
  });
  // the patients
  for (const p of spots) {
    const { state } = patientState(s, p.row, thresholds);
    const session = world.week > 0 && s.n_dialog_sessions[p.row] > prev.n_dialog_sessions[p.row];
    if (session) {
      ctx.beginPath();
      ctx.strokeStyle = '#1f5fa8';
      ctx.lineWidth = 4;
      ctx.arc(p.x, p.y, p.r + 5, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.beginPath();
    ctx.fillStyle = STATE_COLOURS[state][0];
    ctx.arc(p.x, p.y, p.r, 0, 2 * Math.PI);
    ctx.fill();
    if (p.row === selected) {
      ctx.lineWidth = 3;
      ctx.strokeStyle = '#000000';
      ctx.stroke();
    }
    ctx.fillStyle = state === 'poor' || state === 'disengaged' ? '#000000' : '#ffffff';
    ctx.font = `${Math.round(p.r * 0.95)}px sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(String(p.row), p.x, p.y + 0.5);
  }
  hits.set(canvas, spots);
  const counts = {};
  for (let i = 0; i < n; ++i) { const st = patientState(s, i, thresholds).state; counts[st] = (counts[st] || 0) + 1; }
  canvas.setAttribute('aria-label', `The team in week ${world.week}: ` +
    Object.entries(STATE_COLOURS).map(([k, [, text]]) => `${counts[k] || 0} ${text}`).join(', '));
}

/** @return the patient row drawn at (@p x, @p y) in CSS pixels, or null. */
export function patientAt(canvas, x, y) {
  for (const p of hits.get(canvas) || []) if ((x - p.x) ** 2 + (y - p.y) ** 2 <= (p.r + 4) ** 2) return p.row;
  return null;
}
