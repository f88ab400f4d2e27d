/* Back-office behaviour. The admin's Content-Security-Policy allows no inline script: everything lives here. */
(function () {
  "use strict";

  // Texts in the staff member's language (admin/templates/sqladmin/base.html).
  var textsElement = document.querySelector('meta[name="admin-texts"]');
  var texts = textsElement ? JSON.parse(textsElement.content) : {};
  if (texts.locale) document.documentElement.lang = texts.locale;

  function fill(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_match, name) {
      return values[name];
    });
  }

  // select2 (SQLAdmin's dropdowns) in the staff member's language; this runs before SQLAdmin's main.js starts it.
  if (window.jQuery && window.jQuery.fn.select2 && texts.search) {
    window.jQuery.fn.select2.defaults.set("language", {
      inputTooShort: function (args) {
        return fill(texts.inputTooShort, { count: args.minimum - args.input.length });
      },
      noResults: function () { return texts.noResults; },
      searching: function () { return texts.searching; },
      errorLoading: function () { return texts.errorLoading; },
      loadingMore: function () { return texts.loadingMore; },
      removeAllItems: function () { return texts.removeAllItems; },
    });
    document.querySelectorAll('[data-role="select2-ajax"]:not([placeholder])').forEach(function (select) {
      select.setAttribute("placeholder", texts.search);
    });
  }

  // SQLAdmin's character counter under text areas writes English: write it again in the page's language.
  function translateCharacterCounts() {
    if (!window.jQuery || !texts.charsCount) return;
    window.jQuery(".chars-count-label").each(function () {
      var label = window.jQuery(this);
      var textarea = label.prev("textarea");
      if (!textarea.length) return;
      var max = parseInt(textarea.attr("maxlength"), 10) || 0;
      function update() {
        var values = { count: textarea.val().length, max: max };
        label.text(fill(max ? texts.charsCountMax : texts.charsCount, values));
      }
      textarea.on("input propertychange", update);
      update();
    });
  }

  // Every state-changing admin request carries the session's CSRF token (see admin/csrf.py).
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.content : null;
  if (token) {
    var originalFetch = window.fetch;
    window.fetch = function (input, init) {
      init = init || {};
      var method = (init.method || "GET").toUpperCase();
      if (["GET", "HEAD", "OPTIONS"].indexOf(method) === -1) {
        init.headers = new Headers(init.headers || {});
        init.headers.set("X-CSRF-Token", token);
      }
      return originalFetch(input, init);
    };
  }

  function addCsrfTokens() {
    if (!token) return;
    if (window.jQuery) {
      window.jQuery.ajaxSetup({ headers: { "X-CSRF-Token": token } });
    }
    document.querySelectorAll("form").forEach(function (form) {
      if ((form.getAttribute("method") || "GET").toUpperCase() !== "POST") return;
      if (form.querySelector('input[name="csrf_token"]')) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrf_token";
      input.value = token;
      form.appendChild(input);
    });
  }

  // Flash messages (SQLAdmin's toasts; its template's inline script is replaced by this).
  function showToasts() {
    if (!window.tabler || !window.tabler.bootstrap) return;
    document.querySelectorAll(".toast.admin-toast").forEach(function (element) {
      new window.tabler.bootstrap.Toast(element, { delay: 3000 }).show();
    });
  }

  // Date-range filters: "from..to" in one query parameter, page reset.
  function bindDateRanges() {
    document.querySelectorAll("form[data-date-range]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var url = new URL(window.location.href);
        var from = form.elements["from"].value;
        var to = form.elements["to"].value;
        if (from || to) {
          url.searchParams.set(form.dataset.dateRange, from + ".." + to);
        } else {
          url.searchParams.delete(form.dataset.dateRange);
        }
        url.searchParams.delete("page");
        window.location.href = url.toString();
      });
    });
  }

  // The fulfillment board reloads its queues every 30 seconds while the tab is visible.
  function refreshBoard() {
    var board = document.getElementById("board");
    var stamp = document.getElementById("board-updated");
    if (!board || !stamp || !board.dataset.refreshUrl) return;
    function mark() {
      // The staff member's language and Berlin time, whatever the browser's settings.
      stamp.textContent = new Date().toLocaleTimeString(texts.locale || undefined, { timeZone: "Europe/Berlin" });
    }
    mark();
    window.setInterval(function () {
      if (document.hidden || board.querySelector("input[data-line-pick]:checked")) return; // keep what is ticked
      fetch(board.dataset.refreshUrl, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          board.innerHTML = html;
          mark();
        })
        .catch(function () {
          stamp.textContent = board.dataset.failedText || "";
        });
    }, 30000);
  }

  // A board queue's buttons decide on the lines ticked in that queue: the confirmation page lists them.
  function bindBoardSelection() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-bulk-action]");
      if (!button) return;
      var ticked = button.closest("[data-queue]").querySelectorAll("input[data-line-pick]:checked");
      var ids = Array.prototype.map.call(ticked, function (box) { return box.value; });
      event.preventDefault();
      window.location.href = button.href + "&pks=" + ids.join(",");
    });
  }

  // "Copy" buttons (a new checkout link's address, a one-time password): copy the named input's value or
  // element's text, select it as a fallback.
  function bindCopyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.dataset.copyTarget);
        if (!target) return;
        var text = "value" in target ? target.value : target.textContent;
        if (target.select) {
          target.select();
        } else {
          window.getSelection().selectAllChildren(target);
        }
        if (navigator.clipboard) navigator.clipboard.writeText(text).catch(function () {});
      });
    });
  }

  // "/" anywhere (outside a field) focuses the search: the list's own, else the order search in the top bar.
  function bindSearchShortcut() {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
      if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
      var search = document.getElementById("search-input") || document.getElementById("global-search");
      if (!search) return;
      event.preventDefault();
      search.focus();
      search.select();
    });
  }

  // The top bar's order search: Enter opens the orders list searched for the term.
  function bindGlobalSearch() {
    var input = document.getElementById("global-search");
    if (!input || !input.dataset.searchUrl) return;
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !input.value.trim()) return;
      event.preventDefault();
      window.location.href = input.dataset.searchUrl + "?search=" + encodeURIComponent(input.value.trim());
    });
  }

  // The sidebar keeps the group of the page shown open.
  function openCurrentGroup() {
    document.querySelectorAll("#navbar-menu .nav-item.dropdown > .dropdown-toggle.active").forEach(function (toggle) {
      toggle.classList.add("show");
      toggle.setAttribute("aria-expanded", "true");
      var menu = toggle.parentElement.querySelector(".dropdown-menu");
      if (menu) menu.classList.add("show");
    });
  }

  // Lists: the filter panel is folded until the "Filters" button opens it, or while a filter is set.
  function bindFilterToggle() {
    var column = document.querySelector(".filter-sidebar-col");
    var button = document.getElementById("filters-toggle");
    if (!column || !button) return;
    if (button.dataset.filtered === "true") column.classList.add("filters-open");
    button.setAttribute("aria-expanded", String(column.classList.contains("filters-open")));
    button.addEventListener("click", function () {
      var open = column.classList.toggle("filters-open");
      button.setAttribute("aria-expanded", String(open));
    });
  }

  // A slug as the storefront's addresses use it: lower case, German umlauts spelled out, words joined by "-".
  function slugify(text) {
    var spelled = text.toLowerCase().replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss");
    return spelled.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "").slice(0, 120);
  }

  // A number as typed in the page's language (2,49 in German, 2.49 in English); NaN when it is none.
  function typedNumber(text, locale) {
    var plain = locale === "de" ? text.replace(/\./g, "").replace(",", ".") : text.replace(/,/g, "");
    return plain.trim() === "" ? NaN : Number(plain);
  }

  // The service form: the slug follows the German name until someone edits it; a warning while the English
  // description is empty; the provider's cost and our margin beside the price, as the price is typed.
  function bindServiceForm() {
    var hints = document.getElementById("service-form-hints");
    var form = hints && hints.closest("form");
    if (!form) return;
    var slug = form.querySelector("#slug");
    var name = form.querySelector("#name_de");
    if (slug && name) {
      var follows = slug.value === "" || slug.value === slugify(name.value);
      slug.addEventListener("input", function () { follows = slug.value === ""; });
      name.addEventListener("input", function () { if (follows) slug.value = slugify(name.value); });
    }
    var english = form.querySelector("#description_en");
    if (english) {
      var warning = document.createElement("div");
      warning.className = "alert alert-warning mt-2";
      warning.setAttribute("data-testid", "english-missing");
      warning.textContent = hints.dataset.englishMissing;
      english.insertAdjacentElement("afterend", warning);
      var checkEnglish = function () { warning.hidden = english.value.trim() !== ""; };
      english.addEventListener("input", checkEnglish);
      checkEnglish();
    }
    var price = form.querySelector("#price");
    var cost = Number(hints.dataset.unitCost);
    if (price && hints.dataset.unitCost) {
      var shown = document.createElement("small");
      shown.className = "form-hint";
      shown.setAttribute("data-testid", "service-margin");
      price.insertAdjacentElement("afterend", shown);
      var showMargin = function () {
        var value = typedNumber(price.value, hints.dataset.locale);
        var share = value > 0 ? ((value - cost) / value) * 100 : NaN;
        var percent = isNaN(share) ? "–" : share.toLocaleString(hints.dataset.locale, { maximumFractionDigits: 0 }) + " %";
        shown.textContent = fill(hints.dataset.costText, { margin: percent });
      };
      price.addEventListener("input", showMargin);
      showMargin();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    translateCharacterCounts(); // before the service form adds its warning between a text area and its counter
    bindServiceForm();
    addCsrfTokens();
    bindSearchShortcut();
    bindGlobalSearch();
    openCurrentGroup();
    bindFilterToggle();
    bindCopyButtons();
    showToasts();
    bindDateRanges();
    refreshBoard();
    bindBoardSelection();
  });
})();
