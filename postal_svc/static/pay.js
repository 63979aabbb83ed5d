/* The pay page: Stripe.js card field -> createToken -> our server confirms the PaymentIntent
   -> confirmCardPayment for 3-D Secure when the bank asks -> our server re-reads the intent.
   Every message comes from the page (data-msg-*), so it is translated with the page. */
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) { return; }
  var d = form.dataset;
  var button = document.getElementById("pay-button");
  var message = document.getElementById("pay-message");

  function say(text, kind) {
    message.hidden = !text;
    message.textContent = text || "";
    message.className = "note" + (kind ? " " + kind : "");
  }

  if (typeof window.Stripe !== "function") {
    say(d.msgNoScript, "error");
    button.disabled = true;
    return;
  }
  var stripe = window.Stripe(d.publishableKey);
  var card = stripe.elements().create("card", {hidePostalCode: true});
  card.mount("#card-element");

  function post(url, fields) {
    var body = new URLSearchParams();
    body.append("csrf_token", d.csrf);
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    return fetch(url, {method: "POST", body: body, credentials: "same-origin",
                       headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); });
  }

  function done() {
    // The page, read again, says "paid" from the server's own record.
    window.location.reload();
  }

  function poll(tries) {
    if (tries <= 0) { return; }
    setTimeout(function () {
      post(d.refreshUrl, {}).then(function (r) {
        if (r.paid) { done(); } else if (r.status === "processing") { poll(tries - 1); }
        else { show(r); }
      }).catch(function () { poll(tries - 1); });
    }, 2000);
  }

  function show(r) {
    if (r.paid) { done(); return; }
    button.disabled = false;
    if (r.status === "processing") { say(r.message || d.msgProcessing); poll(15); return; }
    say(r.message || d.msgCardError, "error");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    say(d.msgWorking);
    stripe.createToken(card).then(function (t) {
      if (t.error || !t.token) {
        button.disabled = false;
        say((t.error && t.error.message) || d.msgCardError, "error");
        return null;
      }
      return post(d.confirmUrl, {card_token: t.token.id}).then(function (r) {
        if (r.next_action !== "authenticate") { show(r); return null; }
        return stripe.confirmCardPayment(r.client_secret).then(function (a) {
          return post(d.refreshUrl, {}).then(function (after) {
            if (!after.paid && a.error) {
              button.disabled = false;
              say(d.msgAuthFailed, "error");
              return;
            }
            show(after);
          });
        });
      });
    }).catch(function () {
      button.disabled = false;
      say(d.msgNetwork, "error");
    });
  });
})();
