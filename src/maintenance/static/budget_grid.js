// The allocation grid (templates/budget/allocation.html): Enter and ArrowDown move to the cell
// below, ArrowUp to the cell above (Tab already moves along the row). Cells are found by their
// place in the table, so a cell htmx has just swapped in is found like any other.
(function () {
  "use strict";

  function cellsOfColumn(input) {
    var td = input.closest("td");
    var table = td.closest("table");
    var column = td.cellIndex - td.parentElement.cells.length; // from the right: rows with a rowspan cell have one more
    return Array.prototype.filter.call(table.querySelectorAll("tbody tr"), function (row) {
      return row.querySelector("input.budget-cell");
    }).map(function (row) {
      return row.cells[row.cells.length + column].querySelector("input.budget-cell");
    });
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("budget-cell")) return;
    var step = { Enter: 1, ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    var column = cellsOfColumn(input);
    var next = column[column.indexOf(input) + step];
    if (next) {
      next.focus();
      next.select();
    }
  });
})();
