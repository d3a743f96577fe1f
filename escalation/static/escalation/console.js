// The facilitator console: duty, the live alert queue and what to do about each alert.
import { ReconnectingSocket, wsUrl } from "/static/rooms/socket.js";

const list = document.getElementById("alerts");
const empty = document.getElementById("empty");
const count = document.getElementById("alert-count");
const statusEl = document.getElementById("status");
const duty = document.getElementById("duty");
const dutyLabel = document.getElementById("duty-label");
const RANK = { imminent: 3, crisis: 2, distress: 1, none: 0 };
const SOURCE = { detector: "Detector", second_reader: "Second reader", self_referral: "Asked for help", peer_report: "Peer is worried" };
const secondReaderBanner = document.getElementById("second-reader-offline");
const config = JSON.parse(document.getElementById("console-config").textContent);
const alerts = new Map();
let pendingStepIn = null; // the alert this facilitator asked to step into: follow it to the room
let outcomes = [];
let unseen = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter(Boolean));
  return node;
}

function card(a) {
  const li = el("li", { class: `alert level-${a.level}`, "data-alert-id": String(a.id) });
  const when = new Date(a.created_at);
  li.append(el("div", { class: "alert-head" },
    el("span", { class: "level", text: a.level.toUpperCase() }),
    el("span", { class: "source", text: SOURCE[a.source] || a.source }),
    el("span", { class: "who", text: a.subject ? a.subject.name : "(account deleted)" }),
    a.room ? el("a", { href: a.room.url, text: `in ${a.room.name}` }) : null,
    el("time", { datetime: a.created_at, text: when.toLocaleTimeString() }),
    el("span", { class: "state", text: a.status + (a.assignee ? ` by ${a.assignee.name}` : "") }),
  ));
  if (a.reporter) li.append(el("p", { text: `Reported by ${a.reporter.name}` }));
  if (a.signals.length) {
    li.append(el("p", { class: "why" }, el("strong", { text: "Why: " }),
      ...a.signals.map((s) => el("span", {
        class: s.earlier ? "signal earlier" : "signal",
        text: `${s.earlier ? "said earlier, " : ""}${s.category.replace("_", " ")}: “${s.text}”`,
      }))));
  }
  const second = a.second_reader || {};
  if (second.verdict) {
    const pct = `${Math.round(second.score * 100)}%`;
    // Which message it read: the case may have moved on to a later one since.
    const read = (a.context || []).find((m) => m.id === second.message);
    const on = read && a.message && read.id !== a.message.id ? ` on “${read.body.slice(0, 60)}${read.body.length > 60 ? "…" : ""}”` : "";
    const said = {
      raised: `raised this to ${second.level}${on} (the lexicon read ${second.lexicon_level})`,
      agrees: `agrees: ${second.level}${on}`,
      doubts: "likely not a crisis; still yours to check",
    }[second.verdict];
    li.append(el("p", { class: `second-reader verdict-${second.verdict}` },
      el("strong", { text: "Second reader: " }), document.createTextNode(`${said} · crisis-or-worse score ${pct}`)));
  }
  if (a.context.length) {
    const ctx = el("ol", { class: "context", "aria-label": "Messages around it" });
    for (const m of a.context) {
      ctx.append(el("li", { class: a.message && m.id === a.message.id ? "flagged" : "" },
        el("strong", { text: `${m.author.name}: ` }), document.createTextNode(m.body)));
    }
    li.append(ctx);
  }
  const actions = el("div", { class: "actions" });
  if (a.status === "open") {
    actions.append(el("button", { type: "button", "data-action": "ack", text: "Acknowledge" }));
  }
  actions.append(el("button", { type: "button", "data-action": "step_in", text: a.support_room ? "Open private chat" : "Step in" }));
  const select = el("select", { "aria-label": "Outcome" }, ...outcomes.map((o) => el("option", { value: o, text: o.replaceAll("_", " ") })));
  const note = el("input", { type: "text", maxlength: "2000", placeholder: "Note (facilitators only)", "aria-label": "Note" });
  actions.append(select, note, el("button", { type: "button", "data-action": "resolve", text: "Resolve" }));
  li.append(actions);
  if (a.support_room) li.append(el("p", {}, el("a", { href: a.support_room.url, text: "Private support room" })));
  return li;
}

const doubted = (a) => (a.second_reader && a.second_reader.verdict === "doubts" ? 1 : 0);

function showSecondReader(s) {
  if (!s) return;
  secondReaderBanner.hidden = s.online;
  const since = s.last_seen_at ? ` Last seen ${new Date(s.last_seen_at).toLocaleString()}.` : "";
  secondReaderBanner.textContent = s.online ? "" : `The second reader is offline: only the lexicon is reading messages.${since}` +
    (s.refused ? ` It refused to start: ${s.refused}` : "");
}

