// The explorer's engine: one simulation of the WebAssembly build (web/explorer.cpp), stepped a
// week at a time. `createTherasimEngine` is the Emscripten module (a script of the page).

/** The patient's state the page draws, read from the engine's agent tables every week. */
export const PATIENT_COLUMNS = ['engaged', 'adherence', 'relapsed', 'inpatient', 'involuntary', 'n_dialog_sessions', 'clinician', 'qol', 'symptoms'];
export const DYAD_COLUMNS = ['star_p', 'star_latent'];

export async function loadEngine() {
  // eslint-disable-next-line no-undef
  return createTherasimEngine();
}

export class Simulation {
  /**
   * @param M the engine module
   * @param yaml the scenario's text, @param name its file name (for messages)
   * @param overrides ["key=value", ...], applied as `therasim run --set` applies them
   * @throws Error with therasim's message if the scenario or an override is invalid
   */
  constructor(M, yaml, name, overrides) {
    this.M = M;
    this.overrides = overrides.slice();
    this.handle = M.ccall('ts_create', 'number', ['string', 'string', 'string'], [yaml, name, overrides.join('\n')]);
    if (!this.handle) throw new Error(M.UTF8ToString(M._ts_last_error()));
    this.nSteps = M._ts_n_steps(this.handle);
    this.nPatients = M.ccall('ts_rows', 'number', ['number', 'string'], [this.handle, 'patient']);
    this.series = JSON.parse(M.UTF8ToString(M._ts_series_list(this.handle)));
    this.seriesIndex = Object.fromEntries(this.series.map((s, i) => [s.name, i]));
    this.history = [];   // history[week] = the patients' state that week
    this.record();
  }

  get week() { return this.M._ts_current_step(this.handle); }
  get done() { return this.week >= this.nSteps; }

  /** A parameter's value as the run uses it (NaN if it has none). */
  param(path) { return this.M.ccall('ts_param', 'number', ['number', 'string'], [this.handle, path]); }

  column(agent, attribute) {
    const p = this.M.ccall('ts_column', 'number', ['number', 'string', 'string'], [this.handle, agent, attribute]);
    if (!p) throw new Error(`the engine has no attribute ${agent}.${attribute}`);
    const n = this.M.ccall('ts_rows', 'number', ['number', 'string'], [this.handle, agent]);
    return Float64Array.from(this.M.HEAPF64.subarray(p / 8, p / 8 + n));
  }

  record() {
    const state = {};
    for (const c of PATIENT_COLUMNS) state[c] = this.column('patient', c);
    for (const c of DYAD_COLUMNS) state[c] = this.column('dyad', c);  // dyad row = patient row
    // The felt relationship, which meets the engagement and adherence thresholds (the model's
    // Ctx::felt): the latent relationship plus a share of the patient's own rating offset.
    if (this.perceptionWeight === undefined) this.perceptionWeight = this.param('relationship.perception_weight');
    const w = this.perceptionWeight;
    state.felt = state.star_latent.map((latent, i) => latent + w * (state.star_p[i] - latent));
    this.history.push(state);
  }

  /** The mean of a recorded patient attribute over the patients, for weeks 0..now. */
  historyMean(name) {
    return this.history.map((s) => s[name].reduce((a, v) => a + v, 0) / s[name].length);
  }

  /** Runs the next week. */
  step() {
    if (this.done) return;
    if (this.M._ts_step(this.handle) < 0) throw new Error(this.M.UTF8ToString(this.M._ts_last_error()));
    this.record();
  }

  /** The national value of a series (as /series/national of `therasim run`'s file) for weeks 0..now. */
  seriesValues(name) {
    const i = this.seriesIndex[name];
    if (i === undefined) throw new Error(`the engine has no series ${name}`);
    const out = [];
    for (let t = 0; t <= this.week; ++t) out.push(this.M._ts_series(this.handle, i, t));
    return out;
  }

  /** {"national/NAME": hex, ...}: tests/web/series_hash.py computes the same from a results file. */
  hashes() { return JSON.parse(this.M.UTF8ToString(this.M._ts_hashes(this.handle))); }

  dispose() {
    if (this.handle) this.M._ts_destroy(this.handle);
    this.handle = 0;
  }
}
