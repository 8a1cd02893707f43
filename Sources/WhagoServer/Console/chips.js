// Chips: the tenant's chips, their status badges kept current from the event stream.

import { allPages } from "./api.js";
import { h, badge, ago, phone, notice } from "./dom.js";
import { EventStream, liveIndicator } from "./events.js";

export async function chipsView(main) {
  const heading = h("h1", { tabindex: "-1" }, "Chips");
  const live = liveIndicator();
  const body = h("div", { id: "chips" });
  main.append(
    h("div", { class: "title" }, heading, live.element, h("a", { class: "button", href: "#/chips/new", id: "new-chip" }, "New chip")),
    body);

  let chips = new Map();
  const rows = new Map();
  let refreshing = null;

  async function load() {
    try {
      chips = new Map((await allPages("/api/v1/chips", "chips")).map((chip) => [chip.id, chip]));
      draw();
    } catch (error) {
      body.replaceChildren(notice("error", `Cannot list the chips: ${error.explanation ?? error.message}`));
    }
  }

  function draw() {
    rows.clear();
    if (chips.size === 0) {
      body.replaceChildren(h("div", { class: "empty", id: "empty" },
        h("p", {}, "No chips yet. A chip is one WhatsApp number: create one, then scan its QR code with the phone (WhatsApp → Linked devices)."),
        h("a", { class: "button", href: "#/chips/new" }, "Create your first chip")));
      return;
    }
    const tbody = h("tbody");
    for (const chip of chips.values()) {
      const row = chipRow(chip);
      rows.set(chip.id, row);
      tbody.append(row);
    }
    body.replaceChildren(h("table", { class: "list" },
      h("caption", { class: "visually-hidden" }, "Your chips and their status"),
      h("thead", {}, h("tr", {}, ["Name", "Status", "Number", "Worker", "Proxy", "Created"].map((name) => h("th", { scope: "col" }, name)))),
      tbody));
  }

  function chipRow(chip) {
    return h("tr", { dataset: { chipId: chip.id } },
      h("td", { "data-label": "Name" }, h("a", { href: `#/chips/${encodeURIComponent(chip.id)}` }, chip.name)),
      h("td", { "data-label": "Status" }, badge(chip.status)),
      h("td", { "data-label": "Number" }, chip.status === "WORKING" ? phone(chip.phone) : ""),
      h("td", { "data-label": "Worker" }, chip.worker ? h("code", {}, chip.worker) : "—"),
      h("td", { "data-label": "Proxy" }, chip.proxy ? chip.proxy.country.toUpperCase() : "direct"),
      h("td", { "data-label": "Created", title: chip.createdAt }, ago(chip.createdAt)));
  }

  /** A chip the list does not know yet (created elsewhere): read the list again, once at a time. */
  function refresh() {
    refreshing ??= load().finally(() => { refreshing = null; });
  }

  function apply(event) {
    const chip = chips.get(event.chip);
    if (event.type === "chip.deleted") {
      if (chip) { chips.delete(event.chip); draw(); }
      return;
    }
    if (event.type !== "chip.status") return;
    if (!chip) { refresh(); return; } // a chip created elsewhere
    // The stream started before the list was read: what the list already shows is skipped.
    if (Date.parse(event.occurredAt) < Date.parse(chip.statusChangedAt)) return;
    chip.status = event.data.status;
    chip.statusChangedAt = event.occurredAt;
    if (event.data.phone) chip.phone = event.data.phone;
    const next = chipRow(chip);
    rows.get(chip.id)?.replaceWith(next);
    rows.set(chip.id, next);
  }

  // The stream first (it starts where the log ends), then the list; events that arrive meanwhile wait.
  const stream = new EventStream({ onState: live.update }).start();
  await stream.ready;
  await load();
  stream.deliver(apply);
  return () => stream.stop();
}
