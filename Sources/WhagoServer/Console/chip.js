// One chip: its QR code while it waits for a scan (refreshed as WAHA rotates it: the first code
// lives 60 s, the next ones 20 s), pairing by phone number instead, the paired account once
// WORKING, restart / logout / delete, and a test message. Status changes arrive on the event stream.

import { api, id, APIError } from "./api.js";
import { h, badge, ago, phone, notice, replace } from "./dom.js";
import { EventStream, liveIndicator } from "./events.js";

const QR_POLL_MS = 2000;

export async function chipView(main, chipID) {
  // The stream first (it starts where the log ends), then the chip; events that arrive meanwhile wait.
  const live = liveIndicator();
  const stream = new EventStream({ onState: live.update }).start();
  await stream.ready;
  let chip;
  try {
    chip = await api("GET", `/api/v1/chips/${id(chipID)}`);
  } catch (error) {
    stream.stop();
    main.append(h("h1", { tabindex: "-1" }, "Chip"),
                notice("error", error.status === 404 ? "There is no such chip (it may have been deleted)." : error.explanation ?? error.message),
                h("a", { href: "#/chips" }, "Back to the chips"));
    return;
  }
  const heading = h("h1", { tabindex: "-1", id: "chip-name" }, chip.name);
  const status = h("span", { id: "chip-status" });
  const facts = h("dl", { class: "facts", id: "chip-facts" });
  const pairing = h("section", { class: "card", id: "pairing", "aria-labelledby": "pairing-title" });
  const actions = h("section", { class: "card", id: "actions", "aria-labelledby": "actions-title" });
  const sending = h("section", { class: "card", id: "send", "aria-labelledby": "send-title" });
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/chips" }, "← Chips")),
    h("div", { class: "title" }, heading, status, live.element),
    facts, pairing, actions, sending);

  const qr = new QRPanel(chipID);
  let shownStatus = null;

  function draw() {
    replace(status, badge(chip.status));
    replace(facts,
      fact("Status", `${chip.status.replaceAll("_", " ")} since ${ago(chip.statusChangedAt)}`),
      fact("Worker", chip.worker ?? "not placed yet"),
      fact("Proxy", chip.proxy ? `${chip.proxy.country.toUpperCase()}${chip.proxy.exitIP ? `, exit ${chip.proxy.exitIP}` : ""}` : "direct connection"),
      fact("Chip id", h("code", {}, chip.id)));
    if (shownStatus !== chip.status) {
      shownStatus = chip.status;
      drawPairing();
      drawSending();
    }
  }

  function drawPairing() {
    qr.stop();
    const title = h("h2", { id: "pairing-title" }, "Pairing");
    switch (chip.status) {
      case "SCAN_QR_CODE":
        replace(pairing, title, qr.element, pairingCodeForm(chipID));
        qr.start(chip);
        break;
      case "WORKING":
        replace(pairing, title, h("p", { id: "paired" }, "Paired with ", h("strong", { id: "paired-phone" }, phone(chip.phone) || "a phone"),
                                  chip.pushName ? ` (${chip.pushName})` : "", ". Messages can be sent."));
        break;
      case "PROVISIONING":
      case "STARTING":
        replace(pairing, title, h("p", { class: "waiting" }, "Starting its WhatsApp session… the QR code appears here in a few seconds."));
        break;
      case "EXPIRED":
        replace(pairing, title, h("p", {}, "The QR code was not scanned in time. Restart the chip for a new one."));
        break;
      case "FAILED":
        replace(pairing, title, h("p", {}, "The session failed. whago retries a few times; Restart tries again now."));
        break;
      case "STOPPED":
        replace(pairing, title, h("p", {}, "The session is stopped. Restart starts it again."));
        break;
      default:
        replace(pairing, title, h("p", {}, `The chip is ${chip.status.replaceAll("_", " ").toLowerCase()}.`));
    }
  }

  function drawSending() {
    replace(sending, h("h2", { id: "send-title" }, "Send a test message"),
      chip.status === "WORKING" ? sendForm(chipID) : h("p", { class: "help" }, "Once the chip is WORKING, send a text message from it here."));
  }

  replace(actions, h("h2", { id: "actions-title" }, "Actions"), chipActions(chipID, () => chip, (next) => { chip = next; draw(); }));
  draw();

  stream.deliver(async (event) => {
    if (event.chip !== chipID) return;
    if (event.type === "chip.deleted") { location.hash = "#/chips"; return; }
    if (event.type !== "chip.status" || Date.parse(event.occurredAt) < Date.parse(chip.statusChangedAt)) return;
    try {
      chip = await api("GET", `/api/v1/chips/${id(chipID)}`); // the whole chip: worker, pushName…
    } catch (error) {
      if (error.status === 404) { location.hash = "#/chips"; return; }
      chip = { ...chip, status: event.data.status, statusChangedAt: event.occurredAt, phone: event.data.phone ?? chip.phone };
    }
    draw();
  });
  return () => { stream.stop(); qr.stop(); };
}

