// Login: a tenant's API key, or the admin token for the admin view. The credential is checked
// with GET /api/v1/me before it is kept (in sessionStorage).

import { api, session, APIError } from "./api.js";
import { h, notice } from "./dom.js";

export function loginView(main) {
  const field = h("input", { id: "credential", name: "credential", type: "password", required: true, autocomplete: "off",
                             spellcheck: "false", "aria-describedby": "credential-help" });
  const message = h("div", { id: "login-message", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Log in");
  const left = sessionStorage.getItem("whago.loginMessage");
  if (left) {
    message.append(notice("error", left));
    sessionStorage.removeItem("whago.loginMessage");
  }
  const form = h("form", { class: "card narrow", id: "login-form", novalidate: true },
    h("h1", { tabindex: "-1" }, "Log in to whago"),
    h("label", { for: "credential" }, "API key or admin token"),
    field,
    h("p", { id: "credential-help", class: "help" },
      "A tenant's API key opens its chips; the admin token (",
      h("code", {}, "server.adminToken"), ", or the file ", h("code", {}, "admin-token"),
      " in whago's data directory) opens the admin view. It is kept in this tab only."),
    button,
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const credential = field.value.trim();
    message.replaceChildren();
    if (!credential) {
      message.append(notice("error", "Paste an API key or the admin token."));
      field.focus();
      return;
    }
    button.disabled = true;
    try {
      const account = await api("GET", "/api/v1/me", { credential });
      session.save(credential, account.role);
      if (account.tenant) sessionStorage.setItem("whago.tenantName", account.tenant.name);
      location.hash = account.role === "admin" ? "#/admin" : "#/chips";
    } catch (error) {
      const text = error instanceof APIError && error.status === 401
        ? "That key was refused: it is unknown, wrong or revoked. Check that you pasted all of it."
        : `Cannot log in: ${error.explanation ?? error.message}`;
      message.append(notice("error", text));
      field.setAttribute("aria-invalid", "true");
      field.focus();
      field.select();
    } finally {
      button.disabled = false;
    }
  });
  main.append(form);
  field.focus();
}
