// A WebSocket that reconnects by itself with capped, jittered backoff.
// `url()` is asked again on every attempt so the caller can add ?after=<seq>.
export class ReconnectingSocket {
  constructor(url, { onFrame, onOpen, onStatus }) {
    this.url = url;
    this.onFrame = onFrame;
    this.onOpen = onOpen || (() => {});
    this.onStatus = onStatus || (() => {});
    this.attempt = 0;
    this.ws = null;
    this.connect();
  }

  connect() {
    this.onStatus(this.attempt ? "Reconnecting…" : "Connecting…", false);
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.onStatus("Connected", true);
      this.onOpen();
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.onFrame(frame);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws || this.stopped) return;
      this.attempt += 1;
      const delay = Math.min(10000, 500 * 2 ** Math.min(this.attempt - 1, 5)) * (0.5 + Math.random() / 2);
      this.onStatus(`Connection lost. Reconnecting in ${Math.ceil(delay / 1000)} s…`, false);
      setTimeout(() => this.connect(), delay);
    });
  }

  // No more reconnecting: the person was removed, or left.
  stop(reason) {
    this.stopped = true;
    this.onStatus(reason, false);
    if (this.ws) this.ws.close();
  }

  get isOpen() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}

export function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

// crypto.randomUUID exists only in secure contexts; a LAN address over http still needs ids.
export function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
