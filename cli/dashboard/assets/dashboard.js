// The Troupe dashboard page's script: plain JavaScript, no framework. It reads
// the live feed (/api/events, Server-Sent Events: recent events, each new
// event, and snapshots of every agent and supervision tree), draws the agents
// table, the trees, the event feed and two charts, and shows an agent's detail
// (/api/agents/TYPE/KEY) on click, where a model agent's pending approval can
// be approved or denied. Everything from the server is shown as text (never
// parsed as HTML). The run's token comes in the address's fragment
// (`#token=...`, printed by agentctl dashboard; a browser never sends a
// fragment to a server): it is kept in sessionStorage, removed from the
// address bar, and sent as the `x-troupe-token` header on every API request.
// The live feed is read with fetch() and a stream reader (EventSource cannot
// send a header), and reopened with backoff when it ends.
"use strict";
(function () {
  var TOKEN_KEY = "troupe-dashboard-token";
  var token = (function () {
    var m = /^#token=([0-9a-f]{64})$/.exec(location.hash);
    if (m) {
      try { sessionStorage.setItem(TOKEN_KEY, m[1]); } catch (e) { /* storage off: the token lives in this page only */ }
      history.replaceState(null, "", location.pathname + location.search);
      return m[1];
    }
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  })();
  var NO_TOKEN = "no dashboard token: open the URL agentctl dashboard printed (it ends with #token=…)";

  function showNoToken(text) {
    var box = document.getElementById("no-token");
    box.textContent = text;
    box.hidden = false;
    var status = document.getElementById("status");
    status.dataset.state = "lost";
    status.textContent = "no token";
  }

  var WINDOW_S = 60;
  var MAX_FEED = 200;
  var BAD_KINDS = { child_failed: 1, max_intensity: 1, fenced: 1, agent_error: 1, invalid_message: 1, permission_denied: 1, budget_exceeded: 1, supervisor_error: 1, failover_failed: 1, name_lost: 1 };
  var WARN_KINDS = { child_restarted: 1, failover: 1, approval_requested: 1, approval_timeout: 1, tool_refused: 1, handed_over: 1 };

  var state = {
    snapshot: null,
    previous: null,
    rates: [], // [{t, v}] messages handled per second
    restarts: {}, // second -> count of child_restarted events
    selected: null,
    detailTimer: null,
  };

  function $(id) { return document.getElementById(id); }

  /** An element with text children (strings become text nodes, never HTML). */
  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "class") e.className = attrs[k];
      else if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  function api(path, init) {
    init = init || {};
    init.credentials = "omit";
    init.headers = Object.assign({}, init.headers || {}, { "x-troupe-token": token || "" });
    return fetch(path, init).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error((body && body.error) || r.status + " " + r.statusText);
        return body;
      });
    });
  }

  function agentPath(id) {
    var slash = id.indexOf("/");
    return "/api/agents/" + encodeURIComponent(id.slice(0, slash)) + "/" + encodeURIComponent(id.slice(slash + 1));
  }

  function compact(v) {
    if (typeof v === "string") return v;
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  }

  function duration(ms) {
    if (typeof ms !== "number" || !(ms >= 0)) return "";
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
    return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
  }

  function clock(ms) {
    var d = new Date(ms);
    return isNaN(d.getTime()) ? String(ms) : d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }

  // ---- charts ----

  function drawChart(svg, values) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var max = 1;
    values.forEach(function (p) { if (p.v > max) max = p.v; });
    var now = Date.now() / 1000;
    var points = values.map(function (p) {
      var x = 300 - (now - p.t) * (300 / WINDOW_S);
      var y = 78 - (p.v / max) * 74;
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    var line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.join(" "));
    svg.appendChild(line);
    var label = document.createElementNS("http://www.w3.org/2000/svg", "text");
    label.setAttribute("x", "2");
    label.setAttribute("y", "10");
    label.setAttribute("font-size", "9");
    label.setAttribute("fill", "#6b6b66");
    label.textContent = "max " + (Math.round(max * 10) / 10);
    svg.appendChild(label);
  }

  function drawCharts() {
    var now = Math.floor(Date.now() / 1000);
    var cutoff = Date.now() / 1000 - WINDOW_S;
    state.rates = state.rates.filter(function (p) { return p.t >= cutoff; });
    var restarts = [];
    for (var s = now - WINDOW_S; s <= now; s++) restarts.push({ t: s, v: state.restarts[s] || 0 });
    for (var k in state.restarts) if (Number(k) < now - WINDOW_S) delete state.restarts[k];
    drawChart($("rate-chart"), state.rates);
    drawChart($("restart-chart"), restarts);
    var last = state.rates[state.rates.length - 1];
    $("rate-now").textContent = last ? String(Math.round(last.v * 10) / 10) : "0";
    $("restarts-now").textContent = String(state.restarts[now - 1] || 0);
  }

  // ---- snapshot: agents, trees ----

  function perAgentRate(a) {
    var prev = state.previous;
    if (!prev) return "";
    var before = null;
    for (var i = 0; i < prev.agents.length; i++) if (prev.agents[i].id === a.id) before = prev.agents[i];
    if (!before || before.handled > a.handled) return "";
    var dt = (state.snapshot.at - prev.at) / 1000;
    return dt > 0 ? String(Math.round(((a.handled - before.handled) / dt) * 10) / 10) : "";
  }

  function renderAgents() {
    var snap = state.snapshot;
    var body = $("agents").tBodies[0];
    var rows = {};
    Array.prototype.forEach.call(body.rows, function (r) { rows[r.dataset.agent] = r; });
    var agents = snap.agents.slice().sort(function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; });
    var seen = {};
    agents.forEach(function (a, i) {
      seen[a.id] = true;
      var row = rows[a.id];
      if (!row) {
        row = el("tr", { "data-agent": a.id });
        ["agent", "node", "state", "handled", "rate", "failures", "restarts", "mailbox", "p99", "uptime"].forEach(function (c) {
          row.appendChild(el("td", { "data-col": c, class: c === "agent" || c === "node" || c === "state" ? "" : "num" }));
        });
        row.addEventListener("click", function () { select(a.id); });
      }
      if (body.rows[i] !== row) body.insertBefore(row, body.rows[i] || null);
      var p99 = a.handlingP99Ms;
      var cells = {
        agent: a.id,
        node: a.node,
        state: a.state,
        handled: String(a.handled),
        rate: perAgentRate(a),
        failures: String(a.failures),
        restarts: String(a.restarts),
        mailbox: String(a.mailbox),
        p99: typeof p99 === "number" ? String(Math.round(p99 * 10) / 10) : "",
        uptime: duration(a.state === "running" ? a.uptimeMs + (snap.at - (snap.agentsAt || snap.at)) : a.uptimeMs),
      };
      Array.prototype.forEach.call(row.cells, function (td) {
        var v = cells[td.dataset.col];
        if (td.textContent !== v) td.textContent = v;
      });
      row.classList.toggle("failing", a.state === "failed" || a.state === "restarting");
      row.classList.toggle("restarted", a.restarts > 0);
      row.classList.toggle("waiting", a.state === "awaitingApproval");
      row.classList.toggle("selected", a.id === state.selected);
    });
    for (var id in rows) if (!seen[id]) body.removeChild(rows[id]);
    $("no-agents").hidden = agents.length > 0;
    $("agent-count").textContent = String(agents.length);
    $("node-count").textContent = String(snap.nodes.length);
    $("unreachable").textContent = snap.unreachable.length ? "unreachable: " + snap.unreachable.join(", ") : "";
    $("skipped").textContent = snap.skippedEvents ? snap.skippedEvents + " malformed or oversized events skipped" : "";
    $("updated").textContent = "updated " + clock(snap.at);
  }

  function treeItem(n) {
    var label = (n.childId && n.childId !== n.id ? n.childId + " → " : "") + n.id;
    var li = el("li", { "data-tree-id": n.id },
      el("span", { text: label }), " ",
      el("span", { class: "state-" + n.state, text: n.state }),
      n.restarts ? el("span", { class: "muted", text: " ↻" + n.restarts }) : null,
      n.strategy ? el("span", { class: "muted", text: " (" + n.strategy + ")" }) : null);
    if (n.children && n.children.length) {
      var ul = el("ul");
      n.children.forEach(function (c) { ul.appendChild(treeItem(c)); });
      li.appendChild(ul);
    }
    return li;
  }

  function renderTrees() {
    var box = $("trees");
    var trees = state.snapshot.trees.slice().sort(function (a, b) { return a.node < b.node ? -1 : 1; });
    var out = el("div");
    trees.forEach(function (t) {
      var ul = el("ul", { class: "tree" });
      t.children.forEach(function (c) { ul.appendChild(treeItem(c)); });
      out.appendChild(el("div", { "data-node": t.node }, el("strong", { text: "node " + t.node }), ul));
    });
    if (!trees.length) out.appendChild(el("p", { class: "muted", text: "no nodes" }));
    box.replaceChildren(out);
  }

  function onSnapshot(snap) {
    state.previous = state.snapshot;
    state.snapshot = snap;
    var prev = state.previous;
    if (prev && snap.at > prev.at) {
      var total = function (s) { return s.agents.reduce(function (n, a) { return n + a.handled; }, 0); };
      var rate = Math.max(0, (total(snap) - total(prev)) / ((snap.at - prev.at) / 1000));
      state.rates.push({ t: snap.at / 1000, v: rate });
    }
    renderAgents();
    renderTrees();
    drawCharts();
  }

  // ---- events ----

  function eventText(e) {
    var skip = { kind: 1, id: 1, node: 1, at: 1 };
    var rest = [];
    for (var k in e) if (!skip[k]) rest.push(k + "=" + compact(e[k]));
    return rest.join(" ");
  }

  function onEvent(e) {
    if (!e || typeof e !== "object") return;
    if (e.kind === "child_restarted") {
      var s = Math.floor((typeof e.at === "number" ? e.at : Date.now()) / 1000);
      state.restarts[s] = (state.restarts[s] || 0) + 1;
    }
    var feed = $("feed");
    var li = el("li", { "data-kind": String(e.kind), "data-id": String(e.id), "data-at": String(e.at), class: BAD_KINDS[e.kind] ? "bad" : WARN_KINDS[e.kind] ? "warn" : "" },
      clock(e.at) + " " + e.kind + " " + e.id + " @" + e.node + " " + eventText(e));
    li.title = li.textContent;
    feed.insertBefore(li, feed.firstChild);
    while (feed.childNodes.length > MAX_FEED) feed.removeChild(feed.lastChild);
    if (state.selected && e.id === state.selected) {
      clearTimeout(state.detailTimer);
      state.detailTimer = setTimeout(function () { loadDetail(state.selected); }, 150);
    }
  }

  // ---- detail ----

  function select(id) {
    state.selected = id;
    $("detail").hidden = false;
    $("detail-id").textContent = id;
    $("approval-result").textContent = "";
    Array.prototype.forEach.call($("agents").tBodies[0].rows, function (r) { r.classList.toggle("selected", r.dataset.agent === id); });
    loadDetail(id);
    $("detail").scrollIntoView({ block: "nearest" });
  }

  function entryLine(e) {
    switch (e.kind) {
      case "user": case "system": case "assistant": return [e.kind, e.text];
      case "tool_call": return ["tool call", e.name + "(" + compact(e.args) + ")"];
      case "tool_result": return ["result", e.name + ": " + compact(e.result)];
      case "log": return ["event", e.event + " " + eventText(Object.assign({}, e, { event: undefined, kind: undefined, at: undefined, request: undefined })).replace(/\w+=undefined ?/g, "")];
      default: return [String(e.kind), compact(e)];
    }
  }

  function renderConversation(c) {
    var box = $("detail-conversation");
    var out = el("div");
    (c.requests || []).forEach(function (r) {
      var head = (r.id === null ? "earlier request" : "request " + r.id) + ": " + r.status;
      if (r.usage) head += ", " + (r.steps || 0) + " model calls, " + r.usage.inputTokens + " in + " + r.usage.outputTokens + " out tokens";
      if (r.error) head += ", " + r.error.name + ": " + r.error.message;
      var div = el("div", { class: "request" }, el("div", { class: "muted", text: head }));
      (r.entries || []).forEach(function (e) {
        var l = entryLine(e);
        div.appendChild(el("div", { class: "entry", "data-entry": String(e.kind === "log" ? e.event : e.kind) }, el("b", { text: l[0] }), " " + l[1]));
      });
      out.appendChild(div);
    });
    if (c.spent) out.appendChild(el("p", { class: "muted", text: "spent: " + c.spent.tokens + " tokens, " + c.spent.modelCalls + " model calls" }));
    box.replaceChildren(out);
  }

  function renderDetail(d) {
    if (d.id !== state.selected) return;
    var r = d.running;
    $("detail-running").textContent = r
      ? r.state + " on " + r.node + " under " + r.supervisor + " · " + r.handled + " handled, " + r.failures + " failures, " + r.restarts + " restarts, mailbox " + r.mailbox
      : "not running";
    $("detail-state").textContent = d.state ? JSON.stringify(d.state.value, null, 2) : d.stateProblem ? "(could not be read: " + d.stateProblem + ")" : "(no persisted state)";
    $("detail-revision").textContent = d.state ? "revision " + d.state.revision : "";
    var mem = $("detail-memory");
    mem.replaceChildren();
    d.memory.keys.forEach(function (k) { mem.appendChild(el("li", { "data-key": k.key }, el("code", { text: k.key }), " = " + compact(k.value))); });
    if (d.memory.problem) mem.appendChild(el("li", { class: "muted", text: "(could not be read: " + d.memory.problem + ")" }));
    else if (!d.memory.keys.length) mem.appendChild(el("li", { class: "muted", text: "none" }));
    if (d.memory.truncated) mem.appendChild(el("li", { class: "muted", text: "(cut: the bucket has more keys than the dashboard reads; keys written last may be missing)" }));
    $("detail-conversation-box").hidden = !d.conversation;
    if (d.conversation) renderConversation(d.conversation);
    var w = d.waiting;
    $("detail-approval").hidden = !w;
    if (w) {
      $("detail-approval").dataset.approval = w.approval;
      $("approval-text").textContent = "approval " + w.approval + ": tool " + w.tool + " (request " + w.request + "), deadline " + w.deadline;
      $("approval-args").textContent = JSON.stringify(w.args, null, 2);
    }
  }

  function loadDetail(id) {
    api(agentPath(id)).then(renderDetail, function (err) {
      if (id !== state.selected) return;
      $("detail-running").textContent = err.message;
      $("detail-state").textContent = "";
      $("detail-memory").replaceChildren();
      $("detail-approval").hidden = true;
      $("detail-conversation-box").hidden = true;
    });
  }

  function decide(decision) {
    var id = state.selected;
    var approval = $("detail-approval").dataset.approval;
    if (!id || !approval) return;
    var body = { decision: decision };
    if (decision === "deny") body.reason = $("deny-reason").value || "denied from the dashboard";
    $("approve").disabled = $("deny").disabled = true;
    api(agentPath(id) + "/approvals/" + encodeURIComponent(approval), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (answer) { $("approval-result").textContent = answer.decision + " " + approval; }, function (err) { $("approval-result").textContent = "failed: " + err.message; })
      .then(function () { $("approve").disabled = $("deny").disabled = false; loadDetail(id); });
  }

  $("approve").addEventListener("click", function () { decide("approve"); });
  $("deny").addEventListener("click", function () { decide("deny"); });
  $("detail-close").addEventListener("click", function () { state.selected = null; $("detail").hidden = true; });

  // ---- the live feed ----

  function parse(m) { try { return JSON.parse(m.data); } catch (e) { return null; } }

  var handlers = {
    // The recent events, oldest first, sent when the stream (re)opens: they replace what the feed showed.
    events: function (m) {
      var list = parse(m);
      if (!Array.isArray(list)) return;
      $("feed").textContent = "";
      state.restarts = {};
      list.forEach(onEvent);
    },
    event: function (m) { onEvent(parse(m)); },
    snapshot: function (m) { var s = parse(m); if (s) { s.agentsAt = s.at; onSnapshot(s); } },
    // Nothing changed since the last snapshot: the same agents, a new time (rates fall to 0, uptimes count on).
    tick: function (m) {
      var t = parse(m);
      if (t && typeof t.at === "number" && state.snapshot) onSnapshot(Object.assign({}, state.snapshot, { at: t.at }));
    },
    problem: function (m) { var p = parse(m); if (p) $("updated").textContent = "problem: " + p.error; },
  };

  /** Dispatch the complete Server-Sent Events messages in `buffer`; returns what is left (a partial message). */
  function dispatch(buffer) {
    var end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      var block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      var name = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(line.charAt(5) === " " ? 6 : 5));
      });
      if (data.length && Object.prototype.hasOwnProperty.call(handlers, name)) handlers[name]({ data: data.join("\n") });
    }
    return buffer;
  }

  var backoffMs = 500;
  function lost() {
    $("status").dataset.state = "lost";
    $("status").textContent = "reconnecting…";
    setTimeout(follow, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 10000);
  }

  function follow() {
    fetch("/api/events", { credentials: "omit", cache: "no-store", headers: { "x-troupe-token": token, accept: "text/event-stream" } }).then(function (r) {
      if (r.status === 403) { showNoToken(NO_TOKEN.replace("no dashboard token", "this token is not (or no longer) the dashboard's")); return; }
      if (!r.ok || !r.body) return lost();
      $("status").dataset.state = "live";
      $("status").textContent = "live";
      backoffMs = 500;
      var reader = r.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return lost();
          buffer = dispatch(buffer + decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n"));
          return pump();
        });
      }
      return pump();
    }).catch(lost);
  }

  if (token) follow();
  else showNoToken(NO_TOKEN);
  setInterval(drawCharts, 1000);
})();
