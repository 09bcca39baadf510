// The competency matrix is one stop in the tab order, as the WAI-ARIA grid pattern has it: a hundred
// columns of links would otherwise be thousands of Tab presses. One cell at a time carries
// tabindex="0" (the one last visited, the first student's first competency to begin with); the
// arrow keys move between cells, Home and End to the ends of a row, Control+Home and Control+End to
// the corners, Page Up and Page Down ten rows; Enter follows the cell's link as any link does.
// Without this script every link stays in the tab order, as plain links do.
(() => {
  const PAGE_ROWS = 10;

  const setUp = (table) => {
    const rows = Array.from(table.querySelectorAll("tr[data-grid-row]"), (row) =>
      Array.from(row.children, (cell) => cell.querySelector("a") || cell),
    );
    if (rows.length === 0) return;
    const where = new Map();
    rows.forEach((row, rowIndex) =>
      row.forEach((target, columnIndex) => {
        target.tabIndex = -1;
        where.set(target, [rowIndex, columnIndex]);
      }),
    );
    // Past the row of codes, on the first competency of the first student, when there is one.
    let current = (rows[1] || rows[0])[Math.min(1, (rows[1] || rows[0]).length - 1)];
    current.tabIndex = 0;

    const makeCurrent = (target) => {
      if (target === current) return;
      current.tabIndex = -1;
      target.tabIndex = 0;
      current = target;
    };
    const moveTo = (rowIndex, columnIndex) => {
      const row = rows[Math.max(0, Math.min(rows.length - 1, rowIndex))];
      const target = row[Math.max(0, Math.min(row.length - 1, columnIndex))];
      makeCurrent(target);
      // The header row and the names column stay in place (sticky); the scroller's scroll-padding
      // keeps the cell from being scrolled in under them.
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "nearest", inline: "nearest" });
    };

    table.addEventListener("keydown", (event) => {
      const position = where.get(event.target);
      if (!position || event.altKey || event.metaKey) return;
      const [rowIndex, columnIndex] = position;
      const last = rows[rowIndex].length - 1;
      const moves = {
        ArrowRight: [rowIndex, columnIndex + 1],
        ArrowLeft: [rowIndex, columnIndex - 1],
        ArrowDown: [rowIndex + 1, columnIndex],
        ArrowUp: [rowIndex - 1, columnIndex],
        Home: event.ctrlKey ? [0, 0] : [rowIndex, 0],
        End: event.ctrlKey ? [rows.length - 1, last] : [rowIndex, last],
        PageDown: [rowIndex + PAGE_ROWS, columnIndex],
        PageUp: [rowIndex - PAGE_ROWS, columnIndex],
      };
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      moveTo(move[0], move[1]);
    });
    // A cell reached by pointer (or by the browser's find) becomes the one Tab comes back to.
    table.addEventListener("focusin", (event) => {
      if (where.has(event.target)) makeCurrent(event.target);
    });
  };

  document.addEventListener("DOMContentLoaded", () => {
    for (const table of document.querySelectorAll("table[data-competency-grid]")) setUp(table);
  });
})();
