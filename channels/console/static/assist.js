// The agent-assist panel: a case card from what the dialogue already knows and suggested replies with their
// sources. A missing or empty answer shows a calm "아직 정보가 없어요".
import { el, request } from "./api.js";

const EMPTY = "아직 정보가 없어요. 대화가 더 이어지면 여기에 요약과 추천 답변이 나타나요.";

function sourceItem(source) {
  const date = source.updated_at ? ` (${source.updated_at} 기준)` : "";
  const title = source.url ? el("a", { href: source.url, target: "_blank", rel: "noopener noreferrer", text: source.title }) : source.title;
  return el("li", {}, title, date);
}

function verdictBlock(verdict) {
  if (!verdict || typeof verdict !== "object") return null;
  const summary = verdict.summary || verdict.text || verdict.label || verdict.result || "";
  const rows = Object.entries(verdict)
    .filter(([key, value]) => !["summary", "text", "label", "result", "sources"].includes(key) && ["string", "number", "boolean"].includes(typeof value))
    .map(([key, value]) => el("li", {}, `${key}: ${value}`));
  return el("div", {}, el("h3", { text: "모의 자격 판정" }), summary ? el("p", { text: String(summary) }) : null, rows.length ? el("ul", {}, rows) : null);
}

export class Assist {
  constructor(api, insert) {
    this.api = api;
    this.insert = insert;
    this.body = document.getElementById("assist-body");
    this.loading = 0;
  }

  clear() {
    this.body.replaceChildren(el("p", { class: "hint", text: "상담을 고르면 대화에서 알게 된 내용과 추천 답변을 보여 드려요." }));
  }

  async load(chatId) {
    const ticket = ++this.loading;
    this.body.replaceChildren(el("p", { class: "hint", text: "불러오는 중…" }));
    let data = null;
    try {
      data = await request("GET", `${this.api}/chats/${chatId}/assist`);
    } catch (error) {
      data = null; // not there yet, or nothing to say: the panel stays calm
    }
    if (ticket !== this.loading) return;
    this.render(data);
  }

  render(data) {
    const card = (data && data.card) || {};
    const facts = Array.isArray(card.facts) ? card.facts : [];
    const failed = Array.isArray(card.failed_answers) ? card.failed_answers : [];
    const suggestions = (data && Array.isArray(data.suggestions)) ? data.suggestions : [];
    const verdict = verdictBlock(card.verdict);
    if (!facts.length && !failed.length && !suggestions.length && !verdict) {
      this.body.replaceChildren(el("p", { text: EMPTY }));
      return;
    }
    const parts = [];
    parts.push(el("h3", { text: "상담 요약 카드" }));
    if (facts.length) {
      parts.push(el("dl", { class: "card-facts" }, facts.flatMap((f) => [
        el("dt", { text: f.label }),
        el("dd", {}, String(f.value ?? ""), f.source ? el("span", { class: "src", text: `출처: ${f.source}` }) : null),
      ])));
    } else {
      parts.push(el("p", { class: "hint", text: "대화에서 확인된 정보가 아직 없어요." }));
    }
    if (verdict) parts.push(verdict);
    if (failed.length) {
      parts.push(el("h3", { text: "챗봇이 답하지 못한 질문" }));
      parts.push(el("ul", {}, failed.map((f) => el("li", { text: typeof f === "string" ? f : (f.question || f.text || JSON.stringify(f)) }))));
    }
    parts.push(el("h3", { text: "추천 답변" }));
    if (suggestions.length) {
      parts.push(el("ol", { class: "suggestions" }, suggestions.map((s, index) => el(
        "li", {},
        el("p", { text: s.text }),
        s.sources && s.sources.length ? el("ul", { "aria-label": "출처" }, s.sources.map(sourceItem)) : null,
        el("button", { type: "button", "aria-label": `추천 답변 ${index + 1} 답장에 넣기`, onclick: () => this.insert(s.text) }, "답장에 넣기"),
      ))));
    } else {
      parts.push(el("p", { class: "hint", text: "지식 베이스에서 찾은 추천 답변이 아직 없어요." }));
    }
    this.body.replaceChildren(...parts);
  }
}
