// The lesson's "things to vary" (docs/teaching.md section 7), each applied as the `--set`
// override the command line takes. The engine validates them with therasim's own messages.

export const SCENARIO_FILE = 'scenarios/teaching_small.yaml';

/** Each control: id, label, kind (select | range | switch | number), what it sets, help. */
export const CONTROLS = [
  { id: 'dialog', label: 'DIALOG', kind: 'switch', value: true, help: 'Structured meetings with the team (dialog.enabled)',
    sets: (v) => [`dialog.enabled=${v}`] },
  { id: 'variant', label: 'DIALOG variant', kind: 'select', value: 'dialog',
    options: [['dialog', 'DIALOG (every 2 months)'], ['dialog_plus', 'DIALOG+ (monthly, solution-focused)']],
    sets: (v) => [`dialog.variant=${v}`] },
  { id: 'hypothesis', label: 'Mechanism', kind: 'select', value: 'mixture',
    options: [['mixture', 'mixture of both'], ['basis', 'basis of therapy'], ['therapy_in_itself', 'therapy in itself']],
    help: 'Is the relationship the basis of therapy, or therapy in itself? (mechanism.hypothesis)',
    sets: (v) => [`mechanism.hypothesis=${v}`] },
  { id: 'weight', label: 'Weight of "therapy in itself"', kind: 'range', value: 0.5, min: 0, max: 1, step: 0.1,
    help: 'Only with the mixture (mechanism.direct_weight)', enabledIf: (s) => s.hypothesis === 'mixture',
    sets: (v) => [`mechanism.direct_weight=${v}`] },
  { id: 'approach', label: "Coordinators' response to ratings", kind: 'select', value: 'mixed',
    options: [['mixed', 'mixed (default)'], ['none', 'none'], ['client_centred', 'client-centred'], ['cognitive_behavioural', 'cognitive-behavioural']],
    help: 'How coordinators respond to DIALOG ratings (clinicians.approach_mix)',
    sets: (v) => v === 'mixed' ? [] : ['none', 'client_centred', 'cognitive_behavioural'].map((a) => `clinicians.approach_mix.${a}=${a === v ? 1 : 0}`) },
  { id: 'skill', label: 'Communication skill', kind: 'range', value: 0.5, min: 0, max: 1, step: 0.05,
    help: "Mean skill of the coordinators, 0-1 (clinicians.skill_mean)", sets: (v) => [`clinicians.skill_mean=${v}`] },
  { id: 'coordinators', label: 'Care coordinators', kind: 'range', value: 3, min: 1, max: 6, step: 1,
    help: 'Posts for the 30 patients: the caseload is 30 / posts (structure.n_clinicians)',
    sets: (v) => [`structure.n_clinicians=${v}`, `structure.team_size=${v}`] },
  { id: 'family', label: 'Family intervention', kind: 'switch', value: false,
    help: 'Offered to families at the start; lowers expressed emotion (family.intervention.enabled)',
    sets: (v) => [`family.intervention.enabled=${v}`] },
  { id: 'coercion', label: 'Involuntary share of admissions', kind: 'range', value: 0.3, min: 0, max: 0.8, step: 0.05,
    help: 'Chance an admission is under the Mental Health Act, for an engaged patient (admission.share_involuntary)',
    sets: (v) => [`admission.share_involuntary=${v}`] },
  { id: 'damage', label: 'Harm of detention to the relationship', kind: 'range', value: 0.5, min: 0, max: 1.5, step: 0.1,
    help: 'STAR points lost by an involuntary admission (admission.coercion_damage)',
    sets: (v) => [`admission.coercion_damage=${v}`] },
  { id: 'seed', label: 'Seed (another team)', kind: 'number', value: 4242, min: 0, max: 2147483647,
    help: 'A different draw of patients and coordinators (seed)', sets: (v) => [`seed=${v}`] },
];

export function defaults() {
  return Object.fromEntries(CONTROLS.map((c) => [c.id, c.value]));
}

/** The overrides of @p state: only what differs from the scenario, in the order of CONTROLS. */
export function overrides(state) {
  const out = [];
  for (const c of CONTROLS) {
    if (String(state[c.id]) === String(c.value)) continue;
    if (c.enabledIf && !c.enabledIf(state)) continue;
    out.push(...c.sets(state[c.id]));
  }
  return out;
}

/** The command that gives the same numbers. */
export function command(sets, output = 'run.h5') {
  const words = ['build/therasim', 'run', SCENARIO_FILE];
  for (const s of sets) words.push('--set', s);
  words.push('-o', output);
  return words.join(' ');
}
