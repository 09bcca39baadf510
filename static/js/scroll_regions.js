// A table wider than its box scrolls sideways; someone using a keyboard must be able to reach it to
// scroll it (WCAG 2.1.1), and a screen reader should hear what it is. Each .table-responsive that
// overflows becomes a focusable region named after its table (caption, aria-label, aria-labelledby,
// or the heading before it); one that fits stays out of the tab order. Checked again on resize.
(() => {
  const nameOf = (box) => {
    const table = box.querySelector("table");
    if (!table) return "";
    if (table.caption) return table.caption.textContent.trim();
    if (table.getAttribute("aria-label")) return table.getAttribute("aria-label");
    const labelledBy = table.getAttribute("aria-labelledby");
    if (labelledBy) {
      const label = document.getElementById(labelledBy.split(" ")[0]);
      if (label) return label.textContent.trim();
    }
    let node = box;
    while (node && node !== document.body) {
      let sibling = node.previousElementSibling;
      while (sibling) {
        const heading = sibling.matches("h1, h2, h3, h4") ? sibling : sibling.querySelector("h1, h2, h3, h4");
        if (heading) return heading.textContent.trim();
        sibling = sibling.previousElementSibling;
      }
      node = node.parentElement;
    }
    return document.title;
  };
  const mark = () => {
    for (const box of document.querySelectorAll(".table-responsive")) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", nameOf(box));
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  };
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
})();
