/*
 * Sandbox stand-in for Stripe.js (https://js.stripe.com/v3/), served by the
 * built-in sandbox. It implements the Financial Connections surface and ACH
 * Direct Debit's with Stripe.js's exact result shapes:
 *
 *   const stripe = Stripe('pk_test_…');
 *   const {financialConnectionsSession, error} =
 *     await stripe.collectFinancialConnectionsAccounts({clientSecret});
 *   const {paymentIntent, error} = await stripe.collectBankAccountForPayment({
 *     clientSecret, params: {payment_method_type: 'us_bank_account',
 *       payment_method_data: {billing_details: {name, email}}}});
 *   const {paymentIntent, error} = await stripe.confirmUsBankAccountPayment(clientSecret);
 *
 * The modal is an iframe served by the sandbox. The client secret reaches it
 * by postMessage, never in a URL. Closing the modal resolves with an empty
 * `accounts` array, exactly like Stripe.js on the web.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL("..", script && script.src ? script.src : location.href); // …/sandbox/
  var origin = base.origin;
  var open = false;
  var LOAD_TIMEOUT_MS = 15000;

  function integrationError(message) {
    var e = new Error(message);
    e.name = "IntegrationError";
    return e;
  }

  function run(publishableKey, options, flow, extra) {
    if (!options || typeof options.clientSecret !== "string" || options.clientSecret === "") {
      return Promise.reject(integrationError("Invalid value for " + flow + ": clientSecret should be a client secret string."));
    }
    if (open) {
      return Promise.reject(integrationError("A Financial Connections flow is already open."));
    }
    open = true;
    return new Promise(function (resolve) {
      var previouslyFocused = document.activeElement;
      var overlay = document.createElement("div");
      overlay.setAttribute("data-stripe-sandbox", "overlay");
      overlay.style.cssText =
        "position:fixed;inset:0;z-index:2147483647;background:rgba(10,37,64,.55);" +
        "display:flex;align-items:center;justify-content:center;";
      var frame = document.createElement("iframe");
      frame.title = "Link your account (Stripe sandbox)";
      frame.name = "stripe-sandbox-financial-connections";
      frame.setAttribute("data-testid", "stripe-sandbox-modal");
      frame.style.cssText =
        "border:0;border-radius:12px;background:#fff;box-shadow:0 20px 60px rgba(0,0,0,.35);" +
        "width:min(440px,100vw);height:min(640px,100vh);";
      frame.src = new URL("connect/modal", base).href;
      overlay.appendChild(frame);

      // A modal that never says "ready" (blocked, offline) must not lock the page.
      var loadTimer = setTimeout(function () {
        finish({ error: { type: "api_connection_error", message: "The Financial Connections window could not be loaded." } });
      }, LOAD_TIMEOUT_MS);

      function finish(result) {
        clearTimeout(loadTimer);
        window.removeEventListener("message", onMessage);
        overlay.remove();
        open = false;
        if (previouslyFocused && previouslyFocused.focus) previouslyFocused.focus();
        resolve(result);
      }
      function onMessage(ev) {
        if (ev.origin !== origin || ev.source !== frame.contentWindow) return;
        var msg = ev.data || {};
        if (msg.type === "sandbox:ready") {
          clearTimeout(loadTimer);
          frame.contentWindow.postMessage(
            {
              type: "sandbox:init", clientSecret: options.clientSecret, publishableKey: publishableKey, flow: flow,
              billingDetails: extra && extra.billingDetails,
            },
            origin
          );
          frame.focus();
        } else if (msg.type === "sandbox:result") {
          finish(msg.result);
        }
      }
      window.addEventListener("message", onMessage);
      document.body.appendChild(overlay);
    });
  }

  // Stripe's bracket form: {a: {b: 1}} → a[b]=1.
  function flatten(form, prefix, value) {
    if (value === null || value === undefined) return;
    if (typeof value === "object") {
      Object.keys(value).forEach(function (k) { flatten(form, prefix + "[" + k + "]", value[k]); });
    } else {
      form.append(prefix, String(value));
    }
  }

  function intentId(clientSecret, method) {
    if (typeof clientSecret !== "string" || !/^pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/.test(clientSecret)) {
      throw integrationError("Invalid value for " + method + ": clientSecret should be a client secret of the form ${id}_secret_${secret}.");
    }
    return clientSecret.split("_secret_")[0];
  }

  // The publishable-key API calls Stripe.js makes for a PaymentIntent.
  function api(publishableKey, method, path, form) {
    var url = new URL(path, base);
    var init = { method: method, headers: { Authorization: "Bearer " + publishableKey }, credentials: "omit" };
    if (method === "GET") {
      url.search = form.toString();
    } else {
      init.headers["Content-Type"] = "application/x-www-form-urlencoded";
      init.body = form.toString();
    }
    return fetch(url.href, init).then(function (r) {
      return r.json().then(function (j) {
        return r.ok ? { paymentIntent: j } : { error: j.error || { type: "api_error", message: "Unexpected response." } };
      });
    }, function () {
      return { error: { type: "api_connection_error", message: "The sandbox could not be reached." } };
    });
  }

  function Stripe(publishableKey, _opts) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey, _opts);
    if (typeof publishableKey !== "string" || !/^pk_(test|live)_[A-Za-z0-9_]+$/.test(publishableKey)) {
      throw integrationError("Invalid API Key provided: " + String(publishableKey).slice(0, 8) + "…");
    }
    this.collectFinancialConnectionsAccounts = function (options) {
      return run(publishableKey, options, "accounts");
    };
    this.collectBankAccountToken = function (options) {
      return run(publishableKey, options, "token");
    };
    this.collectBankAccountForPayment = function (options) {
      var params = (options && options.params) || {};
      try {
        intentId(options && options.clientSecret, "collectBankAccountForPayment");
      } catch (e) {
        return Promise.reject(e);
      }
      if (params.payment_method_type !== "us_bank_account") {
        return Promise.reject(integrationError("Invalid value for collectBankAccountForPayment: params.payment_method_type should be us_bank_account."));
      }
      var billing = (params.payment_method_data || {}).billing_details || {};
      if (typeof billing.name !== "string" || billing.name === "") {
        return Promise.reject(integrationError("Invalid value for collectBankAccountForPayment: params.payment_method_data.billing_details.name should be a non-empty string."));
      }
      return run(publishableKey, options, "payment", { billingDetails: { name: billing.name, email: billing.email } })
        .then(function (r) { return r.error ? { error: r.error } : { paymentIntent: r.paymentIntent }; });
    };
    this.confirmUsBankAccountPayment = function (clientSecret, data) {
      var id;
      try {
        id = intentId(clientSecret, "confirmUsBankAccountPayment");
      } catch (e) {
        return Promise.reject(e);
      }
      var form = new URLSearchParams();
      form.append("client_secret", clientSecret);
      var pm = data && data.payment_method;
      if (typeof pm === "string") form.append("payment_method", pm);
      else if (pm && typeof pm === "object") {
        form.append("payment_method_data[type]", "us_bank_account");
        Object.keys(pm).forEach(function (k) {
          if (k !== "type") flatten(form, "payment_method_data[" + k + "]", pm[k]);
        });
      }
      return api(publishableKey, "POST", "v1/payment_intents/" + encodeURIComponent(id) + "/confirm", form);
    };
    this.retrievePaymentIntent = function (clientSecret) {
      var id;
      try {
        id = intentId(clientSecret, "retrievePaymentIntent");
      } catch (e) {
        return Promise.reject(e);
      }
      var form = new URLSearchParams();
      form.append("client_secret", clientSecret);
      return api(publishableKey, "GET", "v1/payment_intents/" + encodeURIComponent(id), form);
    };
  }
  Stripe.version = 3;
  Stripe.sandbox = true;
  window.Stripe = Stripe;
})();
