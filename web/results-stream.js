// Server-sent events read with fetch and parsed here (the format of the HTML standard: "event:"
// and "data:" lines, a blank line ends an event), handed to onEvent(name, data) in slices of at
// most SLICE_MS of work, with a yield to the browser between slices. EventSource dispatches
// every event it has buffered before the page gets a frame: with a fast server and a large
// result (tens of MB), the first results waited for seconds of parsing to be painted, and
// input waited too. Here the browser paints and handles input between slices, whatever the
// rate the stream arrives at. The work per event is that of its own bytes.
const SLICE_MS = 12;

const yieldToBrowser = () => new Promise((resolve) => setTimeout(resolve, 0));

// readEvents(url, { signal, onEvent }) -> { isStream, status }: isStream once a stream has ended
// (the server closed it, or signal aborted it); false for a response that was not a stream
// (an HTTP error: the caller asks the JSON endpoint why). Rejects when the connection fails.
export async function readEvents(url, { signal, onEvent }) {
  const res = await fetch(url, { signal, headers: { Accept: 'text/event-stream' }, cache: 'no-store' });
  if (!res.ok || !/^text\/event-stream\b/.test(res.headers.get('content-type') || '')) {
    res.body?.cancel().catch(() => {});
    return { isStream: false, status: res.status };
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '', from = 0, name = '', data = [];
  let sliceAt = performance.now();
  for (;;) {
    const { value, done } = await reader.read();
    if (done || signal.aborted) break;
    buf += value;
    let start = 0, nl;
    // Only the new text is searched for line ends: a line of megabytes comes in many chunks.
    while ((nl = buf.indexOf('\n', from)) >= 0) {
      let line = buf.slice(start, nl);
      start = from = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line !== '') {
        const c = line.indexOf(':');
        if (c === 0) continue; // a comment
        const field = c < 0 ? line : line.slice(0, c);
        const v = c < 0 ? '' : line.slice(line[c + 1] === ' ' ? c + 2 : c + 1);
        if (field === 'event') name = v;
        else if (field === 'data') data.push(v);
        continue;
      }
      if (data.length) onEvent(name || 'message', data.join('\n'));
      name = '';
      data = [];
      if (signal.aborted) break;
      if (performance.now() - sliceAt > SLICE_MS) {
        await yieldToBrowser();
        if (signal.aborted) break;
        sliceAt = performance.now();
      }
    }
    if (signal.aborted) break;
    buf = buf.slice(start);
    from = buf.length;
  }
  reader.cancel().catch(() => {});
  return { isStream: true, status: res.status };
}
