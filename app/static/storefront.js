// Live price under the order form: asks /checkout/quote (an HTML fragment) as the client types.
// The form works without this script: the price is then shown on the payment page.
(function () {
  "use strict";
  var form = document.querySelector("form[data-quote]");
  if (!form) return;
  var target = form.querySelector("#quote");
  var timer = null;
  var latest = 0;
  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("form_key");
    var ticket = ++latest;
    fetch(form.dataset.quote + "?" + params.toString(), { headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) { if (ticket === latest) target.innerHTML = html; })
      .catch(function () { /* no price preview while offline; the form still works */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  if (form.querySelector("[name=quantity]") === null || form.querySelector("[name=quantity]").value) refresh();
})();
