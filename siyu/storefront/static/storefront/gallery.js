// Product gallery: the images scroll sideways with CSS scroll-snap; this only keeps the "2/5"
// indicator in step with the image in view.
(function () {
  "use strict";
  var track = document.getElementById("gallery-track");
  var count = document.getElementById("gallery-count");
  if (!track || !count) return;
  var total = track.children.length;
  var shown = 1;
  track.addEventListener("scroll", function () {
    var now = Math.round(track.scrollLeft / track.clientWidth) + 1;
    if (now !== shown && now >= 1 && now <= total) {
      shown = now;
      count.textContent = now + "/" + total;
    }
  }, { passive: true });
})();
