// The local bridge as a CLI or agent feels it: one long-running Python process with the
// official `openai` SDK, the same client code pointed at the bridge
// (http://127.0.0.1:PORT/openai/v1, a client token; bridge → native host → extension →
// HTTPS mock) and straight at the HTTPS mock (certificate not checked, `Host:
// api.openai.com` so the mock answers as OpenAI). Python start-up is never timed.
//   - added latency: the same small chat, interleaved pairs, first place alternating;
//   - throughput: a 1 MiB stream of small OpenAI chunks (the mock's bulk scenario) read
//     with `stream=True`, in provider MB/s.
// Both figures include the SDK's own Python work, as users get it: about 2 ms per chat
// (request transform, response models) on top of the HTTP round trip, and about 90 µs
// per streamed event, which caps this stream near 0.5 MB/s on a small machine (raw bytes
// read at tens of MB/s). The throughput ratio thus says whether the bridge keeps up with
// a real client, not where the bridge's own ceiling is.
// The section logs a client in as the E2E suite does (docs/bridge.md) and, at the end,
// logs it out and stops the bridge, so later sections see a worker with no native port.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../e2e/lib/browser.mjs';
import { PROVIDER_HOSTS, replyText } from '../e2e/lib/mock-providers.mjs';
import { waitFor } from '../e2e/lib/wait.mjs';
import { approveNext } from '../e2e/lib/wallet.mjs';
import { summarize } from './stats.mjs';

const KEYFOB = join(REPO_ROOT, 'target', 'debug', 'keyfob');
const PYTHON = join(REPO_ROOT, 'tests', 'e2e', '.venv', 'bin', 'python');
const CLIENT = 'bench-agent';
const PROMPT = 'ping';
const WALLET_KEY = 'Bearer sk-proj-bench-0000000000000000'; // what connectedPage stored
const DIRECT_KEY = 'sk-proj-bench-direct';
const BULK_BYTES = 1 << 20;

// Takes every parameter as one JSON argument, prints one JSON result.
const SCRIPT = `
import json, sys, time
import openai

p = json.loads(sys.argv[1])
clients = {
    "bridge": openai.OpenAI(base_url=p["bridge"], api_key=p["token"], max_retries=0),
    "direct": openai.OpenAI(base_url=p["direct"], api_key=p["directKey"], max_retries=0,
                            http_client=openai.DefaultHttpxClient(verify=False),
                            default_headers={"Host": p["host"]}),
}
messages = [{"role": "user", "content": p["prompt"]}]

def chat(name):
    t0 = time.perf_counter()
    r = clients[name].chat.completions.create(model="gpt-bench", messages=messages)
    ms = (time.perf_counter() - t0) * 1000
    if r.choices[0].message.content != p["expect"]:
        raise SystemExit(f"{name}: unexpected answer {r.choices[0].message.content!r}")
    return ms

def bulk(name):
    t0 = time.perf_counter()
    s = clients[name].chat.completions.create(model="mock-bulk", messages=messages, stream=True,
                                              extra_body={"bulk_bytes": p["bulkBytes"]})
    chunks, finish = 0, None
    for c in s:
        chunks += 1
        if c.choices and c.choices[0].finish_reason:
            finish = c.choices[0].finish_reason
    ms = (time.perf_counter() - t0) * 1000
    return {"ms": ms, "bytes": s.response.num_bytes_downloaded, "chunks": chunks, "finish": finish}

names = ["bridge", "direct"]
for _ in range(p["warm"]):
    for name in names:
        chat(name)
out = {"bridge": [], "direct": [], "bulk": {"bridge": [], "direct": []}}
for i in range(p["n"]):
    for name in (names if i % 2 == 0 else names[::-1]):
        out[name].append(chat(name))
for name in names:
    bulk(name)
for _ in range(p["runs"]):
    for name in names:
        out["bulk"][name].append(bulk(name))
print(json.dumps(out))
`;

