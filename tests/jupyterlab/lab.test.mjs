// Opens goproc notebooks in JupyterLab 4 with headless Chromium and uses
// them the way students do (issue 18):
//
//  - each of NOTEBOOKS: Run ▸ Run All Cells; the toolbar's "Restart the
//    kernel and run all cells"; the toolbar's restart, then Shift+Enter cell
//    by cell. After each, every line `goproc run` printed for a cell (EXPECTED
//    dir, children's lines included; numbers compared as N) must be in that
//    cell's output area, the cell's stream output must have no other line,
//    and no cell may show an error.
//  - CHECKS (a scratch notebook): a `for {}` and a pool of spinning workers
//    interrupted from the toolbar (the notebook's state kept, the workers'
//    processes gone), stdin through JupyterLab's input box, an HTML display,
//    a panic and a compile error rendered, Tab completion and Shift+Tab help.
//  - a console with the goproc kernel, from the launcher.
//
// Screenshots go to OUT. Environment: BASE_URL, TOKEN, NOTEBOOKS (names,
// comma-separated, relative to the server root), CHECKS, EXPECTED (dir of
// `goproc run` outputs, same names), OUT, PROFILE (fresh Chromium user data
// dir), GOPROC_BIN (the kernel binary: its processes are counted),
// TIMEOUT_MS (default 120000).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`set ${k}`);
  return v;
};
const base = env('BASE_URL');
const token = env('TOKEN');
const notebooks = env('NOTEBOOKS').split(',').filter(Boolean);
const checks = env('CHECKS');
const expectedDir = env('EXPECTED');
const out = env('OUT');
const profile = env('PROFILE');
const goprocBin = env('GOPROC_BIN');
const timeout = Number(env('TIMEOUT_MS', '120000'));

const problems = [];
const report = { notebooks: {}, checks: {}, timings_ms: {} };
const fail = (msg) => { problems.push(msg); console.log(`  problem: ${msg}`); };
const step = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
const started = Date.now();

const normalize = (line) => line.replace(/\d+(\.\d+)?/g, 'N').replace(/\s+/g, ' ').trim();
const joinText = (t) => (Array.isArray(t) ? t.join('') : t ?? '');

// Lines each code cell printed under `goproc run`, by cell index. Autograder
// test cells are left out: headless they check, in Jupyter they say "not
// checked here".
function expectedLines(name) {
  const nb = JSON.parse(fs.readFileSync(path.join(expectedDir, name), 'utf8'));
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

// Indexes of the autograder test cells.
function gradedCells(name) {
  const nb = JSON.parse(fs.readFileSync(path.join(expectedDir, name), 'utf8'));
  return new Set(nb.cells.map((c, i) => (c.metadata?.nbgrader?.grade && c.cell_type === 'code' ? i : -1)).filter((i) => i >= 0));
}

// The processes of the kernel binary under test: [{pid, ppid, args}].
function goprocProcesses() {
  const procs = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const args = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (args[0] !== goprocBin) continue;
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      procs.push({ pid: Number(d), ppid: Number(fields[1]), args: args.slice(1).join(' ') });
    } catch {
      // gone meanwhile
    }
  }
  return procs;
}

// CPU time (clock ticks) of a process, or null once it is gone.
function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? null : Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

// The processes of the binary under test that burn CPU in each of two half
// seconds in a row: a pool's spinning workers. The kernel, its engine and the
// warm spare workers sit idle, and a spare that is starting takes a few ms.
async function spinning() {
  const sample = () => new Map(goprocProcesses().map((p) => [p.pid, cpuTicks(p.pid)]));
  const pause = () => new Promise((r) => setTimeout(r, 500));
  const a = sample();
  await pause();
  const b = sample();
  await pause();
  const c = sample();
  const busy = (x, y, pid) => x.get(pid) != null && y.get(pid) != null && y.get(pid) - x.get(pid) >= 3;
  return [...a.keys()].filter((pid) => busy(a, b, pid) && busy(b, c, pid));
}

