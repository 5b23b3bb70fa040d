// One open chat: the whole masked transcript, the actions (claim, reply, transfer, return, close), typing,
// canned responses and internal notes. Live updates arrive through Chat.apply (console.js).
import { announce, el, formatTime, formatWait, request } from "./api.js";

const TYPING_SHOWN_MS = 6000;
const TYPING_PING_MS = 3000;
const CHANNELS = { web: "웹 위젯", kakao: "카카오톡", api: "API" };

function sourceList(sources) {
  if (!sources || !sources.length) return null;
  return el("ul", { class: "sources", "aria-label": "출처" }, sources.map((s) => el(
    "li", {},
    s.url ? el("a", { href: s.url, target: "_blank", rel: "noopener noreferrer", text: s.title }) : s.title,
    s.location ? ` · ${s.location}` : "",
    s.updated_at ? ` (${s.updated_at} 확인)` : "",
  )));
}

function turnItem(turn) {
  const who = [el("span", { text: turn.role === "agent" ? `상담원 ${turn.author}` : turn.role_label })];
  if (turn.role === "bot") who.push(el("span", { class: "mode", text: turn.pending ? "작성 중" : turn.mode_label }));
  if (turn.crisis) who.push(el("span", { class: "badge urgent", text: "위기 안내" }));
  if (turn.feedback === "down") who.push(el("span", { text: "👎 시민이 도움 안 됨 표시" }));
  who.push(el("time", { datetime: turn.created_at, text: formatTime(turn.created_at) }));
  const classes = ["msg", turn.role, turn.crisis ? "crisis" : ""].join(" ").trim();
  return el("li", { class: classes, "data-turn": String(turn.id) }, el("span", { class: "who" }, who), el("p", { text: turn.text }), sourceList(turn.sources));
}

export class Chat {
  constructor(api, root) {
    this.api = api;
    this.me = Number(root.dataset.me);
    this.role = root.dataset.role;
    this.id = null;
    this.handoff = null;
    this.turns = new Map();
    this.lastPing = 0;
    this.typingTimer = null;
    this.$ = (id) => document.getElementById(id);
    this.wire();
  }

  get lastTurnId() {
    return this.turns.size ? Math.max(...this.turns.keys()) : 0;
  }

  holds() {
    const h = this.handoff;
    return Boolean(h && h.state === "with_agent" && (h.agent_id === this.me || this.role === "admin"));
  }

  async open(id) {
    this.$("chat-error").textContent = "";
    this.$("action-status").textContent = "";
    let data;
    try {
      data = await request("GET", `${this.api}/chats/${id}`);
    } catch (error) {
      this.$("chat-error").textContent = error.message;
      this.$("chat-body").hidden = true;
      return false;
    }
    this.id = id;
    this.turns = new Map();
    this.$("transcript").replaceChildren();
    this.$("reply-text").value = "";
    this.$("transfer-agent").replaceChildren(...data.agents.map((a) => el("option", { value: String(a.id), text: a.name })));
    this.$("close-reasons").replaceChildren(...data.close_reasons.map((reason, index) => el(
      "label", {}, el("input", { type: "radio", name: "reason", value: reason, checked: index === 0 }), ` ${reason}`,
    )));
    this.$("chat-empty").hidden = true;
    this.$("chat-body").hidden = false;
    this.$("notes-panel").hidden = false;
    this.apply(data, false);
    this.$("chat-title").focus();
    return true;
  }

  close() {
    this.id = null;
    this.handoff = null;
    this.$("chat-body").hidden = true;
    this.$("notes-panel").hidden = true;
    this.$("chat-empty").hidden = false;
    this.$("chat-title").textContent = "대화";
  }