function fact(term, description) {
  return [h("dt", {}, term), h("dd", {}, description)];
}

/** The QR image, its countdown, and the polling that notices a rotated code. */
class QRPanel {
  constructor(chipID) {
    this.chipID = chipID;
    this.image = h("img", { id: "qr-image", alt: "QR code to scan with WhatsApp on the phone", width: "264", height: "264", hidden: true });
    this.countdown = h("p", { id: "qr-countdown", class: "countdown", "aria-live": "off" });
    this.message = h("div", { id: "qr-message", "aria-live": "polite" });
    this.element = h("div", { class: "qr" },
      h("p", {}, "On the phone: WhatsApp → Settings → Linked devices → Link a device, then point the camera here."),
      h("div", { class: "qr-frame" }, this.image, h("p", { class: "waiting", id: "qr-waiting" }, "Getting the QR code…")),
      this.countdown, this.message);
    this.value = null;
    this.timers = [];
  }

  start(chip) {
    this.stop();
    this.stopped = false;
    this.scanSince = Date.parse(chip.statusChangedAt);
    this.poll();
    this.timers.push(setInterval(() => this.poll(), QR_POLL_MS));
    this.timers.push(setInterval(() => this.tick(), 1000));
  }

  stop() {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Reads the current value; fetches the image only when the value changed. */
  async poll() {
    if (this.polling) return;
    this.polling = true;
    try {
      const { value } = await api("GET", `/api/v1/chips/${id(this.chipID)}/qr?format=raw`);
      if (this.stopped || value === this.value) return;
      const image = await api("GET", `/api/v1/chips/${id(this.chipID)}/qr`);
      if (this.stopped) return;
      const first = this.value === null;
      this.value = value;
      this.image.src = `data:${image.mimetype};base64,${image.data}`;
      this.image.dataset.value = value;
      this.image.hidden = false;
      this.element.querySelector("#qr-waiting")?.remove();
      this.message.replaceChildren();
      // WAHA's schedule: the first code of a session lives 60 s, each next one 20 s. A code seen on
      // opening the page may be any of them: its age follows from when the chip began waiting.
      if (first) {
        const elapsed = (Date.now() - this.scanSince) / 1000;
        this.expiresAt = Date.now() + 1000 * (elapsed < 60 ? 60 - elapsed : 20 - ((elapsed - 60) % 20));
      } else {
        this.expiresAt = Date.now() + 20000;
      }
      this.tick();
    } catch (error) {
      if (this.stopped) return;
      // 409: the chip left SCAN_QR_CODE (the status event follows); anything else is worth showing.
      if (!(error instanceof APIError) || error.status !== 409) {
        this.message.replaceChildren(notice("error", `Cannot get the QR code: ${error.explanation ?? error.message}`));
      }
    } finally {
      this.polling = false;
    }
  }

  tick() {
    if (!this.expiresAt) return;
    const seconds = Math.max(0, Math.round((this.expiresAt - Date.now()) / 1000));
    this.countdown.textContent = seconds > 0 ? `A new code in about ${seconds} s` : "A new code is on its way…";
  }
}

function pairingCodeForm(chipID) {
  const number = h("input", { id: "pairing-phone", name: "phoneNumber", type: "tel", inputmode: "tel", autocomplete: "off",
                              placeholder: "+5511999999999", "aria-describedby": "pairing-help" });
  const result = h("div", { id: "pairing-result", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Get a pairing code");
  const form = h("form", { id: "pairing-form", novalidate: true },
    h("label", { for: "pairing-phone" }, "Phone number"), number,
    h("p", { id: "pairing-help", class: "help" }, "Country code first. On the phone: Linked devices → Link with phone number instead, then type the code."),
    button, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren();
    number.removeAttribute("aria-invalid");
    button.disabled = true;
    try {
      const { code } = await api("POST", `/api/v1/chips/${id(chipID)}/pairing-code`, { body: { phoneNumber: number.value.trim() } });
      result.append(h("p", {}, "Type this code on the phone:"), h("output", { class: "pairing-code", id: "pairing-code" }, code));
    } catch (error) {
      result.append(notice("error", error.explanation ?? error.message));
      number.setAttribute("aria-invalid", "true");
      number.focus();
    } finally {
      button.disabled = false;
    }
  });
  return h("details", { class: "alternative" }, h("summary", {}, "Use a pairing code instead"), form);
}

function chipActions(chipID, current, update) {
  const message = h("div", { id: "action-message", "aria-live": "polite" });
  async function run(button, label, action) {
    message.replaceChildren();
    button.disabled = true;
    try {
      const next = await action();
      if (next) update(next);
      message.append(notice("ok", label));
    } catch (error) {
      message.append(notice("error", error.explanation ?? error.message));
    } finally {
      button.disabled = false;
    }
  }
  const restart = h("button", { type: "button", id: "restart" }, "Restart");
  restart.addEventListener("click", () => run(restart, "Restarting the session.", () => api("POST", `/api/v1/chips/${id(chipID)}/restart`)));
  const logout = h("button", { type: "button", id: "logout-chip", class: "secondary" }, "Log out the phone");
  logout.addEventListener("click", () => run(logout, "Logged out; the chip waits for a new scan.", () => api("POST", `/api/v1/chips/${id(chipID)}/logout`)));
  const remove = h("button", { type: "button", id: "delete", class: "danger" }, "Delete…");
  const confirm = h("div", { class: "confirm", id: "delete-confirm", role: "group", "aria-labelledby": "delete-question", hidden: true },
    h("p", { id: "delete-question" }, `Delete ${current().name}? Its WhatsApp session and proxy are released; this cannot be undone.`),
    h("button", { type: "button", class: "danger", id: "delete-yes", onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        await api("DELETE", `/api/v1/chips/${id(chipID)}`);
        location.hash = "#/chips";
      } catch (error) {
        message.replaceChildren(notice("error", error.explanation ?? error.message));
        button.disabled = false;
      }
    } }, "Yes, delete it"),
    h("button", { type: "button", id: "delete-no", onclick: () => { confirm.hidden = true; remove.focus(); } }, "Cancel"));
  remove.addEventListener("click", () => { confirm.hidden = false; confirm.querySelector("#delete-no").focus(); });
  return [h("div", { class: "actions" }, restart, logout, remove), confirm, message];
}

