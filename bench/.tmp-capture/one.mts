const { openaiChatProtocol, anthropicMessagesProtocol } = await import('/work/wt-capture/src/protocols/index.ts');
const { readRecordedEvents } = await import('/work/wt-capture/src/sse/recorded-events.ts');
const { sseFraming } = await import('/work/wt-capture/src/sse/framing.ts');
const { createSseBoundaryScanner } = await import('/work/wt-capture/src/sse/boundary-scanner.ts');
const { measureInterleaved } = await import('/work/wt-capture/bench/lib/measure.ts');
const chunk = (i: number) => JSON.stringify({ id: 'chatcmpl-dYTO8Ycz34Z1g4tuSbDMZxyucS3Zd', object: 'chat.completion.chunk', created: 1708860639, model: 'gpt-4o-mini', service_tier: 'default', system_fingerprint: 'fp_7584cef187', choices: [{ index: 0, delta: { content: ` Crème ${i}` }, logprobs: null, finish_reason: i === 199 ? 'stop' : null }], usage: null });
const text = Array.from({ length: 200 }, (_, i) => `data: ${chunk(i)}\n\n`).join('') + 'data: [DONE]\n\n';
const a = (i: number) => i === 0 ? '{"type":"message_start","message":{"id":"m","type":"message","model":"claude","content":[],"usage":{"input_tokens":3,"output_tokens":1}}}' : i === 1 ? '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}' : `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" word ${i}"}}`;
const atext = Array.from({ length: 200 }, (_, i) => `event: x\ndata: ${a(i)}\n\n`).join('') + 'event: x\ndata: {"type":"content_block_stop","index":0}\n\nevent: x\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}\n\nevent: x\ndata: {"type":"message_stop"}\n\n';
for (const [name, t, proto] of [['openai', text, openaiChatProtocol], ['anthropic', atext, anthropicMessagesProtocol]] as const) {
  const buf = Buffer.from(t); const ends = [...createSseBoundaryScanner().feed(buf)]; const evs = readRecordedEvents(buf, ends);
  if (!proto.inspectRecording!(evs)) throw new Error('not proven ' + name);
  const R = 50;
  const r = measureInterleaved({
    full: () => { let x = 0; for (let i = 0; i < R; i++) x += proto.inspectStream(sseFraming.decode(buf)).complete ? 1 : 0; return x; },
    fast: () => { let x = 0; for (let i = 0; i < R; i++) x += proto.inspectRecording!(readRecordedEvents(buf, ends)) ? 1 : 0; return x; },
  }, { warmups: 10, runs: 31 });
  console.log(name, Object.entries(r).map(([k, v]) => `${k} ${(v.medianMs * 1e6 / R / evs.length).toFixed(0)} ns/event`).join('  '), (r.full.medianMs / r.fast.medianMs).toFixed(2) + 'x');
}
{
  const { JsonCursor } = await import('/work/wt-capture/src/protocols/json-scan.ts');
  const buf = Buffer.from(text); const ends = [...createSseBoundaryScanner().feed(buf)]; const evs = readRecordedEvents(buf, ends);
  const c = new JsonCursor(buf, 0, 0);
  const R = 50;
  const r = measureInterleaved({
    read: () => { let x = 0; for (let i = 0; i < R; i++) x += readRecordedEvents(buf, ends).length; return x; },
    skipOnly: () => { let x = 0; for (let i = 0; i < R; i++) { for (let e = 0; e < evs.length - 1; e++) { c.reset(buf, evs.dataStart(e), evs.dataEnd(e)); x += c.skipValue() ? 1 : 0; } } return x; },
    parseOnly: () => { let x = 0; for (let i = 0; i < R; i++) { for (let e = 0; e < evs.length - 1; e++) { x += JSON.parse(buf.toString('utf8', evs.dataStart(e), evs.dataEnd(e))) ? 1 : 0; } } return x; },
  }, { warmups: 10, runs: 31 });
  console.log('openai parts', Object.entries(r).map(([k, v]) => `${k} ${(v.medianMs * 1e6 / R / evs.length).toFixed(0)} ns/event`).join('  '));
}
