// Shows server times (UTC, ISO) in the browser's local time.
import { formatTime } from "./api.js";

for (const node of document.querySelectorAll("time[data-local-time]")) {
  node.textContent = formatTime(node.getAttribute("datetime"), true);
}