function render() {
  const ordered = [...alerts.values()].sort((x, y) => (RANK[y.level] - RANK[x.level]) || (doubted(x) - doubted(y)) || x.created_at.localeCompare(y.created_at));
  list.replaceChildren(...ordered.map(card));
  count.textContent = String(ordered.length);
  empty.hidden = ordered.length > 0;
  document.title = (unseen ? `(${unseen}) ` : "") + "Facilitator console · Peer Support Rooms";
}

function upsert(a) {
  if (a.status === "resolved") alerts.delete(a.id);
  else alerts.set(a.id, a);
  render();
}

const socket = new ReconnectingSocket(() => wsUrl("/ws/facilitator/"), {
  onFrame(f) {
    if (f.type === "console.state") {
      reports.clear();
      (f.reports || []).forEach((r) => reports.set(r.id, r));
      renderReports();
      socket.send({ type: "audit.fetch" });
      outcomes = f.outcomes;
      duty.checked = f.on_duty;
      dutyLabel.textContent = f.on_duty ? "On duty" : "Off duty";
      alerts.clear();
      f.alerts.forEach((a) => alerts.set(a.id, a));
      showSecondReader(f.second_reader);
      render();
    } else if (f.type === "screening.status") {
      showSecondReader(f.second_reader);
    } else if (f.type === "alert.new") {
      if (!alerts.has(f.alert.id) && document.hidden) unseen += 1;
      upsert(f.alert);
    } else if (f.type === "alert.updated") {
      upsert(f.alert);
      if (f.alert.support_room && f.alert.assignee && f.alert.assignee.id === config.id && pendingStepIn === f.alert.id) {
        pendingStepIn = null;
        window.location.assign(f.alert.support_room.url);
      }
    } else if (f.type === "report.new" || f.type === "report.updated") {
      if (f.report.closed) reports.delete(f.report.id); else reports.set(f.report.id, f.report);
      renderReports();
    } else if (f.type === "audit") {
      auditRows.replaceChildren(...f.entries.map((e) => el("tr", {},
        el("td", { text: new Date(e.created_at).toLocaleString() }), el("td", { text: e.actor || "" }),
        el("td", { text: e.action }), el("td", { text: e.target || "" }), el("td", { text: e.room || "" }),
        el("td", { text: e.reason || "" }))));
    } else if (f.type === "duty") {
      duty.checked = f.on_duty;
      dutyLabel.textContent = f.on_duty ? "On duty" : "Off duty";
    } else if (f.type === "error") {
      statusEl.textContent = f.detail;
    } else if (f.type === "session.ended") {
      socket.stop(f.text);  // signed out, deleted or no longer a facilitator: no reconnecting
    }
  },
  onStatus(text, ok) { statusEl.textContent = text; statusEl.classList.toggle("ok", ok); },
});

const reports = new Map();
const reportList = document.getElementById("reports");
const auditRows = document.getElementById("audit-rows");

function renderReports() {
  reportList.replaceChildren(...[...reports.values()].map((r) => el("li", { class: "report", "data-report-id": String(r.id) },
    el("p", {}, el("strong", { text: r.reason }), document.createTextNode(` from ${r.reporter ? r.reporter.name : "someone"}: `),
      document.createTextNode(r.note || "")),
    el("p", { class: "reported" }, el("strong", { text: `${r.message.author.name} in ${r.message.room}: ` }),
      document.createTextNode(r.message.body)),
    el("p", {}, el("a", { href: `/rooms/${r.message.room}/`, text: "Open the room" }), document.createTextNode(" "),
      el("button", { type: "button", "data-close-report": String(r.id), text: "Close report" })))));
  document.getElementById("report-count").textContent = String(reports.size);
}

reportList.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-close-report]");
  if (b) socket.send({ type: "report.close", report_id: Number(b.dataset.closeReport) });
});
document.getElementById("audit-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  const data = new FormData(e.target);
  const frame = { type: "audit.fetch" };
  for (const k of ["action", "room", "person"]) if (data.get(k)) frame[k] = data.get(k);
  socket.send(frame);
});

duty.addEventListener("change", () => socket.send({ type: "duty.set", on_duty: duty.checked }));
document.addEventListener("visibilitychange", () => { if (!document.hidden) { unseen = 0; render(); } });
list.addEventListener("click", (e) => {
  const button = e.target.closest("button[data-action]");
  if (!button) return;
  const item = button.closest("[data-alert-id]");
  const id = Number(item.dataset.alertId);
  const action = button.dataset.action;
  if (action === "ack") socket.send({ type: "alert.ack", alert_id: id });
  if (action === "step_in") {
    const a = alerts.get(id);
    if (a && a.support_room) { window.location.assign(a.support_room.url); return; }
    pendingStepIn = id;
    socket.send({ type: "alert.step_in", alert_id: id });
  }
  if (action === "resolve") {
    socket.send({ type: "alert.resolve", alert_id: id, outcome: item.querySelector("select").value, note: item.querySelector("input").value });
  }
});
