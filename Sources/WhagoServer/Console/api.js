// The REST API as the console uses it. The credential (a tenant's API key or the admin token)
// lives in sessionStorage only: never in a URL, a cookie or a log, gone when the tab closes.

const KEY = "whago.credential";
const ROLE = "whago.role";

export const session = {
  get credential() { return sessionStorage.getItem(KEY); },
  get role() { return sessionStorage.getItem(ROLE); },
  save(credential, role) {
    sessionStorage.setItem(KEY, credential);
    sessionStorage.setItem(ROLE, role);
  },
  clear() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ROLE);
  },
};

/** An API error: the HTTP status, whago's stable code, its message and, for 429/503, the wait. */
export class APIError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** A sentence for people: the message, and how long to wait when the API said so. */
  get explanation() {
    const wait = this.retryAfter ? ` Try again in ${this.retryAfter} s.` : "";
    return `${this.message}${wait}`;
  }
}

/** Called when the API refuses the credential (401): the console goes back to its login. */
let onUnauthorized = () => {};
export function whenUnauthorized(handler) { onUnauthorized = handler; }

/**
 * One API call. `body` is sent as JSON; answers are parsed as JSON unless `raw` is set.
 * Throws APIError for a non-2xx answer, with whago's `{error: {code, message}}`.
 */
export async function api(method, path, { body, credential = session.credential, headers = {}, raw = false, signal } = {}) {
  const request = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (credential) request.headers.Authorization = `Bearer ${credential}`;
  if (body !== undefined) {
    request.headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, request);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new APIError(0, "network", "whago cannot be reached; check that it is running.");
  }
  if (response.ok) {
    if (raw) return response;
    return response.status === 204 || response.status === 202 ? null : response.json();
  }
  let code = "http_" + response.status;
  let message = `${response.status} ${response.statusText}`;
  try {
    const answer = await response.json();
    code = answer?.error?.code ?? code;
    message = answer?.error?.message ?? message;
  } catch { /* not JSON: keep the status line */ }
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10) || undefined;
  const error = new APIError(response.status, code, message, retryAfter);
  if (response.status === 401 && credential === session.credential && credential) onUnauthorized(error);
  throw error;
}

/** Every item of a paged list (`{<field>: [...], next}`), following `next` as `after`. */
export async function allPages(path, field) {
  const items = [];
  let after;
  do {
    const page = await api("GET", `${path}?limit=500${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    items.push(...page[field]);
    after = page.next;
  } while (after);
  return items;
}

/** Path segment escaping for ids. */
export const id = (value) => encodeURIComponent(value);