  // A chat payload or a live update: {handoff, turns, notes}.
  apply(update, live = true) {
    if (!update || !update.handoff || update.handoff.id !== this.id) return;
    const before = this.handoff;
    this.handoff = update.handoff;
    const list = this.$("transcript");
    const scroller = this.$("transcript-log");
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    for (const turn of update.turns || []) {
      const item = turnItem(turn);
      const existing = list.querySelector(`[data-turn="${turn.id}"]`);
      if (existing) existing.replaceWith(item);
      else {
        // Keep the transcript in turn order whichever way a turn arrives (the reply response or the live stream).
        const later = [...list.children].find((node) => Number(node.dataset.turn) > turn.id);
        if (later) list.insertBefore(item, later);
        else list.append(item);
      }
      if (!this.turns.has(turn.id) && live && turn.role === "citizen") {
        announce(`시민의 새 메시지: ${turn.text}`);
        this.showTyping(false);
        if (this.onCitizenTurn) this.onCitizenTurn();
      }
      this.turns.set(turn.id, turn);
    }
    if (!live || nearBottom) scroller.scrollTop = scroller.scrollHeight;
    if (update.notes) this.renderNotes(update.notes);
    if (this.handoff.citizen_typing) this.showTyping(true);
    this.renderHead();
    if (live && before && before.state !== this.handoff.state) {
      announce(`상담 ${this.id}번 상태가 '${this.handoff.state_label}'(으)로 바뀌었어요.`);
    }
  }

  showTyping(on) {
    const node = this.$("typing");
    window.clearTimeout(this.typingTimer);
    node.textContent = on ? "시민이 입력 중…" : "";
    if (on) this.typingTimer = window.setTimeout(() => { node.textContent = ""; }, TYPING_SHOWN_MS);
  }

  renderHead() {
    const h = this.handoff;
    this.$("chat-title").textContent = `상담 #${h.id} · ${h.reason_label}`;
    const badges = [];
    if (h.urgent) badges.push(el("span", { class: "badge urgent", text: "긴급" }));
    if (h.escalated && h.state === "waiting") badges.push(el("span", { class: "badge escalated", text: "⚠ 대기 시간 초과" }));
    badges.push(el("span", { class: "badge state", text: h.state_label }));
    this.$("chat-badges").replaceChildren(...badges);
    const holder = h.agent_name ? ` · 담당: ${h.agent_name}` : "";
    const closed = h.close_reason ? ` · 종료 사유: ${h.close_reason}` : "";
    this.$("chat-meta").textContent = `${CHANNELS[h.channel] || h.channel} · 대기 ${formatWait(h.waiting_s)}${holder}${closed}`;
    const holds = this.holds();
    const ended = !["waiting", "with_agent"].includes(h.state);
    this.$("claim-button").hidden = h.state !== "waiting";
    this.$("transfer-form").hidden = !holds || !this.$("transfer-agent").options.length;
    this.$("return-button").hidden = !holds;
    this.$("close-button").hidden = ended || (h.state === "with_agent" && !holds);
    this.$("reply-send").disabled = !holds;
    this.$("reply-text").readOnly = ended;
    const hint = holds
      ? "Enter로 보내고, Shift+Enter로 줄을 바꿔요."
      : h.state === "waiting" ? "먼저 '이 상담 맡기'를 눌러야 답장을 보낼 수 있어요."
      : h.state === "with_agent" ? `${h.agent_name || "다른 상담원"}님이 맡은 상담이에요. 메모는 남길 수 있어요.`
      : "끝난 상담이에요. 기록과 메모만 볼 수 있어요.";
    this.$("reply-hint").textContent = hint;
  }

  renderNotes(notes) {
    this.$("notes-list").replaceChildren(...notes.map((n) => el(
      "li", {}, el("strong", { text: n.author }), " ", el("time", { datetime: n.created_at, text: formatTime(n.created_at, true) }), el("br"), n.text,
    )));
    this.$("notes-empty").hidden = notes.length > 0;
  }

