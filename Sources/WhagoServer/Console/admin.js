// The admin view (admin token): tenants (create, with the key shown once; rotate the key;
// delete), workers, and dead-lettered webhook events with retry.

import { api, allPages, id } from "./api.js";
import { h, badge, ago, notice, copy, replace } from "./dom.js";

export async function adminView(main) {
  const tenants = h("section", { class: "card", id: "tenants", "aria-labelledby": "tenants-title" });
  const secret = h("div", { id: "secret", "aria-live": "polite" });
  const workers = h("section", { class: "card", id: "workers", "aria-labelledby": "workers-title" });
  const letters = h("section", { class: "card", id: "dead-letters", "aria-labelledby": "dead-letters-title" });
  main.append(h("h1", { tabindex: "-1" }, "Administration"), createTenantForm(showSecret, reloadTenants), secret, tenants, workers, letters);

  /** A credential shown once, with a copy button. */
  function showSecret(title, values) {
    replace(secret, h("div", { class: "card once", role: "region", "aria-label": title },
      h("h2", {}, title),
      h("p", {}, "Shown once: whago keeps only its hash. Copy it now and hand it to the tenant."),
      values.map(([label, value, fieldID]) => {
        const field = h("input", { id: fieldID, readonly: true, value, class: "secret", "aria-label": label, spellcheck: "false" });
        const status = h("span", { class: "help", "aria-live": "polite" });
        return h("div", { class: "copy-row" }, h("label", { for: fieldID }, label), field,
          h("button", { type: "button", class: "secondary", onclick: async () => {
            status.textContent = (await copy(value, field)) ? "Copied." : "Select it and copy it by hand.";
          } }, "Copy"), status);
      }),
      h("button", { type: "button", class: "link", onclick: () => secret.replaceChildren() }, "Done, hide it")));
    secret.querySelector("input")?.focus();
  }

  async function reloadTenants() {
    try {
      const list = await allPages("/api/v1/tenants", "tenants");
      replace(tenants, h("h2", { id: "tenants-title" }, `Tenants (${list.length})`),
        list.length === 0 ? h("p", { class: "empty" }, "No tenants yet: create one above and give it its API key.")
          : h("table", { class: "list" },
              h("thead", {}, h("tr", {}, ["Name", "Id", "Chip limit", "Webhook", "Created", ""].map((name) => h("th", { scope: "col" }, name)))),
              h("tbody", {}, list.map(tenantRow))));
    } catch (error) {
      replace(tenants, h("h2", { id: "tenants-title" }, "Tenants"), notice("error", error.explanation ?? error.message));
    }
  }

  function tenantRow(tenant) {
    const message = h("span", { "aria-live": "polite" });
    const rotate = h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        const { apiKey } = await api("POST", `/api/v1/tenants/${id(tenant.id)}/keys`);
        showSecret(`New API key of ${tenant.name}`, [["API key", apiKey, "new-api-key"]]);
        message.replaceChildren(notice("ok", "Key rotated; the old ones no longer work."));
      } catch (error) { message.replaceChildren(notice("error", error.explanation ?? error.message)); }
    } }, "Rotate key");
    const confirm = h("span", { class: "confirm", hidden: true },
      `Delete ${tenant.name} and its chips? `,
      h("button", { type: "button", class: "danger", onclick: async () => {
        try {
          await api("DELETE", `/api/v1/tenants/${id(tenant.id)}`);
          await reloadTenants();
        } catch (error) { message.replaceChildren(notice("error", error.explanation ?? error.message)); }
      } }, "Yes, delete"),
      h("button", { type: "button", onclick: () => { confirm.hidden = true; } }, "Cancel"));
    const remove = h("button", { type: "button", class: "danger", onclick: () => { confirm.hidden = false; } }, "Delete…");
    return h("tr", { dataset: { tenantId: tenant.id } },
      h("td", { "data-label": "Name" }, tenant.name),
      h("td", { "data-label": "Id" }, h("code", {}, tenant.id)),
      h("td", { "data-label": "Chip limit" }, tenant.chipLimit ?? "default"),
      h("td", { "data-label": "Webhook" }, tenant.webhook?.url ?? "none (events by SSE or polling)"),
      h("td", { "data-label": "Created", title: tenant.createdAt }, ago(tenant.createdAt)),
      h("td", { class: "row-actions" }, rotate, remove, confirm, message));
  }

  async function reloadWorkers() {
    try {
      const { workers: list } = await api("GET", "/api/v1/workers");
      replace(workers, h("h2", { id: "workers-title" }, `Workers (${list.length})`),
        list.length === 0 ? h("p", { class: "empty" }, "No workers: whago starts one when a tenant creates a chip.")
          : h("table", { class: "list" },
              h("thead", {}, h("tr", {}, ["Worker", "Tenant", "Port", "Status", "Health", "Chips", "Restarts"].map((name) => h("th", { scope: "col" }, name)))),
              h("tbody", {}, list.map((worker) => h("tr", { dataset: { workerId: worker.id } },
                h("td", { "data-label": "Worker" }, h("code", {}, worker.id)),
                h("td", { "data-label": "Tenant" }, h("code", {}, worker.tenant)),
                h("td", { "data-label": "Port" }, worker.port),
                h("td", { "data-label": "Status" }, worker.status),
                h("td", { "data-label": "Health", title: worker.lastHealthyAt ? `last healthy ${ago(worker.lastHealthyAt)}` : "" }, badge(worker.health)),
                h("td", { "data-label": "Chips" }, worker.chips),
                h("td", { "data-label": "Restarts" }, worker.restarts ?? 0))))));
    } catch (error) {
      replace(workers, h("h2", { id: "workers-title" }, "Workers"), notice("error", error.explanation ?? error.message));
    }
  }

  async function reloadLetters() {
    try {
      const { deadLetters } = await api("GET", "/api/v1/dead-letters?limit=500");
      replace(letters, h("h2", { id: "dead-letters-title" }, `Dead-lettered webhook events (${deadLetters.length})`),
        deadLetters.length === 0 ? h("p", { class: "empty" }, "None: every tenant webhook event was delivered or is still being retried.")
          : h("table", { class: "list" },
              h("thead", {}, h("tr", {}, ["Event", "Tenant", "Chip", "Type", "Attempts", "Last error", ""].map((name) => h("th", { scope: "col" }, name)))),
              h("tbody", {}, deadLetters.map(letterRow))));
    } catch (error) {
      replace(letters, h("h2", { id: "dead-letters-title" }, "Dead-lettered webhook events"), notice("error", error.explanation ?? error.message));
    }
  }

  function letterRow(letter) {
    const message = h("span", { "aria-live": "polite" });
    return h("tr", { dataset: { eventId: letter.event.id } },
      h("td", { "data-label": "Event", title: letter.event.occurredAt }, h("code", {}, letter.event.id)),
      h("td", { "data-label": "Tenant" }, h("code", {}, letter.event.tenant)),
      h("td", { "data-label": "Chip" }, h("code", {}, letter.event.chip)),
      h("td", { "data-label": "Type" }, letter.event.type),
      h("td", { "data-label": "Attempts" }, letter.attempts),
      h("td", { "data-label": "Last error" }, letter.lastError ?? ""),
      h("td", { class: "row-actions" }, h("button", { type: "button", onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await api("POST", `/api/v1/dead-letters/${id(letter.event.id)}/retry`);
          await reloadLetters();
        } catch (error) { message.replaceChildren(notice("error", error.explanation ?? error.message)); }
      } }, "Retry"), message));
  }

  await Promise.all([reloadTenants(), reloadWorkers(), reloadLetters()]);
  const timer = setInterval(() => { reloadWorkers(); reloadLetters(); }, 10000);
  return () => clearInterval(timer);
}

