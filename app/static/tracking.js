// The tracking page keeps itself up to date while work is in progress: every few seconds it asks the same
// address for its JSON view and updates each line's bar, numbers, status text and estimated start and finish.
// When the order's status changes the page is loaded again (the timeline and notices follow). Without this
// script the page is complete.
// "no-cache": the browser revalidates its copy; the server answers 304 while nothing changed.
(function () {
  "use strict";
  var root = document.querySelector("[data-track][data-poll]");
  if (!root) return;
  var seconds = parseInt(root.dataset.poll, 10) || 15;
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var timer = null;

  function update(line) {
    var item = root.querySelector('[data-line="' + line.position + '"]');
    if (!item) return;
    var bar = item.querySelector("[data-bar]");
    if (bar) {
      bar.setAttribute("aria-valuenow", String(line.percent));
      var fill = bar.firstElementChild;
      fill.style.width = line.percent + "%";
      fill.className = "progress-fill progress-" + line.status;
    }
    var label = item.querySelector("[data-label]");
    if (label) label.textContent = line.label;
    var delivered = item.querySelector("[data-delivered]");
    if (delivered && line.delivered !== null) delivered.textContent = numbers.format(line.delivered);
    var eta = item.querySelector("[data-eta]");
    if (eta) {
      var texts = line.eta ? line.eta.texts : [];
      eta.textContent = "";
      texts.forEach(function (text) {
        var part = document.createElement("span");
        part.textContent = text;
        eta.appendChild(part);
      });
      eta.hidden = texts.length === 0;
      eta.classList.toggle("track-eta-late", Boolean(line.eta && line.eta.late));
    }
  }

  function poll() {
    fetch(window.location.pathname, { headers: { Accept: "application/json" }, cache: "no-cache", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (order) {
        if (!order) return;
        if (order.status !== root.dataset.status) { window.location.reload(); return; }
        order.lines.forEach(update);
        if (order.live) schedule();
      })
      .catch(schedule); // offline for a moment: try again later
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, seconds * 1000);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") poll();
  });
  schedule();
})();