async function until(what, f, ms = timeout, every = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const viewport = { width: 1400, height: 900 };
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, args: flags, viewport,
});
const page = ctx.pages()[0] ?? (await ctx.newPage());
page.setDefaultTimeout(timeout);
// jupyter_server 1.23 has no /api/me or /api/events: those 404s are expected.
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));

// --- helpers that run in the page ------------------------------------------

// The state of the notebook open at path: its cells (type, source, execution
// count, output text, error text), the kernel's name and status.
const notebookState = (p) => page.evaluate((p) => {
  const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p);
  if (!panel) return null;
  const kernel = panel.sessionContext.session?.kernel;
  return {
    kernel: kernel?.name ?? null,
    status: kernel?.status ?? 'none',
    pendingInput: panel.sessionContext.pendingInput,
    cells: panel.content.widgets.map((c) => ({
      type: c.model.type,
      source: c.model.sharedModel.getSource(),
      count: c.model.type === 'code' ? c.model.executionCount : null,
      prompt: c.model.type === 'code' ? c.promptNode?.textContent ?? '' : '',
      text: c.model.type === 'code' ? c.outputArea.node.innerText : '',
      errorOutputs: c.model.type === 'code' ? c.model.outputs.toJSON().filter((o) => o.output_type === 'error').length : 0,
      streams: c.model.type === 'code'
        ? c.model.outputs.toJSON().filter((o) => o.output_type === 'stream')
          .map((o) => (Array.isArray(o.text) ? o.text.join('') : o.text)).join('')
        : '',
    })),
  };
}, p);

// Selects cell i of the notebook at path in command mode, focused, so keys go to it.
const selectCell = (p, i) => page.evaluate(([p, i]) => {
  const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p);
  window.jupyterapp.shell.activateById(panel.id);
  panel.content.mode = 'command';
  panel.content.activeCellIndex = i;
  panel.content.deselectAll();
  panel.content.activeCell.node.scrollIntoView({ block: 'center' });
  panel.content.node.focus();
}, [p, i]);

// Forgets the execution counts the cells show (only in the page), so that a
// count afterwards says the cell ran again: after a restart counts start at 1.
const forgetCounts = (p) => page.evaluate((p) => {
  const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p);
  for (const c of panel.content.widgets) if (c.model.type === 'code') c.model.executionCount = null;
}, p);

const setSource = (p, i, src) => page.evaluate(([p, i, src]) => {
  const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p);
  panel.content.widgets[i].model.sharedModel.setSource(src);
}, [p, i, src]);

async function waitIdle(p, what) {
  await until(`${what}: kernel idle`, async () => {
    const s = await notebookState(p);
    return s && s.status === 'idle';
  });
}

// Waits until every non-empty code cell of the notebook has an execution
// count and the kernel is idle, or a cell shows an error (Run All stops there).
async function waitRun(p, what) {
  return until(`${what}: every cell run`, async () => {
    const s = await notebookState(p);
    if (!s) return false;
    const code = s.cells.map((c, i) => ({ ...c, i })).filter((c) => c.type === 'code' && c.source.trim() !== '');
    if (code.some((c) => c.errorOutputs > 0) && s.status === 'idle') return s;
    const done = code.every((c) => typeof c.count === 'number' && !c.prompt.includes('*'));
    return done && s.status === 'idle' ? s : false;
  });
}

async function openNotebook(p) {
  // Double-click it in the file browser, as a student does.
  const item = page.locator('.jp-DirListing-item', { has: page.locator('.jp-DirListing-itemText', { hasText: p }) });
  await item.first().dblclick();
  await until(`${p}: opened`, async () => (await notebookState(p)) !== null);
  await until(`${p}: goproc kernel idle`, async () => {
    const s = await notebookState(p);
    return s && s.kernel === 'goproc' && s.status === 'idle';
  });
}

