// The console's shell: hash routes (#/login, #/chips, #/chips/new, #/chips/<id>, #/admin), the
// navigation for the signed-in role, and the view that owns <main>. A view is a function
// (main, params) that renders and returns an optional cleanup (streams and timers to stop).

import { session, whenUnauthorized } from "./api.js";
import { loginView } from "./login.js";
import { chipsView } from "./chips.js";
import { createView } from "./create.js";
import { chipView } from "./chip.js";
import { adminView } from "./admin.js";

const main = document.getElementById("main");
let cleanup = null;
let generation = 0;

const routes = [
  { pattern: /^#\/login$/, view: loginView, open: true },
  { pattern: /^#\/chips$/, view: chipsView, role: "tenant" },
  { pattern: /^#\/chips\/new$/, view: createView, role: "tenant" },
  { pattern: /^#\/chips\/([^/]+)$/, view: chipView, role: "tenant" },
  { pattern: /^#\/admin$/, view: adminView, role: "admin" },
];

function home() {
  return session.role === "admin" ? "#/admin" : "#/chips";
}

async function render() {
  const hash = location.hash || "#/";
  if (!session.credential && hash !== "#/login") { location.replace("#/login"); return; }
  const route = routes.find((candidate) => candidate.pattern.test(hash));
  if (!route || (route.role && route.role !== session.role)) { location.replace(session.credential ? home() : "#/login"); return; }
  if (route.open && session.credential) { location.replace(home()); return; }
  cleanup?.();
  cleanup = null;
  updateNav(hash);
  // Each view gets its own container: one still loading when the user moves on writes into a
  // detached element, and its streams and timers are stopped as soon as it hands them back.
  const current = ++generation;
  const view = document.createElement("div");
  main.replaceChildren(view);
  const params = hash.match(route.pattern).slice(1).map(decodeURIComponent);
  const stop = (await route.view(view, ...params)) ?? null;
  if (current !== generation) { stop?.(); return; }
  cleanup = stop;
  // Keyboard and screen-reader users land on the new view's heading, unless the view focused a field.
  if (!main.contains(document.activeElement)) (main.querySelector("h1") ?? main).focus?.({ preventScroll: true });
}

function updateNav(hash) {
  const nav = document.getElementById("nav");
  nav.hidden = !session.credential;
  document.getElementById("nav-chips").hidden = session.role !== "tenant";
  document.getElementById("nav-admin").hidden = session.role !== "admin";
  document.getElementById("who").textContent = session.role === "admin" ? "admin" : (sessionStorage.getItem("whago.tenantName") ?? "");
  for (const link of nav.querySelectorAll("a")) {
    if (hash.startsWith(link.getAttribute("href"))) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function logOut(message) {
  cleanup?.();
  cleanup = null;
  generation += 1;
  session.clear();
  sessionStorage.removeItem("whago.tenantName");
  if (message) sessionStorage.setItem("whago.loginMessage", message);
  if (location.hash === "#/login") render(); else location.hash = "#/login";
}

document.getElementById("logout").addEventListener("click", () => logOut());
whenUnauthorized((error) => logOut(`Signed out: ${error.message}`));
window.addEventListener("hashchange", render);
render();
