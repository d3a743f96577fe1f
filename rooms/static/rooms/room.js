// The room page: live messages, nothing lost across drops, older history on scroll.
import { ReconnectingSocket, uuid4, wsUrl } from "./socket.js";

const config = JSON.parse(document.getElementById("room-config").textContent);
const list = document.getElementById("messages");
const scroller = document.getElementById("scroller");
const olderNote = document.getElementById("older");
const statusEl = document.getElementById("status");
const typingEl = document.getElementById("typing");
const onlineEl = document.getElementById("online");
const onlineCount = document.getElementById("online-count");
const form = document.getElementById("composer");
const input = document.getElementById("body");
const formError = document.getElementById("form-error");
const supportCard = document.getElementById("support-card");
const notice = document.getElementById("notice");
const invite = document.getElementById("invite");

let lastSeq = 0;          // highest seq shown; a jump past lastSeq + 1 means we missed some
let firstSeq = null;      // lowest seq shown, for paging back
let hasOlder = false;
let loadingOlder = false;
let gapFetchPending = false;
const outbox = new Map(); // client_id -> body, until the server echoes it back stored
const online = new Map();
let typingTimer = null;
let lastTypingSent = 0;

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

function messageElement(m, pending = false) {
  const li = document.createElement("li");
  li.className = "message" + (pending ? " pending" : "") + (m.author && m.author.id === config.me.id ? " mine" : "");
  if (m.seq) li.dataset.seq = String(m.seq);
  li.dataset.clientId = m.client_id;
  const meta = document.createElement("div");
  meta.className = "meta";
  const name = document.createElement("span");
  name.className = "author";
  name.textContent = m.author ? m.author.name : config.me.name;
  meta.append(name);
  if (m.author && m.author.role !== "peer") {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = m.author.role === "admin" ? "Admin" : "Facilitator";
    meta.append(badge);
  }
  const time = document.createElement("time");
  if (m.created_at) {
    time.dateTime = m.created_at;
    time.textContent = timeFmt.format(new Date(m.created_at));
  } else {
    time.textContent = "sending…";
  }
  meta.append(time);
  if (m.id && m.author && m.author.id !== config.me.id) {
    const worry = document.createElement("button");
    worry.type = "button";
    worry.className = "worry";
    worry.dataset.messageId = String(m.id);
    worry.textContent = "I'm worried";
    worry.setAttribute("aria-label", `I'm worried about ${m.author.name}`);
    meta.append(worry);
  }
  const body = document.createElement("p");
  body.className = "body";
  body.textContent = m.body; // text, never HTML
  li.append(meta, body);
  return li;
}

function isNearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function insertMessage(m) {
  if (list.querySelector(`li[data-seq="${m.seq}"]`)) return;
  const pending = list.querySelector(`li.pending[data-client-id="${CSS.escape(m.client_id)}"]`);
  if (pending) pending.remove();
  outbox.delete(m.client_id);
  const stick = isNearBottom();
  const el = messageElement(m);
  // Keep seq order even when a replay or gap fill arrives after newer messages.
  const after = [...list.querySelectorAll("li[data-seq]")].find((li) => Number(li.dataset.seq) > m.seq);
  list.insertBefore(el, after || list.querySelector("li.pending"));
  if (firstSeq === null || m.seq < firstSeq) firstSeq = m.seq;
  if (stick) scroller.scrollTop = scroller.scrollHeight;
}

function receiveMessage(m) {
  if (lastSeq > 0 && m.seq > lastSeq + 1 && !gapFetchPending) {
    gapFetchPending = true; // the reply fills the gap and moves lastSeq on
    socket.send({ type: "history.fetch", after: lastSeq, limit: 100 });
  }
  insertMessage(m);
  if (!gapFetchPending) lastSeq = Math.max(lastSeq, m.seq);
}

function renderOnline() {
  onlineEl.replaceChildren(...[...online.values()].sort((a, b) => a.name.localeCompare(b.name)).map((u) => {
    const li = document.createElement("li");
    li.textContent = u.name + (u.role !== "peer" ? ` (${u.role})` : "");
    return li;
  }));
  onlineCount.textContent = String(online.size);
}

function showTyping(user) {
  if (user.id === config.me.id) return;
  typingEl.textContent = `${user.name} is typing…`;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { typingEl.textContent = ""; }, 4000);
}

function flushOutbox() {
  for (const [clientId, body] of outbox) socket.send({ type: "message.send", client_id: clientId, body });
}

function link(href, text, className) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  if (className) a.className = className;
  return a;
}

