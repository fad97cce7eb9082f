// Walking a round without signal (templates/inspections/round.html, _round_stop.html).
//
// A stop's form is posted by htmx. Before it goes, the stop is put in an outbox on the phone
// (IndexedDB, which survives a reload and a closed browser) with an id made here
// (crypto.randomUUID) and the time it was taken; the post carries that id. When the server
// answers for that id (X-Client-Id), the stop leaves the outbox. When the post never arrives (no
// signal, timeout) or the answer is not for it (an expired session) the stop stays in the outbox,
// marked "waiting to sync", and the outbox is posted as JSON to /rounds/sync
// when the signal is back (the `online` event, each page load, the "Sync now" button). The server
// answers each entry by its id: synced, already synced (a replay changes nothing) or refused with
// the reason; refused entries stay listed until dismissed. Photos are not kept offline.
//
// The service worker (/rounds/sw.js, static/rounds-sw.js) keeps the round pages for a reload
// without signal; this registers it and asks it to keep the rounds the board lists.
(function () {
  "use strict";

  var DB_NAME = "maintenance-rounds";
  var STORE = "outbox";
  var dbPromise = null;
  var pendingByStop = {};  // "round:stop" → client id of the stop's entry waiting in the outbox
  var log = [];  // what the last syncs of this page did: [{label, outcome, text}]
  var syncing = false;
  var BATCH = 50;  // entries per post (the server takes up to 100)

  // --- IndexedDB ------------------------------------------------------------------------

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "client_id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = action(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function mine() {
    var user = userId();
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).filter(function (item) { return item.user === user; });
    });
  }

  function putItem(item) { return withStore("readwrite", function (store) { store.put(item); }); }
  function deleteItem(clientId) { return withStore("readwrite", function (store) { store.delete(clientId); }); }

  // --- The page ---------------------------------------------------------------------------

  function userId() { return document.body.dataset.userId || ""; }
  function roundPage() { return document.getElementById("round-page"); }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (error) {
      return "";
    }
  }

  function stopForm(target) {
    return target && target.closest ? target.closest("form.stop-form") : null;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "id-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function itemFromForm(form) {
    var card = form.closest("[data-stop-id]");
    var page = roundPage();
    var roundId = Number(page.dataset.round);
    var stopId = Number(card.dataset.stopId);
    var key = roundId + ":" + stopId;
    var value = form.querySelector("input[name=value]");
    var checked = form.querySelector("input[name=result]:checked");
    var note = form.querySelector("textarea[name=note]");
    var clientId = pendingByStop[key] || newId();
    pendingByStop[key] = clientId;
    return {
      client_id: clientId,
      user: userId(),
      round_id: roundId,
      stop_id: stopId,
      label: card.dataset.stop || "",
      value: value ? value.value.trim() : null,
      result: checked ? checked.value : null,
      note: note ? note.value : "",
      taken_at: new Date().toISOString(),
      status: "pending",
      message: "",
    };
  }

  function markPending(stopId, pending) {
    var card = document.getElementById("stop-" + stopId);
    var badge = card ? card.querySelector("[data-testid=stop-pending]") : null;
    if (badge) badge.hidden = !pending;
  }

  function fillForm(item) {
    var card = document.getElementById("stop-" + item.stop_id);
    var form = card ? card.querySelector("form.stop-form") : null;
    if (!form) return;
    var value = form.querySelector("input[name=value]");
    if (value && item.value !== null) value.value = item.value;
    if (item.result) {
      var radio = form.querySelector("input[name=result][value='" + item.result + "']");
      if (radio) radio.checked = true;
    }
    var note = form.querySelector("textarea[name=note]");
    if (note && item.note) {
      note.value = item.note;
      var details = note.closest("details");
      if (details) details.open = true;
    }
    var message = form.querySelector(".send-error");
    if (message) message.hidden = false;
  }

  function text(tag, className, content) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    element.textContent = content;
    return element;
  }

  function valueText(item) {
    if (item.value !== null && item.value !== "") return item.value;
    return item.result || "";
  }

  // The panel: how many wait, what the last sync did, and the refused entries until dismissed.
  function render() {
    var page = roundPage();
    var panel = document.getElementById("sync-panel");
    if (!page || !panel) return Promise.resolve();
    return mine().then(function (items) {
      var pending = items.filter(function (item) { return item.status === "pending"; });
      var refused = items.filter(function (item) { return item.status === "refused"; });
      panel.querySelector("[data-testid=pending-count]").textContent = String(pending.length);
      var list = panel.querySelector("[data-testid=sync-results]");
      list.replaceChildren();
      log.forEach(function (line) {
        var row = text("li", "", "");
        row.dataset.outcome = line.outcome;
        row.dataset.testid = "sync-result";
        row.append(text("span", "badge me-1 text-bg-" + (line.outcome === "synced" ? "success" : "secondary"), line.label));
        row.append(text("span", "", line.text));
        list.append(row);
      });
      refused.forEach(function (item) {
        var row = text("li", "border-top pt-1 mt-1", "");
        row.dataset.outcome = "refused";
        row.dataset.testid = "sync-result";
        row.append(text("span", "badge me-1 text-bg-danger", item.outcome_label || "✗"));
        row.append(text("span", "fw-semibold", item.label + " " + valueText(item) + (item.note ? " · " + item.note : "")));
        row.append(text("div", "text-danger", item.message));
        var dismiss = text("button", "btn btn-sm btn-link p-0", page.dataset.dismissLabel);
        dismiss.type = "button";
        dismiss.dataset.dismiss = item.client_id;
        row.append(dismiss);
        list.append(row);
      });
      items.forEach(function (item) {
        if (item.round_id === Number(page.dataset.round) && item.status === "pending") markPending(item.stop_id, true);
      });
      panel.hidden = !(items.length || log.length);
    });
  }

  function setStatus(message) {
    var panel = document.getElementById("sync-panel");
    if (!panel) return;
    panel.querySelector("[data-testid=sync-status]").textContent = message;
    panel.hidden = false;
  }

  // --- Sync --------------------------------------------------------------------------------

  function payload(item) {
    var value = null;
    if (item.value !== null && item.value !== "") {
      var number = Number(String(item.value).replace(",", "."));
      value = isNaN(number) ? null : number;
    }
    return {
      client_id: item.client_id,
      round_id: item.round_id,
      stop_id: item.stop_id,
      value: value,
      result: item.result || null,
      note: item.note || "",
      taken_at: item.taken_at,
    };
  }

  function applyResults(items, results) {
    var byId = {};
    items.forEach(function (item) { byId[item.client_id] = item; });
    var done = [];
    var saved = false;
    results.forEach(function (result) {
      var item = byId[result.client_id];
      if (!item) return;
      if (result.outcome === "refused") {
        item.status = "refused";
        item.message = result.message;
        item.outcome_label = result.label;
        done.push(putItem(item));
      } else {
        saved = saved || result.outcome === "synced";
        log.push({ outcome: result.outcome, label: result.label, text: item.label + " " + valueText(item) + " · " + result.message });
        done.push(deleteItem(item.client_id));
      }
      delete pendingByStop[item.round_id + ":" + item.stop_id];
    });
    return Promise.all(done).then(function () { return saved; });
  }

  function refreshRound() {
    var page = roundPage();
    if (!page || !window.htmx) return Promise.resolve();
    return htmx.ajax("GET", window.location.pathname, { target: "#main", swap: "innerHTML" });
  }

  function sync() {
    if (syncing || !userId()) return Promise.resolve();
    var page = roundPage();
    var more = false;
    syncing = true;
    return mine().then(function (items) {
      var waiting = items.filter(function (item) { return item.status === "pending"; });
      if (!waiting.length) return null;
      var pending = waiting.slice(0, BATCH);
      more = waiting.length > BATCH;
      if (page) setStatus("…");
      return fetch("/rounds/sync", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ entries: pending.map(payload) }),
      }).then(function (response) {
        var json = (response.headers.get("content-type") || "").indexOf("application/json") === 0;
        if (response.ok && json) {
          return response.json().then(function (body) {
            if (page) setStatus("");
            return applyResults(pending, body.results || []);
          });
        }
        if (json) {
          return response.json().then(function (body) {
            var details = (body.errors || []).map(function (error) { return error.message; }).join("; ");
            if (page) setStatus((body.detail || "") + " " + details);
            return false;
          });
        }
        if (page) setStatus(page.dataset.failedLabel + " (" + response.status + ")");
        return false;
      }, function () {
        if (page) setStatus(page.dataset.offlineLabel);
        return false;
      });
    }).then(function (saved) {
      syncing = false;
      if (saved && more) return sync();  // the rest of a long outbox
      return saved ? refreshRound() : null;
    }, function (error) {
      syncing = false;
      throw error;
    }).then(render);
  }

  // --- htmx: every stop goes through the outbox ------------------------------------------

  document.addEventListener("htmx:configRequest", function (event) {
    var form = stopForm(event.target);
    if (!form || !roundPage() || !window.indexedDB) return;
    var item = itemFromForm(form);
    event.detail.parameters.client_id = item.client_id;
    putItem(item);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = stopForm(event.target);
    var message = form ? form.querySelector(".send-error") : null;
    if (message) message.hidden = true;
  });

  // The server answered this entry (saved, or refused the input with the reason in the card): it
  // leaves the outbox only when the answer names it (X-Client-Id, round_routes.enter_stop). An
  // expired session (a login redirect, a 401/403 toast), a server error or no answer keeps it,
  // waiting for the next sync.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = stopForm(event.detail.elt);
    var xhr = event.detail.xhr;
    if (!form || !roundPage() || !xhr || !xhr.status) return;  // no answer: htmx:sendError/timeout
    var card = form.closest("[data-stop-id]");
    var key = roundPage().dataset.round + ":" + card.dataset.stopId;
    var clientId = pendingByStop[key];
    if (!clientId) return;
    if (xhr.getResponseHeader("X-Client-Id") !== clientId) {
      markPending(card.dataset.stopId, true);
      render();
      return;
    }
    delete pendingByStop[key];
    deleteItem(clientId).then(render);
    if (xhr.status === 200) keepForOffline();  // the offline copy shows the stop as saved too
  });

  function kept(event) {
    var form = stopForm(event.target);
    if (!form) return;
    var message = form.querySelector(".send-error");
    if (message) message.hidden = false;
    var card = form.closest("[data-stop-id]");
    markPending(card.dataset.stopId, true);
    render();
  }

  document.addEventListener("htmx:sendError", kept);
  document.addEventListener("htmx:timeout", kept);

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-testid=sync-now], [data-dismiss]") : null;
    if (!target) return;
    if (target.dataset.dismiss) {
      deleteItem(target.dataset.dismiss).then(render);
    } else {
      sync();
    }
  });

  window.addEventListener("online", function () { sync(); });

  // --- Page load: what waits on this phone, the service worker ----------------------------

  function restore() {
    var page = roundPage();
    if (!page || !window.indexedDB) return Promise.resolve();
    return mine().then(function (items) {
      items.forEach(function (item) {
        if (item.round_id !== Number(page.dataset.round)) return;
        if (item.status === "pending") {
          pendingByStop[item.round_id + ":" + item.stop_id] = item.client_id;
          fillForm(item);
        }
      });
      return render();
    });
  }

  // The round pages to keep: this one, the rounds the board lists, and this page's banners.
  function keepForOffline() {
    if (!("serviceWorker" in navigator)) return;
    var page = roundPage();
    if (page) delete page.dataset.offlineReady;
    navigator.serviceWorker.register("/rounds/sw.js", { scope: "/" }).catch(function () {});
    navigator.serviceWorker.ready.then(function (registration) {
      var urls = [];
      urls.push(window.location.pathname);  // this round, or the board
      document.querySelectorAll("#current-rounds a[href]").forEach(function (link) {
        var path = link.getAttribute("href");
        if (/^\/rounds\/\d+$/.test(path)) urls.push(path);
      });
      document.querySelectorAll("[hx-get^='/special-equipment/']").forEach(function (element) {
        urls.push(element.getAttribute("hx-get"));
      });
      var channel = new MessageChannel();
      channel.port1.onmessage = function () {
        var target = page || document.getElementById("current-rounds");
        if (target) target.dataset.offlineReady = "true";
      };
      var until = Number(document.body.dataset.sessionUntil) || 0;
      registration.active.postMessage({ type: "keep", user: userId(), until: until, urls: urls }, [channel.port2]);
    });
  }

  // After a refresh of the round (htmx swaps #main), the pending stops are marked again.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "main") restore();
  });

  function start() {
    keepForOffline();
    restore().then(function () { if (navigator.onLine) return sync(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