function sendForm(chipID) {
  const to = h("input", { id: "send-to", name: "chatId", required: true, autocomplete: "off", placeholder: "5511999999999@c.us",
                          "aria-describedby": "send-to-help" });
  const text = h("textarea", { id: "send-text", name: "text", required: true, rows: "3", maxlength: "4096" });
  const result = h("div", { id: "send-result", "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "send-button" }, "Send");
  const form = h("form", { id: "send-form", novalidate: true },
    h("label", { for: "send-to" }, "To"), to,
    h("p", { id: "send-to-help", class: "help" }, "A chat id such as 5511999999999@c.us, or just the number."),
    h("label", { for: "send-text" }, "Text"), text,
    button, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren();
    let chatId = to.value.trim().replace(/^\+/, "");
    if (/^[0-9]+$/.test(chatId)) chatId += "@c.us";
    button.disabled = true;
    try {
      const message = await api("POST", `/api/v1/chips/${id(chipID)}/messages`, {
        body: { chatId, text: text.value },
        headers: { "Idempotency-Key": randomKey() },
      });
      result.append(notice("ok", `Message ${message.status} (${message.id}).`));
    } catch (error) {
      const text = error.code === "pacing"
        ? `Not sent: whago paces each chip's messages so WhatsApp does not ban the number. Wait ${error.retryAfter ?? "a few"} s. (${error.message})`
        : `Not sent: ${error.explanation ?? error.message}`;
      result.append(notice("error", text));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** 32 hex digits (crypto.randomUUID needs https; getRandomValues does not). */
function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