function createTenantForm(showSecret, reload) {
  const name = h("input", { id: "tenant-name", name: "name", required: true, maxlength: "128", autocomplete: "off" });
  const limit = h("input", { id: "tenant-limit", name: "chipLimit", type: "number", min: "1", max: "100000", inputmode: "numeric" });
  const webhook = h("input", { id: "tenant-webhook", name: "webhook", type: "url", autocomplete: "off", placeholder: "https://backend.example/whago",
                               "aria-describedby": "tenant-webhook-help" });
  const message = h("div", { id: "tenant-message", "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "create-tenant" }, "Create tenant");
  const form = h("form", { class: "card", id: "tenant-form", novalidate: true },
    h("h2", {}, "New tenant"),
    h("div", { class: "fields" },
      h("div", {}, h("label", { for: "tenant-name" }, "Name"), name),
      h("div", {}, h("label", { for: "tenant-limit" }, "Chip limit (optional)"), limit),
      h("div", { class: "wide" }, h("label", { for: "tenant-webhook" }, "Webhook URL (optional)"), webhook,
        h("p", { id: "tenant-webhook-help", class: "help" }, "Chip events are POSTed here, signed; a secret is generated and shown once."))),
    button, message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const request = { name: name.value.trim() };
    if (limit.value) request.chipLimit = Number(limit.value);
    if (webhook.value.trim()) request.webhook = { url: webhook.value.trim() };
    if (!request.name) { message.append(notice("error", "Give the tenant a name.")); name.focus(); return; }
    button.disabled = true;
    try {
      const created = await api("POST", "/api/v1/tenants", { body: request });
      const values = [["API key", created.apiKey, "new-api-key"]];
      if (created.webhookSecret) values.push(["Webhook secret", created.webhookSecret, "new-webhook-secret"]);
      showSecret(`Tenant ${created.tenant.name} created`, values);
      form.reset();
      await reload();
    } catch (error) {
      message.append(notice("error", error.explanation ?? error.message));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
