// The console's requests (JSON with the CSRF header) and small formatting and DOM helpers.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export async function request(method, url, body) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new ApiError(0, "network", "서버에 연결할 수 없어요. 네트워크를 확인하고 다시 시도해 주세요.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  if (!response.ok) {
    const problem = (data && data.error) || {};
    if (response.status === 401) {
      window.location.href = "/console/login?next=" + encodeURIComponent(window.location.pathname);
    }
    throw new ApiError(response.status, problem.code || "error", problem.message || "요청을 처리하지 못했어요. 잠시 후 다시 시도해 주세요.", problem);
  }
  return data;
}

// "3분 대기" / "1시간 5분 대기" / "방금" from seconds.
export function formatWait(seconds) {
  const minutes = Math.max(0, Math.floor(seconds / 60));
  if (minutes < 1) return "1분 미만";
  if (minutes < 60) return `${minutes}분`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours}시간 ${rest}분` : `${hours}시간`;
}

const TIME = new Intl.DateTimeFormat("ko-KR", { hour: "2-digit", minute: "2-digit" });
const DATE_TIME = new Intl.DateTimeFormat("ko-KR", { dateStyle: "short", timeStyle: "short" });

export function formatTime(iso, withDate = false) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso || "";
  return (withDate ? DATE_TIME : TIME).format(date);
}

// el("p", {class: "x", text: "hi"}, child, ...): a small element builder that never parses HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Announce a sentence to screen readers through a live region (cleared first so a repeat is read again).
export function announce(text, urgent = false) {
  const region = document.getElementById(urgent ? "announce-urgent" : "announce-polite");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}
