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
  const list = (items) => (Array.isArray(items) && items.length ? el("ul", {}, items.map((r) => el("li", { text: String(r) }))) : null);
  return el(
    "div", {},
    el("h3", { text: "모의 자격 판정" }),
    el("p", {}, el("strong", { text: verdict.verdict_label || verdict.verdict || "" }), verdict.summary ? ` ${verdict.summary}` : ""),
    list(verdict.reasons),
    list(verdict.notes),
    verdict.caveat ? el("p", { class: "hint", text: verdict.caveat }) : null,
    Array.isArray(verdict.sources) && verdict.sources.length ? el("ul", { "aria-label": "판정 출처" }, verdict.sources.map(sourceItem)) : null,
  );
}

function failedItem(answer) {
  if (typeof answer === "string") return el("li", { text: answer });
  return el(
    "li", {},
    answer.question ? el("span", { text: `질문: ${answer.question}` }) : null,
    el("br"),
    `챗봇(${answer.mode_label || "답변"}): ${answer.text || ""}`,
    Array.isArray(answer.failed_because) && answer.failed_because.length ? el("span", { class: "src", text: ` — ${answer.failed_because.join(", ")}` }) : null,
  );
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
    const notice = data && data.notice ? el("p", { class: "hint", role: "note", text: data.notice }) : null;
    if (!facts.length && !failed.length && !suggestions.length && !verdict) {
      this.body.replaceChildren(el("p", { text: EMPTY }), notice || "");
      return;
    }
    const parts = [];
    if (notice) parts.push(notice);
    if (data.question) parts.push(el("p", {}, el("strong", { text: "시민의 마지막 질문: " }), data.question));
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
      parts.push(el("ul", {}, failed.map(failedItem)));
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
