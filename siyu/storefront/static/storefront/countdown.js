/* Countdowns: every element with data-countdown="<ISO date-time>" shows the time left as
   [d天] hh:mm:ss, ticking each second; at zero it shows data-done (if any) and reloads the page
   once when data-reload is set. Shared by every promotion (flash sales, group buys, bargains).
   The server renders a readable fallback, so the page works without JavaScript. */
(function () {
  "use strict";
  if (window.siyuCountdown) { return; }  // several panels may include this script
  window.siyuCountdown = true;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function text(ms, dayWord) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (d ? d + dayWord + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s % 60);
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var until = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(until)) { return; }
      var left = until - now;
      if (left <= 0) {
        if (el.getAttribute("data-done")) { el.textContent = el.getAttribute("data-done"); }
        if (el.hasAttribute("data-reload") && !el.dataset.reloaded) { el.dataset.reloaded = "1"; location.reload(); }
        return;
      }
      el.textContent = text(left, el.getAttribute("data-day") || (document.documentElement.lang.indexOf("zh") === 0 ? "天" : "d"));
    });
  }
  function start() { tick(); setInterval(tick, 1000); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
