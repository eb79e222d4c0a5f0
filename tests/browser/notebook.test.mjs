// Opens a goproc notebook in Jupyter Notebook (classic) with headless
// Chromium, runs all cells from the Cell menu, and checks that every line the
// cells printed — children's lines included — is visible on the page. The
// lines to expect come from `goproc run` of the same notebook (EXPECTED);
// numbers (pids, timings) are compared as "N". Saves a screenshot (SHOT).
//
// Environment: BASE_URL, TOKEN, NOTEBOOK (path relative to the server root),
// EXPECTED (executed .ipynb), SHOT (png path), PROFILE (fresh user data dir),
// TIMEOUT_MS (default 180000).
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`set ${k}`);
  return v;
};
const base = env('BASE_URL');
const token = env('TOKEN');
const notebook = env('NOTEBOOK');
const expectedPath = env('EXPECTED');
const shot = env('SHOT');
const profile = env('PROFILE');
const timeout = Number(env('TIMEOUT_MS', '180000'));

const normalize = (line) => line.replace(/\d+(\.\d+)?/g, 'N').replace(/\s+/g, ' ').trim();
const joinText = (t) => (Array.isArray(t) ? t.join('') : t ?? '');

// Lines each code cell printed when goproc ran it, by cell index. Autograder
// test cells are left out: headless they really check (goproc run records
// outputs), in Jupyter they say "not checked here".
function expectedLines() {
  const nb = JSON.parse(fs.readFileSync(expectedPath, 'utf8'));
  return nb.cells.map((c) => {
    if (c.cell_type !== 'code' || c.metadata?.nbgrader?.grade) return [];
    const lines = [];
    for (const o of c.outputs ?? []) {
      if (o.output_type !== 'stream') continue;
      for (const l of joinText(o.text).split('\n')) if (l.trim() !== '') lines.push(normalize(l));
    }
    return lines;
  });
}

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const started = Date.now();
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, args: flags, viewport: { width: 1280, height: 900 },
});
let failed = false;
try {
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(timeout);
  const url = `${base}/notebooks/${encodeURI(notebook)}?token=${token}`;
  await page.goto(url);
  await page.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected?.() &&
    document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon'));
  const kernelName = await page.evaluate(() => Jupyter.notebook.kernel.name);

  const runStart = Date.now();
  await page.click('#celllink');
  await page.click('#run_all_cells > a');
  // Done when every non-empty code cell has a number and the kernel is idle;
  // an error output stops the wait (later cells are aborted).
  await page.waitForFunction(() => {
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code' && c.get_text().trim() !== '');
    const numbered = cells.every((c) => typeof c.input_prompt_number === 'number');
    const idle = document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon');
    return (numbered && idle) || document.querySelector('.output_error') !== null;
  });
  await page.waitForTimeout(300); // let the last outputs render
  const runMs = Date.now() - runStart;

  const cells = await page.evaluate(() => Jupyter.notebook.get_cells().map((c) => ({
    type: c.cell_type,
    prompt: c.input_prompt_number ?? null,
    text: c.element[0].querySelector('.output_wrapper')?.innerText ?? '',
    error: c.element[0].querySelector('.output_error')?.innerText ?? '',
  })));
  fs.mkdirSync(shot.replace(/\/[^/]*$/, ''), { recursive: true });
  // The classic notebook scrolls inside #site: grow the viewport to the
  // notebook's height so the screenshot shows every cell.
  const height = await page.evaluate(() => {
    const site = document.querySelector('#site');
    return (site ? site.scrollHeight + site.getBoundingClientRect().top : document.body.scrollHeight) + 40;
  });
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(900, Math.ceil(height)), 16000) });
  await page.waitForTimeout(200);
  await page.screenshot({ path: shot, fullPage: true });

  const want = expectedLines();
  const problems = [];
  let checked = 0;
  cells.forEach((c, i) => {
    if (c.error) problems.push(`cell ${i + 1} shows an error: ${c.error.split('\n')[0]}`);
    const have = c.text.split('\n').map(normalize).filter((l) => l !== '');
    const pool = new Map();
    for (const l of have) pool.set(l, (pool.get(l) ?? 0) + 1);
    for (const l of want[i] ?? []) {
      checked++;
      const n = pool.get(l) ?? 0;
      if (n === 0) problems.push(`cell ${i + 1}: line not visible in the page: ${JSON.stringify(l)}`);
      else pool.set(l, n - 1);
    }
  });
  const summary = { notebook, kernel: kernelName, cells: cells.length, lines_checked: checked,
    run_all_ms: runMs, total_ms: Date.now() - started, screenshot: shot, problems };
  console.log(JSON.stringify(summary, null, 2));
  if (checked === 0) problems.push('no printed lines to check: the expected notebook has no stream output');
  failed = problems.length > 0;
} catch (e) {
  console.error(`browser test: ${e.message.split('\n')[0]}`);
  failed = true;
} finally {
  await ctx.close();
}
process.exit(failed ? 1 : 0);
