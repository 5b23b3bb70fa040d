// The live queue: waiting chats (urgent first, then the longest wait), then the chats people hold.
import { announce, el, formatWait } from "./api.js";
import { escalated, urgentArrived } from "./alerts.js";

export class Queue {
  constructor(chatUrl, onOpen) {
    this.chatUrl = chatUrl;
    this.onOpen = onOpen;
    this.items = [];
    this.known = null; // id -> {urgent, escalated} of the last snapshot (null before the first one)
    this.receivedAt = Date.now();
    this.openId = null;
    this.waitingList = document.getElementById("waiting-list");
    this.activeList = document.getElementById("active-list");
    // Waits keep counting between snapshots.
    window.setInterval(() => this.render(), 30000);
  }

  update(items) {
    const before = this.known;
    this.items = items;
    this.receivedAt = Date.now();
    this.known = new Map(items.map((i) => [i.id, { urgent: i.urgent, escalated: i.escalated }]));
    if (before !== null) this.alert(before, items);
    this.render();
  }

  alert(before, items) {
    for (const item of items) {
      if (item.state !== "waiting") continue;
      const was = before.get(item.id);
      if (item.urgent && (!was || !was.urgent)) urgentArrived(item, this.chatUrl + item.id);
      else if (!was) announce(`새 상담이 대기열에 들어왔어요: ${item.reason_label}, 상담 ${item.id}번`);
      if (item.escalated && was && !was.escalated) escalated(item);
    }
  }

  select(id) {
    this.openId = id;
    this.render();
  }

  render() {
    const waiting = this.items.filter((i) => i.state === "waiting");
    const active = this.items.filter((i) => i.state !== "waiting");
    const focused = document.activeElement && document.activeElement.dataset.queueId;
    this.waitingList.replaceChildren(...waiting.map((i) => this.row(i)));
    this.activeList.replaceChildren(...active.map((i) => this.row(i)));
    document.getElementById("waiting-empty").hidden = waiting.length > 0;
    document.getElementById("active-empty").hidden = active.length > 0;
    const urgent = waiting.filter((i) => i.urgent).length;
    document.getElementById("queue-count").textContent = `(대기 ${waiting.length}건${urgent ? `, 긴급 ${urgent}건` : ""})`;
    if (focused) {
      const again = document.querySelector(`[data-queue-id="${focused}"]`);
      if (again) again.focus();
    }
  }

  row(item) {
    const elapsed = item.state === "waiting" ? (Date.now() - this.receivedAt) / 1000 : 0;
    const wait = formatWait(item.waiting_s + elapsed);
    const badges = [];
    if (item.urgent) badges.push(el("span", { class: "badge urgent", text: "긴급" }));
    if (item.escalated && item.state === "waiting") badges.push(el("span", { class: "badge escalated", text: "⚠ 대기 시간 초과" }));
    const channel = { web: "웹", kakao: "카카오톡", api: "API" }[item.channel] || item.channel;
    const meta = item.state === "waiting"
      ? `${wait} 대기 · ${channel}`
      : `${item.agent_name || "상담원"}님 상담 중 · ${channel} · ${wait} 기다렸음`;
    const link = el(
      "a",
      {
        href: this.chatUrl + item.id,
        "data-queue-id": String(item.id),
        "aria-current": this.openId === item.id ? "true" : null,
        onclick: (event) => {
          if (event.ctrlKey || event.metaKey || event.shiftKey) return;
          event.preventDefault();
          this.onOpen(item.id);
        },
      },
      el("span", { class: "top" }, ...badges, el("strong", { text: item.reason_label }), el("span", { class: "meta", text: `#${item.id}` })),
      el("span", { class: "meta line" }, meta),
    );
    const classes = ["queue-item", item.urgent ? "urgent" : "", item.escalated && item.state === "waiting" ? "escalated" : ""];
    return el("li", { class: classes.join(" ").trim() }, link);
  }
}
