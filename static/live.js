// paypage live updates for the checkout, return and embed pages (see
// docs/live.md and docs/scripts-inventory.md). It follows one checkout
// session over Server-Sent Events (/pay/<id>/events), polls
// /pay/<id>/status every 2 s while the stream is down, and when the session
// changes: reloads the page and reads the new status out to screen readers,
// or, in the embed, updates the widget in place and posts the status to the
// parent window at the one origin the server allowed. Pages load it only
// while the session can still change. No third-party code,
// no cookies, no storage; it fetches only paypage's own URLs.
(function () {
  "use strict";
  var el = document.querySelector("[data-live]");
  if (!el) return;

  var FINAL = { complete: true, expired: true, canceled: true };
  var POLL_MS = 2000;
  var RECONNECT_MS = 30000;
  var id = el.getAttribute("data-session");
  var origin = el.getAttribute("data-origin"); // embed only
  var base = "/pay/" + encodeURIComponent(id);
  var state = {
    id: id,
    status: el.getAttribute("data-status"),
    payment_status: el.getAttribute("data-payment-status"),
    version: parseInt(el.getAttribute("data-version"), 10) || 0
  };
  var stream = null;
  var pollTimer = null;
  var polling = false;
  var done = false;

  // post tells the merchant's page, and only it, what the status is.
  function post() {
    if (!origin || window.parent === window) return;
    window.parent.postMessage({
      type: "paypage.status", id: state.id, status: state.status,
      payment_status: state.payment_status, version: state.version
    }, origin);
  }

  function finish() {
    done = true;
    stopPolling();
    if (stream) {
      stream.close();
      stream = null;
    }
  }

  // update takes a state from the stream or from /status and acts when it
  // is news: a newer version, or the same version with another status (an
  // expiry by the clock).
  function update(next) {
    if (done || !next || next.id !== id || typeof next.version !== "number") return;
    if (next.version < state.version) return;
    if (next.version === state.version && next.status === state.status) {
      if (FINAL[next.status]) finish();
      return;
    }
    state = { id: id, status: next.status, payment_status: next.payment_status, version: next.version };
    if (FINAL[state.status]) finish();
    if (origin) {
      post();
      refreshWidget();
    } else {
      reloadPage();
    }
  }

  // reloadPage shows the server's rendering of the new state; the mark in
  // history.state survives the reload and has checkout.js read the status
  // out then (the new page may be final, without this script).
  function reloadPage() {
    finish();
    try {
      history.replaceState({ paypageLive: state.version }, "");
    } catch (e) { /* announcing is a nicety; reloading is what matters */ }
    location.reload();
  }

  // refreshWidget swaps the widget's content for a fresh rendering of it;
  // the widget's status region has the change read out. Only the body is
  // parsed, in an inert template: the fresh page's <style> carries another
  // response's nonce, which this page's CSP would report as refused.
  function refreshWidget() {
    var widget = document.querySelector("[data-widget]");
    if (!widget || !window.fetch) {
      location.reload();
      return;
    }
    fetch(location.href, { cache: "no-store", credentials: "omit" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html);
        var tpl = document.createElement("template");
        tpl.innerHTML = body ? body[1] : "";
        var fresh = tpl.content.querySelector("[data-widget]");
        if (!fresh) return;
        widget.className = fresh.className;
        widget.setAttribute("data-state", fresh.getAttribute("data-state") || "");
        var nodes = [];
        fresh.childNodes.forEach(function (n) { nodes.push(document.importNode(n, true)); });
        widget.replaceChildren.apply(widget, nodes);
      })
      .catch(function () { /* the next change or a reload will show it */ });
  }

  function stopPolling() {
    polling = false;
    if (pollTimer) {
      clearTimeout(pollTimer);
      pollTimer = null;
    }
  }

  function startPolling() {
    if (polling || done || !window.fetch) return;
    polling = true;
    pollTimer = setTimeout(poll, POLL_MS);
  }

  // poll asks /status; the browser revalidates with the ETag, so an
  // unchanged session costs a 304.
  function poll() {
    pollTimer = null;
    if (!polling || done) return;
    fetch(base + "/status", { cache: "no-cache", credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(update, function () { /* offline: try again */ })
      .then(function () {
        if (polling && !done) pollTimer = setTimeout(poll, POLL_MS);
      });
  }

  function connect() {
    if (done) return;
    if (!window.EventSource) {
      startPolling();
      return;
    }
    stream = new EventSource(base + "/events");
    stream.addEventListener("status", function (e) {
      try {
        update(JSON.parse(e.data));
      } catch (err) { /* a malformed event changes nothing */ }
    });
    stream.onopen = stopPolling;
    stream.onerror = function () {
      if (done) return;
      startPolling();
      if (stream && stream.readyState === EventSource.CLOSED) {
        // The browser gave up (an error status from a proxy, say): poll,
        // and try a new stream later.
        stream = null;
        setTimeout(connect, RECONNECT_MS);
      }
    };
  }

  // A form on its way (the test-mode panel, recovery) or a link being
  // followed already takes the shopper to the page of the outcome: a reload
  // now would cancel that navigation.
  document.addEventListener("submit", finish, true);
  window.addEventListener("beforeunload", finish);

  post();
  if (FINAL[state.status]) {
    done = true;
    return;
  }
  connect();
})();
