// Admins add, edit and delete canned responses (the page reloads to show the list as saved).
import { request } from "./api.js";

const api = "/console/api/canned";
const status = document.getElementById("canned-status");

function say(text) {
  status.textContent = text;
}

for (const form of document.querySelectorAll("[data-canned-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { title: form.elements.title.value, text: form.elements.text.value };
    const id = form.dataset.id;
    try {
      await request(id ? "PUT" : "POST", id ? `${api}/${id}` : api, body);
      window.sessionStorage.setItem("bokji.canned.status", id ? "상용구를 저장했어요." : "상용구를 추가했어요.");
      window.location.reload();
    } catch (error) {
      say(error.message);
    }
  });
}

for (const button of document.querySelectorAll("[data-delete]")) {
  button.addEventListener("click", async () => {
    if (!window.confirm(`'${button.dataset.title}' 상용구를 삭제할까요?`)) return;
    try {
      await request("DELETE", `${api}/${button.dataset.delete}`);
      window.sessionStorage.setItem("bokji.canned.status", "상용구를 삭제했어요.");
      window.location.reload();
    } catch (error) {
      say(error.message);
    }
  });
}

const saved = window.sessionStorage.getItem("bokji.canned.status");
if (saved) {
  window.sessionStorage.removeItem("bokji.canned.status");
  say(saved);
}
