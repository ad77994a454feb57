#!/usr/bin/env node
// Bundle the browser assets in webapp/static/src/ into webapp/static/dist/.
//
//   webapp/static/src/<name>.js   -> dist/<name>.js  (IIFE, for a plain <script src>)
//                                    dist/<name>.css (if the entry imports any CSS)
//   webapp/static/src/<name>.css  -> dist/<name>.css
//   fonts / images referenced by CSS -> dist/assets/<name>-<hash>.<ext>
//
// The dist directory is wiped and recreated on every run, so the output never
// holds stale files. Run with `npm run build` (after `npm ci`).

import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = path.join(ROOT, 'webapp', 'static', 'src');
const OUT_DIR = path.join(ROOT, 'webapp', 'static', 'dist');

async function findEntries() {
  const names = (await readdir(SRC_DIR)).filter((n) => /\.(js|css)$/.test(n)).sort();

  // <name>.js may emit <name>.css when it imports CSS, so a sibling <name>.css
  // entry would silently overwrite it (or be overwritten).
  const stems = new Map();
  for (const name of names) {
    const stem = name.replace(/\.(js|css)$/, '');
    if (stems.has(stem)) {
      throw new Error(`conflicting entries ${stems.get(stem)} and ${name}: both would write dist/${stem}.css`);
    }
    stems.set(stem, name);
  }
  return names;
}

function formatSize(bytes) {
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} kB` : `${bytes} B`;
}

async function main() {
  const started = Date.now();
  const entries = await findEntries();
  if (!entries.length) {
    throw new Error(`no *.js or *.css entries in ${path.relative(ROOT, SRC_DIR)}`);
  }

  await rm(OUT_DIR, { recursive: true, force: true });
  await mkdir(OUT_DIR, { recursive: true });

  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: entries.map((n) => path.join(SRC_DIR, n)),
    outdir: OUT_DIR,
    entryNames: '[name]',
    assetNames: 'assets/[name]-[hash]',
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'edge100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: false,
    // keep /*! ... */ and @license comments (third-party notices) at file end
    legalComments: 'eof',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: {
      '.woff': 'file',
      '.woff2': 'file',
      '.ttf': 'file',
      '.eot': 'file',
      '.svg': 'file',
      '.png': 'file',
      '.gif': 'file',
    },
    metafile: true,
    write: true,
    logLevel: 'warning',
  });

  const outputs = Object.entries(result.metafile.outputs).sort(([a], [b]) => a.localeCompare(b));
  for (const [file, info] of outputs) {
    console.log(`  ${path.relative(ROOT, path.resolve(ROOT, file))}  ${formatSize(info.bytes)}`);
  }
  console.log(`built ${outputs.length} files in ${Date.now() - started} ms`);
}

main().catch((err) => {
  // esbuild has already printed its own diagnostics for build errors
  if (!err.errors) {
    console.error(err.message || err);
  }
  process.exitCode = 1;
});