async function closeAll() {
  await page.evaluate(async () => {
    for (const w of [...window.jupyterapp.shell.widgets('main')]) {
      if (w.context) await w.context.save();
      if (w.sessionContext) await w.sessionContext.shutdown();
      w.close();
    }
  });
}

// A screenshot of the whole notebook: the viewport grows to its height.
async function shot(name, p) {
  const file = path.join(out, name);
  let height = viewport.height;
  if (p) {
    height = await page.evaluate((p) => {
      const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p);
      // The notebook scrolls inside its windowed panel: scroll it to the top
      // and make the window as tall as all its cells.
      const scroller = panel.content.node.querySelector('.jp-WindowedPanel-outer') ?? panel.content.node;
      scroller.scrollTop = 0;
      return scroller.scrollHeight + scroller.getBoundingClientRect().top + 60;
    }, p);
  }
  await page.setViewportSize({ width: viewport.width, height: Math.min(Math.max(viewport.height, Math.ceil(height)), 12000) });
  await page.waitForTimeout(300);
  await page.screenshot({ path: file });
  await page.setViewportSize(viewport);
  return file;
}

async function clickToolbar(p, command) {
  const panelId = await page.evaluate((p) => [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p).id, p);
  await page.locator(`#${panelId} .jp-NotebookPanel-toolbar [data-command="${command}"]`).click();
}

async function acceptDialog(what) {
  const button = page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-accept');
  await button.waitFor({ state: 'visible' });
  step(`  dialog: ${await page.locator('.jp-Dialog-header').innerText()} → ${await button.innerText()} (${what})`);
  await button.click();
  await page.locator('.jp-Dialog').waitFor({ state: 'detached' });
}

function checkLines(name, how, state) {
  const want = expectedLines(name);
  const graded = gradedCells(name);
  let checked = 0;
  state.cells.forEach((c, i) => {
    if (c.type !== 'code') return;
    if (c.errorOutputs > 0) fail(`${name} (${how}): cell ${i + 1} shows an error: ${c.text.split('\n').slice(0, 3).join(' | ')}`);
    const pool = new Map();
    for (const l of c.text.split('\n').map(normalize).filter((l) => l !== '')) pool.set(l, (pool.get(l) ?? 0) + 1);
    for (const l of want[i] ?? []) {
      checked++;
      const n = pool.get(l) ?? 0;
      if (n === 0) fail(`${name} (${how}): cell ${i + 1}: line not in its output area: ${JSON.stringify(l)}`);
      else pool.set(l, n - 1);
    }
    // And nothing else: no line printed by another cell, none twice.
    if (graded.has(i)) return;
    const expected = new Map();
    for (const l of want[i] ?? []) expected.set(l, (expected.get(l) ?? 0) + 1);
    for (const l of c.streams.split('\n').map(normalize).filter((l) => l !== '')) {
      const n = expected.get(l) ?? 0;
      if (n === 0) fail(`${name} (${how}): cell ${i + 1} printed a line goproc run did not: ${JSON.stringify(l)}`);
      else expected.set(l, n - 1);
    }
  });
  if (checked === 0) fail(`${name}: no printed lines to check`);
  return checked;
}

// --- the notebooks, three ways ----------------------------------------------

