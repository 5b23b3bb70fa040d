// Minimal chat page for /api/v1/chat (the embeddable widget is a separate piece).
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  var typing = document.getElementById("typing");
  var key = "bokji.session";
  var session = sessionStorage.getItem(key);
  if (!session) {
    session = "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
    sessionStorage.setItem(key, session);
  }

  function add(role, message) {
    var li = document.createElement("li");
    li.className = role;
    li.textContent = message.text;
    (message.sources || []).forEach(function (s) {
      var p = document.createElement("p");
      p.className = "sources";
      var label = "출처: ";
      if (s.url) {
        p.appendChild(document.createTextNode(label));
        var a = document.createElement("a");
        a.href = s.url; a.target = "_blank"; a.rel = "noopener";
        a.textContent = s.title;
        p.appendChild(a);
      } else {
        p.appendChild(document.createTextNode(label + s.title));
      }
      if (s.updated_at) p.appendChild(document.createTextNode(" (" + s.updated_at + " 기준)"));
      li.appendChild(p);
    });
    if ((message.buttons || []).length) {
      var box = document.createElement("div");
      box.className = "buttons";
      message.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        box.appendChild(btn);
      });
      li.appendChild(box);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function send(text, shown) {
    add("citizen", { text: shown || text });
    typing.hidden = false;
    fetch("/api/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: session, text: text })
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body.messages) body.messages.forEach(function (m) { add("bot", m); });
      else add("bot", { text: (body.error && body.error.message) || "죄송해요. 잠시 후 다시 시도해 주세요." });
    }).catch(function () {
      add("bot", { text: "서버에 연결할 수 없어요. 인터넷 연결을 확인하시고 잠시 후 다시 시도해 주세요." });
    }).finally(function () { typing.hidden = true; input.focus(); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
})();
