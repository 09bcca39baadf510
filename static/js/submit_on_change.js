// A control marked data-submit-on-change sends its form as soon as it changes (the language switch).
// A script file rather than an onchange attribute: the Content-Security-Policy runs no inline script.
document.addEventListener("change", (event) => {
  const control = event.target;
  if (control instanceof HTMLElement && control.matches("[data-submit-on-change]") && control.form) {
    control.form.submit();
  }
});
