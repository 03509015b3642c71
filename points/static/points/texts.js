/* The texts the admin's scripts show (the award picker, the store's counter, the paper ballots): translated by the
 * view, handed to the page with Django's json_script, filled in here. Placeholders are Python's: "%(count)s", so
 * one string serves gettext and the page alike.
 *
 * Load it before the script that uses it (points/award.js, points/counter.js, campaigns/admin.js).
 * Vanilla JS, no dependencies.
 */
(function () {
  "use strict";

  /* heheFill("已选 %(count)s 位", {count: 2}) -> "已选 2 位". A placeholder without a value stays as it is, so a
   * missing value shows on the page instead of vanishing. */
  window.heheFill = function (template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  };

  /* The value of a json_script block, or ``fallback`` when the page has none (or it does not parse). */
  window.heheReadJSON = function (id, fallback) {
    var node = document.getElementById(id);
    if (!node) {
      return fallback;
    }
    try {
      return JSON.parse(node.textContent);
    } catch (error) {
      return fallback;
    }
  };
})();
