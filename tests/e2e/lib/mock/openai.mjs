// OpenAI on the mock: chat completions, responses (foreground and background, retrieved by
// id), models, files (multipart) and speech.
import { streamBulk } from './bulk.mjs';
import { openaiToolAnswer, toolTurn } from './tools.mjs';
import { lastText, parseMultipart, providerError, replyText, requestId, send, sendJson, sha256, speechBytes, streamSse, tokens } from './wire.mjs';


export function openai(ctx) {
  const { req, url, json } = ctx;
  const path = url.pathname;
  if (req.method === 'GET' && path === '/v1/models') {
    ctx.record.route = 'openai.models';
    return sendJson(ctx, 200, {
      object: 'list',
      data: ['gpt-4o-mini', 'gpt-4o', 'tts-1'].map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'openai' })),
    });
  }
  if (req.method === 'POST' && path === '/v1/chat/completions') return openaiChat(ctx, json ?? {});
  if (req.method === 'POST' && path === '/v1/responses') return openaiResponses(ctx, json ?? {});
  const stored = /^\/v1\/responses\/(resp_[A-Za-z0-9_]+)$/.exec(path);
  if (req.method === 'GET' && stored) return openaiRetrieve(ctx, stored[1]);
  if (req.method === 'POST' && path === '/v1/files') return openaiFiles(ctx);
  if (req.method === 'POST' && path === '/v1/audio/speech') {
    ctx.record.route = 'openai.speech';
    const bytes = speechBytes();
    return send(ctx, 200, { 'content-type': 'audio/mpeg', 'x-request-id': requestId() }, bytes);
  }
  return providerError(ctx, 'openai', 404, `Unknown mock route ${req.method} ${path}`);
}

