// Anthropic on the mock: messages (JSON and SSE) and models.
import { lastText, providerError, replyText, requestId, sendJson, streamSse, tokens } from './wire.mjs';


export function anthropic(ctx) {
  const { req, url, json } = ctx;
  const path = url.pathname;
  if (req.method === 'GET' && path === '/v1/models') {
    ctx.record.route = 'anthropic.models';
    const data = ['claude-sonnet-4-5', 'claude-haiku-4-5'].map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' }));
    return sendJson(ctx, 200, { data, has_more: false, first_id: data[0].id, last_id: data.at(-1).id }, { 'request-id': requestId('req_') });
  }
  if (req.method === 'POST' && path === '/v1/messages') return anthropicMessages(ctx, json ?? {});
  return providerError(ctx, 'anthropic', 404, `Unknown mock route ${req.method} ${path}`);
}

function anthropicMessages(ctx, body) {
  const model = body.model ?? 'claude-sonnet-4-5';
  const prompt = lastText(body.messages);
  const text = replyText(prompt);
  const id = `msg_mock${ctx.record.id}`;
  const usage = { input_tokens: tokens(prompt), output_tokens: tokens(text), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (!body.stream) {
    ctx.record.route = 'anthropic.messages';
    return sendJson(ctx, 200, {
      id, type: 'message', role: 'assistant', model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn', stop_sequence: null, usage,
    }, { 'request-id': requestId('req_') });
  }
  ctx.record.route = 'anthropic.messages.stream';
  const event = (o) => `event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`;
  const head =
    event({ type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }) +
    event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    event({ type: 'ping' });
  const piece = (t) => event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } });
  const tail = () =>
    event({ type: 'content_block_stop', index: 0 }) +
    event({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }) +
    event({ type: 'message_stop' });
  return streamSse(ctx, { head, piece, tail, text, headers: { 'request-id': requestId('req_') } });
}