async function notebookRuns(name) {
  const r = (report.notebooks[name] = {});
  step(`${name}: open`);
  await openNotebook(name);
  const base = name.replace(/\.ipynb$/, '');

  step(`${name}: Run ▸ Run All Cells`);
  // The notebooks are stored with their outputs and counts: forget the
  // counts, so that a count says the cell ran here (which clears its outputs).
  await forgetCounts(name);
  let t = Date.now();
  await page.locator('.lm-MenuBar-item', { hasText: /^Run$/ }).click();
  await page.locator('.lm-Menu-item', { has: page.locator('.lm-Menu-itemLabel', { hasText: /^Run All Cells$/ }) }).click();
  let s = await waitRun(name, 'run all');
  r.run_all = { ms: Date.now() - t, lines: checkLines(name, 'Run All', s) };
  await shot(`lab-${base}-run-all.png`, name);

  step(`${name}: toolbar ▸ restart the kernel and run all cells`);
  t = Date.now();
  await forgetCounts(name);
  await clickToolbar(name, 'notebook:restart-run-all');
  await acceptDialog('restart and run all');
  await page.waitForTimeout(500);
  s = await waitRun(name, 'restart and run all');
  const first = s.cells.filter((c) => c.type === 'code' && c.source.trim() !== '').map((c) => c.count);
  if (first[0] !== 1 || first.some((n, i) => i > 0 && n <= first[i - 1])) {
    fail(`${name}: after Restart and Run All the counts are ${JSON.stringify(first)}, not 1, 2, 3 …`);
  }
  r.restart_run_all = { ms: Date.now() - t, lines: checkLines(name, 'Restart and Run All', s) };
  await shot(`lab-${base}-restart-run-all.png`, name);

  step(`${name}: toolbar ▸ restart, then Shift+Enter cell by cell`);
  t = Date.now();
  await clickToolbar(name, 'notebook:restart-kernel');
  await acceptDialog('restart');
  await page.waitForTimeout(500);
  await waitIdle(name, 'restart');
  await forgetCounts(name);
  const n = s.cells.length;
  await selectCell(name, 0);
  for (let i = 0; i < n; i++) {
    const before = (await notebookState(name)).cells[i];
    await page.keyboard.press('Shift+Enter');
    if (before.type === 'code' && before.source.trim() !== '') {
      await until(`${name}: cell ${i + 1} run by Shift+Enter`, async () => {
        const now = await notebookState(name);
        const c = now.cells[i];
        return now.status === 'idle' && typeof c.count === 'number' && !c.prompt.includes('*');
      });
    }
  }
  s = await notebookState(name);
  const active = await page.evaluate((p) => [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p).content.activeCellIndex, name);
  // Shift+Enter on the last cell adds an empty one below and moves there.
  if (active !== n) fail(`${name}: after ${n} Shift+Enter the active cell is ${active + 1}, not a new one after the last`);
  r.cell_by_cell = { ms: Date.now() - t, lines: checkLines(name, 'Shift+Enter', s) };
  await shot(`lab-${base}-cell-by-cell.png`, name);
  await closeAll();
}

// --- the scratch notebook ---------------------------------------------------

// Cells of CHECKS, by role (run.sh writes it; see there).
const C = { setup: 0, spin: 1, afterSpin: 2, pool: 3, afterPool: 4, stdin: 5, html: 6, panic: 7, compile: 8, edit: 9 };

async function runCell(p, i, what) {
  const before = (await notebookState(p)).cells[i].count;
  await selectCell(p, i);
  await page.keyboard.press('Control+Enter');
  return until(`${what}: cell ${i + 1} finished`, async () => {
    const s = await notebookState(p);
    const c = s.cells[i];
    return s.status === 'idle' && typeof c.count === 'number' && c.count !== before && !c.prompt.includes('*') ? c : false;
  });
}

async function startCell(p, i) {
  await selectCell(p, i);
  await page.keyboard.press('Control+Enter');
  await until(`cell ${i + 1} busy`, async () => (await notebookState(p)).status === 'busy');
}

