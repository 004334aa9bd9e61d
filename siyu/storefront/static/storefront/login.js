// Sign-in: after a code is sent the button counts down to the next allowed request (the server
// refuses a second code within a minute), then offers to send again.
(function () {
  "use strict";
  var button = document.getElementById("send-code");
  if (!button) return;
  var left = parseInt(button.dataset.countdown, 10) || 0;
  if (left <= 0) return;
  var again = button.dataset.again;
  function tick() {
    if (left <= 0) {
      button.disabled = false;
      button.textContent = again;
      return;
    }
    button.disabled = true;
    button.textContent = button.dataset.wait.replace("%s", left);
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
