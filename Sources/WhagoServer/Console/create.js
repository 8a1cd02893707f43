// Create a chip: name, proxy country (the proxy driver's default pre-filled), optional city.
// The API's refusals (quota, capacity, validation) are shown beside the form.

import { api } from "./api.js";
import { h, notice } from "./dom.js";

export async function createView(main) {
  let account = null;
  try { account = await api("GET", "/api/v1/me"); } catch { /* the form works without the defaults */ }
  const name = h("input", { id: "chip-name", name: "name", required: true, maxlength: "64", autocomplete: "off",
                            "aria-describedby": "chip-name-help" });
  const country = h("input", { id: "chip-country", name: "country", maxlength: "2", pattern: "[A-Za-z]{2}", autocomplete: "off",
                               value: account?.defaults?.country ?? "", "aria-describedby": "chip-country-help" });
  const city = h("input", { id: "chip-city", name: "city", maxlength: "40", pattern: "[A-Za-z]{1,40}", autocomplete: "off",
                            "aria-describedby": "chip-city-help" });
  const message = h("div", { id: "create-message", "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "create-chip" }, "Create chip");
  const limit = account?.chipLimit ? h("p", { class: "help" }, `This account may have up to ${account.chipLimit} chips.`) : null;
  const form = h("form", { class: "card narrow", id: "create-form", novalidate: true },
    h("h1", { tabindex: "-1" }, "New chip"),
    limit,
    h("label", { for: "chip-name" }, "Name"), name,
    h("p", { id: "chip-name-help", class: "help" }, "Yours to recognise it by, e.g. sales-1. Unique among your chips."),
    h("label", { for: "chip-country" }, "Proxy country (optional)"), country,
    h("p", { id: "chip-country-help", class: "help" },
      account?.defaults?.country
        ? `Two letters (ISO 3166), the exit country of its residential proxy. Default: ${account.defaults.country.toUpperCase()}.`
        : "Two letters (ISO 3166), the exit country of its residential proxy, when whago uses one."),
    h("label", { for: "chip-city" }, "Proxy city (optional)"), city,
    h("p", { id: "chip-city-help", class: "help" }, "ASCII letters, e.g. saopaulo."),
    h("div", { class: "actions" }, button, h("a", { href: "#/chips", class: "button secondary" }, "Cancel")),
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    for (const field of [name, country, city]) field.removeAttribute("aria-invalid");
    const request = { name: name.value.trim() };
    if (country.value.trim()) request.country = country.value.trim();
    if (city.value.trim()) request.city = city.value.trim();
    if (!request.name) {
      name.setAttribute("aria-invalid", "true");
      message.append(notice("error", "Give the chip a name."));
      name.focus();
      return;
    }
    button.disabled = true;
    try {
      const chip = await api("POST", "/api/v1/chips", { body: request });
      location.hash = `#/chips/${encodeURIComponent(chip.id)}`;
    } catch (error) {
      const advice = {
        quota_exceeded: "Delete a chip you no longer use, or ask your administrator to raise your limit.",
        capacity_exhausted: "whago has no free worker slot right now; try again later or ask your administrator.",
        conflict: "Pick another name.",
      }[error.code];
      message.append(notice("error", [error.explanation ?? error.message, advice].filter(Boolean).join(" ")));
      const field = /country/.test(error.message) ? country : /city/.test(error.message) ? city : name;
      if (["invalid_request", "conflict"].includes(error.code)) { field.setAttribute("aria-invalid", "true"); field.focus(); }
    } finally {
      button.disabled = false;
    }
  });
  main.append(form);
}
