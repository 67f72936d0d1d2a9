// The local bridge end to end (docs/bridge.md): the real `keyfob` binary installed as the
// native-messaging host of the test profile, started by the extension, a client logged in
// through the real approval window, then the official Python SDKs (openai, anthropic) and
// curl calling the providers through bridge → extension → HTTPS mock, configured by
// `keyfob env` alone. Proves:
//   - the mock receives the real key; the client only ever held its token, which never
//     goes upstream;
//   - refusals, each typed and with nothing reaching the mock: no token, a wrong token, an
//     Origin header, a foreign Host, a provider not granted, an exceeded budget, a locked
//     wallet, a revoked client;
//   - a client killed mid-stream aborts the upstream request;
//   - the audit log names the client.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from './lib/browser.mjs';
import { startHarness } from './lib/fixture.mjs';
import { PROVIDER_HOSTS, replyText } from './lib/mock-providers.mjs';
import { waitFor } from './lib/wait.mjs';
import { approveNext, openWallet } from './lib/wallet.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const KEYFOB = join(REPO_ROOT, 'target', 'debug', 'keyfob');
const PYTHON = join(here, '.venv', 'bin', 'python');
const PASSWORD = 'e2e bridge wallet: copper kettle 7 meadow';
const RUN = Math.random().toString(36).slice(2, 10);
const KEY = {
  openai: `sk-proj-bridge${RUN}${'o'.repeat(40)}`,
  anthropic: `sk-ant-api03-bridge${RUN}${'a'.repeat(60)}AA`,
};
const CLIENT = 'e2e-agent';
const prompt = (tag) => `${tag}-${RUN} bridged ✓`;

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a program to its end: `{code, stdout, stderr}` (never throws on a non-zero exit). */
function run(file, args, { env = {}, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

describe('bridge: agents and CLIs through the extension', () => {
  let h;
  let wallet;
  let port;
  let configDir;
  let token;
  let envVars;
  const cliEnv = () => ({ KEYFOB_BRIDGE_PORT: String(port), KEYFOB_CONFIG_DIR: configDir });
  const keyfob = (...args) => run(KEYFOB, args, { env: cliEnv() });
  const json = (result) => {
    try {
      return JSON.parse(result.stdout);
    } catch {
      throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
    }
  };
  const base = () => `http://127.0.0.1:${port}`;
  /** curl through the bridge: `{status, body}`. */
  async function curl(path, { headers = {}, body, method = body ? 'POST' : 'GET' } = {}) {
    const args = ['-sS', '--path-as-is', '-X', method, '-o', '-', '-w', '\n%{http_code}'];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    const out = await run('curl', [...args, `${base()}${path}`]);
    const cut = out.stdout.lastIndexOf('\n');
    return { status: Number(out.stdout.slice(cut + 1)), body: out.stdout.slice(0, cut) };
  }
  const chat = (tag, extra = {}) => ({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: prompt(tag) }], ...extra });
  const upstream = (tag) => h.mock.calls().filter((r) => r.bodyText?.includes(`${tag}-${RUN}`));
  const errorCode = (res) => JSON.parse(res.body).error?.code;

  before(async () => {
    assert.ok(existsSync(KEYFOB), `${KEYFOB} is missing: cargo build first`);
    assert.ok(existsSync(PYTHON), `${PYTHON} is missing: scripts/e2e-setup.sh makes it`);
    port = await freePort();
    configDir = await mkdtemp(join(tmpdir(), 'keyfob-e2e-config-'));
    h = await startHarness({ launch: { env: { KEYFOB_BRIDGE_PORT: String(port) } } });
    wallet = await openWallet(h.browser);
    await wallet.create(PASSWORD);
    await wallet.addCredential({ provider: 'openai', label: 'E2E openai', secret: KEY.openai });
    await wallet.addCredential({ provider: 'anthropic', label: 'E2E anthropic', secret: KEY.anthropic });

    // The real installer writes the host manifest into this profile.
    const installed = await keyfob('install', '--user-data-dir', h.browser.userDataDir, '--json');
    assert.equal(installed.code, 0, installed.stderr);
    const manifestPath = join(h.browser.userDataDir, 'NativeMessagingHosts', 'dev.keyfob.bridge.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    assert.deepEqual(manifest.allowed_origins, [`chrome-extension://${h.browser.extensionId}/`], 'the stable id from manifest.json');

    // Nothing is approved yet: the user starts the bridge so a client can log in.
    await wallet.call('bridge.start');
    await waitFor(async () => (await wallet.call('bridge.status')).listening === `127.0.0.1:${port}`, { message: 'the bridge listening' });

    const login = keyfob('login', '--name', CLIENT, '--provider', 'openai', '--provider', 'anthropic', '--json');
    const shown = await approveNext(h.browser.context, { providers: ['openai', 'anthropic'] });
    assert.match(shown.text, new RegExp(CLIENT), 'the window names the client');
    const done = await login;
    assert.equal(done.code, 0, `${done.stdout}\n${done.stderr}`);
    token = json(done).token;
    assert.match(token, /^kf-agent-[A-Za-z0-9_-]{43}$/);
    const file = join(configDir, 'agent-token');
    assert.equal((await readFile(file, 'utf8')).trim(), token);
    assert.equal((await stat(file)).mode & 0o777, 0o600, 'the token file is the user\'s alone');

    const printed = await keyfob('env', '--json');
    assert.equal(printed.code, 0, printed.stderr);
    envVars = json(printed).env;
  });

  after(async () => {
    await h?.teardown();
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  test('keyfob env and keyfob test: the client is set up by environment alone', async () => {
    assert.equal(envVars.OPENAI_BASE_URL, `${base()}/openai/v1`);
    assert.equal(envVars.OPENAI_API_KEY, token);
    assert.equal(envVars.ANTHROPIC_BASE_URL, `${base()}/anthropic`);
    assert.equal(envVars.ANTHROPIC_API_KEY, token);
    assert.equal(envVars.GEMINI_API_KEY, undefined, 'gemini was not granted');
    const text = await keyfob('env');
    assert.match(text.stdout, new RegExp(`^OPENAI_API_KEY=${token}$`, 'm'), 'ready for >> .env');
    const tested = await keyfob('test', '--provider', 'openai', '--json');
    assert.equal(tested.code, 0, `${tested.stdout}\n${tested.stderr}`);
    const models = h.mock.calls(PROVIDER_HOSTS.openai).filter((r) => r.path === '/v1/models');
    assert.ok(models.length >= 1, 'the models list reached OpenAI');
    assert.equal(models.at(-1).headers.authorization, `Bearer ${KEY.openai}`);
    const status = json(await keyfob('status', '--json'));
    assert.equal(status.wallet ?? status.bridge?.wallet, 'unlocked', JSON.stringify(status));
  });

  test('the official Python SDKs work through the bridge, whole and streamed, with the real key upstream only', async () => {
    const script = `
import json, os, sys
import openai, anthropic
p = json.loads(sys.argv[1])
out = {}
oa = openai.OpenAI(max_retries=0)
r = oa.chat.completions.create(model="gpt-4o-mini", max_tokens=16, messages=[{"role": "user", "content": p["oa"]}])
out["oa"] = r.choices[0].message.content
s = oa.chat.completions.create(model="gpt-4o-mini", max_tokens=16, stream=True, messages=[{"role": "user", "content": p["oaStream"]}])
out["oaStream"] = "".join((c.choices[0].delta.content or "") for c in s if c.choices)
an = anthropic.Anthropic(max_retries=0)
m = an.messages.create(model="claude-sonnet-4-5", max_tokens=16, messages=[{"role": "user", "content": p["an"]}])
out["an"] = m.content[0].text
out["anStop"] = m.stop_reason
with an.messages.stream(model="claude-sonnet-4-5", max_tokens=16, messages=[{"role": "user", "content": p["anStream"]}]) as st:
    out["anStream"] = "".join(st.text_stream)
try:
    an.messages.create(model="claude-sonnet-4-5", max_tokens=16, messages=[{"role": "user", "content": "x"}], extra_headers={"x-api-key": "kf-agent-" + "A" * 43})
except anthropic.AuthenticationError as e:
    out["wrongToken"] = e.status_code
print(json.dumps(out))
`;
    const p = { oa: prompt('py-oa'), oaStream: prompt('py-oa-stream'), an: prompt('py-an'), anStream: prompt('py-an-stream') };
    const res = await run(PYTHON, ['-c', script, JSON.stringify(p)], { env: envVars });
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.oa, replyText(p.oa));
    assert.equal(out.oaStream, replyText(p.oaStream));
    assert.equal(out.an, replyText(p.an));
    assert.equal(out.anStop, 'end_turn');
    assert.equal(out.anStream, replyText(p.anStream));
    assert.equal(out.wrongToken, 401, 'a wrong token is the SDK\'s own AuthenticationError');

    for (const tag of ['py-oa', 'py-oa-stream']) {
      const [call] = upstream(tag);
      assert.equal(call.host, PROVIDER_HOSTS.openai);
      assert.equal(call.headers.authorization, `Bearer ${KEY.openai}`);
    }
    for (const tag of ['py-an', 'py-an-stream']) {
      const [call] = upstream(tag);
      assert.equal(call.host, PROVIDER_HOSTS.anthropic);
      assert.equal(call.headers['x-api-key'], KEY.anthropic);
    }
    const leaked = h.mock.calls().filter((r) => JSON.stringify(r.headers).includes(token) || r.bodyText?.includes(token));
    assert.deepEqual(leaked, [], 'the client token went upstream');
  });

  test('curl: a plain POST works with the token in any usual header', async () => {
    for (const [tag, headers] of [
      ['curl-bearer', { authorization: `Bearer ${token}` }],
      ['curl-api-key', { 'api-key': token }],
    ]) {
      const res = await curl('/openai/v1/chat/completions', { headers, body: chat(tag) });
      assert.equal(res.status, 200, res.body);
      assert.equal(JSON.parse(res.body).choices[0].message.content, replyText(prompt(tag)));
      assert.equal(upstream(tag)[0].headers.authorization, `Bearer ${KEY.openai}`);
    }
  });

  test('refusals are typed, and nothing reaches the mock', async () => {
    const cases = [
      ['no-token', '/openai/v1/chat/completions', {}, 401, 'CLIENT_TOKEN_MISSING'],
      ['wrong-token', '/openai/v1/chat/completions', { authorization: `Bearer kf-agent-${'B'.repeat(43)}` }, 401, 'CLIENT_TOKEN_INVALID'],
      ['site-token', '/openai/v1/chat/completions', { authorization: 'Bearer kfs_not-a-client-token' }, 401, 'CLIENT_TOKEN_INVALID'],
      ['origin', '/openai/v1/chat/completions', { authorization: `Bearer ${token}`, origin: 'https://evil.test' }, 403, 'BRIDGE_ORIGIN_REFUSED'],
      ['host', '/openai/v1/chat/completions', { authorization: `Bearer ${token}`, host: 'evil.test' }, 403, 'BRIDGE_HOST_REFUSED'],
      ['not-granted', '/gemini/v1beta/models/gemini-2.5-flash:generateContent', { 'x-goog-api-key': token }, 403, 'PROVIDER_NOT_GRANTED'],
      ['bad-path', '/openai/v1/../../admin', { authorization: `Bearer ${token}` }, 403, 'URL_NOT_ALLOWED'],
    ];
    for (const [tag, path, headers, status, code] of cases) {
      const res = await curl(path, { headers, body: chat(`refuse-${tag}`) });
      assert.equal(res.status, status, `${tag}: ${res.body}`);
      assert.equal(errorCode(res), code, `${tag}: ${res.body}`);
      assert.equal(JSON.parse(res.body).error.source, 'keyfob', tag);
      assert.deepEqual(upstream(`refuse-${tag}`), [], `${tag} reached the mock`);
    }
  });

  test('a client killed mid-stream aborts the upstream request', async () => {
    const tag = 'killed';
    const child = spawn('curl', ['-sS', '-N', '-H', `authorization: Bearer ${token}`, '-H', 'content-type: application/json',
      '--data-binary', JSON.stringify(chat(tag, { model: 'gpt-4o-mock-slow', stream: true })), `${base()}/openai/v1/chat/completions`]);
    let received = '';
    child.stdout.on('data', (d) => {
      received += d;
    });
    await waitFor(() => received.includes('data:'), { message: 'the first streamed event' });
    const [call] = upstream(tag);
    assert.equal(call.closedEarly, false, 'the stream is still open');
    child.kill('SIGKILL');
    await waitFor(() => upstream(tag)[0].closedEarly, { message: 'the upstream request aborted' });
  });

  test('a budget and a locked wallet refuse, with exit code 1 in the CLI', async () => {
    await wallet.call('grants.setPolicy', {
      origin: `client:${CLIENT}`,
      policy: { budgets: [{ period: 'day', maxTokens: 1 }] },
    });
    const over = await curl('/openai/v1/chat/completions', { headers: { authorization: `Bearer ${token}` }, body: chat('over-budget') });
    assert.equal(over.status, 402, over.body);
    assert.equal(errorCode(over), 'BUDGET_EXCEEDED');
    assert.deepEqual(upstream('over-budget'), []);
    await wallet.call('grants.setPolicy', { origin: `client:${CLIENT}`, policy: {} });

    await wallet.lock();
    const locked = await curl('/openai/v1/chat/completions', { headers: { authorization: `Bearer ${token}` }, body: chat('locked') });
    assert.equal(locked.status, 423, locked.body);
    assert.equal(errorCode(locked), 'WALLET_LOCKED');
    const tested = await keyfob('test', '--provider', 'openai');
    assert.equal(tested.code, 1, `${tested.stdout}\n${tested.stderr}`);
    assert.match(tested.stdout + tested.stderr, /WALLET_LOCKED/);
    assert.match(tested.stdout + tested.stderr, /unlock/i);
    await wallet.unlock(PASSWORD);
    assert.deepEqual(upstream('locked'), []);
  });

  test('the audit names the client, and logout revokes its token at once', async () => {
    const records = await waitFor(async () => {
      const { records } = await wallet.call('audit.list', { filter: { origin: `client:${CLIENT}` }, limit: 100 });
      return records.length >= 6 && records;
    }, { message: 'audit records for the client' });
    assert.ok(records.every((r) => r.origin === `client:${CLIENT}`));
    const grants = await wallet.call('grants.list');
    assert.ok(grants.some((g) => g.origin === `client:${CLIENT}` && g.client?.name === CLIENT), 'the popup lists the client');

    const out = await keyfob('logout', '--json');
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
    const after = await curl('/openai/v1/chat/completions', { headers: { authorization: `Bearer ${token}` }, body: chat('revoked') });
    assert.equal(after.status, 401, after.body);
    assert.equal(errorCode(after), 'CLIENT_TOKEN_INVALID');
    assert.deepEqual(upstream('revoked'), []);
    const unknown = await run(KEYFOB, ['test', '--provider', 'openai'], { env: { ...cliEnv(), KEYFOB_AGENT_KEY: token } });
    assert.equal(unknown.code, 1, `${unknown.stdout}\n${unknown.stderr}`);
  });
});
