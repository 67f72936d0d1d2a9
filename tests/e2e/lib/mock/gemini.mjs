// Gemini on the mock: generateContent, streamGenerateContent (SSE or JSON array) and models,
// under /v1beta/ and /v1/.
import { providerError, replyText, sendJson, splitText, streamSse, tokens } from './wire.mjs';


export function gemini(ctx) {
  const { req, url, json } = ctx;
  const m = /^\/(v1beta|v1)\/models(?:\/([^/:]+)(?::([A-Za-z]+))?)?$/.exec(url.pathname);
  if (!m) return providerError(ctx, 'gemini', 404, `Unknown mock route ${req.method} ${url.pathname}`);
  const [, version, model, method] = m;
  if (req.method === 'GET' && !model) {
    ctx.record.route = `gemini.${version}.models`;
    return sendJson(ctx, 200, {
      models: ['gemini-2.5-flash', 'gemini-2.5-pro'].map((id) => ({
        name: `models/${id}`, version: '001', displayName: id, inputTokenLimit: 1048576, outputTokenLimit: 65536,
        supportedGenerationMethods: ['generateContent', 'countTokens'],
      })),
    });
  }
  if (req.method !== 'POST' || (method !== 'generateContent' && method !== 'streamGenerateContent')) {
    return providerError(ctx, 'gemini', 404, `Unknown mock route ${req.method} ${url.pathname}`);
  }
  const body = json ?? {};
  const prompt = geminiPrompt(body.contents);
  const text = replyText(prompt);
  const usageMetadata = {
    promptTokenCount: tokens(prompt),
    candidatesTokenCount: tokens(text),
    totalTokenCount: tokens(prompt) + tokens(text),
  };
  const responseId = `mockresp${ctx.record.id}`;
  const chunk = (t, finish) => ({
    candidates: [{ content: { parts: [{ text: t }], role: 'model' }, ...(finish ? { finishReason: 'STOP' } : {}), index: 0 }],
    usageMetadata: finish ? usageMetadata : { promptTokenCount: usageMetadata.promptTokenCount, totalTokenCount: usageMetadata.promptTokenCount },
    modelVersion: model,
    responseId,
  });
  if (method === 'generateContent') {
    ctx.record.route = `gemini.${version}.generate`;
    return sendJson(ctx, 200, chunk(text, true));
  }
  // Google reads a system parameter under its plain or its `$` name (`alt`, `$alt`).
  if ((url.searchParams.get('alt') ?? url.searchParams.get('$alt')) !== 'sse') {
    // Without alt=sse the stream is one JSON array of the chunks.
    ctx.record.route = `gemini.${version}.stream.json`;
    const pieces = splitText(text);
    return sendJson(ctx, 200, pieces.map((t, i) => chunk(t, i === pieces.length - 1)));
  }
  ctx.record.route = `gemini.${version}.stream`;
  const data = (o) => `data: ${JSON.stringify(o)}\r\n\r\n`;
  // The last piece carries finishReason and the full usage.
  return streamSse(ctx, {
    head: '',
    piece: (t, last) => data(chunk(t, last)),
    tail: () => '',
    text,
    slowPiece: (t) => data(chunk(t, false)),
    slowTail: () => data(chunk('', true)),
  });
}

function geminiPrompt(contents) {
  if (typeof contents === 'string') return contents;
  const list = Array.isArray(contents) ? contents : contents ? [contents] : [];
  const last = list.at(-1);
  if (typeof last === 'string') return last;
  return (last?.parts ?? []).map((p) => p.text ?? '').join('');
}
