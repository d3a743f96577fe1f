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
const moderator = config.me.role !== "peer";
const muted = new Set();
const REPORT_REASONS = ["harassment", "spam", "unsafe", "other"];

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
  if (m.id) li.dataset.messageId = String(m.id);
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
  if (m.id && m.author) meta.append(messageMenu(m));
  // Facilitators see a hidden message marked as such; its author sees their own words, held, with a
  // calm note, not styled as if they had been censored.
  if (m.hidden) li.classList.add(moderator ? "hidden-msg" : "held-mine");
  if (m.author && muted.has(m.author.id)) li.classList.add("muted-msg");
  li.dataset.authorId = m.author ? String(m.author.id) : "";
  const body = document.createElement("p");
  body.className = "body";
  body.textContent = m.body; // text, never HTML
  li.append(meta, body);
  if (m.hidden && !moderator) { // your own message, held for a facilitator to look at first
    const note = document.createElement("p");
    note.className = "held-note";
    note.textContent = "Only you and the facilitators can see this for now. Someone will be with you soon.";
    li.append(note);
  }
  return li;
}

function action(label, act, extra = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.act = act;
  for (const [k, v] of Object.entries(extra)) b.dataset[k] = String(v);
  return b;
}

// Everything one can do about a message, in a small menu so the conversation stays readable.
function messageMenu(m) {
  const menu = document.createElement("details");
  menu.className = "msg-menu";
  const summary = document.createElement("summary");
  summary.textContent = "⋯";
  summary.setAttribute("aria-label", `Actions for ${m.author.name}'s message`);
  const items = document.createElement("div");
  items.className = "msg-actions";
  const ids = { messageId: m.id, userId: m.author.id, name: m.author.name };
  const mine = m.author.id === config.me.id;
  if (!mine) {
    items.append(action("I'm worried about them", "worry", ids), action("Report…", "report", ids),
      action(muted.has(m.author.id) ? "Unmute" : "Mute (only for me)", "mute", ids));
  }
  if (moderator) {
    items.append(action(m.hidden ? "Restore" : "Hide", m.hidden ? "restore" : "hide", ids), action("Pin", "pin", ids));
    if (!mine && m.author.role === "peer") {
      items.append(action("Time out 10 min", "timeout", ids), action("Remove from room", "kick", ids),
        action("Ban from room", "ban-room", ids), action("Ban from service", "ban-service", ids));
    }
  }
  menu.append(summary, items);
  return menu;
}

function messageItem(id) {
  return list.querySelector(`li[data-message-id="${id}"]`);
}

function showMode(room) {
  const mode = document.getElementById("room-mode");
  const parts = [];
  if (room.locked) parts.push("This room is read-only for now.");
  if (room.slow_mode_seconds) parts.push(`Slow mode: one message every ${room.slow_mode_seconds} s.`);
  mode.textContent = parts.join(" ");
  mode.hidden = parts.length === 0;
  const pinned = document.getElementById("pinned");
  pinned.textContent = room.pinned ? `Pinned: ${room.pinned.author.name}: ${room.pinned.body}` : "Pinned: please read the room guidelines.";
  if (moderator) {
    document.getElementById("mod-tools").hidden = false;
    document.getElementById("lock-btn").textContent = room.locked ? "Unlock room" : "Lock room";
    document.getElementById("lock-btn").dataset.locked = String(room.locked);
    document.getElementById("slow-mode").value = String(room.slow_mode_seconds);
  }
}

