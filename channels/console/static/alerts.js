// New urgent chats: a short beep (WebAudio, no sound file), a browser notification (after the agent allows it
// with a button, never on load) and an announcement for screen readers.
import { announce } from "./api.js";

let audio = null;
let soundOn = window.localStorage.getItem("bokji.console.sound") !== "off";

function beep() {
  if (!soundOn) return;
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const start = audio.currentTime;
    for (const [offset, pitch] of [[0, 880], [0.25, 660]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = pitch;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + offset);
      osc.stop(start + offset + 0.22);
    }
  } catch (error) {
    // No audio device: the notification and the announcement still tell the agent.
  }
}

function notify(title, body, url) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(title, { body, tag: url, requireInteraction: true });
  note.onclick = () => { window.focus(); window.location.href = url; };
}

export function urgentArrived(item, url) {
  const text = `긴급 상담이 들어왔어요: ${item.reason_label}, 상담 ${item.id}번`;
  beep();
  notify("긴급 상담", text, url);
  announce(text, true);
}

export function escalated(item) {
  announce(`긴급 상담 ${item.id}번이 아직 아무도 맡지 않았어요. 바로 확인해 주세요.`, true);
  beep();
}

export function setupAlertButtons() {
  const notifyButton = document.getElementById("notify-button");
  const soundButton = document.getElementById("sound-button");
  const showPermission = () => {
    if (!("Notification" in window)) {
      notifyButton.textContent = "이 브라우저는 알림을 지원하지 않아요";
      notifyButton.disabled = true;
    } else if (Notification.permission === "granted") {
      notifyButton.textContent = "긴급 상담 알림 켜짐";
      notifyButton.disabled = true;
    } else if (Notification.permission === "denied") {
      notifyButton.textContent = "알림이 차단됨 (브라우저 설정에서 허용해 주세요)";
      notifyButton.disabled = true;
    }
  };
  notifyButton.addEventListener("click", async () => {
    try { await Notification.requestPermission(); } catch (error) { /* older browsers */ }
    showPermission();
  });
  showPermission();
  const showSound = () => {
    soundButton.textContent = soundOn ? "알림음 끄기" : "알림음 켜기";
  };
  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    window.localStorage.setItem("bokji.console.sound", soundOn ? "on" : "off");
    showSound();
    if (soundOn) beep();
  });
  showSound();
}
