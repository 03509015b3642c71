/* The store's admin pages (积分超市): live household search, the counter's cart, print buttons (one-shot forms: points/once.js).
 *
 * The live search itself is points/live_search.js and the texts' placeholders points/texts.js, which the page
 * loads first.
 *
 * Vanilla JS, no dependencies, nothing from another host. Every page works without it: the search box submits,
 * the quantity boxes post, the server decides. Texts come from the page (#counter-strings), translated by the view.
 * Nothing here writes HTML from data: names are set with textContent.
 */
(function () {
  "use strict";

  // The page's texts (#counter-strings, translated by the view) and their placeholders: points/texts.js.
  var fill = window.heheFill;
  var strings = window.heheReadJSON("counter-strings", {});
  function text(name) {
    return strings[name] || "";
  }

  function toInt(value) {
    var n = parseInt(value, 10);
    return isNaN(n) ? 0 : n;
  }

  /* --- live household search --------------------------------------------------------------------------- */

  function initSearch(form) {
    var input = form.querySelector("[data-search-input]");
    var list = form.querySelector("[data-search-results]");
    // A USB scanner types the card's text and Enter: the form submits at once (which cancels the live search);
    // the server opens a single match directly.
    var wired =
      window.heheLiveSearch &&
      window.heheLiveSearch({
        form: form,
        input: input,
        list: list,
        url: form.getAttribute("data-search-url"),
        delay: 150,
        noneClass: "counter-results-none",
        noneText: function (query) {
          return fill(text("none"), { q: query });
        },
        fillLink: function (link, h) {
          var number = document.createElement("span");
          number.className = "counter-result-number";
          number.textContent = h.login_number;
          var name = document.createElement("strong");
          name.textContent = h.head_name;
          var village = document.createElement("span");
          village.className = "counter-result-village";
          village.textContent = h.village;
          link.appendChild(number);
          link.appendChild(document.createTextNode(" "));
          link.appendChild(name);
          link.appendChild(document.createTextNode(" "));
          link.appendChild(village);
        },
      });
    if (!wired) {
      return;
    }

    // A scan (or typing a name) anywhere on the page goes to the search box, unless another field has the focus.
    document.addEventListener("keydown", function (event) {
      var active = document.activeElement;
      var typing = active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
      if (typing || event.ctrlKey || event.metaKey || event.altKey || !/^[A-Za-z0-9]$/.test(event.key)) {
        return;
      }
      input.value = "";
      input.focus(); // the key itself then lands in the search box
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        var first = list.querySelector("a");
        if (first) {
          event.preventDefault();
          first.focus();
        }
      }
    });
    list.addEventListener("keydown", function (event) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var at = links.indexOf(document.activeElement);
      if (at < 0) {
        return;
      }
      if (event.key === "ArrowDown" && at < links.length - 1) {
        event.preventDefault();
        links[at + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (at > 0 ? links[at - 1] : input).focus();
      }
    });
  }

  /* --- the counter's cart ------------------------------------------------------------------------------ */

  function initCart(form) {
    var balance = toInt(form.getAttribute("data-balance"));
    var products = Array.prototype.slice.call(form.querySelectorAll("[data-product]"));
    var linesList = form.querySelector("[data-cart-lines]");
    var empty = form.querySelector("[data-cart-empty]");
    var totalOut = form.querySelector("[data-cart-total]");
    var afterOut = form.querySelector("[data-cart-after]");
    var warning = form.querySelector("[data-cart-warning]");
    var confirm = form.querySelector("[data-confirm]");
    var submitting = false;

    function info(card) {
      return {
        card: card,
        input: card.querySelector("[data-qty]"),
        name: card.getAttribute("data-name"),
        price: toInt(card.getAttribute("data-price")),
        stock: toInt(card.getAttribute("data-stock")),
        unit: card.getAttribute("data-unit") || "",
      };
    }

    function setQty(p, qty) {
      qty = Math.max(0, Math.min(999, qty));
      p.input.value = String(qty);
      render();
    }

    function smallButton(label, symbol, onClick) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "button button-small button-secondary counter-step";
      b.setAttribute("aria-label", label);
      b.textContent = symbol;
      b.addEventListener("click", onClick);
      return b;
    }

    function render() {
      var total = 0;
      var shortOfStock = null;
      linesList.textContent = "";
      products.forEach(function (card) {
        var p = info(card);
        var qty = toInt(p.input.value);
        card.classList.toggle("is-chosen", qty > 0);
        if (qty <= 0) {
          return;
        }
        total += qty * p.price;
        if (qty > p.stock && !shortOfStock) {
          shortOfStock = p;
        }
        var li = document.createElement("li");
        li.className = "counter-line";
        var label = document.createElement("span");
        label.className = "counter-line-name";
        label.textContent = fill(text("line"), { name: p.name, qty: qty, unit: p.unit });
        var points = document.createElement("span");
        points.className = "counter-line-points";
        points.textContent = fill(text("points"), { n: qty * p.price });
        var steps = document.createElement("span");
        steps.className = "counter-line-steps";
        steps.appendChild(smallButton(text("less") + " " + p.name, "−", function () {
          setQty(p, toInt(p.input.value) - 1);
        }));
        steps.appendChild(smallButton(text("more") + " " + p.name, "+", function () {
          setQty(p, Math.min(p.stock, toInt(p.input.value) + 1));
        }));
        steps.appendChild(smallButton(text("remove") + " " + p.name, "×", function () {
          setQty(p, 0);
        }));
        li.appendChild(label);
        li.appendChild(points);
        li.appendChild(steps);
        linesList.appendChild(li);
      });
      empty.hidden = total > 0;
      totalOut.textContent = String(total);
      afterOut.textContent = String(balance - total);
      afterOut.parentNode.classList.toggle("is-short", balance - total < 0);
      var message = "";
      if (total > balance) {
        message = fill(text("short"), { need: total, balance: balance });
      } else if (shortOfStock) {
        message = fill(text("stock"), { name: shortOfStock.name, left: shortOfStock.stock, unit: shortOfStock.unit });
      }
      warning.textContent = message;
      warning.hidden = !message;
      // The server has the last word; the button only waits for a cart with something in it.
      if (!submitting) {
        confirm.disabled = total === 0;
      }
    }

    products.forEach(function (card) {
      var p = info(card);
      var add = card.querySelector("[data-add]");
      if (add) {
        add.addEventListener("click", function () {
          var qty = toInt(p.input.value);
          if (qty < p.stock) {
            setQty(p, qty + 1);
          }
        });
      }
      p.input.addEventListener("input", render);
      // Enter in a quantity box must not confirm the cart (nor a card scanned into the wrong box): only the
      // button does.
      p.input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
        }
      });
      p.input.addEventListener("change", render);
    });

    // One confirmation per cart: the button is disabled at once and the form refuses a second submit. The
    // hidden idempotency key makes a retried request (a lost response, a reload) redeem only once as well.
    form.addEventListener("submit", function (event) {
      if (submitting) {
        event.preventDefault();
        return;
      }
      submitting = true;
      confirm.disabled = true;
      confirm.textContent = text("busy");
    });
    // Back from the receipt (page restored from the cache): allow a new submit; the same key replays safely.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        submitting = false;
        render();
      }
    });
    render();
  }

  /* --- wiring (one-shot forms: points/once.js) ---------------------------------------------------------- */

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-counter-search]"), initSearch);
    Array.prototype.forEach.call(document.querySelectorAll("[data-counter-form]"), initCart);
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
