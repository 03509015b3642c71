/* The campaigns' admin pages (评选): paper ballot entry by keyboard, the nomination household picker (one-shot
 * forms with a confirmation question: points/once.js).
 *
 * The picker's live search is points/live_search.js and the texts' placeholders points/texts.js, which the page
 * loads first.
 *
 * Vanilla JS, no dependencies, nothing from another host. Every page works without it: the ballot form posts
 * (the server then shows the head's name and the nominees before anything is recorded), the search box submits.
 * Texts come from the page, translated there. Nothing here writes HTML from data: names are set with textContent.
 */
(function () {
  "use strict";

  // The page's texts and their placeholders: points/texts.js, loaded first.
  var fill = window.heheFill;

  /* --- 纸质选票录入 ------------------------------------------------------------------------------------------
   * Number, Enter: the head's name and the nominees appear (fetched, so that the page shown after a saved
   * ballot lists no nominee at all). Keys 1–9 tick or untick, Enter records, Esc goes back to the number.
   */

  function initBallot(form) {
    var strings = window.heheReadJSON("ballot-strings", {});
    var number = form.querySelector("[data-ballot-number]");
    var village = form.querySelector("[data-ballot-village]");
    var household = form.querySelector("[data-ballot-household]");
    var step = form.querySelector("[data-ballot-step]");
    var head = form.querySelector("[data-ballot-head]");
    var fieldset = form.querySelector("[data-ballot-nominees]");
    var list = form.querySelector("[data-ballot-list]");
    var chosenOut = form.querySelector("[data-ballot-chosen]");
    var errorBox = form.querySelector("[data-ballot-lookup-error]");
    var submit = form.querySelector("[data-ballot-submit]");
    var url = form.getAttribute("data-lookup-url");
    var max = parseInt(strings.max, 10) || 1;
    var sending = false;
    var ticket = 0;
    if (!number || !household || !step || !list || !submit) {
      return;
    }

    function boxes() {
      return Array.prototype.slice.call(list.querySelectorAll("input[type=checkbox]"));
    }

    function updateCount() {
      var count = boxes().filter(function (box) {
        return box.checked;
      }).length;
      var over = count > max;
      chosenOut.textContent = fill(over ? strings.too_many : strings.chosen, { count: count, max: max });
      chosenOut.classList.toggle("is-over", over);
    }

    function showError(text) {
      errorBox.textContent = "";
      if (text) {
        var p = document.createElement("p");
        p.className = "help-block help-critical";
        p.setAttribute("role", "alert");
        p.textContent = text;
        errorBox.appendChild(p);
      }
    }

    function hideStep() {
      household.value = "";
      step.hidden = true;
      head.textContent = "";
      list.textContent = "";
    }

    function render(data) {
      household.value = String(data.household.id);
      if (village && data.household.village_id) {
        village.value = String(data.household.village_id);
      }
      head.textContent = fill(strings.head, { head: data.household.head, village: data.household.village });
      list.textContent = "";
      data.nominees.forEach(function (nominee) {
        var item = document.createElement("li");
        var label = document.createElement("label");
        var box = document.createElement("input");
        box.type = "checkbox";
        box.name = "nominees";
        box.value = String(nominee.id);
        label.appendChild(box);
        label.appendChild(document.createTextNode(" "));
        if (nominee.key) {
          var key = document.createElement("kbd");
          key.textContent = nominee.key;
          label.appendChild(key);
          label.appendChild(document.createTextNode(" "));
        }
        label.appendChild(document.createTextNode(nominee.name));
        if (nominee.village) {
          var small = document.createElement("small");
          small.textContent = " " + nominee.village;
          label.appendChild(small);
        }
        item.appendChild(label);
        list.appendChild(item);
      });
      step.hidden = false;
      updateCount();
      fieldset.focus();
    }

    function lookup() {
      var value = number.value.trim();
      if (!value || !url || !window.fetch) {
        return false;
      }
      var mine = ++ticket;
      var query = "?number=" + encodeURIComponent(value);
      if (village && village.value) {
        query += "&village=" + encodeURIComponent(village.value);
      }
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (data) {
          if (mine !== ticket) {
            return;
          }
          if (!data.ok) {
            hideStep();
            showError(data.error);
            number.focus();
            number.select();
            return;
          }
          showError("");
          render(data);
        })
        .catch(function () {
          if (mine === ticket) {
            showError(strings.failed);
          }
        });
      return true;
    }

    function record() {
      if (sending) {
        return;
      }
      if (form.requestSubmit) {
        form.requestSubmit(submit);
      } else {
        submit.click();
      }
    }

    number.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.isComposing) {
        if (lookup()) {
          event.preventDefault();
        }
      }
    });
    // A changed number (or village) must be confirmed by its name again before anything is recorded.
    number.addEventListener("input", function () {
      if (household.value) {
        hideStep();
      }
    });
    if (village && village.tagName === "SELECT") {
      village.addEventListener("change", hideStep);
    }

    form.addEventListener("keydown", function (event) {
      if (step.hidden || event.isComposing || event.ctrlKey || event.metaKey || event.altKey) {
        return;
      }
      var target = event.target;
      var inChoices = target === fieldset || (target.type === "checkbox" && list.contains(target));
      if (!inChoices && target !== submit) {
        return;
      }
      if (/^[1-9]$/.test(event.key)) {
        var box = boxes()[parseInt(event.key, 10) - 1];
        if (box) {
          event.preventDefault();
          box.checked = !box.checked;
          updateCount();
        }
      } else if (event.key === "Enter" && inChoices) {
        event.preventDefault();
        record();
      } else if (event.key === "Escape") {
        event.preventDefault();
        number.focus();
        number.select();
      }
    });
    list.addEventListener("change", updateCount);

    form.addEventListener("submit", function (event) {
      var action = event.submitter ? event.submitter.value : "";
      if (action === "lookup" && lookup()) {
        event.preventDefault();
        return;
      }
      if (sending) {
        event.preventDefault();
        return;
      }
      if (action !== "lookup") {
        sending = true;
        submit.disabled = true;
        submit.textContent = strings.busy || submit.textContent;
      }
    });
    // Back to a page restored from the cache: allow a new submit (the same key replays the same ballot safely).
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        sending = false;
        submit.disabled = false;
      }
    });

    if (!step.hidden) {
      updateCount();
    }
  }

  /* --- the nomination household picker ---------------------------------------------------------------------- */

  function initHouseholdSearch(form) {
    if (!window.heheLiveSearch) {
      return;
    }
    window.heheLiveSearch({
      form: form,
      input: form.querySelector("[data-search-input]"),
      list: form.parentNode.querySelector("[data-search-results]"),
      url: form.getAttribute("data-search-url"),
      delay: 200,
      noneText: function () {
        return form.getAttribute("data-text-none");
      },
      fillLink: function (link, h) {
        link.className = "button button-small button-secondary";
        link.appendChild(document.createTextNode(h.number + " "));
        var name = document.createElement("strong");
        name.textContent = h.head;
        link.appendChild(name);
        link.appendChild(document.createTextNode(" · " + h.village));
      },
    });
  }

  /* --- wiring (one-shot forms: points/once.js) ---------------------------------------------------------- */

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-ballot-form]"), initBallot);
    Array.prototype.forEach.call(document.querySelectorAll("[data-household-search]"), initHouseholdSearch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
