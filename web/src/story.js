// A patient's story: the weeks in which their state changed, read from the weekly records
// (engine.js history), in the words of `therasim story`.

export function storyEvents(history, row, thresholds) {
  const events = [];
  const add = (week, text) => events.push({ week, text });
  for (let t = 1; t < history.length; ++t) {
    const p = history[t - 1], s = history[t];
    if (s.n_dialog_sessions[row] > p.n_dialog_sessions[row]) add(t, 'DIALOG session');
    if (p.engaged[row] && !s.engaged[row]) add(t, `disengaged (felt relationship ${s.felt[row].toFixed(2)}, STAR-P ${s.star_p[row].toFixed(2)})`);
    if (!p.engaged[row] && s.engaged[row]) add(t, 're-engaged');
    if (!p.relapsed[row] && s.relapsed[row]) add(t, 'relapse begins');
    if (p.relapsed[row] && !s.relapsed[row]) add(t, 'relapse ends');
    if (!p.inpatient[row] && s.inpatient[row]) add(t, s.involuntary[row] ? 'admitted, involuntary (Mental Health Act)' : 'admitted, voluntary');
    if (p.inpatient[row] && !s.inpatient[row]) add(t, 'discharged');
    const good = (x) => x.adherence[row] >= thresholds.good;
    if (!good(p) && good(s)) add(t, 'adherence good again');
    if (good(p) && !good(s)) add(t, 'adherence falls below good');
    // the thresholds are met by the felt relationship, not by the rating (STAR-P)
    for (const [level, name] of [[thresholds.engagement, 'engagement'], [thresholds.adherence, 'adherence']]) {
      if (p.felt[row] >= level && s.felt[row] < level) add(t, `felt relationship falls below the ${name} threshold (${level})`);
      if (p.felt[row] < level && s.felt[row] >= level) add(t, `felt relationship rises above the ${name} threshold (${level})`);
    }
  }
  return events;
}
