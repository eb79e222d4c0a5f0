// Drives a goproc notebook through @jupyterlab/services — the client library
// JupyterLab itself talks to kernels with — over jupyter_server's websocket,
// and checks the protocol as JupyterLab sees it:
//
//  - all code cells sent at once (as Run All does): each request's IOPub
//    messages are status busy, execute_input, its outputs, status idle, in
//    that order and not mixed with another request's; every one, and the
//    execute_reply, has the request as parent; counts go 1, 2, 3 …; every
//    line `goproc run` printed for the cell (EXPECTED) is in its stream output;
//  - complete, inspect, is_complete and kernel_info replies have their
//    request as parent;
//  - stdin: the input_request has the request as parent and the cell's
//    unfinished line ("your name? ") as prompt;
//  - an interrupt over REST stops a `for {}`; the state is kept;
//  - a restart over REST: the shutdown_reply on IOPub has a parent; the new
//    kernel answers.
//
// Environment: BASE_URL, TOKEN, NOTEBOOK (path under the server root),
// EXPECTED (its `goproc run` output).
import { KernelManager, ServerConnection } from '@jupyterlab/services';
import WebSocket from 'ws';
import fs from 'node:fs';

const env = (k) => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`set ${k}`);
  return v;
};
const base = env('BASE_URL');
const token = env('TOKEN');
const notebook = env('NOTEBOOK');
const expected = JSON.parse(fs.readFileSync(env('EXPECTED'), 'utf8'));

