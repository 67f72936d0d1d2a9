// Tool calls on the mock's OpenAI chat route, for routed round trips: a request that
// defines tools and whose last user text says `call:NAME` gets a call to NAME with
// `{"city":"Paris"}` (streamed as three argument deltas, as OpenAI splits them); a request
// ending in a tool result gets the text `tool said: RESULT`.
import { corsHeaders, requestId, sendJson } from './wire.mjs';

const ARGUMENT_PIECES = ['{"ci', 'ty": "Pa', 'ris"}'];

/** The tool call or tool-result answer `body` asks for, or null for the usual answer. */
export function toolTurn(body) {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const last = messages.at(-1);
  if (last?.role === 'tool') return { text: `tool said: ${typeof last.content === 'string' ? last.content : JSON.stringify(last.content)}` };
  const said = typeof last?.content === 'string' ? last.content : Array.isArray(last?.content) ? last.content.map((p) => p.text ?? '').join('') : '';
  const name = /call:([A-Za-z0-9_]+)/.exec(said)?.[1];
  if (!name || !Array.isArray(body.tools) || !body.tools.some((t) => t.function?.name === name)) return null;
  return { call: { name, arguments: ARGUMENT_PIECES.join('') } };
}

export function openaiToolAnswer(ctx, body, turn, { id, created, model, usage }) {
  const callId = `call_mock${ctx.record.id}`;
  const message = turn.call
    ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: callId, type: 'function', function: turn.call }] }
    : { role: 'assistant', content: turn.text, refusal: null };
  const finish = turn.call ? 'tool_calls' : 'stop';
  ctx.record.tool = turn.call ? 'call' : 'result';
  if (!body.stream) {
    ctx.record.route = 'openai.chat.tool';
    return sendJson(ctx, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage }, { 'x-request-id': requestId() });
  }
  ctx.record.route = 'openai.chat.tool.stream';
  ctx.record.status = 200;
  const chunk = (delta, finishReason) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
  const deltas = turn.call
    ? [
        { role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: turn.call.name, arguments: '' } }] },
        ...ARGUMENT_PIECES.map((piece) => ({ tool_calls: [{ index: 0, function: { arguments: piece } }] })),
      ]
    : [{ role: 'assistant', content: '' }, { content: turn.text }];
  const events = [...deltas.map((d) => chunk(d, null)), chunk({}, finish)];
  if (body.stream_options?.include_usage) events.push({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
  ctx.res.writeHead(200, { ...corsHeaders(ctx), 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': requestId() });
  ctx.res.end(`${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`);
  return undefined;
}
