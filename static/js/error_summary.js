// A form sent back with problems: its summary of them takes the focus, so a screen reader reads it and
// a keyboard starts from it, and the page's title says there is an error (WCAG 3.3.1, GOV.UK's pattern).
// The summary is in the page (templates/includes/form_fields.html); this only moves the focus to it.
const focusErrorSummary = (root) => {
  const summary = root.querySelector("[data-error-summary]");
  if (!summary || summary.dataset.errorSummaryReady) return;
  summary.dataset.errorSummaryReady = "yes";
  const prefix = document.body.dataset.errorTitle;
  if (prefix && !document.title.startsWith(prefix)) document.title = `${prefix} ${document.title}`;
  summary.focus();
  // A link in the summary takes the focus to its field, not just the page to it.
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field) {
      event.preventDefault();
      field.focus();
    }
  });
};
document.addEventListener("DOMContentLoaded", () => focusErrorSummary(document));
// A form htmx sends back in place (422) gets the same treatment.
document.addEventListener("htmx:afterSettle", (event) => focusErrorSummary(event.detail.elt || document));
