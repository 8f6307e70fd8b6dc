/*
 * Sandbox stand-in for Stripe.js (https://js.stripe.com/v3/), served by the
 * built-in sandbox. It implements the Financial Connections surface with
 * Stripe.js's exact result shapes:
 *
 *   const stripe = Stripe('pk_test_…');
 *   const {financialConnectionsSession, error} =
 *     await stripe.collectFinancialConnectionsAccounts({clientSecret});
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

  function run(publishableKey, options, flow) {
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
            { type: "sandbox:init", clientSecret: options.clientSecret, publishableKey: publishableKey, flow: flow },
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
  }
  Stripe.version = 3;
  Stripe.sandbox = true;
  window.Stripe = Stripe;
})();
