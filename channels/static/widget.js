/*
 * 복지 안내 챗봇 website widget. A city page embeds it with one tag:
 *   <script src="https://<chatbot server>/widget.js" defer></script>
 * Optional attributes: data-base (server URL when it is not the script's origin), data-title.
 * Vanilla JavaScript, no build step, no request to any server but ours. The widget lives in a shadow
 * root so the host page's styles cannot break it (and ours cannot leak into the page).
 */
(function () {
  "use strict";
  if (window.__bokjiWidgetLoaded) return;
  window.__bokjiWidgetLoaded = true;

  const script = document.currentScript;
  const base = new URL((script && script.getAttribute("data-base")) || (script ? "/" : "./"),
    script ? script.src : location.href).href;
  const TITLE = (script && script.getAttribute("data-title")) || "복지 안내 챗봇";
  const TIMEOUT_MS = 30000;
  // A streamed answer that sends nothing for this long is looked up in the history instead.
  const STREAM_IDLE_MS = 60000;
  const RECORDED_POLL_MS = 3000;
  const RECORDED_TRIES = 20;
  const HUMAN_PAYLOAD = "/request_human";
  const CANCEL_PAYLOAD = "/cancel_handoff";
  // While a person is asked for or answering: their typing shows this long after the last keystroke
  // news, and the citizen's own typing is reported at most this often.
  const AGENT_TYPING_MS = 6000;
  const TYPING_PING_MS = 3000;
  const EVENTS_RETRY_MS = 5000;
  // On a shared computer (library, 주민센터 kiosk) the next person must not see this conversation.
  const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
  // The server issues the session; its token goes with every request (EventSource: in the URL).
  const SESSION_HEADER = "X-Bokji-Session";
  const SESSION_LOST = ["session_expired", "invalid_session", "session_required"];
  const TEXT = {
    launcher: "복지 상담",
    launcherLabel: "복지 상담: " + TITLE + " 열기",  // starts with the visible text (WCAG 2.5.3 label in name)
    close: "채팅 닫기",
    large: "글자 크게",
    contrast: "고대비",
    human: "상담원 연결",
    humanRequested: "상담원 연결 요청됨",
    humanWithAgent: "상담원과 상담 중",
    humanAlreadyWaiting: "상담원 연결을 이미 요청했어요. 상담원이 들어오면 이 창에서 바로 알려 드릴게요.",
    humanAlreadyHere: "지금 상담원과 대화하고 있어요. 아래 입력창에 메시지를 적어 주세요.",
    agent: "상담원",
    agentTyping: "상담원이 입력하고 있어요…",
    reset: "새 대화",
    resetLabel: "새 대화 시작 (지금 대화는 이 화면에서 지워져요)",
    resetDone: "새 대화를 시작했어요. 이전 대화는 이 화면에서 지웠어요.",
    send: "보내기",
    inputLabel: "질문 입력",
    placeholder: "무엇이 궁금하세요?",
    privacy: "주민등록번호, 전화번호 같은 개인정보는 적지 말아 주세요.",
    typing: "답변을 준비하고 있어요",
    writing: "답변을 작성하고 있어요",
    you: "나: ",
    bot: "챗봇: ",
    source: "출처: ",
    asOf: " 기준",
    newWindow: " (새 창)",
    quickGroup: "추천 질문",
    rateGroup: "이 답변이 도움이 되었나요?",
    rateUp: "도움이 됐어요",
    rateDown: "도움이 안 됐어요",
    rated: "의견 고마워요. 더 나은 안내에 활용할게요.",
    rateFailed: "의견을 보내지 못했어요. 잠시 후 다시 눌러 주세요.",
    offline: "지금 서버에 연결할 수 없어요. 인터넷 연결을 확인하시고 잠시 후 다시 시도해 주세요.",
    failed: "죄송해요. 답변을 받지 못했어요. 잠시 후 다시 시도해 주세요.",
    retry: "다시 시도",
    busy: "앞선 질문의 답변을 기다리고 있어요. 잠시만 기다려 주세요.",
    historyFailed: "이전 대화를 불러오지 못했어요. 새 질문은 그대로 보내실 수 있어요.",
    sessionExpired: "대화를 시작한 지 오래되어 새 대화로 이어서 안내해 드릴게요. 이전 대화 내용은 이어지지 않아요.",
    welcome: "안녕하세요. " + TITLE + "이에요. 기초연금, 주거급여, 아동수당처럼 궁금한 복지 제도를 편하게 물어봐 주세요.",
    opened: "채팅 창이 열렸어요.",
    largeOn: "글자를 크게 보여 드려요.",
    largeOff: "글자 크기를 원래대로 돌렸어요.",
    contrastOn: "고대비 화면으로 바꿨어요.",
    contrastOff: "기본 화면으로 바꿨어요."
  };
  const WELCOME_REPLIES = [
    { title: "기초연금 얼마 받나요?", payload: "기초연금 얼마 받을 수 있어요?" },
    { title: "주거급여가 뭐예요?", payload: "주거급여가 뭐예요?" },
    { title: "아동수당 신청 방법", payload: "아동수당 어떻게 신청해요?" }
  ];

  // Storage that survives reloads; falls back to memory where the browser blocks it.
  const memory = {};
  const store = {
    get(key) {
      try { return window.localStorage.getItem("bokji.widget." + key); } catch (e) { return memory[key] || null; }
    },
    set(key, value) {
      try { window.localStorage.setItem("bokji.widget." + key, value); } catch (e) { memory[key] = value; }
    }
  };

  // The conversation's token, issued by the server (POST api/v1/widget/session) on the first request.
  let token = store.get("token") || null;
  const lastSeen = Number(store.get("seen") || 0);
  if (!token || Date.now() - lastSeen > SESSION_IDLE_MS) forgetSession();
  store.set("seen", String(Date.now()));

  function forgetSession() {
    token = null;
    store.set("token", "");
    store.set("session", "");
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (value === false || value === null || value === undefined) return;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach((child) => child && node.appendChild(child));
    return node;
  }

  // Icons are inline SVG (no emoji font or image request needed); always decorative.
  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    up: "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 " +
      "2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",
    down: "M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 " +
      "2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z"
  };
  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "bw-icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, base);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  // ---- DOM -----------------------------------------------------------------------------------------
  // Hidden through the CSS object model, not a style attribute: a host page's CSP may forbid inline styles.
  const host = el("div", { id: "bokji-widget" });
  host.style.visibility = "hidden";
  const root = host.attachShadow({ mode: "open" });
  const css = el("link", { rel: "stylesheet", href: new URL("static/widget.css", base).href });
  css.addEventListener("load", () => { host.style.visibility = ""; });
  css.addEventListener("error", () => { host.style.visibility = ""; });

  const status = el("p", { class: "bw-sr", role: "status", "aria-live": "polite" });
  // The messages are a real list inside the live region (role="log" on the list itself would take its list role away).
  const log = el("ol", { class: "bw-messages" });
  const logRegion = el("div", {
    class: "bw-log", role: "log", "aria-live": "polite", "aria-label": "대화 내용", tabindex: "0"
  }, [log]);
  const typing = el("div", { class: "bw-typing", hidden: true, "aria-hidden": "true" }, [
    el("span", { class: "bw-dots" }, [el("span"), el("span"), el("span")]),
    el("span", { text: TEXT.typing })
  ]);
  // Not a live region: a screen reader hears the agent's message itself, not every pause in their typing.
  const agentTyping = el("div", { class: "bw-agent-typing", hidden: true }, [
    el("span", { class: "bw-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
    el("span", { text: TEXT.agentTyping })
  ]);
  const input = el("textarea", {
    id: "bw-input", class: "bw-input", rows: "1", maxlength: "1000", placeholder: TEXT.placeholder, autocomplete: "off"
  });
  const sendButton = el("button", { type: "submit", class: "bw-send", text: TEXT.send });
  const form = el("form", { class: "bw-form", novalidate: true }, [
    el("label", { for: "bw-input", class: "bw-sr", text: TEXT.inputLabel }), input, sendButton
  ]);
  const humanButton = el("button", { type: "button", class: "bw-human", text: TEXT.human });
  const resetButton = el("button", { type: "button", class: "bw-reset", "aria-label": TEXT.resetLabel, text: TEXT.reset });
  const largeButton = el("button", { type: "button", class: "bw-tool", "aria-pressed": "false", text: TEXT.large });
  const contrastButton = el("button", { type: "button", class: "bw-tool", "aria-pressed": "false", text: TEXT.contrast });
  const closeButton = el("button", { type: "button", class: "bw-close", "aria-label": TEXT.close }, [
    el("span", { "aria-hidden": "true", text: "×" })
  ]);
  const panel = el("section", {
    id: "bw-panel", class: "bw-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "bw-title", hidden: true
  }, [
    el("header", { class: "bw-header" }, [
      el("h2", { id: "bw-title", class: "bw-title", text: TITLE }),
      el("div", { class: "bw-tools" }, [largeButton, contrastButton, closeButton])
    ]),
    logRegion,
    typing,
    agentTyping,
    el("div", { class: "bw-actions" }, [resetButton, humanButton]),
    form,
    el("p", { class: "bw-privacy", text: TEXT.privacy }),
    status
  ]);
  const launcher = el("button", {
    type: "button", class: "bw-launcher", "aria-expanded": "false", "aria-controls": "bw-panel", "aria-label": TEXT.launcherLabel
  }, [
    icon("chat"),
    el("span", { class: "bw-launcher-text", text: TEXT.launcher })
  ]);
  const frame = el("div", { class: "bw" }, [launcher, panel]);
  root.append(css, frame);

  function announce(message) {
    status.textContent = "";
    window.setTimeout(() => { status.textContent = message; }, 50);
  }

  // ---- preferences ---------------------------------------------------------------------------------
  function applyPref(name, on, button, speak) {
    frame.classList.toggle("bw-" + name, on);
    button.setAttribute("aria-pressed", on ? "true" : "false");
    store.set(name, on ? "1" : "0");
    if (speak) announce(on ? TEXT[name + "On"] : TEXT[name + "Off"]);
  }
  applyPref("large", store.get("large") === "1", largeButton, false);
  applyPref("contrast", store.get("contrast") === "1", contrastButton, false);
  largeButton.addEventListener("click", () => applyPref("large", !frame.classList.contains("bw-large"), largeButton, true));
  contrastButton.addEventListener("click", () =>
    applyPref("contrast", !frame.classList.contains("bw-contrast"), contrastButton, true));

  // ---- rendering -----------------------------------------------------------------------------------
  const reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function scrollToEnd() { logRegion.scrollTop = logRegion.scrollHeight; }

  function addCitizen(text) {
    const item = el("li", { class: "bw-msg bw-citizen" }, [
      el("span", { class: "bw-sr", text: TEXT.you }),
      el("p", { class: "bw-text", text: text })
    ]);
    log.appendChild(item);
    scrollToEnd();
    return item;
  }

  function sourcesBlock(sources) {
    if (!sources || !sources.length) return null;
    return el("ul", { class: "bw-sources" }, sources.map((s) => {
      const url = safeUrl(s.url);
      const title = url
        ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, [
          document.createTextNode(s.title), el("span", { class: "bw-sr", text: TEXT.newWindow })])
        : document.createTextNode(s.title);
      // A document passage says where it is: "출처: 안내서 (3쪽 · 2. 지원 대상) · 2026-11-01 기준".
      return el("li", {}, [
        document.createTextNode(TEXT.source), title,
        s.location ? el("span", { class: "bw-loc", text: " (" + s.location + ")" }) : null,
        s.updated_at ? el("span", { class: "bw-date", text: " · " + s.updated_at + TEXT.asOf }) : null
      ]);
    }));
  }

  function quickReplies(buttons) {
    if (!buttons || !buttons.length) return null;
    return el("div", { class: "bw-quick", role: "group", "aria-label": TEXT.quickGroup }, buttons.map((b) =>
      el("button", {
        type: "button", class: "bw-chip", text: b.title, "data-cancel": b.payload === CANCEL_PAYLOAD,
        onclick: () => send(b.payload || b.title, b.title)
      })));
  }

  function ratingBlock(message) {
    if (!message.id || message.handoff_state) return null;  // a notice of what happens next is not an answer to rate
    const up = el("button", { type: "button", class: "bw-rate-btn", "aria-pressed": "false", "data-rating": "up" }, [
      icon("up"), el("span", { text: TEXT.rateUp })]);
    const down = el("button", { type: "button", class: "bw-rate-btn", "aria-pressed": "false", "data-rating": "down" }, [
      icon("down"), el("span", { text: TEXT.rateDown })]);
    const mark = (rating) => {
      up.setAttribute("aria-pressed", rating === "up" ? "true" : "false");
      down.setAttribute("aria-pressed", rating === "down" ? "true" : "false");
    };
    mark(message.feedback);
    [up, down].forEach((button) => button.addEventListener("click", () => {
      const rating = button.getAttribute("data-rating");
      request("POST", "api/v1/feedback", { message_id: message.id, rating: rating })
        .then((res) => {
          if (!res.ok) throw new Error("feedback");
          mark(rating);
          announce(TEXT.rated);
        })
        .catch(() => announce(TEXT.rateFailed));
    }));
    return el("div", { class: "bw-rate", role: "group", "aria-label": TEXT.rateGroup }, [up, down]);
  }

  // Long answers appear progressively; screen readers get the whole text at once from a hidden copy.
  function reveal(target, text, done) {
    if (reduceMotion || text.length < 40) { target.textContent = text; done(); return; }
    const step = Math.max(2, Math.ceil(text.length / 60));
    let shown = 0;
    const timer = window.setInterval(() => {
      shown = Math.min(text.length, shown + step);
      target.textContent = text.slice(0, shown);
      scrollToEnd();
      if (shown >= text.length) { window.clearInterval(timer); done(); }
    }, 16);
  }

  // Builds a bot message; ``place`` puts it in the log (appended, or in place of a streaming bubble).
  function renderBot(message, progressive, place) {
    const visible = el("span", { class: "bw-visible", "aria-hidden": "true" });
    const extras = el("div", { class: "bw-extras", hidden: true }, [
      sourcesBlock(message.sources), quickReplies(message.buttons), ratingBlock(message)
    ]);
    const item = el("li", { class: "bw-msg bw-bot" }, [
      el("span", { class: "bw-sr", text: TEXT.bot }),
      el("p", { class: "bw-text" }, [el("span", { class: "bw-sr", text: message.text }), visible]),
      extras
    ]);
    place(item);
    const finish = () => { extras.hidden = false; scrollToEnd(); };
    if (progressive) reveal(visible, message.text, finish);
    else { visible.textContent = message.text; finish(); }
    if (message.handoff) markHandoff();
    return item;
  }

  function addBot(message, progressive) {
    return renderBot(message, progressive, (item) => log.appendChild(item));
  }

  // A staff member's reply: labelled 상담원 in words (not by colour alone), no rating buttons.
  function addAgent(message) {
    const item = el("li", { class: "bw-msg bw-agent" }, [
      el("p", { class: "bw-who" }, [document.createTextNode(message.agent || TEXT.agent), el("span", { class: "bw-sr", text: ": " })]),
      el("p", { class: "bw-text", text: message.text })
    ]);
    log.appendChild(item);
    scrollToEnd();
    return item;
  }

  // Every message with an id is drawn once, whether it came in a reply, from the history or live.
  const drawn = new Set();
  let newestId = 0;

  function remember(id) {
    if (typeof id !== "number") return;
    drawn.add(id);
    newestId = Math.max(newestId, id);
  }

  function showMessage(message, progressive, follow) {
    if (typeof message.id === "number" && drawn.has(message.id)) return;
    remember(message.id);
    if (message.role === "agent") { hideAgentTyping(); addAgent(message); }
    else addBot(message, progressive);
    if (follow) followHandoff(message);
  }

  // A generated answer the server is still writing: checked sentences appear as they come, and the
  // final message (sources, buttons, rating) replaces the bubble. Screen readers hear only the final text.
  function addStreaming() {
    const visible = el("span", { class: "bw-visible", "aria-hidden": "true" });
    const item = el("li", { class: "bw-msg bw-bot bw-streaming", "aria-busy": "true" }, [
      el("span", { class: "bw-sr", text: TEXT.bot + TEXT.writing }),
      el("p", { class: "bw-text" }, [visible, el("span", { class: "bw-dots", "aria-hidden": "true" }, [
        el("span"), el("span"), el("span")])])
    ]);
    log.appendChild(item);
    scrollToEnd();
    let shown = "";
    return {
      done: false,
      attached() { return item.isConnected; },
      delta(text) { shown += text; visible.textContent = shown; scrollToEnd(); },
      reset() { shown = ""; visible.textContent = ""; },
      finish(message) {
        this.done = true;
        renderBot(message, !shown, (final) => item.replaceWith(final));
      },
      fail(retry, quiet) {
        this.done = true;
        item.remove();
        if (!quiet) addNotice(TEXT.failed, retry);
      }
    };
  }

  // The server records a streamed answer even when this page stopped reading it: look it up in the
  // history a few times before giving up (a reload mid-answer, or a stream cut off on the way).
  function awaitRecorded(id, bubble, retry, tries) {
    window.setTimeout(() => {
      if (bubble.done || !bubble.attached()) return;  // answered meanwhile, or "새 대화" cleared the screen
      request("GET", "api/v1/history")
        .then(readJson)
        .then(({ res, body }) => {
          const found = res.ok && body && Array.isArray(body.messages) ? body.messages.find((m) => m.id === id && m.role === "bot") : null;
          if (found && !found.streaming) bubble.finish(found);
          else if (tries > 1) awaitRecorded(id, bubble, retry, tries - 1);
          else bubble.fail(retry);
        })
        .catch(() => (tries > 1 ? awaitRecorded(id, bubble, retry, tries - 1) : bubble.fail(retry)));
    }, RECORDED_POLL_MS);
  }

  function addNotice(text, retry) {
    const item = el("li", { class: "bw-msg bw-notice" }, [
      el("p", { class: "bw-text", text: text }),
      retry ? el("button", {
        type: "button", class: "bw-retry", text: TEXT.retry,
        onclick: () => {
          if (busy) { announce(TEXT.busy); return; }
          item.remove();
          retry();
          input.focus();
        }
      }) : null
    ]);
    log.appendChild(item);
    scrollToEnd();
    return item;
  }

  function markHandoff() {
    humanButton.textContent = TEXT.humanRequested;
  }

  // ---- a person in the chat ------------------------------------------------------------------------
  // "bot", "waiting" or "with_agent". Only while waiting or with an agent does the widget listen for
  // live updates (server-sent events): the agent's replies, the notices, the state and typing.
  let chatState = "bot";
  let events = null;
  let eventsRetry = null;
  let agentTypingTimer = null;
  let lastTypingPing = 0;

  function setChatState(next) {
    chatState = next === "waiting" || next === "with_agent" ? next : "bot";
    // "대기 취소" only means something while waiting.
    if (chatState !== "waiting") log.querySelectorAll(".bw-chip[data-cancel]").forEach((chip) => chip.remove());
    if (chatState === "bot") {
      closeEvents();
      hideAgentTyping();
      humanButton.textContent = TEXT.human;
    } else {
      openEvents();
      humanButton.textContent = chatState === "with_agent" ? TEXT.humanWithAgent : TEXT.humanRequested;
      if (chatState === "waiting") hideAgentTyping();
    }
  }

  // A notice says where the chat stands; the bot's "connecting you" message means a queue notice follows.
  function followHandoff(message) {
    if (message.handoff_state) setChatState(message.handoff_state);
    else if (message.handoff && chatState === "bot") setChatState("waiting");
  }

  function parseData(event) {
    try { return JSON.parse(event.data); } catch (e) { return null; }
  }

  function openEvents() {
    if (events || typeof window.EventSource !== "function" || !token) return;
    window.clearTimeout(eventsRetry);
    const url = new URL("api/v1/widget/events", base);
    url.searchParams.set("token", token);
    url.searchParams.set("after_turn", String(newestId));
    const source = new window.EventSource(url.href);
    events = source;
    source.addEventListener("message", (event) => {
      const message = parseData(event);
      if (message && events === source) showMessage(message, false, true);
    });
    source.addEventListener("state", (event) => {
      const state = parseData(event);
      if (!state || events !== source) return;
      if (state.state !== chatState) setChatState(state.state);
      if (state.agent_typing && chatState === "with_agent") showAgentTyping();
      else hideAgentTyping();
    });
    // The browser reconnects by itself after a stream ends; a refused stream is tried again a little later.
    source.addEventListener("error", () => {
      if (source.readyState !== window.EventSource.CLOSED || events !== source) return;
      events = null;
      eventsRetry = window.setTimeout(() => { if (chatState !== "bot") openEvents(); }, EVENTS_RETRY_MS);
    });
  }

  function closeEvents() {
    window.clearTimeout(eventsRetry);
    if (events) events.close();
    events = null;
  }

  function showAgentTyping() {
    agentTyping.hidden = false;
    window.clearTimeout(agentTypingTimer);
    agentTypingTimer = window.setTimeout(hideAgentTyping, AGENT_TYPING_MS);
    scrollToEnd();
  }

  function hideAgentTyping() {
    window.clearTimeout(agentTypingTimer);
    agentTyping.hidden = true;
  }

  function pingTyping() {
    if (chatState !== "with_agent" || !input.value.trim() || Date.now() - lastTypingPing < TYPING_PING_MS) return;
    lastTypingPing = Date.now();
    request("POST", "api/v1/widget/typing", {}).catch(() => null);
  }

  // ---- server --------------------------------------------------------------------------------------
  function call(method, path, body, held) {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), TIMEOUT_MS);
    const headers = body ? { "Content-Type": "application/json" } : {};
    if (held) headers[SESSION_HEADER] = held;
    return fetch(new URL(path, base).href, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      signal: controller.signal,
      credentials: "omit"
    }).finally(() => window.clearTimeout(timer));
  }

  // One new session at a time, however many requests are waiting for it.
  let opening = null;
  function openSession() {
    if (!opening) {
      opening = call("POST", "api/v1/widget/session", null, null)
        .then(readJson)
        .then(({ res, body }) => {
          if (!res.ok || !body || !body.token) {
            const failure = new Error("session");
            failure.notice = body && body.error && body.error.message;  // e.g. too many new conversations
            throw failure;
          }
          token = body.token;
          store.set("token", token);
          store.set("session", body.session_id);
          return token;
        })
        .finally(() => { opening = null; });
    }
    return opening;
  }

  // Every request carries the session's token; a session the server no longer knows (expired) is replaced
  // by a new one once, and the request sent again there.
  function request(method, path, body) {
    return (token ? Promise.resolve(token) : openSession()).then((held) => call(method, path, body, held))
      .then((res) => {
        if (res.status !== 401) return res;
        return res.clone().json().catch(() => null).then((data) => {
          const code = data && data.error && data.error.code;
          if (SESSION_LOST.indexOf(code) < 0) return res;
          forgetSession();
          return openSession().then((held) => {
            sessionRenewed(code === "session_expired");
            return call(method, path, body, held);
          });
        });
      });
  }

  function sessionRenewed(expired) {
    closeEvents();
    setChatState("bot");
    if (expired) addNotice(TEXT.sessionExpired);
  }

  function readJson(res) {
    return res.json().catch(() => null).then((body) => ({ res: res, body: body }));
  }

  let busy = false;

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    sendButton.setAttribute("aria-disabled", on ? "true" : "false");
    if (on) { announce(TEXT.typing); scrollToEnd(); }
  }

  // Streaming needs fetch's readable body; older browsers get the whole reply at once.
  const canStream = typeof window.TextDecoder === "function" && typeof window.Response === "function" &&
    "body" in window.Response.prototype && typeof window.ReadableStream === "function";

  function showReply(res, body, retry) {
    setBusy(false);
    // No messages is an answer too: while a person has the chat the bot stays silent.
    if (body && Array.isArray(body.messages) && (body.messages.length || res.ok)) {
      body.messages.forEach((m) => showMessage(m, true, true));
    } else if (body && body.error && res.status >= 400 && res.status < 500 && res.status !== 429) {
      addNotice(body.error.message || TEXT.failed);
    } else {
      addNotice(TEXT.failed, retry);
    }
  }

  // NDJSON: a "reply" line with the messages, then "delta" / "reset" / "final" lines per streamed answer.
  function readStream(res, retry) {
    const bubbles = {};
    let replied = false;
    const handle = (line) => {
      if (!line.trim()) return;
      const event = JSON.parse(line);
      if (event.type === "reply") {
        replied = true;
        typing.hidden = true;
        (event.messages || []).forEach((m) => {
          if (m.streaming) { remember(m.id); bubbles[m.id] = addStreaming(); }
          else showMessage(m, true, true);
        });
      } else if (bubbles[event.id] && !bubbles[event.id].done) {
        const bubble = bubbles[event.id];
        if (event.type === "delta") bubble.delta(event.text || "");
        else if (event.type === "reset") bubble.reset();
        else if (event.type === "final" && event.message) { bubble.finish(event.message); followHandoff(event.message); }
      }
    };
    // Ended early: an answer still open is fetched from the history once the server has recorded it.
    const end = (failed) => {
      setBusy(false);
      Object.keys(bubbles).forEach((id) => {
        if (!bubbles[id].done) awaitRecorded(Number(id), bubbles[id], retry, RECORDED_TRIES);
      });
      if (!replied) addNotice(failed ? TEXT.offline : TEXT.failed, retry);
    };
    if (!res.body) {  // a body that cannot be read as it comes: all lines at the end
      return res.text().then((text) => { text.split("\n").forEach(handle); end(false); }).catch(() => end(true));
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let idle = null;
    const stop = () => { window.clearTimeout(idle); reader.cancel().catch(() => null); };
    const pump = () => {
      window.clearTimeout(idle);
      idle = window.setTimeout(stop, STREAM_IDLE_MS);
      return reader.read().then(({ value, done }) => {
        buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
        const lines = buffer.split("\n");
        buffer = done ? "" : lines.pop();
        lines.forEach(handle);
        if (done) { window.clearTimeout(idle); end(false); return null; }
        return pump();
      });
    };
    return pump().catch(() => { stop(); end(true); });
  }

  function deliver(text, shown) {
    setBusy(true);
    const body = { text: text };  // the history shows a quick reply's title: the server knows what the bot offered
    if (canStream) body.stream = true;
    const retry = () => deliver(text, shown);
    request("POST", "api/v1/widget/chat", body)
      .then((res) => {
        const type = res.headers.get("Content-Type") || "";
        if (type.indexOf("application/x-ndjson") === 0) return readStream(res, retry);
        return readJson(res).then(({ res, body }) => showReply(res, body, retry));
      })
      .catch((failure) => {
        setBusy(false);
        addNotice((failure && failure.notice) || TEXT.offline, retry);
      });
  }

  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    if (busy) { announce(TEXT.busy); return; }
    store.set("seen", String(Date.now()));
    addCitizen(shown || text);
    deliver(text, shown);
    input.focus();
  }

  let historyLoaded = false;

  function loadHistory() {
    if (historyLoaded) return;
    historyLoaded = true;
    addBot({ text: TEXT.welcome, buttons: WELCOME_REPLIES, sources: [] }, false);
    // No session yet: nothing to show, and the first message opens one.
    if (!token) return;
    request("GET", "api/v1/history")
      .then(readJson)
      .then(({ res, body }) => {
        if (!res.ok || !body || !Array.isArray(body.messages)) throw new Error("history");
        body.messages.forEach((m) => {
          if (m.role === "citizen") { remember(m.id); addCitizen(m.text); }
          else if (m.streaming) { remember(m.id); awaitRecorded(m.id, addStreaming(), null, RECORDED_TRIES); }
          else showMessage(m, false, false);
        });
        setChatState(body.handoff_state);  // a person may be answering: listen again
        scrollToEnd();
      })
      .catch(() => addNotice(TEXT.historyFailed));
  }

  // ---- open / close / keyboard ---------------------------------------------------------------------
  function open(focus) {
    panel.hidden = false;
    frame.classList.add("bw-open");
    launcher.setAttribute("aria-expanded", "true");
    store.set("open", "1");
    loadHistory();
    scrollToEnd();
    if (focus) { input.focus(); announce(TEXT.opened); }
  }

  function close() {
    panel.hidden = true;
    frame.classList.remove("bw-open");
    launcher.setAttribute("aria-expanded", "false");
    store.set("open", "0");
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open(true) : close()));
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing) { event.preventDefault(); close(); }
  });
  humanButton.addEventListener("click", () => {
    if (chatState === "waiting") announce(TEXT.humanAlreadyWaiting);
    else if (chatState === "with_agent") announce(TEXT.humanAlreadyHere);
    else send(HUMAN_PAYLOAD, TEXT.human);
  });
  resetButton.addEventListener("click", () => {
    if (busy) { announce(TEXT.busy); return; }
    // Nobody should keep waiting for a conversation that has left the screen (a shared computer's next person).
    if (chatState === "waiting") {
      request("POST", "api/v1/widget/chat", { text: CANCEL_PAYLOAD }).catch(() => null);
    }
    forgetSession();  // the next message opens a new session
    log.textContent = "";
    drawn.clear();
    newestId = 0;
    setChatState("bot");
    historyLoaded = false;
    loadHistory();
    input.focus();
    announce(TEXT.resetDone);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) { announce(TEXT.busy); return; }
    const text = input.value;
    input.value = "";
    autosize();
    send(text);
  });
  // Enter sends, Shift+Enter breaks the line; never while a Korean syllable is still being composed.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }
  input.addEventListener("input", autosize);
  input.addEventListener("input", pingTyping);

  function mount() {
    document.body.appendChild(host);
    if (store.get("open") === "1") open(false);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
