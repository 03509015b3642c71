/* One-shot admin forms (form[data-once]): an optional question first (data-confirm), then one submit only: the
 * submit buttons are disabled so a double click cannot send the form twice; coming back with the browser's Back
 * button (a page restored from the back/forward cache) enables them again. The server refuses a repeat anyway
 * (each such form carries an idempotency key); this only spares the user the second request.
 *
 * Loaded by the store's and the campaigns' admin pages. Vanilla JS, no dependencies.
 */
(function () {
  "use strict";

  function setButtons(form, disabled) {
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
      button.disabled = disabled;
    });
  }

  function initOnce(form) {
    var sent = false;
    form.addEventListener("submit", function (event) {
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      if (sent) {
        event.preventDefault();
        return;
      }
      sent = true;
      setButtons(form, true);
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        sent = false;
        setButtons(form, false);
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-once]"), initOnce);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
