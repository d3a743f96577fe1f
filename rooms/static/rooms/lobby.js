import { ReconnectingSocket, wsUrl } from "./socket.js";

function setCount(slug, n) {
  const el = document.querySelector(`[data-room-count="${CSS.escape(slug)}"]`);
  if (el) el.textContent = String(n);
}

const socket = new ReconnectingSocket(() => wsUrl("/ws/lobby/"), {
  onFrame(frame) {
    if (frame.type === "session.ended") {  // signed out on this device: show what a signed-out visitor sees
      socket.stop(frame.text);
      window.location.reload();
    }
    else if (frame.type === "lobby.state") {
      document.querySelectorAll("[data-room-count]").forEach((el) => {
        el.textContent = String(frame.online[el.dataset.roomCount] || 0);
      });
    } else if (frame.type === "lobby.count") {
      setCount(frame.room, frame.online);
    }
  },
});