async function scratchChecks() {
  const p = checks;
  const r = report.checks;
  step(`${p}: open`);
  await openNotebook(p);
  let c = await runCell(p, C.setup, 'setup');
  if (!c.text.includes('x is 41')) fail(`setup cell printed ${JSON.stringify(c.text)}`);

  step('interrupt a for {} from the toolbar');
  await startCell(p, C.spin);
  await page.waitForTimeout(1000);
  let t = Date.now();
  await clickToolbar(p, 'notebook:interrupt-kernel');
  await until('the for {} to stop', async () => (await notebookState(p)).status === 'idle', 20000);
  r.interrupt_loop_ms = Date.now() - t;
  c = (await notebookState(p)).cells[C.spin];
  if (c.errorOutputs === 0) fail('the interrupted for {} shows no error');
  c = await runCell(p, C.afterSpin, 'after the interrupt');
  if (!c.text.includes('after the interrupt x is 41')) fail(`state lost by the interrupt: ${JSON.stringify(c.text)}`);

  step('interrupt a pool of spinning workers from the toolbar');
  await startCell(p, C.pool);
  const spinners = await until('two spinning workers', async () => {
    const pids = await spinning();
    return pids.length >= 2 ? pids : false;
  }, 30000, 0);
  r.spinning_workers = spinners.length;
  t = Date.now();
  await clickToolbar(p, 'notebook:interrupt-kernel');
  await until('the pool cell to stop', async () => (await notebookState(p)).status === 'idle', 20000);
  r.interrupt_pool_ms = Date.now() - t;
  try {
    await until('the workers to exit', () => spinners.every((pid) => cpuTicks(pid) === null), 10000);
    r.workers_gone_ms = Date.now() - t;
  } catch {
    fail(`worker processes still there 10 s after the interrupt: ${JSON.stringify(goprocProcesses().filter((q) => spinners.includes(q.pid)))}`);
  }
  c = (await notebookState(p)).cells[C.pool];
  if (c.errorOutputs === 0) fail('the interrupted pool cell shows no error');
  c = await runCell(p, C.afterPool, 'after the pool');
  if (!c.text.includes('after the pool x is 41')) fail(`state lost by the pool's interrupt: ${JSON.stringify(c.text)}`);

  step('stdin through the input box');
  await startCell(p, C.stdin);
  const box = page.locator('.jp-Stdin-input');
  await box.waitFor({ state: 'visible', timeout: 20000 });
  const prompt = await page.locator('.jp-Stdin-prompt').innerText();
  r.stdin_prompt = prompt;
  if (prompt.trim() !== 'your name?') fail(`the input box's prompt is ${JSON.stringify(prompt)}, not "your name? "`);
  await box.fill('gopher');
  await shot('lab-stdin-box.png');
  await box.press('Enter');
  await until('the stdin cell to finish', async () => {
    const s = await notebookState(p);
    return s.status === 'idle' && s.cells[C.stdin].text.includes('hello, gopher');
  }, 20000);
  c = (await notebookState(p)).cells[C.stdin];
  const lines = c.text.split('\n').filter((l) => l.trim() !== '');
  r.stdin_output = lines;
  r.stdin_outputs = await page.evaluate(([p, i]) => {
    const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === p);
    return panel.content.widgets[i].model.outputs.toJSON();
  }, [p, C.stdin]);
  // JupyterLab shows the prompt, a space and the answer, for ipykernel's input("your name? ") too.
  if (!lines.some((l) => /^your name\?\s+gopher$/.test(l.trim()))) {
    fail(`question and answer are not on one line: ${JSON.stringify(lines)}`);
  }
  if (lines.some((l) => /^ gopher$/.test(l))) fail(`the answer has a line of its own: ${JSON.stringify(lines)}`);

  step('an HTML display');
  c = await runCell(p, C.html, 'html');
  const html = await page.locator('.jp-OutputArea-output[data-mime-type="text/html"] b').filter({ hasText: 'bold from Go' }).innerText();
  if (html !== 'bold from Go') fail(`the HTML display shows ${JSON.stringify(html)}`);

  step('a panic and a compile error');
  c = await runCell(p, C.panic, 'panic');
  if (c.errorOutputs === 0 || !c.text.includes('boom from the notebook')) fail(`the panic is not rendered: ${JSON.stringify(c.text)}`);
  r.panic_text = c.text.split('\n').slice(0, 4);
  c = await runCell(p, C.compile, 'compile error');
  if (c.errorOutputs === 0 || !/undefinedName/.test(c.text)) fail(`the compile error is not rendered: ${JSON.stringify(c.text)}`);
  r.compile_error_text = c.text.split('\n').slice(0, 4);
  await shot('lab-checks.png', p);

  step('Tab completion');
  await selectCell(p, C.edit);
  await page.keyboard.press('Enter'); // edit mode
  await page.keyboard.type('fmt.Prin');
  await page.keyboard.press('Tab');
  const items = page.locator('.jp-Completer .jp-Completer-item');
  await items.first().waitFor({ state: 'visible', timeout: 20000 });
  const matches = await page.locator('.jp-Completer .jp-Completer-match').allInnerTexts();
  r.completions = matches;
  for (const m of ['Print', 'Printf', 'Println']) {
    if (!matches.some((x) => x.trim() === m || x.trim() === `fmt.${m}`)) fail(`Tab after fmt.Prin does not offer ${m}: ${JSON.stringify(matches)}`);
  }
  await shot('lab-completion.png');
  await page.keyboard.press('Escape');

  step('Shift+Tab help');
  await setSource(p, C.edit, 'fmt.Println');
  await selectCell(p, C.edit);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Shift+Tab');
  const tip = page.locator('.jp-Tooltip');
  await tip.waitFor({ state: 'visible', timeout: 20000 });
  const tipText = await tip.innerText();
  r.tooltip = tipText.split('\n').slice(0, 3);
  if (!/Println/.test(tipText)) fail(`Shift+Tab help does not describe Println: ${JSON.stringify(tipText.slice(0, 200))}`);
  await shot('lab-tooltip.png');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await closeAll();
}

