// The console page: the live queue beside the open chat, kept current by server-sent events.
// One EventSource at a time; when it ends (the server closes each stream after about a minute, or the
// network drops) a new one starts from the last event id and the last turn this page has.
import { Assist } from "./assist.js";
import { setupAlertButtons } from "./alerts.js";
import { request } from "./api.js";
import { Chat } from "./chat.js";
import { Queue } from "./queue.js";

const root = document.querySelector("[data-console]");
const api = root.dataset.api;
const chatUrl = root.dataset.chatUrl;
const home = root.dataset.home;
const liveState = document.getElementById("live-state");

const chat = new Chat(api, root);
const assist = new Assist(api, (text) => chat.insert(text));
const queue = new Queue(chatUrl, (id) => openChat(id, true));
// A new question from the citizen: fresh suggested replies for it (debounced: a burst of messages loads once).
let assistTimer = null;
chat.onCitizenTurn = () => {
  window.clearTimeout(assistTimer);
  assistTimer = window.setTimeout(() => { if (chat.id) assist.load(chat.id); }, 800);
};

let source = null;
let lastEventId = null;
let retryTimer = null;
let failures = 0;

function connect() {
  if (source) source.close();
  window.clearTimeout(retryTimer);
  const params = new URLSearchParams();
  if (chat.id) {
    params.set("chat", String(chat.id));
    params.set("turn", String(chat.lastTurnId));
  }
  if (lastEventId !== null) params.set("after", lastEventId);
  source = new EventSource(`${api}/events?${params}`);
  const remember = (event) => {
    if (event.lastEventId) lastEventId = event.lastEventId;
    failures = 0;
    liveState.textContent = "실시간으로 업데이트하고 있어요.";
  };
  source.addEventListener("queue", (event) => {
    remember(event);
    queue.update(JSON.parse(event.data).queue);
  });
  source.addEventListener("chat", (event) => {
    remember(event);
    chat.apply(JSON.parse(event.data));
  });
  source.addEventListener("signed_out", () => {
    source.close();
    window.location.href = "/console/login?next=" + encodeURIComponent(window.location.pathname);
  });
  source.addEventListener("error", () => {
    // The server ended this stream (normal, about once a minute) or the connection dropped: start again.
    source.close();
    failures += 1;
    if (failures > 2) {
      liveState.textContent = "실시간 연결이 끊겼어요. 다시 연결하는 중이에요…";
      request("GET", `${api}/queue`).catch(() => {}); // signed out meanwhile: this goes to the sign-in page
    }
    retryTimer = window.setTimeout(connect, Math.min(1000 * failures, 10000));
  });
}

async function openChat(id, push) {
  if (!(await chat.open(id))) return;
  queue.select(id);
  assist.load(id);
  if (push) window.history.pushState({ chat: id }, "", chatUrl + id);
  connect();
}

window.addEventListener("popstate", (event) => {
  const id = event.state && event.state.chat;
  if (id) openChat(id, false);
  else {
    chat.close();
    queue.select(null);
    assist.clear();
    connect();
  }
});

setupAlertButtons();
chat.loadCanned();
const initial = Number(root.dataset.chatId) || null;
window.history.replaceState({ chat: initial }, "", initial ? chatUrl + initial : home);
if (initial) openChat(initial, false);
else connect();
