// The `bulk` scenario, for benchmarks: an OpenAI-style SSE stream of `bulk_bytes` (request
// body field) made of small events, like a long token stream. Written in batches with
// back-pressure honoured, so the mock is never the bottleneck it measures. It ends on an
// event boundary with a finish chunk, as a real stream does (a routed stream is parsed).
import { corsHeaders } from './wire.mjs';

const EVENT = `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'token ' } }] })}\n\n`;
const EVENT_BYTES = Buffer.byteLength(EVENT);
const BATCH = Buffer.from(EVENT.repeat(Math.ceil(65536 / EVENT.length)), 'utf8');
const FINISH = `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`;

export function streamBulk(ctx, total) {
  const { res, record } = ctx;
  record.status = 200;
  record.route = 'openai.chat.bulk';
  res.writeHead(200, { ...corsHeaders(ctx), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      const whole = Math.ceil((total - sent) / EVENT_BYTES) * EVENT_BYTES;
      const piece = BATCH.subarray(0, Math.min(BATCH.length, whole));
      sent += piece.length;
      if (!res.write(piece)) return res.once('drain', pump);
    }
    if (!res.destroyed) res.end(`${FINISH}data: [DONE]\n\n`);
  };
  pump();
}
