// Assembles the web console that pep-gateway serves: this folder's pages and scripts with the
// State design system (@gouvfr/dsfr) and DSFR Chart (@gouvfr/dsfr-chart) from node_modules —
// local files only, for closed networks. Every asset goes under /assets/<hash>/, the hash being
// that of all the assets' paths and bytes, so the gateway lets browsers keep them forever
// (Cache-Control: immutable) while index.html, which names them, is revalidated each time.
//
//   node build.mjs OUT_DIR        (run by CMake; `npm ci --ignore-scripts` here first)
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(process.argv[2] || path.join(HERE, 'dist'));
const DSFR = path.join(HERE, 'node_modules/@gouvfr/dsfr/dist');
const CHART = path.join(HERE, 'node_modules/@gouvfr/dsfr-chart/dist/DSFRChart');

for (const dir of [DSFR, CHART]) {
  if (!fs.existsSync(dir)) {
    console.error(`build.mjs: ${dir} is missing: run deploy/local/lib/install-deps.sh ` +
      '(npm ci --ignore-scripts in services/gateway/console)');
    process.exit(1);
  }
}

// [path under the asset folder, source file]
const files = [];
function addTree(prefix, dir, keep = () => true) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const src = path.join(dir, entry.name);
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) addTree(rel, src, keep);
    else if (keep(entry.name)) files.push([rel, src]);
  }
}
// DSFR keeps its own layout: its CSS names fonts/ and ../../icons/ relatively.
files.push(['dsfr/dsfr.min.css', path.join(DSFR, 'dsfr.min.css')]);
files.push(['dsfr/utility/icons/icons.min.css', path.join(DSFR, 'utility/icons/icons.min.css')]);
files.push(['dsfr/dsfr.module.min.js', path.join(DSFR, 'dsfr.module.min.js')]);
files.push(['dsfr/dsfr.nomodule.min.js', path.join(DSFR, 'dsfr.nomodule.min.js')]);
addTree('dsfr/fonts', path.join(DSFR, 'fonts'), (n) => n.endsWith('.woff2') || n.endsWith('.woff'));
addTree('dsfr/icons', path.join(DSFR, 'icons'), (n) => n.endsWith('.svg'));
addTree('dsfr/favicon', path.join(DSFR, 'favicon'));
files.push(['dsfr-chart/DSFRChart.js', path.join(CHART, 'DSFRChart.js')]);
files.push(['dsfr-chart/DSFRChart.css', path.join(CHART, 'DSFRChart.css')]);
addTree('js', path.join(HERE, 'js'), (n) => n.endsWith('.js'));  // the console's ES modules
files.push(['style.css', path.join(HERE, 'style.css')]);
files.sort((a, b) => (a[0] < b[0] ? -1 : 1));

const h = crypto.createHash('sha256');
for (const [rel, src] of files) {
  h.update(rel + '\0');
  h.update(fs.readFileSync(src));
  h.update('\0');
}
const hash = h.digest('hex').slice(0, 16);
const base = `/assets/${hash}`;

fs.rmSync(OUT, { recursive: true, force: true });
for (const [rel, src] of files) {
  const dst = path.join(OUT, 'assets', hash, rel);
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.copyFileSync(src, dst);
}
const html = fs.readFileSync(path.join(HERE, 'index.html'), 'utf8').replaceAll('{{ASSETS}}', base);
if (html.includes('{{')) {
  console.error('build.mjs: index.html names a placeholder other than {{ASSETS}}');
  process.exit(1);
}
fs.writeFileSync(path.join(OUT, 'index.html'), html);
console.log(`build.mjs: ${files.length} files under ${base} in ${OUT}`);
