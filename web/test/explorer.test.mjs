// The explorer in a real browser: Debian's chromium, headless, driven by playwright-core.
// Run by tools/test.sh after tools/build-explorer.sh; by hand: node --test web/test/
// Environment: EXPLORER (the page, default build/explorer/explorer.html), THERASIM (the native
// binary, default build/therasim), PYTHON (default /usr/bin/python3), CHROMIUM (default
// /usr/bin/chromium), SCREENSHOT (default build/explorer/explorer-test.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXPLORER = resolve(process.env.EXPLORER || join(root, 'build/explorer/explorer.html'));
const THERASIM = resolve(process.env.THERASIM || join(root, 'build/therasim'));
const PYTHON = process.env.PYTHON || '/usr/bin/python3';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = resolve(process.env.SCREENSHOT || join(root, 'build/explorer/explorer-test.png'));
const SCENARIO = join(root, 'scenarios/teaching_small.yaml');

let browser, page, tmp;
const outside = [], errors = [];

before(async () => {
  assert.ok(existsSync(EXPLORER), `no page at ${EXPLORER}: run tools/build-explorer.sh`);
  tmp = mkdtempSync(join(tmpdir(), 'therasim-explorer-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('request', (r) => { if (!/^(file|data|blob):/.test(r.url())) outside.push(r.url()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(pathToFileURL(EXPLORER).href);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30000 });
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The hashes of a native run with @p sets, as tests/web/series_hash.py computes them. */
function nativeHashes(sets) {
  const out = join(tmp, `native-${Math.random().toString(36).slice(2)}.h5`);
  execFileSync(THERASIM, ['run', SCENARIO, '--quiet', '--threads', '1', ...sets.flatMap((s) => ['--set', s]), '-o', out]);
  return JSON.parse(execFileSync(PYTHON, [join(root, 'tests/web/series_hash.py'), out], { encoding: 'utf8' }));
}

test('the page is one file: it loads from file:// with no request outside it and no error', async () => {
  assert.deepEqual(outside, []);
  assert.deepEqual(errors, []);
  assert.equal(await page.evaluate(() => window.explorer.week), 0);
  assert.ok(await page.locator('#team-a').isVisible());
});

test('play advances the weeks, pause stops them', async () => {
  await page.click('#play');
  await page.waitForFunction(() => window.explorer.week >= 3, null, { timeout: 15000 });
  await page.click('#play');
  const w = await page.evaluate(() => window.explorer.week);
  await page.waitForTimeout(400);
  assert.equal(await page.evaluate(() => window.explorer.week), w, 'paused, the week stays');
  assert.match(await page.textContent('#week'), new RegExp(`Week ${w} of 104`));
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => window.explorer.week), w + 1, 'the right arrow steps a week');
  await page.keyboard.press('p');
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('projector')), 'P: projector mode');
  await page.keyboard.press('p');
  assert.ok(!(await page.evaluate(() => document.documentElement.classList.contains('projector'))));
});

test('every series equals the native run for the same scenario, seed and overrides', async () => {
  for (const settings of [{}, { variant: 'dialog_plus', skill: 0.8, hypothesis: 'therapy_in_itself' }, { seed: 7, family: true, coercion: 0.5, damage: 0, coordinators: 2 }]) {
    const result = await page.evaluate((s) => {
      window.explorer.reset();
      for (const [k, v] of Object.entries(s)) { const err = window.explorer.set(k, v); if (err) return { err }; }
      window.explorer.runToEnd();
      return { sets: window.explorer.overrides(), hashes: window.explorer.hashes(0), control: window.explorer.hashes(1) };
    }, settings);
    assert.equal(result.err, undefined);
    const native = nativeHashes(result.sets);
    assert.deepEqual(result.hashes, native, `with ${JSON.stringify(result.sets)}`);
    assert.ok(Object.keys(native).length > 50, 'national, grouped and trajectory series are compared');
    // the page's "without DIALOG" world is the command line's run with dialog.enabled=false
    assert.deepEqual(result.control, nativeHashes([...result.sets, 'dialog.enabled=false']));
  }
});

test('a slider changes the results, and DIALOG off differs from on', async () => {
  const h = await page.evaluate(() => {
    window.explorer.reset();
    window.explorer.set('seed', 4242);
    window.explorer.runToEnd();
    const base = window.explorer.hashes(0), without = window.explorer.hashes(1);
    window.explorer.set('skill', 0.9);
    window.explorer.runToEnd();
    const skilled = window.explorer.hashes(0);
    window.explorer.set('skill', 0.5);
    return { base, without, skilled };
  });
  assert.notEqual(h.skilled['national/mean_star_p'], h.base['national/mean_star_p']);
  assert.notEqual(h.without['national/dialog_sessions'], h.base['national/dialog_sessions']);
  assert.notEqual(h.without['national/mean_qol'], h.base['national/mean_qol']);
  // the same seed: what DIALOG does not touch is the same in both worlds
  assert.equal(h.without['national/patients'], h.base['national/patients']);
});

test("an invalid setting is refused with the command line's message, and the worlds are kept", async () => {
  const err = await page.evaluate(() => window.explorer.set('skill', 1.5));
  const cli = spawnSync(THERASIM, ['run', SCENARIO, '--set', 'clinicians.skill_mean=1.5', '-o', join(tmp, 'bad.h5')], { encoding: 'utf8' });
  assert.equal(cli.status, 2);
  assert.equal(`therasim: ${err}\n`, cli.stderr.replace(/^.*therasim: error/ms, 'therasim: error'));
  assert.equal(await page.textContent('#error'), `therasim: ${err}`);
  assert.equal(await page.evaluate(() => window.explorer.overrides().some((s) => s.startsWith('clinicians.skill_mean'))), false);
});

test('a patient is clicked for their story, and the page is photographed', async () => {
  await page.click('#defaults');
  assert.deepEqual(await page.evaluate(() => window.explorer.overrides()), [], "the scenario's settings set nothing");
  await page.evaluate(() => { window.explorer.reset(); for (let i = 0; i < 60; ++i) window.explorer.step(); });
  const box = await page.locator('#team-a').boundingBox();
  // find a drawn patient by asking the page for hit spots is not possible from outside; scan
  let clicked = false;
  for (let y = 10; y < box.height && !clicked; y += 6) {
    for (let x = 10; x < box.width && !clicked; x += 6) {
      await page.mouse.click(box.x + x, box.y + y);
      clicked = await page.locator('#story').isVisible();
    }
  }
  assert.ok(clicked, 'clicking the team drawing opens a story');
  assert.match(await page.textContent('#story-title'), /^Patient \d+: week by week$/);
  assert.ok((await page.locator('#story-events li').count()) > 0);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.deepEqual(outside, []);
  assert.deepEqual(errors, []);
});