// A calm card, for the person's eyes only: one primary line for their country, more below it.
function showSupport(offer) {
  document.getElementById("support-text").textContent = offer.text;
  const lines = document.getElementById("support-lines");
  const more = document.getElementById("support-more");
  lines.replaceChildren();
  more.replaceChildren();
  offer.hotlines.forEach((h, i) => {
    const target = i === 0 ? lines : more;
    if (i > 0) target.append(document.createTextNode(i > 1 ? " · " : "Also: "));
    if (h.tel) target.append(link(`tel:${h.tel}`, `Call ${h.name} ${h.phone}`, i === 0 ? "call" : ""));
    if (h.sms) {
      const body = h.sms_body ? `?&body=${encodeURIComponent(h.sms_body)}` : "";
      const label = h.sms_body ? `Text ${h.sms_body} to ${h.sms}` : `Text ${h.sms}`;
      target.append(link(`sms:${h.sms}${body}`, `${label}${h.tel ? "" : ` (${h.name})`}`, i === 0 ? "call" : ""));
    }
    if (!h.tel && !h.sms && h.url) target.append(link(h.url, `${h.name}: find a helpline near you`, i === 0 ? "call" : ""));
  });
  supportCard.hidden = false;
  supportCard.focus();
}

const handlers = {
  "room.state"(f) {
    online.clear();
    f.online.forEach((u) => online.set(u.id, u));
    renderOnline();
    if (lastSeq === 0 && firstSeq === null) hasOlder = f.history.length > 0 && f.history[0].seq > 1;
    f.history.forEach((m) => { insertMessage(m); lastSeq = Math.max(lastSeq, m.seq); });
    if (f.has_more) socket.send({ type: "history.fetch", after: lastSeq, limit: 100 });
    scroller.scrollTop = scroller.scrollHeight;
    flushOutbox(); // resend anything not confirmed before the drop; same client_id, no duplicates
  },
  "message.new"(f) { receiveMessage(f.message); },
  history(f) {
    if (f.before != null) {
      const oldHeight = scroller.scrollHeight;
      f.messages.forEach(insertMessage);
      scroller.scrollTop += scroller.scrollHeight - oldHeight;
      hasOlder = f.has_more;
      loadingOlder = false;
      olderNote.hidden = true;
    } else {
      f.messages.forEach((m) => { insertMessage(m); lastSeq = Math.max(lastSeq, m.seq); });
      gapFetchPending = false;
      if (f.has_more) {
        gapFetchPending = true;
        socket.send({ type: "history.fetch", after: lastSeq, limit: 100 });
      }
    }
  },
  presence(f) {
    if (f.event === "join") online.set(f.user.id, f.user);
    else online.delete(f.user.id);
    renderOnline();
  },
  typing(f) { showTyping(f.user); },
  "support.offer"(f) { showSupport(f); },
  "help.requested"(f) { notice.textContent = f.text; },
  "concern.received"(f) { notice.textContent = f.text; },
  "support.invite"(f) {
    invite.replaceChildren(
      document.createTextNode(`${f.facilitator.name}, a facilitator, would like to talk with you privately. `),
      link(f.room.url, "Join the private chat"),
    );
    invite.hidden = false;
  },
  error(f) {
    formError.textContent = f.detail;
    if (f.client_id && outbox.has(f.client_id) && f.code !== "server_error") {
      outbox.delete(f.client_id);
      const pending = list.querySelector(`li.pending[data-client-id="${CSS.escape(f.client_id)}"]`);
      if (pending) pending.classList.add("failed");
    }
  },
};

const socket = new ReconnectingSocket(
  () => wsUrl(`/ws/rooms/${encodeURIComponent(config.slug)}/`) + (lastSeq ? `?after=${lastSeq}` : ""),
  {
    onFrame(frame) { const h = handlers[frame.type]; if (h) h(frame); },
    onStatus(text, ok) { statusEl.textContent = text; statusEl.classList.toggle("ok", ok); },
  },
);

function send() {
  const body = input.value.trim();
  formError.textContent = "";
  if (!body) return;
  const clientId = uuid4();
  outbox.set(clientId, body);
  list.append(messageElement({ client_id: clientId, body, author: { ...config.me, role: "peer" } }, true));
  scroller.scrollTop = scroller.scrollHeight;
  socket.send({ type: "message.send", client_id: clientId, body }); // queued in outbox if offline
  input.value = "";
}

document.getElementById("help-btn").addEventListener("click", () => socket.send({ type: "help.request" }));
document.getElementById("talk-btn").addEventListener("click", () => socket.send({ type: "help.request" }));
document.getElementById("support-close").addEventListener("click", () => { supportCard.hidden = true; input.focus(); });
list.addEventListener("click", (e) => {
  const worry = e.target.closest("button.worry");
  if (worry && socket.send({ type: "peer.concern", message_id: Number(worry.dataset.messageId) })) {
    worry.disabled = true;
  }
});
form.addEventListener("submit", (e) => { e.preventDefault(); send(); });
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
});
input.addEventListener("input", () => {
  const now = Date.now();
  if (now - lastTypingSent > 3000 && socket.send({ type: "typing" })) lastTypingSent = now;
});
scroller.addEventListener("scroll", () => {
  if (scroller.scrollTop < 40 && hasOlder && !loadingOlder && firstSeq > 1) {
    loadingOlder = true;
    olderNote.hidden = false;
    socket.send({ type: "history.fetch", before: firstSeq, limit: 50 });
  }
});
