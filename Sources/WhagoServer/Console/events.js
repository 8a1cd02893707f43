// GET /api/v1/events as Server-Sent Events, read with fetch (EventSource cannot send the
// Authorization header, and the key must not go in a URL). Resumes after a disconnect from the
// last event's id with Last-Event-ID, waiting a little longer after each failure.

import { session } from "./api.js";
import { h } from "./dom.js";

export class EventStream {
  /**
   * onState(state, after) gets "connecting", "live", "reconnecting" or "refused", and the cursor
   * the stream resumes after. Events (the API's Event objects) wait until `deliver` names
   * their handler, so a view can open the stream, read its state, then apply what came meanwhile.
   */
  constructor({ onState = () => {} } = {}) {
    this.onState = onState;
    this.handler = null;
    this.waiting = [];
    this.lastEventID = null;
    this.controller = null;
    this.stopped = false;
    this.failures = 0;
    // Settles once the server has fixed where the stream starts (or the first attempt failed):
    // a view reads its state after that, so no change falls between its read and the stream.
    this.ready = new Promise((resolve) => { this.settle = resolve; });
  }

  start() {
    this.loop();
    return this;
  }

  /** Hands every event to `handler`: first those that arrived before, then each as it comes. */
  deliver(handler) {
    this.handler = handler;
    for (const event of this.waiting.splice(0)) handler(event);
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  async loop() {
    while (!this.stopped) {
      this.onState(this.failures === 0 ? "connecting" : "reconnecting", this.lastEventID);
      try {
        await this.connect();
        this.failures = 0; // the server ended the stream (e.g. it is restarting): reconnect at once
      } catch (error) {
        this.settle();
        if (this.stopped) return;
        if (error.status === 401) { this.onState("refused", this.lastEventID); return; }
        this.failures += 1;
      }
      if (this.stopped) return;
      this.onState("reconnecting", this.lastEventID);
      const wait = Math.min(15000, 500 * 2 ** Math.min(this.failures, 5));
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async connect() {
    this.controller = new AbortController();
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${session.credential}` };
    if (this.lastEventID) headers["Last-Event-ID"] = this.lastEventID;
    // No history: the stream starts where the log ends now, then resumes from its last id.
    const response = await fetch("/api/v1/events?after=latest", { headers, signal: this.controller.signal, cache: "no-store" });
    if (!response.ok) {
      const error = new Error(`events: HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    this.onState("live", this.lastEventID);
    this.settle();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let separator;
      while ((separator = /\r?\n\r?\n/.exec(buffer)) !== null) {
        const block = buffer.slice(0, separator.index);
        buffer = buffer.slice(separator.index + separator[0].length);
        this.dispatch(block);
      }
    }
  }

  /** One SSE block: `id:`, `event:`, `data:` lines; comments (`:`) are keep-alives. */
  dispatch(block) {
    let id = null;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "data") data.push(value);
    }
    if (id !== null) this.lastEventID = id;
    if (data.length === 0) return;
    try {
      const event = JSON.parse(data.join("\n"));
      if (this.handler) this.handler(event); else this.waiting.push(event);
    } catch (error) {
      console.warn("whago console: an event could not be read", error);
    }
  }
}

/** A live-connection indicator for a stream's states (`data-after`: the cursor it resumed after). */
export function liveIndicator() {
  const element = h("span", { class: "live", id: "live", role: "status", dataset: { state: "connecting" } }, "connecting…");
  const labels = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", refused: "stopped" };
  return {
    element,
    update: (state, after) => {
      element.dataset.state = state;
      element.dataset.after = after ?? "latest";
      element.textContent = labels[state] ?? state;
    },
  };
}