function isNearBottom() {
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function insertMessage(m) {
  // A message held for review has no seq (only its author and facilitators get it) until it is
  // restored, when it comes again with the room's next seq and takes its place in the order.
  const held = messageItem(m.id);
  if (held && !held.dataset.seq && m.seq) held.remove();
  else if (m.seq ? list.querySelector(`li[data-seq="${m.seq}"]`) : held) return;
  const pending = list.querySelector(`li.pending[data-client-id="${CSS.escape(m.client_id)}"]`);
  if (pending) pending.remove();
  outbox.delete(m.client_id);
  const stick = isNearBottom();
  const el = messageElement(m);
  // Keep seq order even when a replay or gap fill arrives after newer messages.
  const after = m.seq && [...list.querySelectorAll("li[data-seq]")].find((li) => Number(li.dataset.seq) > m.seq);
  list.insertBefore(el, after || list.querySelector("li.pending"));
  if (m.seq && (firstSeq === null || m.seq < firstSeq)) firstSeq = m.seq;
  if (stick) scroller.scrollTop = scroller.scrollHeight;
}

function receiveMessage(m) {
  if (!m.seq) { insertMessage(m); return; } // held for review: outside the room's order
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

// A server error is the server's problem, not the message's: try again, backing off, same client_id.
const resendTries = new Map();
function resendLater(clientId) {
  const tries = (resendTries.get(clientId) || 0) + 1;
  resendTries.set(clientId, tries);
  setTimeout(() => {
    if (outbox.has(clientId)) socket.send({ type: "message.send", client_id: clientId, body: outbox.get(clientId) });
  }, Math.min(30000, 1000 * 2 ** (tries - 1)));
}

function flushOutbox() {
  for (const [clientId, body] of outbox) socket.send({ type: "message.send", client_id: clientId, body });
}

const alertBanner = document.getElementById("alert-banner");
const pageTitle = document.title;
function showAlertBanner(alert) {
  const who = alert.subject ? alert.subject.name : "someone";
  const where = alert.room ? ` in ${alert.room.name}` : "";
  alertBanner.replaceChildren(
    document.createTextNode(`${alert.level.toUpperCase()} alert: ${who}${where}. `),
    link("/console/", "Open the console"),
  );
  alertBanner.dataset.level = alert.level;
  alertBanner.hidden = false;
  document.title = `(!) ${alert.level} alert · ${pageTitle}`;
}

function shutOut(reason) {
  socket.stop(reason);
  form.querySelector("button").disabled = true;
  input.disabled = true;
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
    muted.clear();
    (f.muted || []).forEach((id) => muted.add(id));
    showMode(f.room);
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
  "message.hidden"(f) {
    const li = messageItem(f.id);
    if (!li) return;
    if (moderator) { li.classList.add("hidden-msg"); li.querySelector("[data-act=hide]")?.replaceWith(action("Restore", "restore", { messageId: f.id })); }
    else li.remove();
  },
  "message.restored"(f) {
    const li = messageItem(f.message.id);
    if (li) li.replaceWith(messageElement(f.message));
    else insertMessage(f.message);
  },
  "room.updated"(f) { showMode(f.room); },
  sanction(f) {
    notice.textContent = f.text;
    if (f.kind === "kick" || f.kind === "ban") shutOut(f.text);
  },
  // Signed out on this device, the account deleted, or access to this room gone: no reconnecting,
  // and the conversation leaves the screen (a shared device shows it to whoever comes next).
  "session.ended"(f) {
    notice.replaceChildren(document.createTextNode(`${f.text} `), link("/login/", "Sign in"));
    list.replaceChildren();
    shutOut(f.text);
  },
  mute(f) {
    if (f.muted) muted.add(f.user_id); else muted.delete(f.user_id);
    list.querySelectorAll(`li[data-author-id="${f.user_id}"]`).forEach((li) => li.classList.toggle("muted-msg", f.muted));
    notice.textContent = f.muted ? "Muted for you. Others still see their messages." : "Unmuted.";
  },
  "report.received"(f) { notice.textContent = f.text; },
  "mod.done"(f) { notice.textContent = `Done: ${f.action}.`; },
  left() { socket.stop("You left this room."); window.location.assign("/"); },
  "support.offer"(f) { showSupport(f); },
  // Facilitators only (their room sockets hear their alerts): never the last to know while reading a room.
  "alert.new"(f) { showAlertBanner(f.alert); },
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
    if (!f.client_id || !outbox.has(f.client_id)) return;
    if (f.code === "server_error") { resendLater(f.client_id); return; }
    outbox.delete(f.client_id);
    const pending = list.querySelector(`li.pending[data-client-id="${CSS.escape(f.client_id)}"]`);
    if (pending) markNotSent(pending, f.client_id, f.detail);
  },
};

// A message the server refused (slow mode, a pause, a locked room ...) says so on its own bubble,
// with why, and lets the person try again or take it away.
function markNotSent(li, clientId, why) {
  li.classList.add("failed");
  li.querySelector("time").textContent = "Not sent";
  li.querySelector(".not-sent")?.remove();
  const note = document.createElement("p");
  note.className = "not-sent";
  note.append(document.createTextNode(`${why} `));
  const retry = action("Retry", "retry");
  const remove = action("Remove", "remove");
  retry.addEventListener("click", () => {
    note.remove();
    li.classList.remove("failed");
    li.querySelector("time").textContent = "sending…";
    const body = li.querySelector(".body").textContent;
    outbox.set(clientId, body);
    socket.send({ type: "message.send", client_id: clientId, body });
  });
  remove.addEventListener("click", () => li.remove());
  note.append(retry, remove);
  li.append(note);
}

const socket = new ReconnectingSocket(
  () => wsUrl(`/ws/rooms/${encodeURIComponent(config.slug)}/`) + (lastSeq ? `?after=${lastSeq}` : ""),
  {
    onFrame(frame) { lastHeardAt = Date.now(); const h = handlers[frame.type]; if (h) h(frame); },
    onStatus(text, ok) { statusEl.textContent = text; statusEl.classList.toggle("ok", ok); },
  },
);

// A room that has said nothing for a while asks for anything after the last message shown: a
// socket can stay open while its process no longer hears the room (the server's fan-out lost
// Redis), and the database has what was said meanwhile. Jittered so idle pages do not ask at once.
let lastHeardAt = Date.now();
const QUIET_MS = 60_000;
setInterval(() => {
  if (socket.isOpen && !gapFetchPending && lastSeq > 0 && Date.now() - lastHeardAt >= QUIET_MS) {
    lastHeardAt = Date.now();
    socket.send({ type: "history.fetch", after: lastSeq, limit: 100 });
  }
}, QUIET_MS / 4 + Math.random() * 5_000);

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
  const b = e.target.closest("button[data-act]");
  if (!b) return;
  const messageId = Number(b.dataset.messageId);
  const userId = Number(b.dataset.userId);
  const ask = (q) => window.prompt(q, "") ?? null;
  const name = b.dataset.name || "this person";
  // Cancel on the reason prompt cancels the action: a mis-tap must never sanction anyone.
  const withReason = (make, question = "Reason (kept in the audit log):") => {
    const reason = ask(question);
    return reason === null ? null : make(reason.trim());
  };
  const frames = {
    worry: () => ({ type: "peer.concern", message_id: messageId }),
    report: () => {
      const reason = ask(`Why are you reporting this? (${REPORT_REASONS.join(", ")})`);
      if (reason === null) return null;
      const r = reason.trim().toLowerCase();
      return { type: "message.report", message_id: messageId, reason: REPORT_REASONS.includes(r) ? r : "other", note: reason };
    },
    mute: () => ({ type: "mute.set", user_id: userId, muted: !muted.has(userId) }),
    hide: () => withReason((reason) => ({ type: "mod.hide", message_id: messageId, reason })),
    restore: () => ({ type: "mod.restore", message_id: messageId }),
    pin: () => ({ type: "mod.pin", message_id: messageId }),
    timeout: () => withReason((reason) => ({ type: "mod.timeout", user_id: userId, seconds: 600, reason })),
    kick: () => withReason((reason) => ({ type: "mod.kick", user_id: userId, reason })),
    "ban-room": () => withReason((reason) => ({ type: "mod.ban", user_id: userId, scope: "room", reason })),
    "ban-service": () => window.confirm(`Ban ${name} from the whole service? They will be removed from every room.`)
      ? withReason((reason) => ({ type: "mod.ban", user_id: userId, scope: "service", reason })) : null,
  };
  const frame = frames[b.dataset.act]?.();
  if (frame && socket.send(frame)) b.closest("details")?.removeAttribute("open");
});
document.getElementById("lock-btn").addEventListener("click", (e) =>
  socket.send({ type: "mod.lock", locked: e.target.dataset.locked !== "true" }));
document.getElementById("slow-mode").addEventListener("change", (e) =>
  socket.send({ type: "mod.slow_mode", seconds: Number(e.target.value) }));
document.getElementById("pin-guidelines").addEventListener("click", () => socket.send({ type: "mod.pin", message_id: null }));
document.getElementById("leave-btn")?.addEventListener("click", () => socket.send({ type: "room.leave" }));
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
