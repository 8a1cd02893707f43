// Small DOM helpers: elements from plain data (never from HTML strings, so nothing a worker or a
// tenant typed is ever parsed as markup).

/** h("a", {href: "#/x", class: "y"}, "text", child…) — attributes starting with "on" are listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces a node's children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A status badge; `data-status` carries the raw status for styles and tests. */
export function badge(status) {
  return h("span", { class: "badge", dataset: { status } }, status.replaceAll("_", " "));
}

/** "3 minutes ago" style, for a date string. */
export function ago(text) {
  if (!text) return "";
  const seconds = Math.round((Date.now() - new Date(text).getTime()) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return new Date(text).toLocaleDateString();
}

/** The WhatsApp id 5511999999999@c.us as +5511999999999. */
export function phone(id) {
  if (!id) return "";
  const number = id.split("@")[0];
  return /^[0-9]+$/.test(number) ? `+${number}` : number;
}

/** A message region (role=alert for errors, status otherwise) that screen readers announce. */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** Copies text to the clipboard; falls back to selecting it where the clipboard API is not offered (plain http). */
export async function copy(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (field) {
      field.focus();
      field.select();
      try { return document.execCommand("copy"); } catch { return false; }
    }
    return false;
  }
}
