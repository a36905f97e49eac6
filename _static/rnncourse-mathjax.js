/* MathJax in the rnncourse book: a saved setting that would stop it, and keyboard access to wide equations.
 *
 * 1. MathJax saves what a reader chose in its right-click menu (localStorage "MathJax-Menu-Settings") and
 *    applies it on every page. Its explorer and its collapsible math ("explorer", "collapsible") load
 *    speech rules at run time, which a page opened from file:// cannot fetch: every formula then stays raw
 *    TeX. The book has turned MathJax's menu off (_config.yml), so a reader could not undo such a setting,
 *    saved under an earlier build of the book. This script runs before MathJax (which is deferred) and
 *    drops it, leaving the reader's other settings as they were.
 * 2. Without the menu, formulas are no Tab stops. A display equation wider than its column scrolls
 *    sideways (the theme's style), so it becomes a Tab stop, for the arrow keys to scroll it, as the theme
 *    does for wide code blocks and tables; it stops being one when the window grows wide enough.
 */
(function () {
  "use strict";

  const KEY = "MathJax-Menu-Settings";
  const UNUSABLE = ["explorer", "collapsible", "autocollapse"];
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    if (UNUSABLE.some(name => name in saved)) {
      UNUSABLE.forEach(name => delete saved[name]);
      if (Object.keys(saved).length) localStorage.setItem(KEY, JSON.stringify(saved));
      else localStorage.removeItem(KEY);
    }
  } catch (error) {
    // No storage (the browser blocks it) or no settings object in it: MathJax reads nothing from it either.
  }

  function updateTabStops() {
    document.querySelectorAll("div.math > mjx-container").forEach(equation => {
      if (equation.scrollWidth > equation.clientWidth + 1) equation.tabIndex = 0;
      else equation.removeAttribute("tabindex");
    });
  }

  window.addEventListener("load", () => {
    const startup = window.MathJax && window.MathJax.startup;
    if (startup && startup.promise) startup.promise.then(updateTabStops);
  });
  let timer = null;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(updateTabStops, 300);
  });
})();
