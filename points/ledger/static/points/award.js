/*
 * The award form (加分/扣分): a household picker that searches as you type, the member list of the one chosen
 * household, and a live summary of how many households and how many points the form will record.
 * Plain JavaScript, no libraries, so that it loads fast on a cheap phone. Every text shown comes translated
 * from the page (#award-strings, filled in by points/texts.js); the server checks everything again.
 */
(function () {
  "use strict";

  var form = document.getElementById("award-form");
  if (!form) {
    return;
  }

  var readJSON = window.heheReadJSON; // points/texts.js, loaded first
  var strings = readJSON("award-strings", {});
  var itemPoints = readJSON("award-item-points", {});
  var groupSizes = readJSON("award-group-sizes", {});
  var chosen = readJSON("award-selected", []);
  var villageSize = Number(form.getAttribute("data-village-size") || 0);
  var searchUrl = form.getAttribute("data-search-url");

  var input = document.getElementById("household-search");
  var results = document.getElementById("household-results");
  var chosenList = document.getElementById("household-chosen");
  var countNode = document.getElementById("household-count");
  var summary = document.getElementById("award-summary");
  var hidden = form.querySelector('input[name="households"]');
  var memberSelect = form.querySelector('select[name="member"]');
  var itemSelect = form.querySelector('select[name="rubric_item"]');
  var groupSelect = form.querySelector('select[name="group"]');
  var submit = form.querySelector("[data-award-submit]");
  var targets = form.querySelectorAll('input[name="target"]');
  var initialMember = memberSelect ? memberSelect.getAttribute("data-initial") || memberSelect.value : "";

  var lastResults = [];
  var timer = null;
  var requestNumber = 0;

  function target() {
    for (var i = 0; i < targets.length; i++) {
      if (targets[i].checked) {
        return targets[i].value;
      }
    }
    return "households";
  }

  function label(household) {
    var text = household.number + " " + household.head;
    if (household.group) {
      text += "（" + household.group + "）";
    }
    return text;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function isChosen(id) {
    for (var i = 0; i < chosen.length; i++) {
      if (chosen[i].id === id) {
        return true;
      }
    }
    return false;
  }

  function choose(household) {
    if (household.archived || isChosen(household.id)) {
      return;
    }
    chosen.push(household);
    input.value = "";
    clear(results);
    lastResults = [];
    render();
    input.focus();
  }

  function unchoose(id) {
    chosen = chosen.filter(function (h) {
      return h.id !== id;
    });
    render();
  }

  function renderResults(households) {
    lastResults = households;
    clear(results);
    if (!households.length) {
      var empty = document.createElement("li");
      empty.className = "hehe-empty";
      empty.textContent = strings.none || "";
      results.appendChild(empty);
      return;
    }
    households.forEach(function (household) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small button-secondary";
      var text = label(household);
      var others = household.members
        .map(function (m) {
          return m.name;
        })
        .filter(function (name) {
          return name !== household.head;
        });
      if (others.length) {
        text += " · " + others.join("、");
      }
      if (household.archived) {
        text += " · " + (strings.archived || "");
        button.disabled = true;
      } else if (isChosen(household.id)) {
        text += " · " + (strings.chosen || "");
        button.disabled = true;
      }
      button.textContent = text;
      button.addEventListener("click", function () {
        choose(household);
      });
      item.appendChild(button);
      results.appendChild(item);
    });
  }

  function search() {
    var query = input.value.trim();
    if (!query) {
      clear(results);
      lastResults = [];
      return;
    }
    var number = ++requestNumber;
    fetch(searchUrl + "?q=" + encodeURIComponent(query), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        if (number === requestNumber) {
          renderResults(data.results || []);
        }
      })
      .catch(function () {
        if (number === requestNumber) {
          clear(results);
          var failed = document.createElement("li");
          failed.className = "error-message";
          failed.textContent = strings.failed || "";
          results.appendChild(failed);
        }
      });
  }

  function renderMembers() {
    if (!memberSelect) {
      return;
    }
    var keep = memberSelect.value || initialMember;
    initialMember = "";
    var placeholder = memberSelect.options.length ? memberSelect.options[0].cloneNode(true) : null;
    clear(memberSelect);
    if (placeholder) {
      memberSelect.appendChild(placeholder);
    }
    var single = target() === "households" && chosen.length === 1 ? chosen[0] : null;
    memberSelect.disabled = !single;
    if (!single) {
      return;
    }
    single.members.forEach(function (member) {
      var option = document.createElement("option");
      option.value = String(member.id);
      option.textContent = member.name;
      if (String(member.id) === String(keep)) {
        option.selected = true;
      }
      memberSelect.appendChild(option);
    });
  }

  function renderChosen() {
    clear(chosenList);
    chosen.forEach(function (household) {
      var item = document.createElement("li");
      item.appendChild(document.createTextNode(label(household) + " "));
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-small button-secondary";
      remove.textContent = strings.remove || "×";
      remove.setAttribute("aria-label", (strings.remove || "") + " " + label(household));
      remove.addEventListener("click", function () {
        unchoose(household.id);
      });
      item.appendChild(remove);
      chosenList.appendChild(item);
    });
    countNode.textContent = String(chosen.length);
    hidden.value = chosen
      .map(function (h) {
        return h.id;
      })
      .join(",");
  }

  function householdCount() {
    var mode = target();
    if (mode === "group") {
      return groupSelect && groupSelect.value ? Number(groupSizes[groupSelect.value] || 0) : 0;
    }
    if (mode === "village") {
      return villageSize;
    }
    return chosen.length;
  }

  function summaryText() {
    var points = itemSelect ? itemPoints[itemSelect.value] : undefined;
    var count = householdCount();
    if (points === undefined || !count) {
      return strings.incomplete || "";
    }
    var template = points >= 0 ? strings.award : strings.deduct;
    return window.heheFill(template, { count: count, points: Math.abs(points), total: Math.abs(points) * count });
  }

  function renderPanels() {
    var mode = target();
    var panels = form.querySelectorAll("[data-target-panel]");
    for (var i = 0; i < panels.length; i++) {
      panels[i].hidden = panels[i].getAttribute("data-target-panel") !== mode;
    }
  }

  function render() {
    renderPanels();
    renderChosen();
    renderMembers();
    summary.textContent = summaryText();
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") {
      return;
    }
    // Enter picks the first result instead of submitting the form.
    event.preventDefault();
    clearTimeout(timer);
    for (var i = 0; i < lastResults.length; i++) {
      if (!lastResults[i].archived && !isChosen(lastResults[i].id)) {
        choose(lastResults[i]);
        return;
      }
    }
    search();
  });
  for (var i = 0; i < targets.length; i++) {
    targets[i].addEventListener("change", render);
  }
  if (itemSelect) {
    itemSelect.addEventListener("change", render);
  }
  if (groupSelect) {
    groupSelect.addEventListener("change", render);
  }

  form.addEventListener("submit", function (event) {
    var mode = target();
    if ((mode === "group" || mode === "village") && householdCount() > 0) {
      if (!window.confirm(summaryText() + "\n" + (strings.confirm || ""))) {
        event.preventDefault();
        return;
      }
    }
    // The idempotency key already makes a second submit harmless; this spares the wait.
    submit.disabled = true;
    submit.textContent = strings.sending || submit.textContent;
  });
  window.addEventListener("pageshow", function () {
    submit.disabled = false;
  });

  render();
})();