// --- a console ----------------------------------------------------------------

async function consoleCheck() {
  step('a console with the goproc kernel, from the launcher');
  await page.evaluate(() => window.jupyterapp.commands.execute('launcher:create'));
  await page.locator('.jp-LauncherCard[data-category="Console"][title="Go (goproc)"]:visible').first().click();
  const input = page.locator('.jp-CodeConsole-input .cm-content');
  await input.waitFor({ state: 'visible' });
  await until('the console kernel to be idle', () => page.evaluate(() => {
    const w = window.jupyterapp.shell.currentWidget;
    return w?.sessionContext?.session?.kernel?.name === 'goproc' && w.sessionContext.session.kernel.status === 'idle';
  }));
  await input.click();
  await page.keyboard.type('import "fmt"');
  await page.keyboard.press('Shift+Enter');
  await input.click();
  await page.keyboard.type('fmt.Println("six times seven is", 6*7)');
  await page.keyboard.press('Shift+Enter');
  const cellOut = page.locator('.jp-CodeConsole-content .jp-OutputArea-output', { hasText: 'six times seven is 42' });
  await cellOut.first().waitFor({ state: 'visible', timeout: 30000 });
  report.checks.console = 'six times seven is 42';
  await shot('lab-console.png');
  await page.evaluate(async () => {
    const w = window.jupyterapp.shell.currentWidget;
    await w.sessionContext.shutdown();
    w.close();
  });
}

let crashed = false;
try {
  const tOpen = Date.now();
  await page.goto(`${base}/lab?token=${token}`);
  await page.waitForFunction(() => document.body.dataset.labRestored === 'true');
  report.timings_ms.lab_ready = Date.now() - tOpen;
  step('JupyterLab is up');
  for (const name of notebooks) await notebookRuns(name);
  await scratchChecks();
  await consoleCheck();
} catch (e) {
  crashed = true;
  fail(`test stopped: ${e.message.split('\n')[0]}`);
  try { await page.screenshot({ path: path.join(out, 'lab-failure.png') }); } catch { /* the page is gone */ }
} finally {
  await ctx.close();
}
report.timings_ms.total = Date.now() - started;
report.page_errors = pageErrors;
report.problems = problems;
console.log(JSON.stringify(report, null, 2));
process.exit(problems.length > 0 || crashed ? 1 : 0);
