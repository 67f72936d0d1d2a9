// The `bulk` scenario, for benchmarks: an OpenAI-style SSE stream of `bulk_bytes` (request
// body field) made of small events, like a long token stream. Written in batches with
// back-pressure honoured, so the mock is never the bottleneck it measures.
import { corsHeaders } from './wire.mjs';

const EVENT = `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'token ' } }] })}\n\n`;
const BATCH = Buffer.from(EVENT.repeat(Math.ceil(65536 / EVENT.length)), 'utf8');

export function streamBulk(ctx, total) {
  const { res, record } = ctx;
  record.status = 200;
  record.route = 'openai.chat.bulk';
  res.writeHead(200, { ...corsHeaders(ctx), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      const piece = BATCH.subarray(0, Math.min(BATCH.length, total - sent));
      sent += piece.length;
      if (!res.write(piece)) return res.once('drain', pump);
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n');
  };
  pump();
}
