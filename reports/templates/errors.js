// Records script errors and console.error calls in the page itself, on
// the data-js-errors attribute of the html element, so a headless browser test can read them
// from the DOM. Loaded first, before any other script.
(function () {
  'use strict';
  var seen = [];
  function record(message) {
    seen.push(String(message));
    document.documentElement.setAttribute('data-js-errors', seen.join(' | '));
  }
  window.addEventListener('error', function (e) {
    record((e.message || 'error') + ' at ' + (e.filename || '?') + ':' + (e.lineno || 0));
  });
  window.addEventListener('unhandledrejection', function (e) {
    record('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : e.reason));
  });
  var original = console.error;
  console.error = function () {
    record(Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
})();
