/* Names that screen readers read for the book's folded blocks (WCAG 2.5.3, label in name).
 *
 * sphinx-togglebutton names the button of every solution and hint "Toggle hidden content", and myst-nb
 * gives each folded code cell's summary line the same aria-label, which hides its visible text "Show code
 * cell source". Here each button is named by what it folds, "Show Solution to Exercise 4.1", then "Hide
 * Solution to Exercise 4.1" once open (a hint adds its exercise, "Show Hint for Exercise 4.1", so that no
 * two buttons share a name), and each summary line is named by its visible text.
 *
 * Sphinx loads the files of html_js_files (this _static folder's) after the extensions' scripts, so this
 * listener runs after togglebutton.js has added its buttons. aria-expanded stays togglebutton.js's.
 */
document.addEventListener("DOMContentLoaded", () => {
  const words = (element) => element.textContent.replace(/\s+/g, " ").trim();
  const names = new Map();                         // button -> what it folds
  const rename = (button) => {
    const verb = button.getAttribute("aria-expanded") === "true" ? "Hide " : "Show ";
    button.setAttribute("aria-label", verb + names.get(button));
  };
  // togglebutton.js sets aria-expanded on each click; the name follows it.
  const observer = new MutationObserver((changes) => changes.forEach((change) => rename(change.target)));

  document.querySelectorAll(".dropdown > p.admonition-title > button.toggle-button").forEach((button) => {
    const fold = button.closest(".dropdown");
    const outer = fold.parentElement.closest(".admonition");          // the exercise around a hint
    const outerTitle = outer && outer.querySelector(":scope > .admonition-title");
    names.set(button, words(button.parentElement) + (outerTitle ? " for " + words(outerTitle) : ""));
    rename(button);
    observer.observe(button, { attributes: true, attributeFilter: ["aria-expanded"] });
  });

  document.querySelectorAll("details.hide > summary[aria-label]").forEach((summary) => {
    summary.removeAttribute("aria-label");
  });
});
