// paypage checkout pages: times in the shopper's own time zone, the expiry
// and redirect countdowns, and the new
// status read out after live.js reloaded the page for it. (Waiting for a
// payment to settle is live.js's work.)
// Everything here is an enhancement; the pages work without it (see
// docs/scripts-inventory.md). No third-party code, no cookies, no storage.
(function () {
  "use strict";
  // Tells the CSS (and the browser tests) that the script ran: its SRI hash
  // and CSP nonce were accepted.
  document.documentElement.classList.add("js");
  var lang = document.documentElement.lang || undefined;
  var two = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2, useGrouping: false });
  var one = new Intl.NumberFormat(lang, { useGrouping: false });
  var started = Date.now();

  function clock(s) {
    return one.format(Math.floor(s / 60)) + ":" + two.format(s % 60);
  }

  // time[data-local] shows a time in the browser's own zone, the zone named
  // (the server could only guess it: locales.Zone). data-zone tells the
  // tests which zone that was.
  var zoned = null;
  try {
    zoned = new Intl.DateTimeFormat(lang, {
      year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short"
    });
  } catch (e) { zoned = null; }
  if (zoned) {
    var zoneName = zoned.resolvedOptions().timeZone || "";
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      el.textContent = zoned.format(at);
      el.setAttribute("data-zone", zoneName);
    });
  }

  // [data-countdown] ticks down from data-seconds. "expiry" reloads the page
  // when time is up (the server then shows the expired state); "redirect"
  // goes on to data-href unless the shopper chose to stay.
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var total = parseInt(el.getAttribute("data-seconds"), 10);
    if (!(total >= 0)) return;
    var kind = el.getAttribute("data-countdown");
    var out = el.querySelector("[data-countdown-text]") || el;
    var template = el.getAttribute("data-template");
    var texts = null;
    try { texts = JSON.parse(el.getAttribute("data-texts") || "null"); } catch (e) { texts = null; }
    var stay = el.querySelector("[data-stay]");
    var timer;
    function tick() {
      var left = Math.max(0, total - Math.floor((Date.now() - started) / 1000));
      if (texts && texts[left] !== undefined) {
        out.textContent = texts[left];
      } else if (template) {
        out.textContent = template.replace("{t}", clock(left));
      }
      if (left > 0) return;
      clearInterval(timer);
      if (kind === "expiry") {
        location.reload();
      } else if (kind === "redirect") {
        location.assign(el.getAttribute("data-href"));
      }
    }
    // "Stay on this page" is a link to the page without the countdown; here
    // it stops the countdown in place instead: the text says so, the button
    // goes, and focus moves to the text (not lost to <body>).
    if (stay) {
      stay.addEventListener("click", function (e) {
        e.preventDefault();
        clearInterval(timer);
        el.removeAttribute("data-countdown");
        out.setAttribute("role", "status");
        out.textContent = stay.getAttribute("data-stayed");
        stay.remove();
        out.focus();
      });
    }
    timer = setInterval(tick, 1000);
    tick();
  });

  // live.js reloads the page when the session changes and leaves a mark in
  // history.state: the new status is read out in the polite live region,
  // emptied first so that the same words are read again when they come back.
  if (history.state && history.state.paypageLive) {
    try {
      history.replaceState(null, "");
    } catch (e) { /* ignore */ }
    var announcer = document.querySelector("[data-live-announcer]");
    var banner = document.querySelector("main [role=status]");
    var text = banner ? banner.textContent : document.title;
    if (announcer && text) {
      announcer.textContent = "";
      setTimeout(function () { announcer.textContent = text.replace(/\s+/g, " ").trim(); }, 150);
    }
  }
})();