/** A free TCP port on 127.0.0.1 (for the bridge: pick it before Chromium starts). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a program to its end: `{code, stdout, stderr}` (never throws on a non-zero exit). */
function run(file, args, env = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 600_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Installs the host into the bench profile, starts the bridge, logs a client in: its token. */
async function loginClient(h, wallet, port, env) {
  const installed = await run(KEYFOB, ['install', '--user-data-dir', h.browser.userDataDir, '--json'], env);
  if (installed.code !== 0) throw new Error(`keyfob install: ${installed.stdout}${installed.stderr}`);
  await wallet.call('bridge.start');
  await waitFor(async () => (await wallet.call('bridge.status')).listening === `127.0.0.1:${port}`, { message: 'the bridge listening' });
  const login = run(KEYFOB, ['login', '--name', CLIENT, '--provider', 'openai', '--json'], env);
  await approveNext(h.browser.context, { providers: ['openai'] });
  const done = await login;
  if (done.code !== 0) throw new Error(`keyfob login: ${done.stdout}${done.stderr}`);
  return JSON.parse(done.stdout).token;
}

export async function measureBridge(h, wallet, { port, n = 200, runs = 3 } = {}) {
  for (const file of [KEYFOB, PYTHON]) if (!existsSync(file)) throw new Error(`${file} is missing`);
  const configDir = await mkdtemp(join(tmpdir(), 'keyfob-bench-config-'));
  const env = { KEYFOB_BRIDGE_PORT: String(port), KEYFOB_CONFIG_DIR: configDir };
  try {
    const token = await loginClient(h, wallet, port, env);
    const viaWallet = () => h.mock.calls(PROVIDER_HOSTS.openai).filter((r) => r.headers.authorization === WALLET_KEY).length;
    const before = viaWallet();
    const params = {
      bridge: `http://127.0.0.1:${port}/openai/v1`, token,
      direct: `https://127.0.0.1:${h.mock.port}/v1`, directKey: DIRECT_KEY, host: PROVIDER_HOSTS.openai,
      prompt: PROMPT, expect: replyText(PROMPT), warm: 20, n, runs, bulkBytes: BULK_BYTES,
    };
    const res = await run(PYTHON, ['-c', SCRIPT, JSON.stringify(params)]);
    if (res.code !== 0) throw new Error(`python: ${res.stderr.slice(-2000)}`);
    const out = JSON.parse(res.stdout);
    // Every bridged call must have reached the mock with the wallet's key (not a shortcut).
    const bridged = viaWallet() - before;
    const expected = params.warm + n + 1 + runs;
    if (bridged !== expected) throw new Error(`${bridged} bridged calls reached the mock with the wallet's key, expected ${expected}`);

    const b = summarize(out.bridge);
    const d = summarize(out.direct);
    const added = summarize(out.bridge.map((ms, i) => ms - out.direct[i]));
    const rate = (r) => r.bytes / 1e6 / (r.ms / 1000);
    const complete = [...out.bulk.bridge, ...out.bulk.direct].every((r) => r.bytes >= BULK_BYTES && r.finish === 'stop');
    if (!complete) console.error(`bench: bridge bulk streams: ${JSON.stringify(out.bulk)}`);
    const br = summarize(out.bulk.bridge.map(rate));
    const dr = summarize(out.bulk.direct.map(rate));
    const mark = complete ? '' : ' (INCOMPLETE)';
    return [
      { metric: 'Python openai chat, direct (HTTPS mock)', unit: 'ms', n, median: d.median, p99: d.p99 },
      { metric: 'Python openai chat, via bridge', unit: 'ms', n, median: b.median, p99: b.p99, ratio: b.median / d.median },
      { metric: 'added by the bridge (per pair, bridge − direct)', unit: 'ms', n, median: added.median, p99: added.p99 },
      { metric: `Python openai SSE 1 MiB, direct (HTTPS mock)${mark}`, unit: 'MB/s', n: runs, median: dr.median },
      { metric: `Python openai SSE 1 MiB, via bridge${mark}`, unit: 'MB/s', n: runs, median: br.median, ratio: br.median / dr.median },
    ];
  } finally {
    await run(KEYFOB, ['logout', '--json'], env);
    await wallet.call('bridge.stop').catch(() => {});
    await rm(configDir, { recursive: true, force: true });
  }
}