  async act(path, body, done) {
    const status = this.$("action-status");
    status.textContent = "";
    this.$("chat-error").textContent = "";
    try {
      const data = await request("POST", `${this.api}/chats/${this.id}/${path}`, body);
      if (data && data.handoff) this.apply({ handoff: data.handoff, turns: data.turn ? [data.turn] : [] });
      if (done) status.textContent = done;
      return data;
    } catch (error) {
      this.$("chat-error").textContent = error.message;
      return null;
    }
  }

  insert(text) {
    const box = this.$("reply-text");
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.setSelectionRange(start + text.length, start + text.length);
    this.$("action-status").textContent = "답장 창에 넣었어요. 고친 뒤 보내 주세요.";
  }

  async loadCanned() {
    try {
      const data = await request("GET", `${this.api}/canned`);
      this.canned = data.canned;
      this.$("canned-select").replaceChildren(
        el("option", { value: "", text: data.canned.length ? "상용구 고르기" : "등록된 상용구 없음" }),
        ...data.canned.map((c) => el("option", { value: String(c.id), text: c.title })),
      );
    } catch (error) {
      this.canned = [];
    }
  }

  wire() {
    this.$("claim-button").addEventListener("click", () => this.act("claim", {}, "상담을 맡았어요. 이제 답장을 보낼 수 있어요.").then((d) => {
      if (d) this.$("reply-text").focus();
    }));
    this.$("return-button").addEventListener("click", () => this.act("return", {}, "챗봇에게 돌려보냈어요. 시민에게도 알렸어요."));
    this.$("transfer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const select = this.$("transfer-agent");
      const name = select.selectedOptions[0] ? select.selectedOptions[0].textContent : "";
      this.act("transfer", { agent_id: Number(select.value) }, `${name}님에게 넘겼어요.`);
    });
    const reply = this.$("reply-text");
    this.$("reply-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = reply.value.trim();
      if (!text || !this.holds()) return;
      const data = await this.act("reply", { text }, "보냈어요.");
      if (data) reply.value = "";
    });
    reply.addEventListener("keydown", (event) => {
      // Enter sends; Shift+Enter is a new line; Enter that ends a Korean IME composition only commits it.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        this.$("reply-form").requestSubmit();
      }
    });
    reply.addEventListener("input", () => {
      if (!this.holds() || Date.now() - this.lastPing < TYPING_PING_MS) return;
      this.lastPing = Date.now();
      request("POST", `${this.api}/chats/${this.id}/typing`, {}).catch(() => {});
    });
    this.$("canned-insert").addEventListener("click", () => {
      const chosen = (this.canned || []).find((c) => String(c.id) === this.$("canned-select").value);
      if (chosen) this.insert(chosen.text);
      else this.$("action-status").textContent = "넣을 상용구를 먼저 골라 주세요.";
    });
    this.$("note-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = this.$("note-text");
      if (!box.value.trim()) return;
      const data = await this.act("note", { text: box.value }, "메모를 남겼어요. 시민에게는 보이지 않아요.");
      if (data) {
        box.value = "";
        this.renderNotes(data.notes);
      }
    });
    const dialog = this.$("close-dialog");
    this.$("close-button").addEventListener("click", () => {
      this.$("close-error").textContent = "";
      dialog.showModal();
    });
    this.$("close-cancel").addEventListener("click", () => dialog.close());
    this.$("close-other").addEventListener("input", () => {
      const other = dialog.querySelector('input[value="__other"]');
      if (other) other.checked = true;
    });
    this.$("close-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const picked = dialog.querySelector('input[name="reason"]:checked');
      let reason = picked ? picked.value : "";
      if (reason === "__other") reason = this.$("close-other").value.trim();
      if (!reason) {
        this.$("close-error").textContent = "종료 사유를 고르거나 직접 써 주세요.";
        return;
      }
      const data = await this.act("close", { reason }, "상담을 종료했어요. 시민에게도 알렸어요.");
      if (data) dialog.close();
      else this.$("close-error").textContent = this.$("chat-error").textContent;
    });
  }
}
