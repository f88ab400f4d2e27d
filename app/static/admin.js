/* Back-office behaviour. The admin's Content-Security-Policy allows no inline script: everything lives here. */
(function () {
  "use strict";

  // Texts in the staff member's language (admin/templates/sqladmin/base.html).
  var textsElement = document.getElementById("admin-texts");
  var texts = textsElement ? JSON.parse(textsElement.textContent) : {};
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
      if (document.hidden) return;
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

  // "Copy" buttons (a new checkout link's address): copy the named input's value, select it as a fallback.
  function bindCopyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.copyTarget);
        if (!input) return;
        input.select();
        if (navigator.clipboard) navigator.clipboard.writeText(input.value).catch(function () {});
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    addCsrfTokens();
    translateCharacterCounts();
    bindCopyButtons();
    showToasts();
    bindDateRanges();
    refreshBoard();
  });
})();
