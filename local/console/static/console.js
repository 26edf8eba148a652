// The local console: the list of executions and one execution on its graph, kept current by
// the server's change events (/_console/api/events). Everything is built with DOM calls and
// textContent; the only markup inserted is Mermaid's SVG (strict security level).
"use strict";

(() => {
  const API = "/_console/api";
  const $ = (id) => document.getElementById(id);
  const STATUS = {
    RUNNING: ["● running", "running"],
    SUCCEEDED: ["✓ succeeded", "succeeded"],
    FAILED: ["✗ failed", "failed"],
    TIMED_OUT: ["✗ timed out", "failed"],
    ABORTED: ["■ aborted", "aborted"],
  };
  const view = { selected: null, shown: {}, graphSource: "", emails: new Set(), renderCount: 0 };
  let refreshing = false;
  let again = false;

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function badge(status) {
    const [text, kind] = STATUS[status] || [status, "aborted"];
    return el("span", { class: `badge ${kind}`, text });
  }

  function time(iso, withDate = false, milliseconds = true) {
    if (!iso) return "";
    const date = new Date(iso);
    const options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    const fraction = milliseconds ? "." + String(date.getMilliseconds()).padStart(3, "0") : "";
    const clock = date.toLocaleTimeString([], options) + fraction;
    return withDate ? `${date.toLocaleDateString()} ${clock}` : clock;
  }

  function pretty(value) {
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function changed(key, value) {
    const text = JSON.stringify(value);
    if (view.shown[key] === text) return false;
    view.shown[key] = text;
    return true;
  }

  async function getJson(url) {
    const response = await fetch(url, { cache: "no-store" });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  // -- the list -------------------------------------------------------------------------
  function renderList(data) {
    $("machine").textContent = `state machine ${data.stateMachine}`;
    if (!changed("list", [data.executions, view.selected])) return;
    const list = $("executions");
    list.replaceChildren(
      ...data.executions.map((execution) => {
        const current = execution.name === view.selected;
        const link = el(
          "a",
          { href: `#/executions/${encodeURIComponent(execution.name)}`, "aria-current": current ? "page" : null },
          el("span", { class: "row-top" }, badge(execution.status), el("span", { class: "started", text: time(execution.startDate) })),
          el("span", { class: "name", text: execution.name }),
          el("span", { class: "state", text: execution.current ? `in ${execution.current}` : execution.stopDate ? `ended ${time(execution.stopDate)}` : "" }),
        );
        return el("li", { "data-name": execution.name, "data-status": execution.status }, link);
      }),
    );
    $("count").textContent = data.executions.length ? `(${data.executions.length}${data.more ? "+" : ""})` : "";
    $("no-executions").hidden = data.executions.length > 0;
  }

  // -- one execution --------------------------------------------------------------------
  function renderExecution(detail) {
    $("placeholder").hidden = true;
    $("execution").hidden = false;
    $("execution-title").textContent = detail.name;
    $("stop").hidden = detail.status !== "RUNNING";
    if (changed("status", [detail.name, detail.status, detail.current])) {
      const line = $("execution-status");
      const where = detail.status === "RUNNING" ? (detail.current ? ` in ${detail.current}` : "") : detail.current ? ` at ${detail.current}` : "";
      line.replaceChildren(badge(detail.status), el("span", { text: where }));
    }
    if (changed("facts", [detail.startDate, detail.stopDate])) {
      const facts = [["started", time(detail.startDate, true)]];
      if (detail.stopDate) facts.push(["ended", time(detail.stopDate, true)]);
      $("execution-facts").replaceChildren(...facts.flatMap(([key, value]) => [el("dt", { text: key }), el("dd", { text: value })]));
    }
    const failure = $("failure");
    failure.hidden = !detail.error;
    if (detail.error) {
      $("failure-error").textContent = detail.error;
      $("failure-cause").textContent = detail.cause === null || detail.cause === undefined ? "" : pretty(detail.cause);
    }
    renderGraph(detail);
    renderVotes(detail.votes);
    renderEmails(detail.emails);
    if (changed("io", [detail.input, detail.output])) {
      $("input").textContent = pretty(detail.input);
      $("output-box").hidden = detail.output === null || detail.output === undefined;
      $("output").textContent = detail.output === null || detail.output === undefined ? "" : pretty(detail.output);
    }
    renderHistory(detail.history);
  }

  let graphQueue = Promise.resolve();
  function renderGraph(detail) {
    const source = detail.graph.source;
    const marks = Object.entries(detail.marks).map(([state, mark]) => `${state}: ${mark.mark}${mark.detail ? ` (${mark.detail})` : ""}`);
    $("graph-text").textContent = marks.length ? `States: ${marks.join("; ")}.` : "";
    if (source === view.graphSource) return;
    view.graphSource = source;
    graphQueue = graphQueue.then(async () => {
      if (source !== view.graphSource) return; // a newer one is coming
      const box = $("graph");
      if (!window.mermaid) {
        box.replaceChildren(el("p", { class: "message", text: "The graph library is not installed: run `make local`, which installs it." }));
        return;
      }
      try {
        view.renderCount += 1;
        const { svg } = await window.mermaid.render(`graph-svg-${view.renderCount}`, source);
        if (source === view.graphSource) {
          box.innerHTML = svg;
          box.dataset.marks = JSON.stringify(detail.marks);
          showCurrentNode(box);
        }
      } catch (error) {
        box.replaceChildren(el("pre", { class: "message", text: `The graph could not be drawn: ${error}` }));
      }
    });
  }

  // On a narrow screen the graph keeps its size and scrolls: bring the state that matters into view.
  function showCurrentNode(box) {
    const current = box.querySelector("g.node.waiting, g.node.running, g.node.failed, g.node.stopped");
    if (!current || box.classList.contains("fit") || box.scrollWidth <= box.clientWidth) return;
    const frame = box.getBoundingClientRect();
    const target = current.getBoundingClientRect();
    box.scrollLeft += target.left + target.width / 2 - (frame.left + frame.width / 2);
  }

  function toggleFit() {
    const box = $("graph");
    const fit = box.classList.toggle("fit");
    $("fit").setAttribute("aria-pressed", String(fit));
    $("fit").textContent = fit ? "Actual size" : "Fit to width";
    if (!fit) showCurrentNode(box);
  }

  function renderVotes(votes) {
    if (!changed("votes", votes)) return;
    const box = $("votes");
    if (!votes.length) {
      box.replaceChildren(el("p", { class: "empty", text: "No approval requested yet." }));
      return;
    }
    const rows = votes.map((vote) =>
      el(
        "tr",
        {},
        el("td", { "data-label": "approver", text: vote.approver || "—" }),
        el("td", { "data-label": "status", text: (vote.status || "").toLowerCase() }),
        el("td", { "data-label": "decision", text: vote.decision || "—" }),
        el("td", { "data-label": "comment", text: vote.comment || "—" }),
        el("td", { "data-label": "decided", text: vote.decidedAt ? time(new Date(vote.decidedAt * 1000).toISOString(), true, false) : "—" }),
      ),
    );
    const head = el("tr", {}, ...["approver", "status", "decision", "comment", "decided"].map((name) => el("th", { scope: "col", text: name })));
    box.replaceChildren(el("table", { class: "votes" }, el("thead", {}, head), el("tbody", {}, ...rows)));
  }

  function renderEmails(emails) {
    const box = $("emails");
    if (!emails.length) {
      if (changed("emails", [])) box.replaceChildren(el("p", { class: "empty", text: "No email sent yet." }));
      view.emails.clear();
      return;
    }
    if (!changed("emails", emails.map((email) => email.id))) return;
    if (!view.emails.size) box.replaceChildren();
    for (const email of emails) {
      if (view.emails.has(email.id)) continue;
      view.emails.add(email.id);
      const links = el(
        "ul",
        { class: "links", "aria-label": `Links in “${email.subject}”` },
        ...email.links.map((link) =>
          el(
            "li",
            {},
            el("a", { href: link.url, target: "_blank", rel: "noopener noreferrer", class: "link-button", "data-link": link.label, text: link.label }),
            el("code", { text: link.url }),
          ),
        ),
      );
      box.append(
        el(
          "article",
          { class: "email", "data-email": email.id },
          el("h4", { text: email.subject }),
          el("p", { class: "muted", text: `to ${email.to} · ${email.date}` }),
          email.links.length ? links : el("p", { class: "muted", text: "No links." }),
          el("iframe", { src: `/_console/emails/${encodeURIComponent(email.id)}`, sandbox: "allow-popups allow-popups-to-escape-sandbox", title: `Email: ${email.subject}`, referrerpolicy: "no-referrer" }),
        ),
      );
    }
  }

  function renderHistory(history) {
    $("event-count").textContent = `(${history.length})`;
    if (!changed("history", history.length)) return;
    const list = $("history");
    const open = new Set([...list.querySelectorAll("details[open]")].map((node) => node.dataset.id));
    list.replaceChildren(
      ...history.map((event) => {
        const bad = /Failed|TimedOut|Aborted/.test(event.type);
        const summary = [
          el("span", { class: "event-id", text: String(event.id) }),
          el("span", { class: "event-time", text: time(event.time) }),
          el("span", { class: `event-type${bad ? " bad" : ""}`, text: `${bad ? "✗ " : ""}${event.type}` }),
          el("span", { class: "event-state", text: event.state || "" }),
        ];
        const fields = ["error", "cause", "parameters", "input", "output", "resource"].filter((key) => event[key] !== undefined && event[key] !== null);
        if (!fields.length) return el("li", { class: "event plain" }, el("div", { class: "event-summary" }, ...summary));
        const details = el(
          "details",
          { "data-id": String(event.id), open: open.has(String(event.id)) },
          el("summary", { class: "event-summary" }, ...summary),
          ...fields.map((key) => el("div", { class: "event-field" }, el("span", { class: "field-name", text: key }), el("pre", { text: pretty(event[key]) }))),
        );
        return el("li", { class: `event${bad ? " bad" : ""}` }, details);
      }),
    );
  }

  // -- refresh, live ----------------------------------------------------------------------
  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      // The execution first: the list then reuses the history the server has just read.
      if (view.selected) {
        const detail = await getJson(`${API}/executions/${encodeURIComponent(view.selected)}`);
        if (detail) renderExecution(detail);
        else showPlaceholder(`No execution named ${view.selected}.`);
      }
      const list = await getJson(`${API}/executions`);
      renderList(list);
      if (list.pending) setTimeout(refresh, 300); // the server reads a few histories per list
    } catch (error) {
      $("live").textContent = "the local server does not answer";
      $("live").className = "live down";
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  function showPlaceholder(text) {
    $("execution").hidden = true;
    $("placeholder").hidden = false;
    if (text) $("placeholder").querySelector("p").textContent = text;
  }

  function select(fromNavigation) {
    const match = location.hash.match(/^#\/executions\/(.+)$/);
    const name = match ? decodeURIComponent(match[1]) : null;
    if (name !== view.selected) {
      view.selected = name;
      view.shown = {};
      view.graphSource = "";
      view.emails.clear();
      $("emails").replaceChildren();
      $("graph").replaceChildren();
      $("history").replaceChildren();
      if (!name) showPlaceholder();
    }
    refresh().then(() => {
      if (fromNavigation && name && !$("execution").hidden) $("execution-title").focus();
    });
  }

  function listen() {
    const source = new EventSource(`${API}/events`);
    source.onopen = () => {
      $("live").textContent = "● live";
      $("live").className = "live up";
    };
    source.onmessage = () => refresh();
    source.onerror = () => {
      $("live").textContent = "reconnecting…";
      $("live").className = "live down";
    };
  }

  // -- actions -----------------------------------------------------------------------------
  function literal(text) {
    const value = text.trim();
    return /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(value) ? value : JSON.stringify(value);
  }

  async function start(event) {
    event.preventDefault();
    const message = $("start-message");
    const button = event.target.querySelector("button");
    button.disabled = true;
    try {
      const body = `{"x": ${literal($("x").value)}, "y": ${literal($("y").value)}}`;
      const response = await fetch("/start", { method: "POST", headers: { "Content-Type": "application/json" }, body });
      const answer = await response.json().catch(() => ({}));
      if (response.ok && answer.executionArn) {
        message.hidden = true;
        message.textContent = "";
        for (const input of [$("x"), $("y")]) input.removeAttribute("aria-invalid");
        location.hash = `#/executions/${encodeURIComponent(answer.executionArn.split(":").pop())}`;
      } else {
        message.hidden = false;
        message.className = "message error";
        message.textContent = `${response.status}: ${answer.message || response.statusText}`;
        for (const input of [$("x"), $("y")]) input.setAttribute("aria-invalid", "true");
      }
    } catch (error) {
      message.hidden = false;
      message.className = "message error";
      message.textContent = `The local server does not answer: ${error}`;
    } finally {
      button.disabled = false;
    }
  }

  async function stop() {
    if (!view.selected) return;
    const message = $("stop-message");
    const response = await fetch(`${API}/executions/${encodeURIComponent(view.selected)}/stop`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    const answer = await response.json().catch(() => ({}));
    message.hidden = response.ok;
    message.className = "message error";
    message.textContent = response.ok ? "" : `${response.status}: ${answer.message || response.statusText}`;
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (window.mermaid) {
      window.mermaid.initialize({
        startOnLoad: false,
        securityLevel: "strict",
        theme: "base",
        themeVariables: {
          fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
          fontSize: "14px",
          primaryColor: "#f8fafc",
          primaryBorderColor: "#94a3b8",
          primaryTextColor: "#1f2937",
          lineColor: "#64748b",
          edgeLabelBackground: "#ffffff",
        },
        flowchart: { htmlLabels: true, curve: "basis", useMaxWidth: false, nodeSpacing: 36, rankSpacing: 44, padding: 10 },
      });
    }
    $("start").addEventListener("submit", start);
    $("stop").addEventListener("click", stop);
    $("fit").addEventListener("click", toggleFit);
    window.addEventListener("hashchange", () => select(true));
    select(false);
    listen();
  });
})();
