/*
 * The sandbox's Financial Connections modal: consent → institution →
 * accounts → success. It receives the client secret from the parent page by
 * postMessage and talks to the sandbox's /connect/api endpoints.
 */
(function () {
  "use strict";
  var api = new URL("api/", location.href);
  var pane = document.getElementById("pane");
  var ctx = null; // {clientSecret, publishableKey, flow, billingDetails, sessionSecret}
  var data = null; // what /api/session returned
  var done = false;
  var completed = null; // the linked session, once /api/complete succeeded

  function send(result) {
    if (done) return;
    done = true;
    // Only to the page that sent the client secret.
    parent.postMessage({ type: "sandbox:result", result: result }, ctx ? ctx.parentOrigin : location.origin);
  }

  function call(path, body) {
    // The payment flow: the intent's secret, and the session the modal runs.
    body.client_secret = ctx.sessionSecret || ctx.clientSecret;
    if (ctx.flow === "payment") {
      body.payment_intent_secret = ctx.clientSecret;
      body.billing_details = ctx.billingDetails || {};
      body.flow = "payment";
    }
    body.publishable_key = ctx.publishableKey;
    return fetch(new URL(path, api), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    });
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function show(nodes, focusSelector) {
    pane.replaceChildren.apply(pane, nodes);
    var f = focusSelector && pane.querySelector(focusSelector);
    (f || pane.querySelector("button, input") || document.getElementById("close")).focus();
  }

  function cancel() {
    // Closing after linking is not a cancel: the accounts are linked.
    if (completed) return send(completed);
    if (!ctx) return send({ financialConnectionsSession: undefined, error: { type: "api_error", message: "Not initialised." } });
    call("cancel", {}).then(function (r) {
      send(r.ok ? r.body : { error: r.body.error });
    }, function () {
      send({ error: { type: "api_connection_error", message: "The sandbox could not be reached." } });
    });
  }

  function fail(error) {
    send({ error: error });
  }

  function consent() {
    var s = data.session;
    var labels = {
      balances: "Balances", ownership: "Account ownership details",
      payment_method: "Account and routing numbers", transactions: "Transactions",
    };
    show([
      el("h1", { id: "title", text: "Link your account with Stripe" }),
      el("p", { text: "This site uses Stripe to link your accounts. It will be able to access:" }),
      el("ul", { class: "plain" }, s.permissions.map(function (p) {
        return el("li", { class: "perm", text: labels[p] || p });
      })),
      el("p", { text: "Sandbox: no real bank or credentials are involved." }),
      el("div", { class: "actions" }, [
        el("button", { class: "primary", type: "button", "data-testid": "consent-agree", text: "Agree and continue", onclick: pickInstitution }),
      ]),
    ]);
  }

  function pickInstitution() {
    var list = el("ul", { class: "plain", id: "institutions" });
    function render(filter) {
      var f = (filter || "").toLowerCase();
      list.replaceChildren.apply(list, data.institutions.filter(function (i) {
        return i.name.toLowerCase().indexOf(f) !== -1;
      }).map(function (inst) {
        return el("li", {}, [el("button", {
          class: "inst", type: "button", "data-testid": "institution", "data-institution": inst.id,
          onclick: function () { openInstitution(inst); },
        }, [el("span", { class: "logo", text: inst.name.charAt(0) }), el("span", { text: inst.name })])]);
      }));
      if (!list.children.length) list.appendChild(el("li", { "data-testid": "no-institution", text: "No institution matches." }));
    }
    var search = el("input", { class: "search", type: "search", placeholder: "Search", "aria-label": "Search institutions",
      "data-testid": "institution-search", oninput: function (e) { render(e.target.value); } });
    render("");
    var manual = ctx.flow === "payment" && data.session.manual_entry !== "disabled"
      ? el("button", { class: "secondary", type: "button", "data-testid": "manual-entry",
        text: "Enter bank details manually instead", onclick: manualEntry })
      : null;
    show([el("h1", { id: "title", text: "Select your bank" }), search, list, manual], ".inst");
  }

  // Typed-in routing and account numbers: the payment then waits for microdeposits.
  function manualEntry() {
    var routing = el("input", { id: "routing", inputmode: "numeric", autocomplete: "off", "data-testid": "routing-number", maxlength: "9" });
    var account = el("input", { id: "account", inputmode: "numeric", autocomplete: "off", "data-testid": "account-number", maxlength: "17" });
    var again = el("input", { id: "account2", inputmode: "numeric", autocomplete: "off", "data-testid": "account-number-confirm", maxlength: "17" });
    var note = el("p", { class: "error", "data-testid": "manual-error" });
    var submit = el("button", { class: "primary", type: "button", "data-testid": "manual-submit", text: "Continue" });
    submit.addEventListener("click", function () {
      if (account.value !== again.value) { note.textContent = "The account numbers do not match."; return; }
      submit.disabled = true;
      call("manual", { routing_number: routing.value.trim(), account_number: account.value.trim(), account_type: "checking" })
        .then(function (r) {
          submit.disabled = false;
          if (!r.ok) { note.textContent = (r.body.error && r.body.error.message) || "Those details were refused."; return; }
          completed = r.body;
          send(r.body);
        }, function () { submit.disabled = false; note.textContent = "The sandbox could not be reached."; });
    });
    show([
      el("h1", { id: "title", text: "Enter your bank details" }),
      el("p", { text: "Test numbers: routing 110000000, account 000123456789 (000222222227: insufficient funds). Verification takes microdeposits." }),
      el("label", { for: "routing", text: "Routing number" }), routing,
      el("label", { for: "account", text: "Account number" }), account,
      el("label", { for: "account2", text: "Confirm account number" }), again,
      note,
      el("div", { class: "actions" }, [submit,
        el("button", { class: "secondary", type: "button", text: "Back", onclick: pickInstitution })]),
    ], "#routing");
  }

  function openInstitution(inst) {
    if (inst.down) return institutionDown(inst);
    if (inst.oauth) return oauthLogin(inst);
    pickAccounts(inst);
  }

  function institutionDown(inst) {
    show([
      el("h1", { id: "title", text: inst.name + " is unavailable" }),
      el("p", { class: "error", "data-testid": "institution-down", text: inst.down.message }),
      el("div", { class: "actions" }, [
        el("button", { class: "primary", type: "button", text: "Choose another bank", onclick: pickInstitution }),
        el("button", { class: "secondary", type: "button", "data-testid": "give-up", text: "Close",
          onclick: function () {
            call("fail", { institution: inst.id }).then(function (r) { fail(r.body.error); },
              function () { fail({ type: "api_connection_error", message: "The sandbox could not be reached." }); });
          } }),
      ]),
    ]);
  }

  // OAuth banks sign in in a popup window; the popup reports back by postMessage.
  function oauthLogin(inst) {
    var popup = null;
    function onPopupMessage(ev) {
      if (ev.origin !== location.origin || ev.source !== popup) return;
      if (!ev.data || ev.data.type !== "sandbox:oauth") return;
      window.removeEventListener("message", onPopupMessage);
      if (ev.data.approved) pickAccounts(inst);
      else pickInstitution();
    }
    function launch() {
      popup = window.open(new URL("oauth", location.href).href, "stripe-sandbox-oauth", "popup,width=480,height=640");
      if (!popup) {
        status.textContent = "Your browser blocked the sign-in window. Allow popups, then try again.";
        return;
      }
      window.addEventListener("message", onPopupMessage);
    }
    var status = el("p", { "data-testid": "oauth-waiting", text: "Continue in the window that opened to sign in to " + inst.name + "." });
    show([
      el("h1", { id: "title", text: "Sign in to " + inst.name }),
      status,
      el("div", { class: "actions" }, [
        el("button", { class: "primary", type: "button", text: "Reopen sign-in window", onclick: launch }),
        el("button", { class: "secondary", type: "button", text: "Back", onclick: pickInstitution }),
      ]),
    ]);
    launch();
  }

  function pickAccounts(inst) {
    // collectBankAccountToken and collectBankAccountForPayment: one account, ACH only.
    var single = ctx.flow === "token" || ctx.flow === "payment";
    var limit = data.session.limit || 100;
    var boxes = [];
    var note = el("p", { class: "error", "data-testid": "limit-note" });
    var submit = el("button", { class: "primary", type: "button", "data-testid": "link-accounts", text: "Link accounts" });
    function update() {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      submit.disabled = n === 0 || n > limit;
      note.textContent = n > limit ? "You can link at most " + limit + (limit === 1 ? " account." : " accounts.") : "";
      submit.textContent = n === 1 ? "Link account" : "Link " + n + " accounts";
    }
    var items = inst.accounts.map(function (a) {
      var unusable = single && !a.ach;
      var box = el("input", { type: single ? "radio" : "checkbox", name: "account", value: a.key,
        "data-testid": "account-" + a.key, onchange: update });
      box.checked = !!a.preselected && !unusable;
      box.disabled = unusable;
      boxes.push(box);
      return el("li", {}, [el("label", { class: "acct" }, [
        box,
        el("span", { text: a.display_name }),
        el("span", { class: "meta", text: unusable ? "Not supported for bank payments" : a.subcategory_label + " ••••" + a.last4 }),
      ])]);
    });
    submit.addEventListener("click", function () {
      submit.disabled = true;
      var keys = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      call("complete", { institution: inst.id, accounts: keys, flow: ctx.flow }).then(function (r) {
        if (!r.ok) return showError(r.body.error);
        success(r.body);
      }, function () { showError({ type: "api_connection_error", message: "The sandbox could not be reached." }); });
    });
    update();
    show([
      el("h1", { id: "title", text: ctx.flow === "payment" ? "Select an account to pay from"
        : single ? "Select an account for payouts" : "Select accounts" }),
      el("p", { text: inst.name }),
      el("ul", { class: "plain" }, items),
      note,
      el("div", { class: "actions" }, [submit,
        el("button", { class: "secondary", type: "button", text: "Back", onclick: pickInstitution })]),
    ], "input:not(:disabled)");
  }

  function showError(error) {
    show([
      el("h1", { id: "title", text: "Something went wrong" }),
      el("p", { class: "error", text: (error && error.message) || "Unknown error" }),
      el("div", { class: "actions" }, [el("button", { class: "primary", type: "button", text: "Close", onclick: function () { fail(error); } })]),
    ]);
  }

  function success(result) {
    completed = result;
    var n = result.financialConnectionsSession.accounts.length;
    show([
      el("div", { class: "check", text: "✓" }),
      el("h1", { id: "title", text: n === 1 ? "Your account was linked" : "Your " + n + " accounts were linked" }),
      el("div", { class: "actions" }, [
        el("button", { class: "primary", type: "button", "data-testid": "done", text: "Done", onclick: function () { send(result); } }),
      ]),
    ]);
  }

  document.getElementById("close").addEventListener("click", cancel);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); cancel(); }
    if (e.key === "Tab") { // trap focus inside the dialog
      var f = Array.prototype.slice.call(document.querySelectorAll("button:not(:disabled), input"));
      if (!f.length) return;
      var first = f[0], last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    }
  });

  window.addEventListener("message", function (ev) {
    if (ev.source !== parent) return;
    var msg = ev.data || {};
    if (msg.type !== "sandbox:init" || ctx) return;
    ctx = { clientSecret: msg.clientSecret, publishableKey: msg.publishableKey, flow: msg.flow, parentOrigin: ev.origin,
      billingDetails: msg.billingDetails };
    call(ctx.flow === "payment" ? "payment_session" : "session", {}).then(function (r) {
      if (!r.ok) return fail(r.body.error);
      data = r.body;
      if (data.session_secret) ctx.sessionSecret = data.session_secret;
      consent();
    }, function () { fail({ type: "api_connection_error", message: "The sandbox could not be reached." }); });
  });
  // The page may be on another origin than the sandbox; "ready" carries nothing.
  parent.postMessage({ type: "sandbox:ready" }, "*");
})();
