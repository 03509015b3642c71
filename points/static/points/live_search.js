/* Live household search for the admin's search forms (the store's counter, the campaigns' nomination picker):
 * as the user types, ask the form's JSON search URL and list the matches as links; only the newest answer shows.
 *
 * Vanilla JS, no dependencies, nothing from another host. Load it before the script that calls it
 * (points/counter.js, campaigns/admin.js). Without it, or without fetch, the form still submits and the server
 * lists the matches. Nothing here writes HTML from data: the caller fills each link with textContent.
 */
(function () {
  "use strict";

  /* window.heheLiveSearch(options) wires the search and returns true, or returns false (and does nothing) when
   * something it needs is missing. Options:
   *   form       the search form: a submit cancels the pending search; its data-text-archived tags archived rows
   *   input      the search box
   *   list       the element the results go in, one <li><a href="result.url"> each
   *   url        the JSON endpoint: GET url?q=… answers {results: [...]}
   *   delay      milliseconds of quiet typing before asking
   *   noneText   function (query): the text shown when nothing matches
   *   noneClass  optional class of that "nothing found" row
   *   fillLink   function (link, result): fills one result's link (textContent only)
   */
  window.heheLiveSearch = function (options) {
    var form = options.form;
    var input = options.input;
    var list = options.list;
    var url = options.url;
    if (!form || !input || !list || !url || !window.fetch) {
      return false;
    }
    var timer = null;
    var latest = 0;

    function show(query, results) {
      list.textContent = "";
      if (!query) {
        return;
      }
      if (!results.length) {
        var none = document.createElement("li");
        if (options.noneClass) {
          none.className = options.noneClass;
        }
        none.textContent = options.noneText(query);
        list.appendChild(none);
        return;
      }
      results.forEach(function (result) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = result.url;
        options.fillLink(link, result);
        if (result.archived) {
          var tag = document.createElement("span");
          tag.className = "status-tag";
          tag.textContent = form.getAttribute("data-text-archived");
          link.appendChild(document.createTextNode(" "));
          link.appendChild(tag);
        }
        item.appendChild(link);
        list.appendChild(item);
      });
    }

    function search() {
      var query = input.value.trim();
      var ticket = ++latest;
      if (!query) {
        show("", []);
        return;
      }
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (ticket === latest) {
            show(query, data.results || []);
          }
        })
        .catch(function () {
          /* The form still submits on Enter; a failed live search only loses the preview. */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, options.delay);
    });
    // A submit (Enter, a scanner's Enter, the button) wins over a search still waiting or on its way.
    form.addEventListener("submit", function () {
      window.clearTimeout(timer);
      latest++;
    });
    return true;
  };
})();