function openaiUsage(promptText, completionText) {
  const prompt_tokens = tokens(promptText);
  const completion_tokens = tokens(completionText);
  return {
    prompt_tokens,
    completion_tokens,
    total_tokens: prompt_tokens + completion_tokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function openaiChat(ctx, body) {
  if (ctx.scenario === 'bulk') return streamBulk(ctx, Number(body.bulk_bytes) || 1 << 20);
  const model = body.model ?? 'gpt-4o-mini';
  const prompt = lastText(body.messages);
  const text = replyText(prompt);
  const id = `chatcmpl-mock${ctx.record.id}`;
  const created = 1700000000;
  const usage = openaiUsage(prompt, text);
  const turn = toolTurn(body);
  if (turn) return openaiToolAnswer(ctx, body, turn, { id, created, model, usage });
  if (!body.stream) {
    ctx.record.route = 'openai.chat';
    return sendJson(ctx, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    }, { 'x-request-id': requestId() });
  }
  ctx.record.route = 'openai.chat.stream';
  const withUsage = Boolean(body.stream_options?.include_usage);
  const chunk = (delta, finish) => ({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', service_tier: 'default',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(withUsage ? { usage: null } : {}),
  });
  const data = (o) => `data: ${JSON.stringify(o)}\n\n`;
  const head = data(chunk({ role: 'assistant', content: '', refusal: null }, null));
  const tail = () => {
    let out = data(chunk({}, 'stop'));
    if (withUsage) out += data({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', choices: [], usage });
    return `${out}data: [DONE]\n\n`;
  };
  return streamSse(ctx, { head, piece: (t) => data(chunk({ content: t }, null)), tail, text });
}

/**
 * Responses created on this mock, by id: `{answer(status), polls, background}`. A background
 * response answers `queued` when created (no usage, as the real API), `in_progress` at its first
 * retrieval and `completed` with its usage from the second on.
 */
const storedResponses = new Map();

function openaiRetrieve(ctx, id) {
  const stored = storedResponses.get(id);
  if (!stored) return providerError(ctx, 'openai', 404, `No response found with id '${id}'.`);
  stored.polls += 1;
  const done = !stored.background || stored.polls > 1;
  ctx.record.route = done ? 'openai.responses.retrieve' : 'openai.responses.retrieve.pending';
  return sendJson(ctx, 200, stored.answer(done ? 'completed' : 'in_progress'), { 'x-request-id': requestId() });
}

function openaiResponses(ctx, body) {
  const model = body.model ?? 'gpt-4o-mini';
  const prompt = typeof body.input === 'string' ? body.input : lastText(body.input);
  const text = replyText(prompt);
  const id = `resp_mock${ctx.record.id}`;
  const msgId = `msg_mock${ctx.record.id}`;
  const created_at = 1700000000;
  const usage = {
    input_tokens: tokens(prompt),
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: tokens(text),
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: tokens(prompt) + tokens(text),
  };
  const message = (t, status) => ({
    type: 'message', id: msgId, status, role: 'assistant',
    content: t === null ? [] : [{ type: 'output_text', text: t, annotations: [], logprobs: [] }],
  });
  const response = (status, output, u) => ({
    id, object: 'response', created_at, status, error: null, incomplete_details: null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null,
    model, output, parallel_tool_calls: true, previous_response_id: null,
    reasoning: { effort: null, summary: null }, store: body.store ?? true, temperature: 1,
    text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: 1,
    truncation: 'disabled', usage: u, user: null, metadata: {}, service_tier: 'default',
    background: body.background === true,
  });
  const finished = (status) => (status === 'completed'
    ? response('completed', [message(text, 'completed')], usage)
    : response(status, [], null));
  storedResponses.set(id, { answer: finished, polls: 0, background: body.background === true });
  if (body.background === true && !body.stream) {
    ctx.record.route = 'openai.responses.background';
    return sendJson(ctx, 200, finished('queued'), { 'x-request-id': requestId() });
  }
  if (!body.stream) {
    ctx.record.route = 'openai.responses';
    return sendJson(ctx, 200, response('completed', [message(text, 'completed')], usage), { 'x-request-id': requestId() });
  }
  ctx.record.route = 'openai.responses.stream';
  let seq = 0;
  const event = (o) => `event: ${o.type}\ndata: ${JSON.stringify({ ...o, sequence_number: seq++ })}\n\n`;
  const head =
    event({ type: 'response.created', response: response('in_progress', [], null) }) +
    event({ type: 'response.in_progress', response: response('in_progress', [], null) }) +
    event({ type: 'response.output_item.added', output_index: 0, item: message(null, 'in_progress') }) +
    event({ type: 'response.content_part.added', item_id: msgId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
  const piece = (t) => event({ type: 'response.output_text.delta', item_id: msgId, output_index: 0, content_index: 0, delta: t, logprobs: [] });
  const tail = (sent) =>
    event({ type: 'response.output_text.done', item_id: msgId, output_index: 0, content_index: 0, text: sent, logprobs: [] }) +
    event({ type: 'response.content_part.done', item_id: msgId, output_index: 0, content_index: 0, part: { type: 'output_text', text: sent, annotations: [], logprobs: [] } }) +
    event({ type: 'response.output_item.done', output_index: 0, item: message(sent, 'completed') }) +
    event({ type: 'response.completed', response: response('completed', [message(sent, 'completed')], usage) });
  return streamSse(ctx, { head, piece, tail, text });
}

function openaiFiles(ctx) {
  ctx.record.route = 'openai.files';
  const type = String(ctx.req.headers['content-type'] ?? '');
  const parts = parseMultipart(ctx.body, type);
  if (!parts) return providerError(ctx, 'openai', 400, 'expected multipart/form-data with a boundary');
  const file = parts.find((p) => p.name === 'file');
  if (!file) return providerError(ctx, 'openai', 400, "multipart body has no 'file' part");
  const purpose = parts.find((p) => p.name === 'purpose')?.data.toString('utf8') ?? null;
  ctx.record.upload = { filename: file.filename, bytes: file.data.length, sha256: sha256(file.data), purpose };
  return sendJson(ctx, 200, {
    id: `file-mock${ctx.record.id}`,
    object: 'file',
    bytes: file.data.length,
    created_at: 1700000000,
    expires_at: null,
    filename: file.filename ?? 'upload',
    purpose: purpose ?? 'user_data',
    status: 'processed',
    status_details: null,
    sha256: sha256(file.data),
    content_type: file.contentType,
  }, { 'x-request-id': requestId() });
}
