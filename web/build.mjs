// Bundles the explorer into one self-contained page: node web/build.mjs ENGINE_JS OUT_HTML.
// The engine (Emscripten's module with the WebAssembly inside it) and the bundle of src/ are
// inlined into src/index.html, so the page needs nothing but itself: no server, no network.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [engine, out] = process.argv.slice(2);
if (!engine || !out) {
  console.error('usage: node web/build.mjs ENGINE_JS OUT_HTML');
  process.exit(2);
}
const result = await build({
  entryPoints: [join(here, 'src', 'main.js')],
  bundle: true, minify: true, write: false, format: 'iife', target: 'es2020',
  outdir: 'out', loader: { '.yaml': 'text' }, legalComments: 'inline', logLevel: 'warning',
});
const file = (ext) => result.outputFiles.find((f) => f.path.endsWith(ext)).text;
// '</script' inside a script would end it early: the engine's text is checked, not trusted.
const script = (text) => {
  if (/<\/script/i.test(text)) throw new Error('a script contains </script');
  return `<script>${text}</script>`;
};
const html = readFileSync(join(here, 'src', 'index.html'), 'utf8')
  .replace('<!--STYLE-->', () => `<style>${file('.css')}</style>`)
  .replace('<!--SCRIPT-->', () => script(readFileSync(engine, 'utf8')) + '\n' + script(file('.js')));
writeFileSync(out + '.tmp', html);
renameSync(out + '.tmp', out);
console.log(`${out}: ${(html.length / 1e6).toFixed(2)} MB`);