const problems = [];
const fail = (msg) => { problems.push(msg); console.log(`  problem: ${msg}`); };
const normalize = (line) => line.replace(/\d+(\.\d+)?/g, 'N').replace(/\s+/g, ' ').trim();
const joinText = (t) => (Array.isArray(t) ? t.join('') : t ?? '');
const withTimeout = (p, ms, what) => Promise.race([p,
  new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out: ${what}`)), ms))]);

const settings = ServerConnection.makeSettings({
  baseUrl: `${base}/`, wsUrl: base.replace(/^http/, 'ws') + '/', token, WebSocket,
  init: { cache: 'no-store' },
});
const manager = new KernelManager({ serverSettings: settings });
const report = {};
const started = Date.now();
let kernel;

// Every IOPub message, in arrival order.
const iopub = [];
const onIOPub = (_, msg) => iopub.push(msg);

try {
  // The notebook as JupyterLab reads it, through the contents API.
  const res = await ServerConnection.makeRequest(`${base}/api/contents/${encodeURIComponent(notebook)}?content=1`, {}, settings);
  const nb = (await res.json()).content;
  const cells = nb.cells.map((c, i) => ({ ...c, i })).filter((c) => c.cell_type === 'code' && joinText(c.source).trim() !== '');

  kernel = await manager.startNew({ name: 'goproc' });
  kernel.iopubMessage.connect(onIOPub);
  const info = await withTimeout(kernel.info, 60000, 'kernel_info');
  if (info.implementation !== 'goproc' || info.language_info.name !== 'go') fail(`kernel_info: ${JSON.stringify(info).slice(0, 200)}`);
  report.kernel = `${info.implementation} ${info.implementation_version}, protocol ${info.protocol_version}`;

  // All cells at once, as Run All does.
  iopub.length = 0;
  const t = Date.now();
  const futures = cells.map((c) => kernel.requestExecute({ code: joinText(c.source), stop_on_error: true }));
  const replies = await withTimeout(Promise.all(futures.map((f) => f.done)), 120000, 'the cells');
  report.run_all_ms = Date.now() - t;
  await new Promise((r) => setTimeout(r, 200));

  const ids = futures.map((f) => f.msg.header.msg_id);
  let next = 0; // the request whose messages come now
  let seen = new Set();
  let lines = 0;
  for (const m of iopub) {
    const parent = m.parent_header?.msg_id;
    const k = ids.indexOf(parent);
    if (k < 0) continue; // the welcome status and the like
    if (k !== next) {
      if (k === next + 1 && seen.has('idle')) { next = k; seen = new Set(); } else {
        fail(`IOPub: a ${m.header.msg_type} of cell ${cells[k].i + 1} came while cell ${cells[next].i + 1}'s messages were due`);
        continue;
      }
    }
    const state = m.header.msg_type === 'status' ? m.content.execution_state : m.header.msg_type;
    if (seen.size === 0 && state !== 'busy') fail(`IOPub: cell ${cells[k].i + 1} begins with ${state}, not status busy`);
    if (seen.size === 1 && state !== 'execute_input') fail(`IOPub: cell ${cells[k].i + 1}: ${state} before execute_input`);
    if (seen.has('idle')) fail(`IOPub: cell ${cells[k].i + 1}: ${state} after status idle`);
    if (state === 'execute_input' && m.content.execution_count !== k + 1) fail(`execute_input of cell ${cells[k].i + 1} has count ${m.content.execution_count}, want ${k + 1}`);
    seen.add(state);
  }
  if (next !== ids.length - 1 || !seen.has('idle')) fail(`IOPub: the messages of ${ids.length - next - 1} cell(s) are missing`);
  replies.forEach((r, k) => {
    if (r.parent_header.msg_id !== ids[k]) fail(`execute_reply ${k + 1} has parent ${r.parent_header.msg_id}`);
    if (r.content.status !== 'ok') fail(`cell ${cells[k].i + 1}: ${r.content.status} ${r.content.ename ?? ''} ${r.content.evalue ?? ''}`);
    if (r.content.execution_count !== k + 1) fail(`execute_reply of cell ${cells[k].i + 1} has count ${r.content.execution_count}`);
    // What goproc run printed for the cell (test cells say "not checked here" in a kernel).
    const exp = expected.cells[cells[k].i];
    if (exp.metadata?.nbgrader?.grade) return;
    const got = iopub.filter((m) => m.parent_header?.msg_id === ids[k] && m.header.msg_type === 'stream')
      .map((m) => m.content.text).join('').split('\n').map(normalize).filter(Boolean);
    const pool = new Map();
    for (const l of got) pool.set(l, (pool.get(l) ?? 0) + 1);
    for (const o of exp.outputs ?? []) {
      if (o.output_type !== 'stream') continue;
      for (const l of joinText(o.text).split('\n').map(normalize).filter(Boolean)) {
        lines++;
        if (!pool.get(l)) fail(`cell ${cells[k].i + 1}: line not in its stream output: ${JSON.stringify(l)}`);
        else pool.set(l, pool.get(l) - 1);
      }
    }
  });
  if (lines === 0) fail('no printed lines to check');
  report.cells = cells.length;
  report.iopub_messages = iopub.length;
  report.lines_checked = lines;

  // Other shell requests: the reply's parent is the request.
  const shellChecks = {
    complete: () => kernel.requestComplete({ code: 'fmt.Prin', cursor_pos: 8 }),
    inspect: () => kernel.requestInspect({ code: 'fmt.Println', cursor_pos: 11, detail_level: 0 }),
    is_complete: () => kernel.requestIsComplete({ code: 'func f() {' }),
    kernel_info: () => kernel.requestKernelInfo(),
  };
  for (const [name, f] of Object.entries(shellChecks)) {
    const before = iopub.length;
    const r = await withTimeout(f(), 30000, name);
    if (r.header.msg_type !== `${name}_reply`) fail(`${name}: got ${r.header.msg_type}`);
    const statuses = iopub.slice(before).filter((m) => m.header.msg_type === 'status');
    if (statuses.some((m) => !m.parent_header?.msg_id)) fail(`${name}: a status without a parent`);
    report[name] = name === 'complete' ? r.content.matches.slice(0, 5) : r.content.status;
  }

  // stdin: the request is the parent, the unfinished line the prompt.
  {
    const f = kernel.requestExecute({ code: 'import (\n"bufio"\n"fmt"\n"os"\n"strings"\n)\nfmt.Print("your name? ")\nname, _ := bufio.NewReader(os.Stdin).ReadString(\'\\n\')\nfmt.Println("hello,", strings.TrimSpace(name))', allow_stdin: true });
    let request;
    f.onStdin = (msg) => {
      request = msg;
      f.sendInputReply({ status: 'ok', value: 'gopher' }, msg.header);
    };
    const r = await withTimeout(f.done, 30000, 'stdin cell');
    if (!request) fail('stdin: no input_request');
    else {
      if (request.parent_header.msg_id !== f.msg.header.msg_id) fail('stdin: the input_request has another parent');
      if (request.content.prompt !== 'your name? ') fail(`stdin: prompt ${JSON.stringify(request.content.prompt)}, want "your name? "`);
      report.stdin_prompt = request.content.prompt;
    }
    const text = iopub.filter((m) => m.parent_header?.msg_id === f.msg.header.msg_id && m.header.msg_type === 'stream').map((m) => m.content.text).join('');
    if (r.content.status !== 'ok' || text !== 'hello, gopher\n') fail(`stdin: ${r.content.status}, printed ${JSON.stringify(text)}`);
  }

  // An interrupt over REST stops a for {}; the state is kept.
  {
    await kernel.requestExecute({ code: 'kept := 42' }).done;
    const f = kernel.requestExecute({ code: 'for {\n}' });
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    await kernel.interrupt();
    const r = await withTimeout(f.done, 20000, 'interrupt');
    report.interrupt_ms = Date.now() - t0;
    if (r.content.status !== 'error') fail(`interrupted for {}: ${r.content.status}`);
    const g = kernel.requestExecute({ code: 'kept' });
    let result;
    g.onIOPub = (m) => { if (m.header.msg_type === 'execute_result') result = m.content.data['text/plain']; };
    await g.done;
    if (result !== '42') fail(`after the interrupt kept is ${result}`);
  }

  // A restart over REST: the old kernel's shutdown_reply on IOPub has a parent.
  {
    const before = iopub.length;
    const t0 = Date.now();
    await kernel.restart();
    await withTimeout(kernel.info, 60000, 'kernel_info after the restart');
    const g = kernel.requestExecute({ code: '6 * 7' });
    let result;
    g.onIOPub = (m) => { if (m.header.msg_type === 'execute_result') result = m.content.data['text/plain']; };
    const r = await withTimeout(g.done, 30000, 'a cell after the restart');
    report.restart_ms = Date.now() - t0;
    if (r.content.status !== 'ok' || result !== '42' || r.content.execution_count !== 1) {
      fail(`after the restart: ${r.content.status} ${result} count ${r.content.execution_count}`);
    }
    const shutdowns = iopub.slice(before).filter((m) => m.header.msg_type === 'shutdown_reply');
    report.shutdown_reply_on_iopub = shutdowns.length;
    for (const m of shutdowns) if (!m.parent_header?.msg_id) fail('the shutdown_reply on IOPub has an empty parent header');
  }
} catch (e) {
  fail(`test stopped: ${e.message.split('\n')[0]}`);
} finally {
  if (kernel) {
    kernel.iopubMessage.disconnect(onIOPub);
    try { await kernel.shutdown(); } catch (e) { fail(`shutting the kernel down: ${e.message}`); }
  }
  manager.dispose();
}
report.total_ms = Date.now() - started;
report.problems = problems;
console.log(JSON.stringify(report, null, 2));
process.exit(problems.length > 0 ? 1 : 0);
