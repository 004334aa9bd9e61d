// Countdown to the end of a limited-time discount: [data-countdown-end] holds an ISO moment.
(function () {
  "use strict";
  var nodes = document.querySelectorAll("[data-countdown-end]");
  if (!nodes.length) return;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    nodes.forEach(function (node) {
      var end = Date.parse(node.getAttribute("data-countdown-end"));
      var left = node.querySelector(".left");
      if (!left || isNaN(end)) return;
      var s = Math.max(0, Math.floor((end - now) / 1000));
      if (s === 0) { node.textContent = node.getAttribute("data-ended"); return; }
      var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
      left.textContent = (d ? d + node.getAttribute("data-day") + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s % 60);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
