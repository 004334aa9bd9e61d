// Counts down every `.countdown[data-seconds]` element once a second (hh:mm:ss), then shows data-over.
(function () {
  const items = Array.from(document.querySelectorAll(".countdown[data-seconds]"));
  if (!items.length) return;
  const started = Date.now();
  const pad = (n) => String(n).padStart(2, "0");
  function tick() {
    const gone = Math.floor((Date.now() - started) / 1000);
    for (const el of items) {
      const left = Math.max(0, Number(el.dataset.seconds) - gone);
      if (left === 0) { el.textContent = el.dataset.over || "0"; continue; }
      const d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
      const m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
