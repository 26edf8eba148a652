// The local console: the list of executions of both state machines (the workflow and the
// approval machine it starts) and one execution on its own machine's graph, parent and child
// linked both ways, kept current by the server's change events (/_console/api/events). An
// execution is its machine and its name (#/executions/<machine>/<name>): a child is named as its
// parent. Everything is built with DOM calls and textContent; the only markup inserted is
// Mermaid's SVG (strict security level).
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
  // selected: {machine, name} (machine null until the server says, for a link without one);
  // listed: "machine/name" -> status, from the last list; asked: the approval the form started, until CheckRequest passed.
  const view = { selected: null, detail: null, machines: {}, shown: {}, graphSource: "", emails: new Set(), renderCount: 0, fit: null, stopping: null, allEvents: false, listed: new Map(), asked: null };
  // Email groups, in the order of an approval's life; a kind the console does not know comes before "other".
  const KINDS = {
    request: "Approval requests",
    reminder: "Reminders",
    escalation: "Escalation",
    outcome: "Outcome notices",
    failure: "Failure notices",
    other: "Other emails",
  };
  const NARROW = window.matchMedia("(max-width: 760px)");
  const RECENT_EVENTS = 25;
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

  // Which state machine: the words are the console's keys ("workflow", "approval").
  function machineBadge(machine) {
    return el("span", { class: `machine ${machine}`, text: machine });
  }

  const keyOf = (machine, name) => `${machine}/${name}`;
  const hashOf = (machine, name) => `#/executions/${encodeURIComponent(machine)}/${encodeURIComponent(name)}`;
  const isSelected = (machine, name) => !!view.selected && view.selected.machine === machine && view.selected.name === name;

  // -- times: one format everywhere (UTC, as the emails and the approval pages say it), and how
  // long ago or how soon beside it, in the emails' words ("in 10 minutes", "2 hours ago").
  function utc(iso, milliseconds = false) {
    const text = new Date(iso).toISOString();
    return `${text.slice(0, 10)} ${text.slice(11, milliseconds ? 23 : 19)} UTC`;
  }

  const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  function relative(iso, now = Date.now()) {
    const delta = Math.round((new Date(iso).getTime() - now) / 1000);
    const size = Math.abs(delta);
    if (!size) return "just now";
    const [unit, seconds] = UNITS.find(([, length]) => size >= length) || UNITS[UNITS.length - 1];
    const count = Math.floor(size / seconds);
    const words = `${count} ${unit}${count === 1 ? "" : "s"}`;
    return delta >= 0 ? `in ${words}` : `${words} ago`;
  }

  function ago(iso) {
    return el("span", { class: "relative", "data-at": iso, text: relative(iso) });
  }

  function when(iso, milliseconds = false) {
    if (!iso) return el("span", { text: "—" });
    return el("span", { class: "when" }, el("time", { datetime: iso, text: utc(iso, milliseconds) }), " (", ago(iso), ")");
  }

  function tick() {
    const now = Date.now();
    for (const node of document.querySelectorAll(".relative[data-at]")) {
      const text = relative(node.dataset.at, now);
      if (node.textContent !== text) node.textContent = text;
    }
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
    const machines = data.machines || { workflow: data.stateMachine };
    view.machines = machines;
    $("machine").textContent = `state machines ${Object.values(machines).join(" · ")}`;
    if (machines.approval) $("approval-machine").textContent = machines.approval;
    view.listed = new Map(data.executions.map((execution) => [keyOf(execution.machine, execution.name), execution.status]));
    if (!changed("list", [data.executions, view.selected])) return;
    const list = $("executions");
    list.replaceChildren(
      ...data.executions.map((execution) => {
        const current = isSelected(execution.machine, execution.name);
        const where = [];
        if (execution.error) where.push(el("strong", { class: "reason", text: execution.error }), " · ");
        if (execution.status === "RUNNING") {
          if (execution.current) where.push(`in ${execution.current} · `);
          where.push("started ", ago(execution.startDate));
        } else if (execution.stopDate) {
          where.push("ended ", ago(execution.stopDate));
        }
        const link = el(
          "a",
          { href: hashOf(execution.machine, execution.name), "aria-current": current ? "page" : null },
          el("span", { class: "row-top" }, el("span", { class: "badges" }, badge(execution.status), machineBadge(execution.machine)),
            el("time", { class: "started", datetime: execution.startDate, text: utc(execution.startDate) })),
          el("span", { class: "name", text: execution.name }),
          el("span", { class: "state" }, ...where),
        );
        return el("li", { "data-machine": execution.machine, "data-name": execution.name, "data-status": execution.status }, link);
      }),
    );
    $("count").textContent = data.executions.length ? `(${data.executions.length}${data.more ? "+" : ""})` : "";
    $("no-executions").hidden = data.executions.length > 0;
  }

  // -- one execution --------------------------------------------------------------------
  function renderExecution(detail) {
    view.detail = detail;
    $("placeholder").hidden = true;
    $("execution").hidden = false;
    if (changed("title", [detail.machine, detail.name])) {
      $("execution-title").replaceChildren(machineBadge(detail.machine), " ", el("span", { text: detail.name }));
    }
    $("stop").hidden = detail.status !== "RUNNING";
    renderLineage(detail);
    if (changed("status", [detail.name, detail.status, detail.current])) {
      const line = $("execution-status");
      const where = detail.status === "RUNNING" ? (detail.current ? ` in ${detail.current}` : "") : detail.current ? ` at ${detail.current}` : "";
      line.replaceChildren(badge(detail.status), el("span", { text: where }));
    }
    if (changed("facts", [detail.stateMachine, detail.startDate, detail.stopDate])) {
      const facts = [["state machine", el("code", { text: detail.stateMachine })], ["started", when(detail.startDate)]];
      if (detail.stopDate) facts.push(["ended", when(detail.stopDate)]);
      $("execution-facts").replaceChildren(...facts.flatMap(([key, value]) => [el("dt", { text: key }), el("dd", {}, value)]));
    }
    const failure = $("failure");
    failure.hidden = !detail.error;
    if (detail.error) {
      $("failure-error").textContent = detail.error;
      $("failure-cause").textContent = detail.cause === null || detail.cause === undefined ? "" : pretty(detail.cause);
    }
    renderGraph(detail);
    renderRequest(detail.approval && detail.approval.request);
    renderApproval(detail.approval, detail.status);
    renderVotes(detail.votes, detail.status);
    renderEmails(detail.emails);
    if (changed("io", [detail.input, detail.output])) {
      $("input").textContent = pretty(detail.input);
      $("output-box").hidden = detail.output === null || detail.output === undefined;
      $("output").textContent = detail.output === null || detail.output === undefined ? "" : pretty(detail.output);
    }
    renderHistory(detail.history);
    followAsked(detail);
  }

  // Parent and child, both ways: "started by" the execution whose Task started this one; "started"
  // the executions this one's Tasks started (the approval), each with its status from the list.
  function renderLineage(detail) {
    const started = detail.started || [];
    const statuses = started.map((child) => view.listed.get(keyOf(child.machine, child.name)) || null);
    if (!changed("lineage", [detail.startedBy, started, statuses])) return;
    const link = (execution) =>
      execution.machine
        ? el("a", { href: hashOf(execution.machine, execution.name), "data-machine": execution.machine, "data-name": execution.name },
          machineBadge(execution.machine), " ", el("span", { class: "name", text: execution.name }))
        : el("code", { class: "name", text: execution.arn }); // a machine the console does not show
    const items = [];
    if (detail.startedBy) items.push(el("li", { class: "parent" }, "↑ started by ", link(detail.startedBy)));
    started.forEach((child, index) =>
      items.push(el("li", { class: "child" }, `↓ started in ${child.state || "a Task"}: `, link(child), ...(statuses[index] ? [" ", badge(statuses[index])] : []))),
    );
    $("lineage").replaceChildren(...items);
    $("lineage").hidden = !items.length;
  }

  // What is asked: the subject, the details in order, the link and who asks (the approval's request).
  function renderRequest(request) {
    if (!changed("request", request || null)) return;
    const box = $("request");
    box.hidden = !request || !request.subject;
    if (box.hidden) {
      box.replaceChildren();
      return;
    }
    const parts = [el("p", { class: "subject" }, el("strong", { text: request.subject }))];
    if (request.details && request.details.length) {
      parts.push(el("dl", { class: "details" }, ...request.details.flatMap((row) => [el("dt", { text: row.label }), el("dd", { text: String(row.value) })])));
    }
    const facts = [];
    if (request.link) {
      // CheckRequest lets only https links through; anything else stays text.
      const open = /^https:\/\//.test(request.link)
        ? el("a", { href: request.link, target: "_blank", rel: "noopener noreferrer", class: "link-button", text: "Open" })
        : null;
      facts.push(el("p", { class: "request-link" }, open, " ", el("code", { text: request.link })));
    }
    if (request.requestedBy) facts.push(el("p", { class: "muted", text: `requested by ${request.requestedBy}` }));
    box.replaceChildren(...parts, ...facts);
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
          // A phone sees the whole graph first (then "Actual size"); a wider screen, its actual size.
          setFit(view.fit === null ? NARROW.matches : view.fit);
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

  function setFit(fit) {
    const box = $("graph");
    box.classList.toggle("fit", fit);
    $("fit").setAttribute("aria-pressed", String(fit));
    $("fit").textContent = fit ? "Actual size" : "Fit to width";
    if (!fit) showCurrentNode(box);
  }

  function toggleFit() {
    view.fit = !$("graph").classList.contains("fit");
    setFit(view.fit);
  }

  // -- the approval: the policy, the count, the deadline, reminders and escalation; then the outcome.
  function renderApproval(approval, status) {
    if (!changed("approval", [approval, status])) return;
    const box = $("approval-summary");
    if (!approval) {
      box.replaceChildren();
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const open = approval.status === "PENDING" && !approval.outcome && status === "RUNNING";
    const facts = [];
    const fact = (name, label, ...value) => facts.push(el("div", { class: "fact", "data-fact": name }, el("dt", { text: label }), el("dd", {}, ...value)));
    if (!open) fact("outcome", "outcome", ...outcomeWords(approval, status));
    fact("policy", "policy", approval.description);
    const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
    const silent = approval.approvers - approval.approvals - approval.rejections;
    fact("votes", "so far", `${approval.approvals} approved · ${approval.rejections} rejected · ${silent} of ${approval.approvers} ${open ? "yet to vote" : "did not vote"}`);
    if (open) {
      fact("needed", "still needed", `${plural(approval.votesNeeded, "more approval")} to approve; ${plural(approval.rejectionsToReject, "rejection")} would reject`);
    }
    fact("deadline", "deadline", when(approval.deadline));
    const reminders = approval.reminders;
    if (!reminders) fact("reminders", "reminders", "none configured");
    else {
      const next = open && reminders.next ? ["; next ", when(reminders.next)] : [];
      fact("reminders", "reminders", `${reminders.sent} of ${reminders.most} sent (every ${reminders.every} s)`, ...next);
    }
    const escalation = approval.escalation;
    if (!escalation) fact("escalation", "escalation", "none configured");
    else if (escalation.at) fact("escalation", "escalation", `escalated to ${escalation.to} at `, when(escalation.at));
    else if (open) fact("escalation", "escalation", `not yet; goes to ${escalation.to} at `, when(escalation.due));
    else fact("escalation", "escalation", `not escalated (it would have gone to ${escalation.to} after ${escalation.after} s)`);
    box.replaceChildren(...facts);
  }

  function outcomeWords(approval, status) {
    if (approval.outcome) {
      const mark = approval.outcome === "approved" ? "✓" : "✗";
      const who = approval.decidedBy ? [` by ${approval.decidedBy}`] : [];
      const at = approval.decidedAt ? [" at ", when(approval.decidedAt)] : [];
      return [el("strong", { class: `outcome ${approval.outcome}`, text: `${mark} ${approval.outcome}` }), ...who, ...at];
    }
    if (approval.status === "EXPIRED") return [el("strong", { class: "outcome rejected", text: "✗ timed out" }), ": nobody decided before the deadline"];
    if (approval.status === "CANCELLED") return [el("strong", { class: "outcome", text: "■ cancelled" }), ": the approval emails could not be sent"];
    if (approval.status === "PENDING") return [el("strong", { class: "outcome", text: "■ no decision" }), `: the execution ended (${status.toLowerCase().replace("_", " ")}) before one`];
    return [el("strong", { class: "outcome", text: `■ ${approval.status.toLowerCase()}` })];
  }

  function renderVotes(votes, status) {
    if (!changed("votes", [votes, status === "RUNNING"])) return;
    const box = $("votes");
    if (!votes.length) {
      box.replaceChildren(el("p", { class: "empty", text: status === "RUNNING" ? "No approval requested yet." : "No approval was requested." }));
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
        el("td", { "data-label": "decided" }, when(vote.decidedAt)),
      ),
    );
    const head = el("tr", {}, ...["approver", "status", "decision", "comment", "decided"].map((name) => el("th", { scope: "col", text: name })));
    box.replaceChildren(el("table", { class: "votes" }, el("thead", {}, head), el("tbody", {}, ...rows)));
  }

  // Emails by kind: the first of each kind shown whole, the others one line each (to, when, their
  // links) under "N more", each opening on demand. Frames already shown are never rebuilt.
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
      const group = emailGroup(email.kind);
      const more = group.querySelector("details.more");
      if (!group.querySelector("article.email")) group.insertBefore(emailArticle(email), more);
      else {
        const list = more.querySelector("ol");
        list.append(el("li", {}, emailArticle(email, true)));
        more.hidden = false;
        more.querySelector("summary").textContent = `${list.children.length} more ${group.getAttribute("aria-label").toLowerCase()}`;
      }
      const count = group.querySelectorAll("article.email").length;
      group.querySelector(".count").textContent = `(${count})`;
    }
  }

  function emailGroup(kind) {
    const box = $("emails");
    const found = [...box.children].find((node) => node.dataset.kind === kind);
    if (found) return found;
    const order = Object.keys(KINDS);
    const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length - 1.5);
    const title = KINDS[kind] || kind.charAt(0).toUpperCase() + kind.slice(1);
    const group = el(
      "section",
      { class: "email-group", "data-kind": kind, "aria-label": title },
      el("h4", {}, title, " ", el("span", { class: "muted count" })),
      el("details", { class: "more", hidden: true }, el("summary"), el("ol", { class: "email-rows" })),
    );
    const after = [...box.children].find((node) => rank(node.dataset.kind) > rank(kind));
    box.insertBefore(group, after || null);
    return group;
  }

  function emailArticle(email, compact = false) {
    const links = el(
      "ul",
      { class: "links", "aria-label": `Links in “${email.subject}” to ${email.to}` },
      ...email.links.map((link) =>
        el(
          "li",
          {},
          el("a", { href: link.url, target: "_blank", rel: "noopener noreferrer", class: "link-button", "data-link": link.label, text: link.label }),
          el("code", { text: link.url }),
        ),
      ),
    );
    const frame = () =>
      el("iframe", { src: `/_console/emails/${encodeURIComponent(email.id)}`, sandbox: "allow-popups allow-popups-to-escape-sandbox", title: `Email: ${email.subject}`, referrerpolicy: "no-referrer" });
    const article = el(
      "article",
      { class: compact ? "email compact" : "email", "data-email": email.id },
      el("h5", { text: email.subject }),
      el("p", { class: "muted" }, `to ${email.to} · `, when(email.date)),
      email.links.length ? links : compact ? null : el("p", { class: "muted", text: "No links." }),
    );
    if (!compact) article.append(frame());
    else {
      const show = el("details", { class: "show" }, el("summary", { text: "Show the email" }));
      show.addEventListener("toggle", () => {
        if (show.open && !show.querySelector("iframe")) show.append(frame());
      });
      article.append(show);
    }
    return article;
  }

  // The newest events; the earlier ones on demand (a long approval has hundreds).
  function renderHistory(history) {
    $("event-count").textContent = `(${history.length})`;
    if (!changed("history", [history.length, view.allEvents])) return;
    const list = $("history");
    const open = new Set([...list.querySelectorAll("details[open]")].map((node) => node.dataset.id));
    const hidden = view.allEvents ? 0 : Math.max(0, history.length - RECENT_EVENTS);
    const earlier = el("button", { type: "button", class: "quiet", text: `Show the ${hidden} earlier event${hidden === 1 ? "" : "s"}` });
    earlier.addEventListener("click", () => {
      view.allEvents = true;
      renderHistory(history);
      list.querySelector("summary")?.focus();
    });
    list.replaceChildren(
      ...(hidden ? [el("li", { class: "event earlier" }, earlier)] : []),
      ...history.slice(hidden).map((event) => {
        // The server says which events are failures and which a timer the definition plans for.
        const bad = event.tone === "bad";
        const marker = bad ? "✗ " : event.tone === "timer" ? "◔ " : "";
        const elapsed = ((new Date(event.time) - new Date(history[0].time)) / 1000).toFixed(3);
        const summary = [
          el("span", { class: "event-id", text: String(event.id) }),
          el("span", { class: "event-time" }, el("time", { datetime: event.time, text: utc(event.time, true) }), el("span", { class: "elapsed", text: ` +${elapsed} s` })),
          el("span", { class: `event-type${event.tone ? ` ${event.tone}` : ""}`, text: `${marker}${event.type}${event.tone === "timer" ? " (timer)" : ""}` }),
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
      const selected = view.selected;
      let detail = null;
      if (selected) {
        const path = selected.machine ? `${encodeURIComponent(selected.machine)}/` : "";
        detail = await getJson(`${API}/executions/${path}${encodeURIComponent(selected.name)}`);
        // Another execution chosen meanwhile: this one is not shown (the next refresh reads that one).
        if (selected !== view.selected) again = true;
        else if (detail) {
          if (!selected.machine) {
            // A link without the machine (#/executions/<name>): the server found which; the address says it now.
            selected.machine = detail.machine;
            history.replaceState(null, "", hashOf(detail.machine, detail.name));
          }
          renderExecution(detail);
        } else showPlaceholder(`No execution named ${selected.name}${selected.machine ? ` on the ${selected.machine} machine` : ""}.`);
      }
      const list = await getJson(`${API}/executions`);
      renderList(list);
      if (detail && selected === view.selected) renderLineage(detail); // the statuses the list just brought
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
    const match = location.hash.match(/^#\/executions\/(?:([^/]+)\/)?([^/]+)$/);
    const machine = match && match[1] ? decodeURIComponent(match[1]) : null;
    const name = match ? decodeURIComponent(match[2]) : null;
    const same = name && view.selected && view.selected.name === name && (!machine || view.selected.machine === machine);
    if (!same && (name || view.selected)) {
      view.selected = name ? { machine, name } : null;
      view.shown = {};
      view.allEvents = false;
      view.graphSource = "";
      view.emails.clear();
      $("emails").replaceChildren();
      $("graph").replaceChildren();
      $("history").replaceChildren();
      if (!name) showPlaceholder();
    }
    refresh().then(() => {
      // A refused approval request has just put the focus on the field it names: leave it there.
      const refused = document.activeElement && document.activeElement.getAttribute("aria-invalid") === "true";
      if (fromNavigation && name && !$("execution").hidden && !refused) $("execution-title").focus();
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
    const fields = { x: $("x"), y: $("y") };
    button.disabled = true;
    try {
      const body = `{"x": ${literal(fields.x.value)}, "y": ${literal(fields.y.value)}}`;
      const response = await fetch("/start", { method: "POST", headers: { "Content-Type": "application/json" }, body });
      const answer = await response.json().catch(() => ({}));
      for (const input of Object.values(fields)) input.removeAttribute("aria-invalid");
      if (response.ok && answer.executionArn) {
        message.hidden = true;
        message.replaceChildren();
        // POST /start starts the first machine of the list (the workflow).
        const [machine] = Object.keys(view.machines);
        const name = answer.executionArn.split(":").pop();
        location.hash = machine ? hashOf(machine, name) : `#/executions/${encodeURIComponent(name)}`;
        return;
      }
      // The API's answer names the rule, not the field: the console asks which fields break it.
      const problems = response.status === 400 ? await startProblems(body) : { fields: {}, body: null };
      const words = Object.entries(problems.fields).map(([name, problem]) => {
        if (fields[name]) fields[name].setAttribute("aria-invalid", "true");
        return problem;
      });
      if (problems.body) words.push(problems.body);
      message.hidden = false;
      message.className = "message error";
      message.replaceChildren(
        ...(words.length ? [el("strong", { class: "problems", text: words.join("; ") + "." })] : []),
        el("span", { class: "api-answer", text: `POST /start answered ${response.status}: ${answer.message || response.statusText}` }),
      );
      (Object.values(fields).find((input) => input.getAttribute("aria-invalid") === "true") || button).focus();
    } catch (error) {
      message.hidden = false;
      message.className = "message error";
      message.textContent = `The local server does not answer: ${error}`;
    } finally {
      button.disabled = false;
    }
  }

  async function startProblems(body) {
    try {
      const response = await fetch(`${API}/start-problems`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
      return response.ok ? await response.json() : { fields: {}, body: null };
    } catch (error) {
      return { fields: {}, body: null };
    }
  }

  // -- the approval form: a subject, detail rows (label and value), a link, who asks. The form
  // checks only that there is a subject; the approval machine checks the rest (CheckRequest) and
  // fails the execution with InvalidApprovalRequest, its cause starting with the field: the form
  // then marks that field, in those words.
  function addDetail(label = "", value = "") {
    const list = $("approval-details");
    const row = el(
      "li",
      { class: "detail-row" },
      el("input", { class: "detail-label", type: "text", maxlength: "60", autocomplete: "off", placeholder: "label", value: label, "aria-describedby": "approval-message" }),
      el("input", { class: "detail-value", type: "text", autocomplete: "off", placeholder: "value", value, "aria-describedby": "approval-message" }),
      el("button", { type: "button", class: "quiet remove", text: "✕" }),
    );
    row.querySelector(".remove").addEventListener("click", () => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      numberDetails();
      (next ? next.querySelector(".detail-label") : $("add-detail")).focus();
    });
    list.append(row);
    numberDetails();
    return row;
  }

  function numberDetails() {
    [...$("approval-details").children].forEach((row, index) => {
      row.querySelector(".detail-label").setAttribute("aria-label", `Detail ${index + 1}: label`);
      row.querySelector(".detail-value").setAttribute("aria-label", `Detail ${index + 1}: value`);
      row.querySelector(".remove").setAttribute("aria-label", `Remove detail ${index + 1}`);
      row.querySelector(".remove").title = `Remove detail ${index + 1}`;
    });
  }

  // The problem in words, next to the field it is about (else at the form's end).
  function approvalMessage(problem, note, field) {
    const message = $("approval-message");
    const anchor = field ? field.closest("label") || field.closest("fieldset") : null;
    (anchor || $("approval-hint")).after(message);
    message.hidden = false;
    message.className = "message error";
    message.replaceChildren(el("strong", { class: "problems", text: problem }), ...(note ? [el("span", { class: "api-answer", text: note })] : []));
  }

  async function startApproval(event) {
    event.preventDefault();
    const form = event.target;
    const button = form.querySelector("button[type=submit]");
    const message = $("approval-message");
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const subject = $("approval-subject");
    if (!subject.value.trim()) {
      subject.setAttribute("aria-invalid", "true");
      approvalMessage("subject is required: what is asked, in one line.", null, subject);
      subject.focus();
      return;
    }
    // Rows left empty are not sent; the others keep their order (the refusal names them by it).
    const rows = [...$("approval-details").children].filter(
      (row) => row.querySelector(".detail-label").value.trim() || row.querySelector(".detail-value").value.trim(),
    );
    const request = {
      subject: subject.value.trim(),
      details: rows.map((row) => ({ label: row.querySelector(".detail-label").value.trim(), value: row.querySelector(".detail-value").value.trim() })),
    };
    if ($("approval-link").value.trim()) request.link = $("approval-link").value.trim();
    if ($("approval-requested-by").value.trim()) request.requestedBy = $("approval-requested-by").value.trim();
    button.disabled = true;
    try {
      const response = await fetch(`${API}/approvals`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok || !answer.name) {
        approvalMessage(answer.message || `The console answered ${response.status}.`);
        button.focus();
        return;
      }
      message.hidden = true;
      message.replaceChildren();
      view.asked = { machine: answer.machine, name: answer.name, rows };
      location.hash = hashOf(answer.machine, answer.name);
    } catch (error) {
      approvalMessage(`The local server does not answer: ${error}`);
    } finally {
      button.disabled = false;
    }
  }

  // The approval the form started, until it is recorded or ends: a refusal goes back to the form.
  function followAsked(detail) {
    const asked = view.asked;
    if (!asked || asked.machine !== detail.machine || asked.name !== detail.name) return;
    if (detail.status === "RUNNING" && !detail.approval) return; // not yet checked (a checked request is recorded)
    view.asked = null;
    if (detail.status !== "FAILED" || detail.error !== "InvalidApprovalRequest") return;
    const cause = pretty(detail.cause || "");
    const field = refusedField(cause, asked.rows);
    if (field) field.setAttribute("aria-invalid", "true");
    approvalMessage(cause, `The approval machine refused the request: execution ${detail.name} failed with InvalidApprovalRequest.`, field);
    (field || $("approval-subject")).focus();
  }

  // "details[1].value: must be a text or a number" -> the second sent row's value input.
  function refusedField(cause, rows) {
    const found = cause.match(/^([A-Za-z]+)(?:\[(\d+)\])?(?:\.([A-Za-z]+))?:/);
    if (!found) return null;
    const [, name, index, part] = found;
    const inputs = { subject: "approval-subject", link: "approval-link", requestedBy: "approval-requested-by" };
    if (inputs[name]) return $(inputs[name]);
    if (name !== "details") return null;
    const row = index !== undefined ? rows[Number(index)] : rows[0];
    if (!row || !row.isConnected) return $("add-detail");
    return row.querySelector(part === "value" ? ".detail-value" : ".detail-label");
  }

  // Stop asks first, naming the execution, as the AWS console does.
  function askToStop() {
    if (!view.selected || !view.selected.machine) return;
    view.stopping = { ...view.selected };
    const dialog = $("stop-dialog");
    $("stop-name").textContent = view.stopping.name;
    $("stop-machine").textContent = view.stopping.machine.charAt(0).toUpperCase() + view.stopping.machine.slice(1);
    // Stopping a workflow stops the approval it started (as on AWS: .sync Tasks stop their child).
    const started = (view.detail && view.detail.started) || [];
    $("stop-child").hidden = !started.some((child) => view.listed.get(keyOf(child.machine, child.name)) === "RUNNING");
    dialog.returnValue = "";
    dialog.showModal();
  }

  async function stop() {
    const stopping = view.stopping;
    view.stopping = null;
    if ($("stop-dialog").returnValue !== "stop" || !stopping) return;
    const message = $("stop-message");
    const response = await fetch(`${API}/executions/${encodeURIComponent(stopping.machine)}/${encodeURIComponent(stopping.name)}/stop`, {
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
        flowchart: { htmlLabels: true, curve: "basis", useMaxWidth: false, nodeSpacing: 36, rankSpacing: 60, padding: 10 },
      });
    }
    $("start").addEventListener("submit", start);
    $("start-approval").addEventListener("submit", startApproval);
    $("add-detail").addEventListener("click", () => addDetail().querySelector(".detail-label").focus());
    addDetail();
    $("stop").addEventListener("click", askToStop);
    $("stop-dialog").addEventListener("close", stop);
    $("fit").addEventListener("click", toggleFit);
    NARROW.addEventListener("change", () => view.fit === null && $("graph").firstElementChild && setFit(NARROW.matches));
    setInterval(tick, 1000);
    window.addEventListener("hashchange", () => select(true));
    select(false);
    listen();
  });
})();
